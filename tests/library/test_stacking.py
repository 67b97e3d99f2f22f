"""Stacking and blending estimators: same numbers as scikit-learn, sklearn protocol, leakage."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from sklearn import ensemble
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_iris, make_regression
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.model_selection import (
    KFold,
    ShuffleSplit,
    StratifiedKFold,
    cross_val_predict,
    cross_val_score,
    train_test_split,
)
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import dlcourse.shallow.stacking as stacking
from dlcourse.data import make_tabular_classification, make_tabular_regression
from dlcourse.shallow.base_learners import diverse_classifiers, diverse_regressors
from dlcourse.shallow.stacking import (
    BlendingClassifier,
    BlendingRegressor,
    StackingClassifier,
    StackingRegressor,
    learner_importance,
    meta_features,
    out_of_fold_predict,
)

from .sklearn_checks import failed_estimator_checks


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """Small models: one BLAS thread is faster than two that wait for each other."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


def _classifiers():
    return [("nb", GaussianNB()),
            ("tree", DecisionTreeClassifier(max_depth=4, random_state=0)),
            ("knn", make_pipeline(StandardScaler(), KNeighborsClassifier(7)))]


def _regressors():
    return [("ridge", Ridge()), ("tree", DecisionTreeRegressor(max_depth=4, random_state=0)),
            ("knn", KNeighborsRegressor(7))]


def _final():
    return LogisticRegression(max_iter=5000)


# --------------------------------------------------------------------------- vs scikit-learn

@pytest.mark.parametrize("dataset", ["iris", "breast_cancer"])
@pytest.mark.parametrize("passthrough", [False, True])
@pytest.mark.parametrize("cv", [5, "shuffled"])
def test_classifier_matches_sklearn(dataset, passthrough, cv):
    X, y = (load_iris if dataset == "iris" else load_breast_cancer)(return_X_y=True)
    X = StandardScaler().fit_transform(X)  # a well-conditioned meta-learner fit: fast
    if cv == "shuffled":
        cv = StratifiedKFold(4, shuffle=True, random_state=3)
    ours = StackingClassifier(_classifiers(), _final(), cv=cv, stack_method="predict_proba",
                              passthrough=passthrough).fit(X, y)
    ref = ensemble.StackingClassifier(_classifiers(), _final(), cv=cv,
                                      stack_method="predict_proba",
                                      passthrough=passthrough).fit(X, y)
    np.testing.assert_allclose(ours.transform(X), ref.transform(X), atol=1e-12)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-10)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    np.testing.assert_array_equal(ours.classes_, ref.classes_)


def test_classifier_auto_method_and_string_labels_match_sklearn():
    X, y = load_iris(return_X_y=True)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    est = [("svm", make_pipeline(StandardScaler(), SVC(random_state=0))), ("nb", GaussianNB())]
    ours = StackingClassifier(est, _final()).fit(X, labels)
    ref = ensemble.StackingClassifier(est, _final()).fit(X, labels)
    assert ours.stack_method_ == ["decision_function", "predict_proba"] == ref.stack_method_
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-10)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    assert ours.predict(X[:1])[0] == "setosa"


@pytest.mark.parametrize("passthrough", [False, True])
def test_regressor_matches_sklearn(passthrough):
    X, y = make_regression(n_samples=150, n_features=6, noise=5.0, random_state=0)
    cv = KFold(5, shuffle=True, random_state=1)
    ours = StackingRegressor(_regressors(), LinearRegression(), cv=cv,
                             passthrough=passthrough).fit(X, y)
    ref = ensemble.StackingRegressor(_regressors(), LinearRegression(), cv=cv,
                                     passthrough=passthrough).fit(X, y)
    np.testing.assert_allclose(ours.transform(X), ref.transform(X), atol=1e-9)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-9, atol=1e-9)


def test_out_of_fold_predict_is_cross_val_predict():
    X, y = load_iris(return_X_y=True)
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    for method in ("predict", "predict_proba"):
        ours = out_of_fold_predict(KNeighborsClassifier(3), X, y, cv=cv, method=method)
        ref = cross_val_predict(KNeighborsClassifier(3), X, y, cv=cv, method=method)
        np.testing.assert_allclose(ours, ref)


