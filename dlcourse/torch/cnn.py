"""torch twins of the numpy CNN layers (:mod:`dlcourse.models.cnn`). Importing this imports torch.

Each function builds the ``torch.nn`` layer that computes the same thing as a numpy layer,
holding *copies* of its parameters in the same dtype; :func:`cnn_to_torch` does it for a
whole list of layers. numpy and torch share the (C_out, C_in, k, k) weight layout, so the
copy is a plain ``copy_``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def _torch_dtype(array: np.ndarray) -> torch.dtype:
    return torch.float64 if array.dtype == np.float64 else torch.float32


def conv2d_to_torch(layer) -> nn.Conv2d:
    """``nn.Conv2d`` equal to a :class:`dlcourse.models.cnn.Conv2D` (weights copied)."""
    W, b = layer.params["W"], layer.params["b"]
    twin = nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size,
                     stride=layer.stride, padding=layer.padding, dilation=layer.dilation)
    twin = twin.to(_torch_dtype(W))
    with torch.no_grad():
        twin.weight.copy_(torch.from_numpy(np.ascontiguousarray(W)))
        twin.bias.copy_(torch.from_numpy(np.ascontiguousarray(b)))
    return twin


def pool_to_torch(layer) -> nn.Module:
    """``nn.MaxPool2d`` / ``nn.AvgPool2d`` equal to a numpy pooling layer."""
    from dlcourse.models.cnn import AvgPool2D, MaxPool2D

    if isinstance(layer, MaxPool2D):
        return nn.MaxPool2d(layer.kernel_size, stride=layer.stride)
    if isinstance(layer, AvgPool2D):
        return nn.AvgPool2d(layer.kernel_size, stride=layer.stride)
    raise TypeError(f"not a numpy pooling layer: {layer!r}")


def batchnorm_to_torch(layer) -> nn.BatchNorm2d:
    """``nn.BatchNorm2d`` with copies of gamma, beta and the running statistics."""
    gamma = layer.params["gamma"]
    twin = nn.BatchNorm2d(layer.num_features, eps=layer.eps, momentum=layer.momentum)
    twin = twin.to(_torch_dtype(gamma))
    with torch.no_grad():
        twin.weight.copy_(torch.from_numpy(gamma.copy()))
        twin.bias.copy_(torch.from_numpy(layer.params["beta"].copy()))
        twin.running_mean.copy_(torch.from_numpy(layer.running_mean.copy()))
        twin.running_var.copy_(torch.from_numpy(layer.running_var.copy()))
    return twin


def layer_to_torch(layer) -> nn.Module:
    """The torch twin of one numpy layer: its own ``to_torch()``, else the MLP twins'
    (Dense, activations, Dropout from :mod:`dlcourse.core.layers`)."""
    if hasattr(layer, "to_torch"):
        return layer.to_torch()
    from .mlp import layer_to_torch as mlp_layer_to_torch

    return mlp_layer_to_torch(layer)


def cnn_to_torch(layers) -> nn.Sequential:
    """``nn.Sequential`` twin of a list (or Sequential) of numpy layers, weights copied.

    Layer indices match, so the numpy name "3.W" is the twin's "3.weight"."""
    layers = getattr(layers, "layers", layers)
    return nn.Sequential(*(layer_to_torch(layer) for layer in layers))
