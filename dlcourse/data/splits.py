"""Splitting a data set into training, validation and test sets (训练集、验证集、测试集).

The model learns from the training set, hyperparameters and early stopping look at the
validation set, and the test set is touched once, at the end, to report an honest number.
"""

from __future__ import annotations

import numpy as np

from dlcourse.core.checks import check_same_length


def _check_fraction(value, name: str) -> None:
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be a fraction strictly between 0 and 1, got {value!r}")


def train_val_test_split(X, y, val_size: float = 0.15, test_size: float = 0.15, seed: int = 0,
                         stratify: bool = True):
    """Shuffle and split ``(X, y)`` into three disjoint parts.

    Parameters
    ----------
    X : array (n, ...) ; y : array (n,)
    val_size, test_size : fractions of the whole data set (their sum must be < 1).
    seed : the same seed gives the same split.
    stratify : keep the class proportions of ``y`` in every part (classification).

    Returns
    -------
    X_train, X_val, X_test, y_train, y_val, y_test
    """
    from sklearn.model_selection import train_test_split

    X, y = np.asarray(X), np.asarray(y)
    check_same_length(X, y, "X", "y")
    _check_fraction(val_size, "val_size")
    _check_fraction(test_size, "test_size")
    if val_size + test_size >= 1.0:
        raise ValueError(f"val_size + test_size must be < 1 to leave a training set, got "
                         f"{val_size} + {test_size}")
    X_rest, X_test, y_rest, y_test = train_test_split(
        X, y, test_size=test_size, random_state=seed, stratify=y if stratify else None)
    # val_size is a fraction of the whole set; rescale it to the part that is left.
    X_train, X_val, y_train, y_val = train_test_split(
        X_rest, y_rest, test_size=val_size / (1.0 - test_size), random_state=seed + 1,
        stratify=y_rest if stratify else None)
    return X_train, X_val, X_test, y_train, y_val, y_test
