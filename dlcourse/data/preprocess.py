"""Feature scaling: standardization (标准化) and min-max normalization (归一化).

Both follow scikit-learn's estimator pattern: ``fit`` learns statistics from the training
set only (fitted attributes end in ``_``), ``transform`` applies them to any set, and
``inverse_transform`` undoes the scaling. Fitting on the test set would leak information.
"""

from __future__ import annotations

import numpy as np

from dlcourse.core.checks import as_float_array


class _Scaler:
    """Shared plumbing: validation, fit_transform, the fitted check."""

    def _validate(self, X) -> np.ndarray:
        return as_float_array(X, "X", ndim=2, shape_hint="(n_samples, n_features)")

    def _check_fitted(self, X) -> None:
        if not hasattr(self, "scale_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted yet: call fit(X_train) "
                               "first")
        if X.shape[1] != self.scale_.shape[0]:
            raise ValueError(f"X must have shape (n_samples, {self.scale_.shape[0]}) like the "
                             f"data it was fitted on, got {X.shape}")

    def fit_transform(self, X):
        return self.fit(X).transform(X)


class Standardizer(_Scaler):
    """Shift and scale every feature to mean 0 and standard deviation 1.

    Attributes: ``mean_`` (n_features,), ``scale_`` (n_features,) — the standard deviation,
    with 1 in place of 0 for constant features (which then stay constant, at 0).
    """

    def fit(self, X):
        X = self._validate(X)
        self.mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        self.scale_ = np.where(std > 0, std, 1.0).astype(X.dtype)
        return self

    def transform(self, X):
        X = self._validate(X)
        self._check_fitted(X)
        return ((X - self.mean_) / self.scale_).astype(X.dtype, copy=False)

    def inverse_transform(self, Z):
        Z = self._validate(Z)
        self._check_fitted(Z)
        return (Z * self.scale_ + self.mean_).astype(Z.dtype, copy=False)

    def __repr__(self) -> str:
        return "Standardizer()"


class MinMaxScaler(_Scaler):
    """Map every feature linearly from [min, max] (of the training set) to ``feature_range``.

    ``feature_range=(0, 1)`` is the usual pixel scaling; ``(-1, 1)`` centres the data.
    Attributes: ``data_min_``, ``data_max_``, ``scale_`` (all (n_features,)); a constant
    feature is mapped to the lower end of the range.
    """

    def __init__(self, feature_range=(0, 1)):
        low, high = feature_range
        if not low < high:
            raise ValueError(f"feature_range must be (low, high) with low < high, got "
                             f"{feature_range!r}")
        self.feature_range = (float(low), float(high))

    def fit(self, X):
        X = self._validate(X)
        self.data_min_ = X.min(axis=0)
        self.data_max_ = X.max(axis=0)
        span = self.data_max_ - self.data_min_
        low, high = self.feature_range
        self.scale_ = ((high - low) / np.where(span > 0, span, 1.0)).astype(X.dtype)
        return self

    def transform(self, X):
        X = self._validate(X)
        self._check_fitted(X)
        low = self.feature_range[0]
        return ((X - self.data_min_) * self.scale_ + low).astype(X.dtype, copy=False)

    def inverse_transform(self, Z):
        Z = self._validate(Z)
        self._check_fitted(Z)
        low = self.feature_range[0]
        return ((Z - low) / self.scale_ + self.data_min_).astype(Z.dtype, copy=False)

    def __repr__(self) -> str:
        return f"MinMaxScaler(feature_range={self.feature_range})"
