"""Loss functions (损失函数). Each returns ``(loss, dloss/dprediction)``.

Returning the gradient together with the value keeps the pairing of CS231n's layers:
the training loop starts backpropagation from the second element. Losses are averaged
over the samples, so gradients are divided by ``n``.
"""

from __future__ import annotations

import numpy as np

from .activations import sigmoid
from .checks import as_float_array


def _pair(pred, target, pred_name: str = "pred"):
    pred = as_float_array(pred, pred_name)
    target = as_float_array(target, "target").astype(pred.dtype, copy=False)
    if pred.shape != target.shape:
        raise ValueError(f"{pred_name} and target must have the same shape, got "
                         f"{pred.shape} and {target.shape}")
    if pred.size == 0:
        raise ValueError(f"{pred_name} is empty: a loss needs at least one sample")
    return pred, target


def mse(pred, target):
    """Mean squared error (均方误差) 1/n Σ (pred - target)²; shapes must match."""
    pred, target = _pair(pred, target)
    diff = pred - target
    n = pred.shape[0] if pred.ndim else 1
    return float(np.sum(diff * diff) / n), (2.0 / n) * diff


def binary_cross_entropy(prob, target, eps: float = 1e-7):
    """Binary cross-entropy (交叉熵) of probabilities in (0, 1) against labels in {0, 1}.

    Probabilities are clipped to [eps, 1 - eps] so log(0) never happens. When you have the
    logits, prefer :func:`binary_cross_entropy_with_logits`: it is exact and stable.
    """
    prob, target = _pair(prob, target, "prob")
    if np.any((prob < 0) | (prob > 1)):
        raise ValueError("prob must lie in [0, 1]; pass logits to "
                         "binary_cross_entropy_with_logits instead")
    p = np.clip(prob, eps, 1 - eps)
    n = prob.shape[0] if prob.ndim else 1
    loss = -np.sum(target * np.log(p) + (1 - target) * np.log1p(-p)) / n
    return float(loss), (p - target) / (p * (1 - p)) / n


def binary_cross_entropy_with_logits(logits, target):
    """Binary cross-entropy of sigmoid(logits), computed without forming the sigmoid.

    loss = max(z, 0) - z*y + log(1 + e^-|z|) is the textbook stable form; its gradient
    with respect to the logits is simply (sigmoid(z) - y) / n.
    """
    z, y = _pair(logits, target, "logits")
    n = z.shape[0] if z.ndim else 1
    loss = np.sum(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))) / n
    return float(loss), (sigmoid(z) - y) / n
