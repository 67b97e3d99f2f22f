"""The torch twins of :mod:`dlcourse.core.layers`: Dense, the activations, Dropout, Sequential.

``to_torch(model)`` builds a ``torch.nn.Sequential`` layer by layer with copies of the numpy
weights: Dense(W (n_in, n_out), b) becomes ``nn.Linear`` with weight = W.T. The twin's
``state_dict`` keys ("0.weight", "0.bias", …) use the same layer indices as the numpy
model's ("0.W", "0.b", …), so a Sequential of convolutions and dense layers maps the same way.
"""

from __future__ import annotations

import numpy as np
from torch import nn

from dlcourse.core.layers import Activation, Dense, Dropout, Sequential

from .convert import activation_module, copy_into, to_torch, torch_dtype


@to_torch.register
def _(layer: Dense) -> nn.Linear:
    W, b = layer.params["W"], layer.params["b"]
    linear = nn.Linear(layer.n_in, layer.n_out, dtype=torch_dtype(W))
    copy_into(linear.weight, W.T)
    copy_into(linear.bias, b)
    return linear


@to_torch.register
def _(layer: Activation) -> nn.Module:
    return activation_module(layer.name, layer.alpha)


@to_torch.register
def _(layer: Dropout) -> nn.Dropout:
    return nn.Dropout(layer.p)


@to_torch.register
def _(model: Sequential) -> nn.Sequential:
    return nn.Sequential(*[to_torch(layer) for layer in model.layers])


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
