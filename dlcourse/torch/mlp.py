"""The torch twin of :class:`dlcourse.core.layers.Sequential` / :class:`~dlcourse.core.layers.MLP`.

``sequential_to_torch(model)`` builds a ``torch.nn.Sequential`` layer by layer with copies of
the numpy weights: Dense(W (n_in, n_out), b) becomes ``nn.Linear`` with weight = W.T. The
twin's ``state_dict`` keys ("0.weight", "0.bias", …) use the same layer indices as the numpy
model's ("0.W", "0.b", …).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def _activation(name: str, alpha: float) -> nn.Module:
    return {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
            "identity": nn.Identity, "leaky_relu": lambda: nn.LeakyReLU(alpha)}[name]()


def layer_to_torch(layer) -> nn.Module:
    """One numpy layer -> its torch namesake with copied parameters."""
    from dlcourse.core.layers import Activation, Dense, Dropout, Sequential

    if isinstance(layer, Dense):
        W, b = layer.params["W"], layer.params["b"]
        dtype = torch.float64 if W.dtype == np.float64 else torch.float32
        linear = nn.Linear(layer.n_in, layer.n_out, dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
            linear.bias.copy_(torch.from_numpy(b.copy()))
        return linear
    if isinstance(layer, Activation):
        return _activation(layer.name, layer.alpha)
    if isinstance(layer, Dropout):
        return nn.Dropout(layer.p)
    if isinstance(layer, Sequential):
        return sequential_to_torch(layer)
    if hasattr(layer, "to_torch"):  # layers of other concepts (Conv2D, pooling, ...)
        return layer.to_torch()
    raise TypeError(f"no torch twin for layer {type(layer).__name__}")


def sequential_to_torch(model) -> nn.Sequential:
    """A ``torch.nn.Sequential`` with the same layers and copies of the weights."""
    return nn.Sequential(*[layer_to_torch(layer) for layer in model.layers])


def copy_grads_from_torch(twin: nn.Sequential) -> dict[str, np.ndarray]:
    """The twin's parameter gradients under the numpy model's names ("0.W", "0.b", …).

    torch's Linear stores weight as (n_out, n_in); it is transposed back to (n_in, n_out).
    """
    grads = {}
    for name, p in twin.named_parameters():
        index, kind = name.rsplit(".", 1)
        g = p.grad.detach().numpy()
        grads[f"{index}.W" if kind == "weight" else f"{index}.b"] = g.T if kind == "weight" \
            else g
    return grads
