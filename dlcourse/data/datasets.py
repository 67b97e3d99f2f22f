"""Bundled and synthetic data sets. Nothing is downloaded: the digits ship with
scikit-learn, everything else is generated from a seed. Every function returns ``(X, y)``.
"""

from __future__ import annotations

import numpy as np

from dlcourse.core.checks import check_positive


def load_digits_data(dtype=np.float32, value_range=(0.0, 1.0)):
    """scikit-learn's bundled 8×8 handwritten digits (nothing downloaded): ``X`` (1797, 64)
    with pixel values scaled from 0..16 to ``value_range`` ([0, 1]; a GAN's tanh generator
    wants [-1, 1]), ``y`` (1797,) int labels 0..9."""
    from sklearn.datasets import load_digits

    low, high = value_range
    if not high > low:
        raise ValueError(f"value_range must be (low, high) with low < high, got {value_range!r}")
    digits = load_digits()
    X = digits.data / 16.0
    if (low, high) != (0.0, 1.0):
        X = X * (high - low) + low
    return X.astype(dtype), digits.target.astype(np.int64)


def make_moons(n: int = 200, noise: float = 0.1, seed: int = 0, dtype=np.float64):
    """Two interleaving half circles (scikit-learn): ``X`` (n, 2), ``y`` (n,) in {0, 1}."""
    from sklearn.datasets import make_moons as _make_moons

    check_positive(n, "n", integer=True)
    X, y = _make_moons(n_samples=n, noise=noise, random_state=seed)
    return X.astype(dtype), y.astype(np.int64)


def make_circles(n: int = 200, noise: float = 0.05, factor: float = 0.5, seed: int = 0,
                 dtype=np.float64):
    """A small circle inside a large one (scikit-learn); ``factor`` is the radius ratio."""
    from sklearn.datasets import make_circles as _make_circles

    check_positive(n, "n", integer=True)
    X, y = _make_circles(n_samples=n, noise=noise, factor=factor, random_state=seed)
    return X.astype(dtype), y.astype(np.int64)


def make_spirals(n: int = 300, n_classes: int = 3, noise: float = 0.2, seed: int = 0,
                 dtype=np.float64):
    """``n_classes`` interleaved spiral arms (the CS231n toy set): ``X`` (n, 2), ``y`` (n,).

    Samples are spread as evenly as possible over the classes.
    """
    check_positive(n, "n", integer=True)
    check_positive(n_classes, "n_classes", integer=True)
    rng = np.random.default_rng(seed)
    y = np.arange(n) % n_classes
    radius = rng.uniform(0.05, 1.0, n)
    angle = (y * 2 * np.pi / n_classes + 4.0 * radius
             + noise * rng.standard_normal(n))
    X = np.column_stack([radius * np.sin(angle), radius * np.cos(angle)])
    order = rng.permutation(n)
    return X[order].astype(dtype), y[order].astype(np.int64)


def make_noisy_regression(n: int = 200, noise: float = 0.1, seed: int = 0, dtype=np.float64):
    """A 1-D non-linear regression task: ``X`` (n, 1) uniform in [-3, 3] and
    ``y = sin(1.5 x) + 0.3 x + noise·ε`` (n,) with ε ~ N(0, 1)."""
    check_positive(n, "n", integer=True)
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3.0, 3.0, n)
    y = np.sin(1.5 * x) + 0.3 * x + noise * rng.standard_normal(n)
    return x[:, None].astype(dtype), y.astype(dtype)
