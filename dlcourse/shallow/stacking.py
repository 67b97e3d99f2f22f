"""Stacked generalization (堆叠泛化): base learners, then a meta-learner on their predictions.

Two layers (两个层次):

* the **base layer** (初级层): several diverse base learners (基学习器), each trained on the
  original features;
* the **meta layer** (次级层): a meta-learner (元学习器) trained on the base learners'
  predictions for the same samples, used as its new features (meta-features).

The meta-learner must learn from predictions the base learners made on samples they did
**not** train on, otherwise it learns to trust whichever model memorised the training set
best. Two ways to get such predictions:

* :class:`BlendingClassifier` / :class:`BlendingRegressor` — exactly the notes' recipe: split
  off a validation set, fit the base learners on the rest, fit the meta-learner on their
  validation predictions (simple, but each layer sees only part of the data);
* :class:`StackingClassifier` / :class:`StackingRegressor` — K-fold out-of-fold predictions
  (:func:`out_of_fold_predict`): every training sample gets a prediction from a model that did
  not see it; the base learners are then refit on all the data for prediction time. Same
  configuration, same numbers as :class:`sklearn.ensemble.StackingClassifier`.

All four are scikit-learn estimators (``get_params``/``set_params``, ``clone``,
``cross_val_score``, ``Pipeline``). Classifiers stack class probabilities (the first column
is dropped for two classes, as in scikit-learn, because the two columns sum to one);
``passthrough=True`` appends the original features to the meta-features. A stack whose
``final_estimator`` is itself a stack is a multi-level stack (多层堆叠).
``cv="in_sample"`` trains the meta-learner on in-sample base predictions — the leaky
mistake, kept only so the chapter can measure it.
"""

from __future__ import annotations

from copy import deepcopy

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    TransformerMixin,
    clone,
    is_classifier,
)
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import check_cv, train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

__all__ = [
    "BlendingClassifier",
    "BlendingRegressor",
    "StackingClassifier",
    "StackingRegressor",
    "learner_importance",
    "meta_features",
    "out_of_fold_predict",
    "resolve_stack_method",
]

_AUTO_METHODS = ("predict_proba", "decision_function", "predict")


def resolve_stack_method(estimator, method: str = "auto", name: str = "estimator") -> str:
    """The prediction method a base learner contributes to the meta-features.

    ``"auto"`` picks the first of ``predict_proba``, ``decision_function``, ``predict`` the
    estimator has (scikit-learn's rule); any other value must be a method it has.
    """
    candidates = _AUTO_METHODS if method == "auto" else (method,)
    for candidate in candidates:
        if hasattr(estimator, candidate):
            return candidate
    raise ValueError(f"base learner {name!r} ({type(estimator).__name__}) does not implement "
                     f"stack_method={method!r}")


def out_of_fold_predict(estimator, X, y, *, cv=5, method: str = "predict",
                        classifier: bool | None = None) -> np.ndarray:
    """K-fold out-of-fold predictions (折外预测): each sample predicted by a model blind to it.

    For every fold k a fresh clone of ``estimator`` is fitted on the other folds and predicts
    fold k; the predictions are written back in the original sample order. The result is
    what :func:`sklearn.model_selection.cross_val_predict` returns.

    Parameters
    ----------
    estimator : scikit-learn estimator (unfitted; it is cloned per fold)
    X : array of shape (n_samples, n_features)
    y : array of shape (n_samples,)
    cv : int or cross-validation splitter, default 5
        An int means ``StratifiedKFold(cv)`` for classifiers and ``KFold(cv)`` otherwise.
    method : str, default "predict"
        ``"predict"``, ``"predict_proba"`` or ``"decision_function"``.
    classifier : bool, optional
        Whether an int ``cv`` stratifies; defaults to ``is_classifier(estimator)``.

    Returns
    -------
    predictions : array of shape (n_samples,) or (n_samples, n_outputs)

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.naive_bayes import GaussianNB
    >>> X, y = load_iris(return_X_y=True)
    >>> P = out_of_fold_predict(GaussianNB(), X, y, cv=5, method="predict_proba")
    >>> P.shape
    (150, 3)
    >>> bool(np.allclose(P.sum(axis=1), 1.0))
    True
    """
    X, y = np.asarray(X), np.asarray(y)
    if classifier is None:
        classifier = is_classifier(estimator)
    splitter = check_cv(cv, y, classifier=classifier)
    out, seen = None, np.zeros(len(y), dtype=int)
    for train_idx, test_idx in splitter.split(X, y):
        model = clone(estimator).fit(X[train_idx], y[train_idx])
        pred = getattr(model, method)(X[test_idx])
        if out is None:
            out = np.empty((len(y),) + pred.shape[1:], dtype=np.result_type(pred, np.float64))
        elif pred.shape[1:] != out.shape[1:]:
            raise ValueError(f"fold predictions have shape {pred.shape[1:]} per sample, earlier "
                             f"folds {out.shape[1:]}: a training fold probably misses a class; "
                             "use a stratified splitter or fewer folds")
        out[test_idx] = pred
        seen[test_idx] += 1
    if out is None or not np.all(seen == 1):
        raise ValueError("cv must partition the samples: every sample in exactly one test fold")
    return out


