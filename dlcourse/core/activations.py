"""Activation functions (激活函数) and their derivatives.

Each activation ``f`` comes with ``f_grad(z)``, the derivative df/dz evaluated at the
pre-activation ``z``. All are elementwise, vectorized, keep float32 as float32, and are
numerically stable: no overflow warning even for |z| = 1000.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from .checks import as_float_array


def sigmoid(z):
    """Logistic sigmoid 1 / (1 + e^-z), mapping R to (0, 1).

    Written with e^-|z| so the exponential never overflows: for z >= 0 it is
    1 / (1 + e^-z), for z < 0 the algebraically equal e^z / (1 + e^z).
    """
    z = as_float_array(z, "z")
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)


def softmax(z, axis: int = -1):
    """Softmax along ``axis`` (the last by default): e^z / Σ e^z, a probability distribution.

    Computed as e^(z − max z), so it never overflows. Shapes: any -> the same shape, summing
    to 1 along ``axis``; float32 stays float32. A slice that is all −inf (attention with
    every position masked) gives NaN, as in torch.
    """
    z = as_float_array(z, "z")
    e = z - np.max(z, axis=axis, keepdims=True)
    np.exp(e, out=e)                               # in place: no extra temporaries
    e /= e.sum(axis=axis, keepdims=True)
    return e


def sigmoid_grad(z):
    """Derivative of the sigmoid: s(z) * (1 - s(z)); at most 0.25, at z = 0."""
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z):
    """Hyperbolic tangent, mapping R to (-1, 1); zero-centred, unlike the sigmoid."""
    return np.tanh(as_float_array(z, "z"))


def tanh_grad(z):
    """Derivative of tanh: 1 - tanh(z)^2; equals 1 at z = 0."""
    t = tanh(z)
    return 1.0 - t * t


def relu(z):
    """Rectified linear unit (线性整流函数) max(z, 0)."""
    z = as_float_array(z, "z")
    return np.maximum(z, 0).astype(z.dtype, copy=False)


def relu_grad(z):
    """Derivative of ReLU: 1 where z > 0, else 0 (the kink at 0 takes the value 0)."""
    z = as_float_array(z, "z")
    return (z > 0).astype(z.dtype)


def leaky_relu(z, alpha: float = 0.01):
    """Leaky ReLU: z for z > 0, alpha * z otherwise, so negative inputs keep a gradient."""
    z = as_float_array(z, "z")
    return np.where(z > 0, z, alpha * z).astype(z.dtype, copy=False)


def leaky_relu_grad(z, alpha: float = 0.01):
    """Derivative of leaky ReLU: 1 where z > 0, else alpha."""
    z = as_float_array(z, "z")
    return np.where(z > 0, 1.0, alpha).astype(z.dtype)


def identity(z):
    """The identity, used for a linear output neuron (regression)."""
    return as_float_array(z, "z")


def identity_grad(z):
    """Derivative of the identity: 1 everywhere."""
    return np.ones_like(as_float_array(z, "z"))


class ActivationFunction(NamedTuple):
    """An activation function paired with its derivative and its output range (the layer
    that applies one in a network is :class:`dlcourse.core.layers.Activation`)."""

    name: str
    fn: Callable
    grad: Callable
    output_range: tuple[float, float]


ACTIVATIONS: dict[str, ActivationFunction] = {
    "sigmoid": ActivationFunction("sigmoid", sigmoid, sigmoid_grad, (0.0, 1.0)),
    "tanh": ActivationFunction("tanh", tanh, tanh_grad, (-1.0, 1.0)),
    "relu": ActivationFunction("relu", relu, relu_grad, (0.0, float("inf"))),
    "leaky_relu": ActivationFunction("leaky_relu", leaky_relu, leaky_relu_grad,
                                     (float("-inf"), float("inf"))),
    "identity": ActivationFunction("identity", identity, identity_grad,
                                   (float("-inf"), float("inf"))),
}


def get_activation(name: str) -> ActivationFunction:
    """Look up an activation by name, with an error that lists the valid names."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown activation {name!r}; expected one of "
                         f"{sorted(ACTIVATIONS)}") from None
