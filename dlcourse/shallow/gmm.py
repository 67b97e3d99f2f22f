"""A Gaussian-mixture classifier: one GaussianMixture per class, Bayes' rule on top.

The classic shallow speech recogniser (before deep learning): model the feature vectors
(e.g. MFCCs) of each class with a mixture of Gaussians (GMM, 高斯混合模型), then predict
the class whose mixture gives the highest ``log p(x | class) + log p(class)``. scikit-learn
has the mixture (:class:`sklearn.mixture.GaussianMixture`) but no classifier built on it.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.mixture import GaussianMixture
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["GaussianMixtureClassifier"]


class GaussianMixtureClassifier(ClassifierMixin, BaseEstimator):
    """Generative classifier with one Gaussian mixture per class.

    Parameters
    ----------
    n_components : int, default 2
        Mixture components per class (reduced automatically for a class with fewer
        training examples than components).
    covariance_type : {"diag", "full", "spherical", "tied"}, default "diag"
    reg_covar : float, default 1e-3
        Added to the covariance diagonals (keeps small classes well conditioned).
    random_state : int, default 0

    Attributes
    ----------
    classes_ : array (n_classes,)
    mixtures_ : list of fitted GaussianMixture, one per class
    log_prior_ : array (n_classes,), the log class frequencies
    n_features_in_ : int

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = GaussianMixtureClassifier(n_components=1).fit(X, y)
    >>> bool(clf.score(X, y) > 0.95)
    True
    """

    def __init__(self, n_components=2, covariance_type="diag", reg_covar=1e-3,
                 random_state=0):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.reg_covar = reg_covar
        self.random_state = random_state

    def fit(self, X, y):
        """Fit one mixture to each class's rows of X; returns self."""
        X, y = validate_data(self, X, y)
        check_classification_targets(y)
        if isinstance(self.n_components, bool) or not isinstance(
                self.n_components, (int, np.integer)) or self.n_components < 1:
            raise ValueError(f"n_components must be a positive integer, got "
                             f"{self.n_components!r}")
        self.classes_, counts = np.unique(y, return_counts=True)
        if len(self.classes_) < 2:
            raise ValueError(f"y has 1 class ({self.classes_[0]!r}); a classifier needs at "
                             "least two")
        template = GaussianMixture(covariance_type=self.covariance_type,
                                   reg_covar=self.reg_covar, random_state=self.random_state)
        self.mixtures_ = [
            clone(template).set_params(n_components=int(min(self.n_components, count)))
            .fit(X[y == label])
            for label, count in zip(self.classes_, counts, strict=True)
        ]
        self.log_prior_ = np.log(counts / counts.sum())
        return self

    def predict_log_likelihood(self, X) -> np.ndarray:
        """``log p(x | class) + log p(class)`` for every row and class: (n, n_classes)."""
        check_is_fitted(self, "mixtures_")
        X = validate_data(self, X, reset=False)
        return np.stack([m.score_samples(X) for m in self.mixtures_], axis=1) + self.log_prior_

    def predict_proba(self, X) -> np.ndarray:
        """Posterior class probabilities by Bayes' rule: (n, n_classes), rows sum to 1."""
        joint = self.predict_log_likelihood(X)
        joint = joint - joint.max(axis=1, keepdims=True)
        p = np.exp(joint)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        """The most probable class for each row: (n,)."""
        check_is_fitted(self, "mixtures_")
        return self.classes_[np.argmax(self.predict_log_likelihood(X), axis=1)]
