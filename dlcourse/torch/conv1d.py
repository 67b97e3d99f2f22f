"""The torch twins of :mod:`dlcourse.models.conv1d`: ``Conv1D`` and ``GlobalAvgPool1D``.

numpy and torch share the (C_out, C_in, k) weight layout of a 1-D convolution, so the copy
is a plain ``copy_``. torch has no global-average-pooling layer that returns (N, C), so the
twin of :class:`~dlcourse.models.conv1d.GlobalAvgPool1D` is the small :class:`GlobalAvgPool1d`
below (``x.mean(dim=2)``). A whole network is a :class:`~dlcourse.core.layers.Sequential`,
whose twin :mod:`~dlcourse.torch.mlp` builds layer by layer.
"""

from __future__ import annotations

import torch
from torch import nn

from dlcourse.models.conv1d import Conv1D, GlobalAvgPool1D

from .convert import copy_into, to_torch, torch_dtype


class GlobalAvgPool1d(nn.Module):
    """(N, C, T) -> (N, C): the mean of every channel over time."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 3:
            raise ValueError(f"GlobalAvgPool1d expects x of shape (N, C, T), "
                             f"got {tuple(x.shape)}")
        return x.mean(dim=2)


@to_torch.register
def _(layer: Conv1D) -> nn.Conv1d:
    W, b = layer.params["W"], layer.params["b"]
    twin = nn.Conv1d(layer.in_channels, layer.out_channels, layer.kernel_size,
                     stride=layer.stride, padding=layer.padding)
    twin = twin.to(torch_dtype(W))
    copy_into(twin.weight, W)
    copy_into(twin.bias, b)
    return twin


@to_torch.register
def _(layer: GlobalAvgPool1D) -> GlobalAvgPool1d:
    return GlobalAvgPool1d()