def meta_features(predictions, methods, n_classes: int | None = None, X=None) -> np.ndarray:
    """Stack base-learner predictions side by side into the meta-feature matrix (元特征).

    Parameters
    ----------
    predictions : list of arrays, each (n_samples,) or (n_samples, k)
        One entry per base learner.
    methods : list of str
        The method that produced each entry. For ``predict_proba`` with ``n_classes == 2``
        only the second column is kept (the first is one minus it).
    n_classes : int, optional
        Number of classes (classification only).
    X : array of shape (n_samples, n_features), optional
        Original features appended at the end (pass-through).

    Returns
    -------
    X_meta : array of shape (n_samples, total columns)

    Examples
    --------
    >>> p1 = np.array([[0.9, 0.1], [0.2, 0.8]])
    >>> p2 = np.array([[0.6, 0.4], [0.3, 0.7]])
    >>> meta_features([p1, p2], ["predict_proba"] * 2, n_classes=2)
    array([[0.1, 0.4],
           [0.8, 0.7]])
    """
    columns = []
    for pred, method in zip(predictions, methods, strict=True):
        pred = np.asarray(pred, dtype=np.float64)
        if pred.ndim == 1:
            pred = pred[:, None]
        elif method == "predict_proba" and n_classes == 2:
            pred = pred[:, 1:]
        columns.append(pred)
    if X is not None:
        columns.append(np.asarray(X, dtype=np.float64))
    return np.hstack(columns)


def learner_importance(meta_learner, X_meta, y, columns: dict, *, n_repeats: int = 10,
                       seed: int = 0) -> dict:
    """How much a fitted meta-learner relies on each base learner (置换重要性 by block).

    For every base learner, the block of meta-feature columns it contributes is shuffled
    across the rows (all its columns with the same permutation, so one sample's whole
    prediction moves to another sample) and the meta-learner's accuracy on ``(X_meta, y)``
    is measured again; the importance is the mean drop over ``n_repeats`` shuffles.
    Unlike the size of the meta-learner's weights, this compares learners whose columns have
    different scales (probabilities in [0, 1], an SVM's unbounded decision values).

    Parameters
    ----------
    meta_learner : fitted classifier with ``predict`` (e.g. ``stack.final_estimator_``)
    X_meta : array of shape (n_samples, n_meta_features)
    y : array of shape (n_samples,), labels as ``meta_learner`` predicts them
    columns : dict name -> slice (e.g. ``stack.meta_columns_``)
    n_repeats, seed : shuffles per learner, and the seed of the permutations

    Returns
    -------
    dict name -> float, the mean drop in accuracy (0 for a learner the meta-learner ignores)

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 200)
    >>> X_meta = np.column_stack([y + 0.1 * rng.normal(size=200), rng.normal(size=200)])
    >>> meta = LogisticRegression().fit(X_meta, y)
    >>> imp = learner_importance(meta, X_meta, y, {"good": slice(0, 1), "noise": slice(1, 2)})
    >>> bool(imp["good"] > 0.3 > abs(imp["noise"]))
    True
    """
    X_meta = np.asarray(X_meta, dtype=np.float64)
    y = np.asarray(y)
    if X_meta.ndim != 2 or len(X_meta) != len(y):
        raise ValueError(f"X_meta must have shape (n_samples, n_meta_features) with one row per "
                         f"label; got {X_meta.shape} and {y.shape}")
    if n_repeats < 1:
        raise ValueError(f"n_repeats must be >= 1, got {n_repeats}")
    rng = np.random.default_rng(seed)
    base = np.mean(meta_learner.predict(X_meta) == y)
    importance = {}
    for name, cols in columns.items():
        drops = []
        for _ in range(n_repeats):
            shuffled = X_meta.copy()
            shuffled[:, cols] = X_meta[rng.permutation(len(X_meta))][:, cols]
            drops.append(base - np.mean(meta_learner.predict(shuffled) == y))
        importance[name] = float(np.mean(drops))
    return importance


