"""Small data sets for the chapters: synthetic with a fixed seed, or bundled with
scikit-learn. Nothing here downloads anything, so every notebook runs offline.
"""

from __future__ import annotations

import numpy as np

from dlcourse.core.checks import check_positive


def make_linearly_separable(n_samples: int = 200, margin: float = 0.5, seed: int = 0,
                            dtype=np.float64):
    """Two 2-D Gaussian clouds on either side of the line x1 + x2 = 0.

    Points closer than ``margin`` to the line are pushed out, so a single neuron can reach
    100 % training accuracy. Returns ``X`` (n, 2) and ``y`` (n,) in {0, 1}.
    """
    check_positive(n_samples, "n_samples", integer=True)
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n_samples)
    X = rng.standard_normal((n_samples, 2))
    normal = np.array([1.0, 1.0]) / np.sqrt(2.0)
    side = X @ normal
    sign = np.where(y == 1, 1.0, -1.0)
    # Move every point to its class's side, at least `margin` away from the boundary.
    shift = sign * (np.abs(side) + margin) - side
    X = X + shift[:, None] * normal
    return X.astype(dtype), y


def make_xor(n_samples: int = 200, noise: float = 0.15, seed: int = 0, dtype=np.float64):
    """The XOR problem: four clusters at (±1, ±1); the label is 1 where the signs differ.

    No single line separates the classes, which is why one neuron cannot learn it.
    Returns ``X`` (n, 2) and ``y`` (n,) in {0, 1}.
    """
    check_positive(n_samples, "n_samples", integer=True)
    rng = np.random.default_rng(seed)
    corners = rng.integers(0, 2, (n_samples, 2)) * 2 - 1
    X = corners + noise * rng.standard_normal((n_samples, 2))
    y = (corners[:, 0] != corners[:, 1]).astype(int)
    return X.astype(dtype), y


def true_function(x):
    """The function behind the data: sin(2πx) on [0, 1]."""
    return np.sin(2 * np.pi * np.asarray(x))


def make_sine_data(n: int, noise: float = 0.2, seed: int = 0):
    """n points x ~ U[0, 1], y = sin(2πx) + noise·ε; returns x (n,), y (n,)."""
    check_positive(n, "n", integer=True)
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, n)
    return x, true_function(x) + noise * rng.standard_normal(n)