def test_out_of_fold_predictions_come_from_unseen_samples():
    # 1-NN predicts every training sample perfectly in-sample; out of fold it must not.
    X, y = load_breast_cancer(return_X_y=True)
    in_sample = KNeighborsClassifier(1).fit(X, y).predict(X)
    oof = out_of_fold_predict(KNeighborsClassifier(1), X, y, cv=5)
    assert np.mean(in_sample == y) == 1.0
    assert np.mean(oof == y) < 0.97


def test_out_of_fold_predict_requires_a_partition():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="partition"):
        out_of_fold_predict(GaussianNB(), X, y, cv=ShuffleSplit(3, random_state=0))


def test_meta_features_drop_redundant_binary_column_and_pass_through():
    p = np.array([[0.9, 0.1], [0.2, 0.8]])
    labels = np.array([0, 1])
    X = np.array([[5.0], [6.0]])
    out = meta_features([p, labels, p], ["predict_proba", "predict", "predict_proba"], 2, X)
    np.testing.assert_allclose(out, [[0.1, 0, 0.1, 5], [0.8, 1, 0.8, 6]])
    three = meta_features([np.full((2, 3), 1 / 3)], ["predict_proba"], 3)
    assert three.shape == (2, 3)


# --------------------------------------------------------------------------- blending

def test_blending_is_the_notes_recipe():
    X, y = load_breast_cancer(return_X_y=True)
    X_fit, X_test, y_fit, y_test = train_test_split(X, y, test_size=0.25, random_state=0,
                                                    stratify=y)
    blend = BlendingClassifier(_classifiers(), _final(), validation_size=0.3,
                               random_state=4).fit(X_fit, y_fit)
    tr, va = blend.train_indices_, blend.validation_indices_
    assert len(np.intersect1d(tr, va)) == 0 and len(tr) + len(va) == len(y_fit)
    assert len(va) == round(0.3 * len(y_fit))
    # Step 2: base learners on the training part only.
    assert blend.named_estimators_["nb"].class_count_.sum() == len(tr)
    # Steps 2-4 by hand give exactly the same predictions.
    X_tr, X_va, y_tr, y_va = train_test_split(X_fit, y_fit, test_size=0.3, random_state=4,
                                              stratify=y_fit)
    models = [clone(m).fit(X_tr, y_tr) for _, m in _classifiers()]
    meta_val = np.column_stack([m.predict_proba(X_va)[:, 1] for m in models])
    meta = _final().fit(meta_val, y_va)
    meta_test = np.column_stack([m.predict_proba(X_test)[:, 1] for m in models])
    np.testing.assert_allclose(blend.train_meta_features_, meta_val)
    np.testing.assert_allclose(blend.predict_proba(X_test), meta.predict_proba(meta_test))
    np.testing.assert_array_equal(blend.predict(X_test), meta.predict(meta_test))


def test_blending_regressor_learns_a_weighting():
    X, y = make_regression(n_samples=300, n_features=5, noise=10.0, random_state=0)
    blend = BlendingRegressor(_regressors(), passthrough=True).fit(X, y)
    assert blend.train_meta_features_.shape == (75, 3 + 5)
    assert blend.score(X, y) > 0.9
    assert blend.meta_columns_ == {"ridge": slice(0, 1), "tree": slice(1, 2),
                                   "knn": slice(2, 3)}


# --------------------------------------------------------------------------- multi-level

def test_multi_level_stack():
    X, y = load_iris(return_X_y=True)
    level2 = StackingClassifier([("lr", _final()), ("nb", GaussianNB())], _final(), cv=3)
    stack = StackingClassifier(_classifiers(), level2, cv=3).fit(X, y)
    assert isinstance(stack.final_estimator_, StackingClassifier)
    # Level 2 is trained on level 1's out-of-fold probabilities: 3 learners x 3 classes.
    assert stack.final_estimator_.n_features_in_ == 9
    assert stack.predict_proba(X).shape == (150, 3)
    assert stack.score(X, y) > 0.9


