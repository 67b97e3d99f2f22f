"""Gradient flow (梯度流动) through a deep network: how big are the gradients per layer?

Backpropagation multiplies, layer by layer, by the weights and by the activation's derivative.
If each factor is below 1 the gradient reaching the first layers shrinks geometrically
(vanishing gradient, 梯度消失); above 1 it explodes. These helpers measure it on a batch.
"""

from __future__ import annotations

import numpy as np

from dlcourse.core.layers import Activation, Dense, Sequential
from dlcourse.core.losses import softmax_cross_entropy


def _dense_layers(model: Sequential):
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a dlcourse Sequential/MLP, got {type(model).__name__}")
    return [layer for layer in model.layers if isinstance(layer, Dense)]


def layer_gradient_norms(model: Sequential, X, y, loss=softmax_cross_entropy) -> np.ndarray:
    """Frobenius norm of dLoss/dW for every Dense layer, input side first; shape (n_dense,).

    One forward and backward pass on (X, y) with ``loss(out, y) -> (value, dout)``; the
    model's grads are overwritten, its parameters untouched.
    """
    dense = _dense_layers(model)
    out, cache = model.forward(X, training=False)
    _, dout = loss(out, y)
    model.backward(dout, cache)
    return np.array([float(np.linalg.norm(layer.grads["W"])) for layer in dense])


def activation_stds(model: Sequential, X) -> np.ndarray:
    """Standard deviation of each hidden activation layer's output on X; shape (n_hidden,)."""
    _dense_layers(model)
    stds, h = [], X
    for layer in model.layers:
        h, _ = layer.forward(h, training=False)
        if isinstance(layer, Activation):
            stds.append(float(np.std(h)))
    return np.array(stds)