class _BaseStack(TransformerMixin, BaseEstimator):
    """Shared machinery: named base learners, parameter access, both layers' prediction."""

    _default_final = None  # set by subclasses

    # -- parameters: each base learner is also a parameter under its name -----------------
    def _named_pairs(self) -> list:
        """``estimators`` as (name, estimator) pairs, or [] while it is not yet such a list."""
        items = self.estimators if isinstance(self.estimators, list | tuple) else []
        return [item for item in items
                if isinstance(item, tuple | list) and len(item) == 2 and isinstance(item[0], str)]

    def get_params(self, deep: bool = True) -> dict:
        params = super().get_params(deep=deep)
        if deep:
            for name, est in self._named_pairs():
                params[name] = est
                if hasattr(est, "get_params"):
                    for key, value in est.get_params(deep=True).items():
                        params[f"{name}__{key}"] = value
        return params

    def set_params(self, **params):
        if "estimators" in params:
            self.estimators = params.pop("estimators")
        names = [name for name, _ in self._named_pairs()]
        replaced = {key: params.pop(key) for key in list(params) if key in names}
        if replaced:
            self.estimators = [(name, replaced.get(name, est))
                               for name, est in self._named_pairs()]
        super().set_params(**params)
        return self

    # -- validation ----------------------------------------------------------------------
    def _check_estimators(self):
        """Return (names, estimators) of the learners that are not ``"drop"``."""
        if not isinstance(self.estimators, list | tuple) or len(self.estimators) == 0:
            raise ValueError("estimators must be a non-empty list of (name, estimator) pairs, "
                             f"got {self.estimators!r}")
        names = []
        for item in self.estimators:
            if not (isinstance(item, tuple | list) and len(item) == 2
                    and isinstance(item[0], str)):
                raise ValueError(f"each entry of estimators must be a (name, estimator) pair, "
                                 f"got {item!r}")
            names.append(item[0])
        if len(set(names)) != len(names):
            raise ValueError(f"estimator names must be unique, got {names}")
        clashing = [n for n in names if "__" in n or n in self.get_params(deep=False)]
        if clashing:
            raise ValueError(f"estimator names must not contain '__' nor equal a parameter "
                             f"name, got {clashing}")
        kept = [(n, e) for n, e in self.estimators if not (isinstance(e, str) and e == "drop")]
        if not kept:
            raise ValueError("all estimators are 'drop'; at least one base learner is needed")
        for name, est in kept:
            if not hasattr(est, "fit"):
                raise TypeError(f"base learner {name!r} must be an estimator with fit, got "
                                f"{type(est).__name__}")
            if self._is_classifier_stack() and not is_classifier(est):
                raise ValueError(f"base learner {name!r} should be a classifier, got "
                                 f"{type(est).__name__}")
            if not self._is_classifier_stack() and is_classifier(est):
                raise ValueError(f"base learner {name!r} should be a regressor, got "
                                 f"{type(est).__name__}")
        return [n for n, _ in kept], [e for _, e in kept]

    def _is_classifier_stack(self) -> bool:
        return is_classifier(self)

    def _validate_training_data(self, X, y):
        X, y = validate_data(self, X, y, y_numeric=not self._is_classifier_stack())
        y = column_or_1d(y, warn=True)
        if self._is_classifier_stack():
            check_classification_targets(y)
            self._label_encoder = LabelEncoder().fit(y)
            self.classes_ = self._label_encoder.classes_
            if len(self.classes_) < 2:
                raise ValueError(f"y has 1 class ({self.classes_[0]!r}); a classifier needs at "
                             "least two")
            y = self._label_encoder.transform(y)
        return X, y

    def _methods(self, names, estimators):
        method = getattr(self, "stack_method", "predict")
        return [resolve_stack_method(est, method, name)
                for name, est in zip(names, estimators, strict=True)]

    def _fit_final(self, X_meta, y, predictions):
        """Fit the meta-learner on X_meta; remember it and which columns each learner gave."""
        self.train_meta_features_ = X_meta
        widths = [1 if np.ndim(p) == 1 else np.shape(p)[1] for p in predictions]
        if self._is_classifier_stack() and len(self.classes_) == 2:
            widths = [1 if m == "predict_proba" else w
                      for w, m in zip(widths, self.stack_method_, strict=True)]
        stops = np.cumsum(widths)
        self.meta_columns_ = {name: slice(int(stop - w), int(stop)) for name, w, stop
                              in zip(self.estimator_names_, widths, stops, strict=True)}
        final = self.final_estimator
        self.final_estimator_ = clone(self._default_final if final is None else final)
        self.final_estimator_.fit(X_meta, y)

    # -- prediction through both layers -------------------------------------------------
    def _base_predictions(self, X) -> list:
        """Each fitted base learner's stack_method output on X."""
        return [getattr(est, method)(X)
                for est, method in zip(self.estimators_, self.stack_method_, strict=True)]

    def _meta(self, X, predictions):
        n_classes = len(self.classes_) if self._is_classifier_stack() else None
        return meta_features(predictions, self.stack_method_, n_classes,
                             X if self.passthrough else None)

    def transform(self, X) -> np.ndarray:
        """Layer 1: the meta-features of X (base predictions, then X if pass-through)."""
        check_is_fitted(self, "final_estimator_")
        X = validate_data(self, X, reset=False)
        return self._meta(X, self._base_predictions(X))

    def predict(self, X) -> np.ndarray:
        """Both layers: base predictions -> meta-features -> the meta-learner's prediction."""
        check_is_fitted(self, "final_estimator_")
        y = self.final_estimator_.predict(self.transform(X))
        if self._is_classifier_stack():
            return self._label_encoder.inverse_transform(np.asarray(y).astype(int))
        return y

    @property
    def named_estimators_(self) -> dict:
        """The fitted base learners by name."""
        check_is_fitted(self, "final_estimator_")
        return dict(zip(self.estimator_names_, self.estimators_, strict=True))