# --------------------------------------------------------------------------- sklearn protocol

ALL = [
    lambda: StackingClassifier(_classifiers(), _final(), cv=3),
    lambda: BlendingClassifier(_classifiers(), _final()),
    lambda: StackingRegressor(_regressors(), cv=3),
    lambda: BlendingRegressor(_regressors()),
]


@pytest.mark.parametrize("make", ALL)
def test_clone_get_params_set_params(make):
    est = make()
    params = est.get_params()
    assert {"estimators", "final_estimator", "passthrough", "tree", "tree__max_depth"} <= set(
        params)
    twin = clone(est)
    assert twin is not est and twin.get_params(deep=False).keys() == est.get_params(
        deep=False).keys()
    est.set_params(tree__max_depth=2, passthrough=True)
    assert dict(est.estimators)["tree"].max_depth == 2 and est.passthrough
    est.set_params(knn="drop")
    assert dict(est.estimators)["knn"] == "drop"


@pytest.mark.parametrize("make", ALL)
def test_clear_error_before_fit(make):
    est = make()
    X = np.zeros((3, 4))
    for method in ("predict", "transform") + (("predict_proba",)
                                              if hasattr(est, "predict_proba") else ()):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            getattr(est, method)(X)


def test_dropped_learner_is_left_out():
    X, y = load_iris(return_X_y=True)
    stack = StackingClassifier(_classifiers(), _final(), cv=3).set_params(tree="drop").fit(X, y)
    assert stack.estimator_names_ == ["nb", "knn"]
    assert stack.transform(X).shape == (150, 6)


def test_invalid_estimators_are_named():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="should be a classifier"):
        StackingClassifier([("ridge", Ridge())]).fit(X, y)
    with pytest.raises(ValueError, match="should be a regressor"):
        StackingRegressor([("nb", GaussianNB())]).fit(X, y)
    with pytest.raises(ValueError, match="unique"):
        StackingClassifier([("a", GaussianNB()), ("a", GaussianNB())]).fit(X, y)
    with pytest.raises(ValueError, match="non-empty"):
        StackingClassifier([]).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        StackingClassifier(_classifiers(), cv=3).fit(X, y).predict(X[:, :2])


def test_cross_val_score_and_pipeline():
    X, y = load_breast_cancer(return_X_y=True)
    pipe = make_pipeline(StandardScaler(),
                         StackingClassifier(_classifiers(), _final(), cv=3))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.9
    Xr, yr = make_regression(n_samples=120, n_features=4, noise=1.0, random_state=0)
    r2 = cross_val_score(BlendingRegressor(_regressors()), Xr, yr, cv=3)
    assert r2.min() > 0.8


_SMALL_CLF = [("nb", GaussianNB()), ("tree", DecisionTreeClassifier(random_state=0))]
_SMALL_REG = [("ridge", Ridge()), ("tree", DecisionTreeRegressor(random_state=0))]
SMALL = [
    lambda: StackingClassifier(_SMALL_CLF, cv=3),
    lambda: BlendingClassifier(_SMALL_CLF),
    lambda: StackingRegressor(_SMALL_REG, cv=3),
    lambda: BlendingRegressor(_SMALL_REG),
]


@pytest.mark.parametrize("make", SMALL)
def test_sklearn_check_estimator(make):
    failed = failed_estimator_checks(make())
    assert not failed, failed


