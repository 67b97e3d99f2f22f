"""The single neuron in torch: ``Linear(d, 1)`` followed by the activation."""

from __future__ import annotations

import torch
from torch import nn

from dlcourse.models.neuron import Neuron

from .convert import activation_module, copy_into, to_torch, torch_dtype


class TorchNeuron(nn.Module):
    """A single neuron in torch: ``Linear(d, 1)`` then the activation, output shape (n,)."""

    def __init__(self, n_inputs: int, activation: str = "sigmoid") -> None:
        super().__init__()
        self.linear = nn.Linear(n_inputs, 1)
        self.activation = activation_module(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(self.linear(x)).squeeze(-1)


@to_torch.register
def _(neuron: Neuron) -> TorchNeuron:
    """The same neuron holding copies of w and b; it maps (n, d) tensors to (n,) outputs."""
    twin = TorchNeuron(neuron.n_inputs, neuron.activation.name).to(torch_dtype(neuron.params["w"]))
    copy_into(twin.linear.weight, neuron.params["w"][None, :])
    copy_into(twin.linear.bias, neuron.params["b"].reshape(1))
    return twin
