"""The torch twins of :mod:`dlcourse.models.cnn`: convolution, pooling, flatten, batch norm.

numpy and torch share the (C_out, C_in, k, k) weight layout, so the copy is a plain
``copy_``. A whole network is a :class:`~dlcourse.core.layers.Sequential`, whose twin
:mod:`~dlcourse.torch.mlp` builds layer by layer.
"""

from __future__ import annotations

from torch import nn

from dlcourse.models.cnn import AvgPool2D, BatchNorm2D, Conv2D, Flatten, MaxPool2D

from .convert import copy_into, to_torch, torch_dtype


@to_torch.register
def _(layer: Conv2D) -> nn.Conv2d:
    W, b = layer.params["W"], layer.params["b"]
    twin = nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size,
                     stride=layer.stride, padding=layer.padding, dilation=layer.dilation)
    twin = twin.to(torch_dtype(W))
    copy_into(twin.weight, W)
    copy_into(twin.bias, b)
    return twin


@to_torch.register
def _(layer: MaxPool2D) -> nn.MaxPool2d:
    return nn.MaxPool2d(layer.kernel_size, stride=layer.stride)


@to_torch.register
def _(layer: AvgPool2D) -> nn.AvgPool2d:
    return nn.AvgPool2d(layer.kernel_size, stride=layer.stride)


@to_torch.register
def _(layer: Flatten) -> nn.Flatten:
    return nn.Flatten()


@to_torch.register
def _(layer: BatchNorm2D) -> nn.BatchNorm2d:
    """Copies of gamma, beta and the running statistics."""
    gamma = layer.params["gamma"]
    twin = nn.BatchNorm2d(layer.num_features, eps=layer.eps, momentum=layer.momentum)
    twin = twin.to(torch_dtype(gamma))
    copy_into(twin.weight, gamma)
    copy_into(twin.bias, layer.params["beta"])
    copy_into(twin.running_mean, layer.running_mean)
    copy_into(twin.running_var, layer.running_var)
    return twin