def test_docstring_examples_run():
    result = doctest.testmod(stacking, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 5 and result.failed == 0


# --------------------------------------------------------------------------- the chapter's claims

@pytest.fixture(scope="module")
def chapter_split():
    X, y = make_tabular_classification(seed=0)
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


def test_leakage_in_sample_meta_features_overfit(chapter_split):
    X_train, X_test, y_train, y_test = chapter_split
    learners = [(n, m) for n, m in diverse_classifiers() if n != "mlp"]
    proper = StackingClassifier(learners, _final()).fit(X_train, y_train)
    leaky = StackingClassifier(learners, _final(), cv="in_sample").fit(X_train, y_train)
    # In-sample, the fully grown tree is always right, so the meta-learner trusts it ...
    assert leaky.score(X_train, y_train) == 1.0
    tree_test = leaky.named_estimators_["tree"].score(X_test, y_test)
    # ... and on new data the leaky stack is no better than that tree, well below the
    # properly stacked one.
    assert leaky.score(X_test, y_test) <= tree_test + 0.01
    assert proper.score(X_test, y_test) > leaky.score(X_test, y_test) + 0.05


def test_stack_beats_every_base_learner(chapter_split):
    X_train, X_test, y_train, y_test = chapter_split
    stack = StackingClassifier(diverse_classifiers(), _final()).fit(X_train, y_train)
    singles = {name: est.score(X_test, y_test) for name, est in stack.named_estimators_.items()}
    best = max(singles.values())
    assert stack.score(X_test, y_test) >= best + 0.01, (stack.score(X_test, y_test), singles)
    # The course MLP as the meta-learner, on the same out-of-fold matrix, also wins.
    from dlcourse.shallow.estimators import MLPClassifier

    meta = MLPClassifier((16,), lr=3e-3, epochs=50).fit(stack.train_meta_features_, y_train)
    assert meta.score(stack.transform(X_test), y_test) >= best


def test_regression_stack_beats_every_base_learner():
    X, y = make_tabular_regression(seed=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    stack = StackingRegressor(diverse_regressors(), LinearRegression()).fit(X_train, y_train)
    best = max(est.score(X_test, y_test) for est in stack.estimators_)
    assert stack.score(X_test, y_test) >= best


def test_widget_toggles_learners_without_refitting_the_base_layer():
    import matplotlib

    matplotlib.use("Agg")
    from dlcourse.widgets.stacking import stacking_explorer

    X, y = load_iris(return_X_y=True)
    stack = StackingClassifier(_classifiers(), _final(), cv=3).fit(X[::2], y[::2])
    oof = {n: np.mean(stack.train_meta_features_[:, s].argmax(1) == y[::2])
           for n, s in stack.meta_columns_.items()}
    widget = stacking_explorer(stack.train_meta_features_, y[::2], stack.meta_columns_, oof)
    boxes = widget.children[:-1]
    assert [b.description for b in boxes] == ["nb", "tree", "knn"]
    boxes[0].value = False  # refits only the meta-learner on the remaining columns
    boxes[1].value = False
    with pytest.raises(ValueError, match="same number of samples"):
        stacking_explorer(stack.train_meta_features_, [0, 1, 2], stack.meta_columns_)
    with pytest.raises(ValueError, match="selects no column"):
        stacking_explorer(stack.train_meta_features_, y[::2], {"nb": slice(50, 60)})


def test_learner_importance_finds_the_learner_the_meta_learner_uses():
    X, y = load_iris(return_X_y=True)
    leaky = StackingClassifier([("nb", GaussianNB()),
                                ("tree", DecisionTreeClassifier(random_state=0))],
                               _final(), cv="in_sample").fit(X, y)
    imp = learner_importance(leaky.final_estimator_, leaky.train_meta_features_, y,
                             leaky.meta_columns_, n_repeats=5)
    # In sample the grown tree's probabilities are the labels: the meta-learner leans on it.
    assert imp["tree"] > 0.3 and imp["tree"] > 3 * abs(imp["nb"]), imp
    again = learner_importance(leaky.final_estimator_, leaky.train_meta_features_, y,
                               leaky.meta_columns_, n_repeats=5)
    assert again == imp                                      # seeded
    ignored = LogisticRegression().fit(X[:, :2], y)
    wide = np.hstack([X[:, :2], np.random.default_rng(0).normal(size=(150, 2))])

    class FirstTwo:
        def predict(self, Z):
            return ignored.predict(Z[:, :2])

    imp2 = learner_importance(FirstTwo(), wide, y, {"used": slice(0, 2), "unused": slice(2, 4)})
    assert imp2["unused"] == 0.0 and imp2["used"] > 0.2, imp2
    with pytest.raises(ValueError, match="one row per"):
        learner_importance(ignored, X[:, :2], y[:10], {"a": slice(0, 1)})
