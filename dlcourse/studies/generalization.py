"""Generalization (泛化): under- and overfitting as model capacity and data size change.

The classic, fast-to-compute example: fit polynomials of growing degree (capacity) to a few
noisy samples of a smooth function and compare the training error with the error on fresh
data from the same distribution. Least squares makes every fit exact and instantaneous, so a
widget can sweep degree and sample size live, and k-fold cross-validation
(:func:`kfold_cv_errors`) can choose the degree without touching any test data.
"""

from __future__ import annotations

import numpy as np

from dlcourse.core.checks import as_float_array, check_positive
from dlcourse.data.synthetic import make_sine_data


def polynomial_features(x, degree: int) -> np.ndarray:
    """Columns 1, t, t², …, t^degree with t = 2x - 1 in [-1, 1]; shape (n, degree + 1)."""
    x = as_float_array(x, "x", ndim=1, shape_hint="(n_samples,)")
    if isinstance(degree, bool) or not isinstance(degree, (int, np.integer)) or degree < 0:
        raise ValueError(f"degree must be an integer >= 0, got {degree!r}")
    return np.polynomial.legendre.legvander(2 * x - 1, degree)


def fit_polynomial(x, y, degree: int, ridge: float = 1e-10) -> np.ndarray:
    """Least-squares coefficients (degree + 1,) of a polynomial (Legendre basis) through (x, y)."""
    A = polynomial_features(x, degree)
    y = as_float_array(y, "y", ndim=1, shape_hint="(n_samples,)")
    lhs = A.T @ A + ridge * np.eye(A.shape[1])
    return np.linalg.lstsq(lhs, A.T @ y, rcond=None)[0]


def predict_polynomial(coef, x) -> np.ndarray:
    return polynomial_features(x, len(coef) - 1) @ coef


def train_test_errors(degree: int, n_train: int, noise: float = 0.2, seed: int = 0,
                      n_test: int = 1000) -> tuple[float, float]:
    """(train MSE, test MSE) of a degree-``degree`` fit to ``n_train`` noisy samples."""
    x, y = make_sine_data(n_train, noise, seed)
    x_test, y_test = make_sine_data(n_test, noise, seed + 10_000)
    coef = fit_polynomial(x, y, degree)
    train = float(np.mean((predict_polynomial(coef, x) - y) ** 2))
    test = float(np.mean((predict_polynomial(coef, x_test) - y_test) ** 2))
    return train, test


def kfold_cv_errors(x, y, max_degree: int, k: int = 5) -> np.ndarray:
    """k-fold cross-validation (交叉验证) error of every degree 0..max_degree; shape
    (max_degree + 1,).

    Fold j holds the samples i with ``i % k == j``. Each degree is fitted k times, on all
    folds but one, and its mean squared error measured on the fold left out; entry d is the
    mean of those k errors. Every sample is used for validation exactly once.
    """
    x = as_float_array(x, "x", ndim=1, shape_hint="(n_samples,)")
    y = as_float_array(y, "y", ndim=1, shape_hint="(n_samples,)")
    check_positive(k, "k", integer=True)
    if not 2 <= k <= x.shape[0]:
        raise ValueError(f"k must be between 2 and the number of samples {x.shape[0]}, got {k}")
    fold = np.arange(x.shape[0]) % k
    errors = np.zeros(max_degree + 1)
    for degree in range(max_degree + 1):
        for j in range(k):
            train, held_out = fold != j, fold == j
            coef = fit_polynomial(x[train], y[train], degree)
            errors[degree] += np.mean((predict_polynomial(coef, x[held_out]) - y[held_out]) ** 2)
    return errors / k
