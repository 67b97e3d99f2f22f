"""Weight initialization (权重初始化): Xavier/Glorot and He, plus a small normal.

Every initializer has the signature ``init(n_in, n_out, rng, dtype) -> W`` with ``W`` of
shape (n_in, n_out), the layout :class:`dlcourse.core.layers.Dense` uses (``out = x @ W + b``).

- Xavier/Glorot keeps the variance of activations and of gradients roughly constant through
  a layer with a symmetric activation (tanh, sigmoid): Var(W) = 2 / (n_in + n_out).
- He (Kaiming) compensates for ReLU zeroing half of its inputs: Var(W) = 2 / n_in.
- ``normal(std=0.01)`` is the old "small random numbers" recipe; in a deep network the
  signal shrinks by a constant factor per layer and the gradients vanish (Chapter 2 measures it).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .checks import check_positive


def _check(n_in, n_out):
    check_positive(n_in, "n_in", integer=True)
    check_positive(n_out, "n_out", integer=True)


def xavier_uniform(n_in: int, n_out: int, rng: np.random.Generator, dtype=np.float32):
    """Glorot uniform: U(-a, a) with a = sqrt(6 / (n_in + n_out)); shape (n_in, n_out)."""
    _check(n_in, n_out)
    limit = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-limit, limit, size=(n_in, n_out)).astype(dtype)


def xavier_normal(n_in: int, n_out: int, rng: np.random.Generator, dtype=np.float32):
    """Glorot normal: N(0, 2 / (n_in + n_out)); shape (n_in, n_out)."""
    _check(n_in, n_out)
    std = np.sqrt(2.0 / (n_in + n_out))
    return (std * rng.standard_normal((n_in, n_out))).astype(dtype)


def he_normal(n_in: int, n_out: int, rng: np.random.Generator, dtype=np.float32):
    """He (Kaiming) normal: N(0, 2 / n_in), for ReLU layers; shape (n_in, n_out)."""
    _check(n_in, n_out)
    std = np.sqrt(2.0 / n_in)
    return (std * rng.standard_normal((n_in, n_out))).astype(dtype)


def he_uniform(n_in: int, n_out: int, rng: np.random.Generator, dtype=np.float32):
    """He uniform: U(-a, a) with a = sqrt(6 / n_in) (same variance 2 / n_in)."""
    _check(n_in, n_out)
    limit = np.sqrt(6.0 / n_in)
    return rng.uniform(-limit, limit, size=(n_in, n_out)).astype(dtype)


def normal(n_in: int, n_out: int, rng: np.random.Generator, dtype=np.float32,
           std: float = 0.01):
    """Small Gaussian N(0, std²) whatever the layer size; shape (n_in, n_out)."""
    _check(n_in, n_out)
    check_positive(std, "std")
    return (std * rng.standard_normal((n_in, n_out))).astype(dtype)


INITIALIZERS: dict[str, Callable] = {
    "xavier": xavier_uniform,
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "glorot": xavier_uniform,
    "he": he_normal,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "normal": normal,
}


def get_initializer(init) -> Callable:
    """An initializer by name (see :data:`INITIALIZERS`), or ``init`` itself if callable."""
    if callable(init):
        return init
    try:
        return INITIALIZERS[init]
    except (KeyError, TypeError):
        raise ValueError(f"unknown init {init!r}; expected one of {sorted(INITIALIZERS)} "
                         f"or a function (n_in, n_out, rng, dtype) -> W") from None
