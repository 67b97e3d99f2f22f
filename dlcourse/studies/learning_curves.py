"""Learning curves: test accuracy and fit time of several models as the training set grows.

Each model is a scikit-learn-style estimator, usually a ``Pipeline`` (feature extractor +
learner), so "handcrafted features + shallow learner" and "raw input + deep learner" are
measured the same way on the same nested, class-balanced training subsets.
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.base import clone

from dlcourse.core.checks import check_same_length

__all__ = ["stratified_order", "learning_curve"]


def stratified_order(y, seed: int = 0) -> np.ndarray:
    """A permutation of ``range(len(y))`` whose every prefix is as class-balanced as possible.

    Classes take turns (round robin) in a seeded random order, so the first n indices hold
    about n / n_classes examples of each class, and the subsets for growing n are nested.
    """
    y = np.asarray(y)
    if y.ndim != 1 or len(y) == 0:
        raise ValueError(f"y must have shape (n_samples,) with n_samples >= 1, got {y.shape}")
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(y))
    labels = y[perm]
    # Rank of each example within its class (0, 1, 2, ... in permuted order).
    order_in_class = np.zeros(len(y), dtype=np.int64)
    for label in np.unique(labels):
        where = labels == label
        order_in_class[where] = np.arange(where.sum())
    # Ties in rank are broken by a random class order, then by the permutation.
    class_rank = rng.permutation(len(np.unique(labels)))[np.unique(labels,
                                                                   return_inverse=True)[1]]
    return perm[np.lexsort((class_rank, order_in_class))]


def learning_curve(estimators: dict, X_train, y_train, X_test, y_test, sizes,
                   seed: int = 0, return_models: bool = False) -> dict:
    """Fit every estimator on the first n examples of a class-balanced order, for each n.

    Parameters
    ----------
    estimators : dict name -> estimator (cloned for every fit)
    X_train, y_train, X_test, y_test : arrays with matching first axes
    sizes : increasing training-set sizes, each <= len(X_train)
    return_models : also return the models fitted at the largest size (``"models"``)

    Returns
    -------
    dict with ``"sizes"`` (list), ``"accuracy"`` and ``"fit_seconds"`` (each a dict name ->
    list aligned with sizes), and with ``return_models`` a dict name -> fitted estimator.
    """
    check_same_length(X_train, y_train, "X_train", "y_train")
    check_same_length(X_test, y_test, "X_test", "y_test")
    if not estimators:
        raise ValueError("estimators must name at least one model")
    sizes = [int(n) for n in sizes]
    if not sizes or min(sizes) < 2 or max(sizes) > len(y_train):
        raise ValueError(f"sizes must lie in [2, {len(y_train)}] (the training set), "
                         f"got {sizes}")
    order = stratified_order(y_train, seed)
    result = {"sizes": sizes, "accuracy": {name: [] for name in estimators},
              "fit_seconds": {name: [] for name in estimators}}
    for n in sizes:
        idx = order[:n]
        for name, estimator in estimators.items():
            model = clone(estimator)
            start = time.perf_counter()
            model.fit(X_train[idx], y_train[idx])
            result["fit_seconds"][name].append(time.perf_counter() - start)
            accuracy = float(np.mean(model.predict(X_test) == np.asarray(y_test)))
            result["accuracy"][name].append(accuracy)
            if return_models and n == sizes[-1]:
                result.setdefault("models", {})[name] = model
    return result
