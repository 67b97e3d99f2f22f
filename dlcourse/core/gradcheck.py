"""Gradient checks (梯度检验): analytic gradients against finite differences.

Relative error follows the CS231n convention, max |a - b| / max(|a| + |b|, tiny),
elementwise. In float64 a correct backward pass typically gives below 1e-7; around 1e-4
is suspicious unless the function has kinks (ReLU at 0); above 1e-2 is a bug.
The torch side of the check, autograd's own gradients, is
:func:`dlcourse.torch.gradients.torch_gradients`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .checks import as_float_array

#: Relative error below which a float64 gradient is accepted in the tests.
FLOAT64_TOLERANCE = 1e-6


def relative_error(a, b) -> float:
    """Largest elementwise relative error between two arrays of the same shape."""
    a = as_float_array(a, "a").astype(np.float64)
    b = as_float_array(b, "b").astype(np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare arrays of shapes {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)))


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Centered differences (f(x + h) - f(x - h)) / 2h of a scalar ``f`` for every entry of x.

    ``f`` takes no arguments and reads ``x``, which is perturbed **in place** and restored,
    so it can be a parameter array that a model holds. Cost: 2·x.size calls of f.
    """
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise TypeError("x must be a floating-point numpy array that f reads")
    grad = np.zeros_like(x, dtype=np.float64)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat, x):
        raise ValueError("x must be contiguous so it can be perturbed in place")
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        plus = f()
        flat[i] = old - h
        minus = f()
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * h)
    return grad


def numerical_gradient_of_output(f: Callable[[], np.ndarray], x: np.ndarray, dout,
                                 h: float = 1e-6) -> np.ndarray:
    """Finite-difference dLoss/dx for an array-valued ``f`` with Loss = sum(f() * dout)."""
    dout = np.asarray(dout, dtype=np.float64)
    return numerical_gradient(lambda: float(np.sum(f() * dout)), x, h)


def check_module_gradients(module, x, dout=None, seed: int = 0,
                           h: float = 1e-6) -> dict[str, float]:
    """Relative error of a Module's backward against finite differences, per array.

    Returns ``{"x": err, "<param>": err, ...}``. Use float64 modules and inputs: in float32
    finite differences themselves are only accurate to about 1e-3.
    """
    x = np.array(as_float_array(x, "x"), dtype=np.float64)
    out, cache = module.forward(x, training=False)
    if dout is None:
        dout = np.random.default_rng(seed).standard_normal(np.shape(out))
    module.zero_grad()
    dx = module.backward(dout, cache)
    analytic = {name: grad.copy() for name, _, grad in module.named_parameters()}

    def output():
        return module.forward(x, training=False)[0]

    errors = {"x": relative_error(dx, numerical_gradient_of_output(output, x, dout, h))}
    for name, param, _ in module.named_parameters():
        numeric = numerical_gradient_of_output(output, param, dout, h)
        errors[name] = relative_error(analytic[name], numeric)
    return errors
