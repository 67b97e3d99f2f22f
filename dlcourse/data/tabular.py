"""Tabular data sets for the ensemble chapters: synthetic, seeded, nothing downloaded."""

from __future__ import annotations

import numpy as np


def make_tabular_classification(n_samples: int = 2000, seed: int = 0):
    """A 4-class, 12-feature problem on which different model families make different errors.

    scikit-learn's ``make_classification`` with 6 informative features, 2 redundant ones
    (linear mixtures), 4 pure-noise ones, and 3 Gaussian clusters per class at the vertices
    of a hypercube: trees, kernels, neighbours, naive Bayes and MLPs each capture part of it,
    which is where stacking pays. Returns ``X`` (n_samples, 12) float64 and ``y``
    (n_samples,) int labels 0..3.
    """
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=n_samples, n_features=12, n_informative=6,
                               n_redundant=2, n_classes=4, n_clusters_per_class=3,
                               class_sep=1.5, flip_y=0.0, random_state=seed)
    return X, y.astype(np.int64)


def make_tabular_regression(n_samples: int = 1000, noise: float = 1.0, seed: int = 0):
    """Friedman's #1 regression problem: y = 10 sin(pi x0 x1) + 20 (x2 - 0.5)^2 + 10 x3 + 5 x4
    + noise, with 5 more useless features; ``X`` (n_samples, 10) uniform on [0, 1]."""
    from sklearn.datasets import make_friedman1

    return make_friedman1(n_samples=n_samples, n_features=10, noise=noise, random_state=seed)
