"""The single neuron in torch: Linear(d, 1) followed by the activation."""

from __future__ import annotations

import torch
from torch import nn

TORCH_ACTIVATIONS = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.01),
    "identity": nn.Identity,
}


class TorchNeuron(nn.Module):
    """A single neuron in torch: ``Linear(d, 1)`` then the activation, output shape (n,)."""

    def __init__(self, n_inputs: int, activation: str = "sigmoid") -> None:
        super().__init__()
        self.linear = nn.Linear(n_inputs, 1)
        self.activation = TORCH_ACTIVATIONS[activation]()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(self.linear(x)).squeeze(-1)
