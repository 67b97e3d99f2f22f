"""The course's numpy MLP as scikit-learn estimators (base learner or meta-learner in a stack).

:class:`MLPClassifier` and :class:`MLPRegressor` build a :class:`dlcourse.core.layers.MLP`,
train it with :class:`dlcourse.core.optim.Adam` through :func:`dlcourse.core.training.train`,
and expose the
scikit-learn protocol: ``fit``/``predict``/``predict_proba``/``score``, ``get_params`` and
``set_params``, ``clone``, so they work in ``Pipeline``, ``cross_val_score``, grid searches
and the stacking estimators of :mod:`dlcourse.shallow.stacking`.

Inputs are not rescaled here (put a ``StandardScaler`` in front in a ``Pipeline`` when the
features are on different scales). The regressor standardises its *targets* internally, so
Adam's default step size suits any target scale.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from dlcourse.core.activations import softmax
from dlcourse.core.layers import MLP
from dlcourse.core.optim import Adam
from dlcourse.core.regularization import l2_penalty
from dlcourse.core.training import train

__all__ = ["MLPClassifier", "MLPRegressor"]


class _MLPEstimator(BaseEstimator):
    """Shared fit machinery: build the MLP, train it with Adam, remember the history."""

    def __init__(self, hidden_layer_sizes=(64,), *, activation="relu", dropout=0.0, lr=1e-2,
                 epochs=50, batch_size=64, alpha=0.0, random_state=0):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.lr = lr
        self.epochs = epochs
        self.batch_size = batch_size
        self.alpha = alpha
        self.random_state = random_state

    def _train(self, X, targets, n_outputs, loss):
        hidden = ([int(self.hidden_layer_sizes)] if np.isscalar(self.hidden_layer_sizes)
                  else [int(h) for h in self.hidden_layer_sizes])
        seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        self.model_ = MLP([X.shape[1], *hidden, n_outputs], activation=self.activation,
                          dropout=self.dropout, seed=seed, dtype=np.float32)
        regularization = (lambda m: l2_penalty(m, self.alpha)) if self.alpha else None
        self.history_ = train(self.model_, X.astype(np.float32), targets,
                              optimizer=Adam(self.model_, lr=self.lr), loss=loss,
                              epochs=self.epochs, batch_size=min(self.batch_size, len(X)),
                              regularization=regularization, seed=seed, progress=False)
        return self

    def _outputs(self, X) -> np.ndarray:
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=[np.float32, np.float64])
        X = X.astype(np.float64, copy=False)
        out, _ = _float64_copy(self.model_).forward(X, training=False)
        return out


def _float64_copy(model: MLP) -> MLP:
    """The trained network with float64 weights, used for every prediction.

    A float32 GEMM rounds differently depending on how many rows it gets (OpenBLAS picks
    its kernel by shape and CPU), so a row's float32 prediction would depend on which other
    rows share its batch. scikit-learn's contract (``check_methods_subset_invariance``)
    forbids that. In float64 the batch-dependent part is ~1e-16 relative, far below any
    tolerance, whichever BLAS kernel runs.
    """
    copy = MLP(model.sizes, activation=model.activation, dropout=model.dropout,
               dtype=np.float64)
    copy.load_state_dict(model.state_dict())
    return copy


class MLPClassifier(ClassifierMixin, _MLPEstimator):
    """A numpy MLP classifier (softmax cross-entropy, Adam) with scikit-learn's interface.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default (64,)
        Widths of the hidden layers; the input and output widths come from the data.
    activation : {"relu", "tanh", "sigmoid", "leaky_relu"}, default "relu"
    dropout : float, default 0.0
        Dropout probability after each hidden activation (training only).
    lr : float, default 0.01
        Adam's learning rate.
    epochs : int, default 50
    batch_size : int, default 64
    alpha : float, default 0.0
        L2 penalty on the weights (not the biases).
    random_state : int, RandomState or None, default 0
        Seeds the initial weights and the mini-batch order.

    Attributes
    ----------
    classes_ : array of shape (n_classes,)
    model_ : dlcourse.core.layers.MLP
        The trained network; it outputs one logit per class.
    history_ : dlcourse.core.history.History
        Training loss and accuracy per epoch.
    n_features_in_ : int

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), MLPClassifier((16,), epochs=100)).fit(X, y)
    >>> bool(clf.score(X, y) > 0.95)
    True
    >>> clf.predict_proba(X[:2]).shape
    (2, 3)
    """

    def fit(self, X, y):
        """Train a fresh network on (X, y); returns self."""
        X, y = validate_data(self, X, y, dtype=[np.float32, np.float64])
        check_classification_targets(y)
        self._encoder = LabelEncoder().fit(y)
        self.classes_ = self._encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(f"y has 1 class ({self.classes_[0]!r}); a classifier needs at "
                             "least two")
        return self._train(X, self._encoder.transform(y), len(self.classes_),
                           "softmax_cross_entropy")

    def predict_proba(self, X) -> np.ndarray:
        """Softmax of the logits, shape (n_samples, n_classes); rows sum to 1."""
        return softmax(self._outputs(X))

    def predict(self, X) -> np.ndarray:
        """The most probable class label for each row, shape (n_samples,)."""
        check_is_fitted(self, "model_")
        return self.classes_[self._outputs(X).argmax(axis=1)]


class MLPRegressor(RegressorMixin, _MLPEstimator):
    """A numpy MLP regressor (mean squared error, Adam) with scikit-learn's interface.

    Same parameters as :class:`MLPClassifier`. The targets are standardised for training
    (``y_mean_``, ``y_scale_``) and the predictions mapped back.

    Attributes
    ----------
    model_ : dlcourse.core.layers.MLP
    history_ : dlcourse.core.history.History
    y_mean_, y_scale_ : float
    n_features_in_ : int

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> X, y = make_regression(n_samples=300, n_features=4, noise=5.0, random_state=0)
    >>> reg = MLPRegressor((32,), epochs=100).fit(X, y)
    >>> bool(reg.score(X, y) > 0.95)
    True
    """

    def fit(self, X, y):
        """Train a fresh network on (X, y); returns self."""
        X, y = validate_data(self, X, y, y_numeric=True, dtype=[np.float32, np.float64])
        if y.ndim != 1:
            raise ValueError(f"y must have shape (n_samples,), got {y.shape}")
        self.y_mean_ = float(np.mean(y))
        self.y_scale_ = float(np.std(y)) or 1.0
        targets = ((y - self.y_mean_) / self.y_scale_).astype(np.float32)[:, None]
        return self._train(X, targets, 1, "mse")

    def predict(self, X) -> np.ndarray:
        """Predicted values, shape (n_samples,)."""
        return self._outputs(X)[:, 0] * self.y_scale_ + self.y_mean_