class _ClassifierStackMixin:
    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities from the meta-learner, shape (n_samples, n_classes)."""
        check_is_fitted(self, "final_estimator_")
        return self.final_estimator_.predict_proba(self.transform(X))


class _KFoldStack(_BaseStack):
    """Out-of-fold stacking; ``cv`` also accepts ``"in_sample"`` (leaky, for the demo only)."""

    def fit(self, X, y):
        """Fit the base learners (on all of X) and the meta-learner (on their OOF predictions).

        Returns
        -------
        self
        """
        names, estimators = self._check_estimators()
        X, y = self._validate_training_data(X, y)
        self.estimator_names_ = names
        self.stack_method_ = self._methods(names, estimators)
        self.estimators_ = [clone(est).fit(X, y) for est in estimators]
        if isinstance(self.cv, str) and self.cv == "in_sample":
            predictions = self._base_predictions(X)
        else:
            splitter = check_cv(self.cv, y, classifier=self._is_classifier_stack())
            if getattr(splitter, "random_state", 0) is None and getattr(splitter, "shuffle",
                                                                       False):
                # The same shuffled folds for every base learner (as scikit-learn does).
                splitter = deepcopy(splitter)
                splitter.random_state = np.random.RandomState()
            predictions = [out_of_fold_predict(est, X, y, cv=deepcopy(splitter), method=method,
                                               classifier=self._is_classifier_stack())
                           for est, method in zip(estimators, self.stack_method_, strict=True)]
        self._fit_final(self._meta(X, predictions), y, predictions)
        return self


class _BlendingStack(_BaseStack):
    """Blending: base learners on a training part, meta-learner on a validation part."""

    def fit(self, X, y):
        """Split X into train/validation, fit layer 1 on train and layer 2 on validation.

        Returns
        -------
        self
        """
        names, estimators = self._check_estimators()
        X, y = self._validate_training_data(X, y)
        stratify = y if self._is_classifier_stack() else None
        idx_train, idx_val = train_test_split(np.arange(len(y)),
                                              test_size=self.validation_size,
                                              random_state=self.random_state, stratify=stratify)
        self.train_indices_, self.validation_indices_ = idx_train, idx_val
        self.estimator_names_ = names
        self.stack_method_ = self._methods(names, estimators)
        self.estimators_ = [clone(est).fit(X[idx_train], y[idx_train]) for est in estimators]
        predictions = self._base_predictions(X[idx_val])
        self._fit_final(self._meta(X[idx_val], predictions), y[idx_val], predictions)
        return self


_COMMON_PARAMS = """
    estimators : list of (str, estimator)
        The base learners (基学习器), by name; a name can be set to ``"drop"`` with
        ``set_params(name="drop")`` to leave that learner out. Each is cloned before fitting.
    final_estimator : estimator, default {default}
        The meta-learner (元学习器). Another stacking estimator here gives a multi-level stack."""


class StackingClassifier(_ClassifierStackMixin, ClassifierMixin, _KFoldStack):
    __doc__ = f"""K-fold stacking classifier: the meta-learner learns from out-of-fold predictions.

    Parameters
    ----------{_COMMON_PARAMS.format(default="LogisticRegression()")}
    cv : int, splitter or "in_sample", default 5
        Folds for the out-of-fold predictions (an int means ``StratifiedKFold(cv)``).
        ``"in_sample"`` feeds the meta-learner predictions on the base learners' own training
        data — a leak, there only to measure the overfitting it causes.
    stack_method : {{"auto", "predict_proba", "decision_function", "predict"}}, default "auto"
        What each base learner contributes; "auto" = the first of those it has.
    passthrough : bool, default False
        Append the original features to the meta-features.

    Attributes
    ----------
    classes_ : array of shape (n_classes,)
    estimators_ : list of fitted base learners (refit on all the training data)
    estimator_names_ : list of str
    stack_method_ : list of str
    final_estimator_ : fitted meta-learner
    train_meta_features_ : array of shape (n_samples, n_meta_features)
        What the meta-learner was trained on: the out-of-fold predictions (then X when
        pass-through). Refit another meta-learner on it without refitting the base layer.
    meta_columns_ : dict of str -> slice
        Which columns of the meta-features each base learner contributes.
    n_features_in_ : int

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> stack = StackingClassifier([("nb", GaussianNB()),
    ...                             ("tree", DecisionTreeClassifier(random_state=0))])
    >>> stack.fit(X, y).predict(X[:3])
    array([0, 0, 0])
    >>> stack.transform(X[:3]).shape     # 3 class probabilities from each base learner
    (3, 6)
    """

    _default_final = LogisticRegression()

    def __init__(self, estimators, final_estimator=None, *, cv=5, stack_method="auto",
                 passthrough=False):
        self.estimators = estimators
        self.final_estimator = final_estimator
        self.cv = cv
        self.stack_method = stack_method
        self.passthrough = passthrough


class StackingRegressor(RegressorMixin, _KFoldStack):
    __doc__ = f"""K-fold stacking regressor: the meta-learner learns from out-of-fold predictions.

    Parameters
    ----------{_COMMON_PARAMS.format(default="LinearRegression()")}
    cv : int, splitter or "in_sample", default 5
        Folds for the out-of-fold predictions (an int means ``KFold(cv)``); ``"in_sample"``
        is the leaky variant, for demonstrations.
    passthrough : bool, default False
        Append the original features to the meta-features.

    Attributes
    ----------
    estimators_ : list of fitted base learners (refit on all the training data)
    estimator_names_ : list of str
    stack_method_ : list of str (all "predict")
    final_estimator_ : fitted meta-learner
    train_meta_features_ : array of shape (n_samples, n_meta_features)
    meta_columns_ : dict of str -> slice
    n_features_in_ : int

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.neighbors import KNeighborsRegressor
    >>> X, y = make_regression(n_samples=200, n_features=5, noise=1.0, random_state=0)
    >>> stack = StackingRegressor([("ridge", Ridge()), ("knn", KNeighborsRegressor())])
    >>> bool(stack.fit(X, y).score(X, y) > 0.9)
    True
    """

    _default_final = LinearRegression()

    def __init__(self, estimators, final_estimator=None, *, cv=5, passthrough=False):
        self.estimators = estimators
        self.final_estimator = final_estimator
        self.cv = cv
        self.passthrough = passthrough


class BlendingClassifier(_ClassifierStackMixin, ClassifierMixin, _BlendingStack):
    __doc__ = f"""Blending classifier: the notes' recipe with a held-out validation set.

    ``fit(X, y)`` splits its data into a training part (for the base learners) and a
    validation part (their predictions there train the meta-learner); keep your own test set
    apart and score the fitted blend on it.

    Parameters
    ----------{_COMMON_PARAMS.format(default="LogisticRegression()")}
    validation_size : float or int, default 0.25
        Fraction (or number) of the samples held out to train the meta-learner.
    stack_method : {{"auto", "predict_proba", "decision_function", "predict"}}, default "auto"
    passthrough : bool, default False
    random_state : int or None, default 0
        Seed of the (stratified) train/validation split.

    Attributes
    ----------
    classes_, estimators_, estimator_names_, stack_method_, final_estimator_, n_features_in_
        As in :class:`StackingClassifier`, except that ``estimators_`` saw only the training
        part.
    train_indices_, validation_indices_ : arrays of int
        Which rows of the ``fit`` data went to each layer.
    train_meta_features_ : array of shape (n_validation, n_meta_features)
        The base learners' validation predictions the meta-learner was trained on.
    meta_columns_ : dict of str -> slice

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> blend = BlendingClassifier([("nb", GaussianNB()), ("knn", KNeighborsClassifier())],
    ...                            validation_size=0.3).fit(X, y)
    >>> len(blend.train_indices_), len(blend.validation_indices_)
    (105, 45)
    >>> blend.predict_proba(X[:2]).shape
    (2, 3)
    """

    _default_final = LogisticRegression()

    def __init__(self, estimators, final_estimator=None, *, validation_size=0.25,
                 stack_method="auto", passthrough=False, random_state=0):
        self.estimators = estimators
        self.final_estimator = final_estimator
        self.validation_size = validation_size
        self.stack_method = stack_method
        self.passthrough = passthrough
        self.random_state = random_state


class BlendingRegressor(RegressorMixin, _BlendingStack):
    __doc__ = f"""Blending regressor: base learners on a training part, meta-learner on the rest.

    Parameters
    ----------{_COMMON_PARAMS.format(default="LinearRegression()")}
    validation_size : float or int, default 0.25
    passthrough : bool, default False
    random_state : int or None, default 0

    Attributes
    ----------
    estimators_, estimator_names_, stack_method_, final_estimator_, n_features_in_,
    train_indices_, validation_indices_, train_meta_features_, meta_columns_

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> X, y = make_regression(n_samples=200, n_features=5, noise=1.0, random_state=0)
    >>> blend = BlendingRegressor([("ridge", Ridge()),
    ...                            ("tree", DecisionTreeRegressor(random_state=0))]).fit(X, y)
    >>> blend.final_estimator_.coef_.shape      # one weight per base learner
    (2,)
    """

    _default_final = LinearRegression()

    def __init__(self, estimators, final_estimator=None, *, validation_size=0.25,
                 passthrough=False, random_state=0):
        self.estimators = estimators
        self.final_estimator = final_estimator
        self.validation_size = validation_size
        self.passthrough = passthrough
        self.random_state = random_state
