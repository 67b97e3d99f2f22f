"""Under/overfitting with polynomial capacity and data size; the capacity widget."""

import numpy as np
import pytest

from dlcourse.data import make_sine_data
from dlcourse.studies.generalization import (
    fit_polynomial,
    kfold_cv_errors,
    polynomial_features,
    predict_polynomial,
    train_test_errors,
)


def test_fit_recovers_an_exact_polynomial():
    x = np.linspace(0, 1, 20)
    y = 1 - 2 * x + 3 * x**3
    coef = fit_polynomial(x, y, 3)
    assert np.allclose(predict_polynomial(coef, x), y, atol=1e-8)
    assert polynomial_features(x, 4).shape == (20, 5)
    with pytest.raises(ValueError, match="degree must be an integer >= 0"):
        polynomial_features(x, -1)


def test_underfitting_and_overfitting_are_measured():
    train1, test1 = train_test_errors(1, n_train=15)
    train3, test3 = train_test_errors(3, n_train=15)
    train12, test12 = train_test_errors(12, n_train=15)
    assert train1 > 0.1 and test1 > 0.1, "a line underfits a sine: both errors high"
    assert test3 < 0.1, "degree 3 generalizes"
    assert train12 < train3 and test12 > 3 * test3, "degree 12 on 15 points overfits"
    # more data tames the same capacity
    assert train_test_errors(12, n_train=200)[1] < 0.1


def test_kfold_cv_errors_hold_out_every_fold_once():
    x, y = make_sine_data(23, noise=0.2, seed=4)
    errors = kfold_cv_errors(x, y, max_degree=9, k=4)
    assert errors.shape == (10,)
    fold = np.arange(23) % 4
    held = fold == 2
    coef = fit_polynomial(x[~held], y[~held], 3)
    one = np.mean((predict_polynomial(coef, x[held]) - y[held]) ** 2)
    parts = [np.mean((predict_polynomial(fit_polynomial(x[fold != j], y[fold != j], 3),
                                         x[fold == j]) - y[fold == j]) ** 2) for j in range(4)]
    assert np.isclose(errors[3], np.mean(parts)) and one in parts
    assert 2 <= int(np.argmin(errors)) <= 7, "a sine is best fitted by a middle degree"
    assert errors[9] > errors[int(np.argmin(errors))], "high degrees overfit 17 points"
    line = np.linspace(0, 1, 12)
    assert int(np.argmin(kfold_cv_errors(line, 3 * line - 1, 5, k=3))) == 1
    with pytest.raises(ValueError, match="k must be between 2"):
        kfold_cv_errors(x, y, 3, k=1)


def test_data_is_deterministic():
    a, b = make_sine_data(10, seed=3), make_sine_data(10, seed=3)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_capacity_widget_runs_headless():
    from dlcourse.widgets import capacity_explorer

    assert capacity_explorer().children
