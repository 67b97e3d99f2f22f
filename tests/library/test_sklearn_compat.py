"""The course MLP behind scikit-learn's interface: same network as training it by hand."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris, make_regression
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

import dlcourse.shallow.estimators as sklearn_compat
from dlcourse.core.layers import MLP
from dlcourse.core.metrics import predict_proba
from dlcourse.core.optim import Adam
from dlcourse.core.training import train
from dlcourse.shallow.estimators import MLPClassifier, MLPRegressor
from dlcourse.shallow.stacking import StackingClassifier

from .sklearn_checks import failed_estimator_checks


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """Small models: one BLAS thread is faster than two that wait for each other."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


@pytest.fixture
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def test_classifier_is_the_library_mlp_trained_by_train(iris):
    X, y = iris
    clf = MLPClassifier((16,), lr=1e-2, epochs=20, batch_size=32, random_state=3).fit(X, y)
    # The same run by hand: the wrapper adds nothing but the interface.
    seed = int(np.random.RandomState(3).randint(2**31 - 1))
    model = MLP([4, 16, 3], seed=seed)
    train(model, X.astype(np.float32), y, optimizer=Adam(model, lr=1e-2), epochs=20,
          batch_size=32, seed=seed, progress=False)
    np.testing.assert_allclose(clf.predict_proba(X), predict_proba(model, X), atol=1e-6)
    assert len(clf.history_.train_loss) == 20
    assert clf.score(X, y) > 0.9


def test_labels_of_any_type_round_trip(iris):
    X, y = iris
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = MLPClassifier((16,), epochs=30).fit(X, names)
    np.testing.assert_array_equal(clf.classes_, ["setosa", "versicolor", "virginica"])
    assert set(clf.predict(X)) <= set(clf.classes_)
    proba = clf.predict_proba(X)
    assert proba.shape == (150, 3) and np.allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])


def test_regressor_standardises_targets():
    X, y = make_regression(n_samples=300, n_features=4, noise=5.0, random_state=0)
    reg = MLPRegressor((32,), epochs=100).fit(X, y + 1000.0)
    assert abs(reg.y_mean_ - (y.mean() + 1000.0)) < 1e-9
    assert reg.score(X, y + 1000.0) > 0.95
    assert reg.predict(X).shape == (300,)


def test_params_clone_and_not_fitted_error(iris):
    X, y = iris
    clf = MLPClassifier((8, 8), epochs=5)
    assert clf.get_params()["hidden_layer_sizes"] == (8, 8)
    clf.set_params(lr=0.05, alpha=1e-4)
    twin = clone(clf)
    assert twin.get_params() == clf.get_params() and not hasattr(twin, "model_")
    for method in ("predict", "predict_proba"):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            getattr(clf, method)(X)
    with pytest.raises(NotFittedError):
        MLPRegressor().predict(X)


def test_pipeline_cross_val_score_and_grid_search():
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), MLPClassifier((16,), epochs=40))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.85
    grid = GridSearchCV(pipe, {"mlpclassifier__hidden_layer_sizes": [(4,), (16,)]}, cv=3)
    grid.fit(X, y)
    assert grid.best_params_["mlpclassifier__hidden_layer_sizes"] in [(4,), (16,)]


def test_as_base_learner_and_as_meta_learner(iris):
    X, y = iris
    stack = StackingClassifier(
        [("mlp", MLPClassifier((16,), epochs=30)), ("nb", GaussianNB()),
         ("tree", DecisionTreeClassifier(max_depth=3, random_state=0))],
        final_estimator=MLPClassifier((8,), epochs=50), cv=3).fit(X, y)
    assert stack.stack_method_ == ["predict_proba"] * 3
    assert isinstance(stack.final_estimator_, MLPClassifier)
    assert stack.score(X, y) > 0.9
    lr_stack = StackingClassifier([("mlp", MLPClassifier((16,), epochs=30))],
                                  LogisticRegression(), cv=3).fit(X, y)
    assert lr_stack.transform(X).shape == (150, 3)


@pytest.mark.parametrize("make", [lambda: MLPClassifier((16,), epochs=30),
                                  lambda: MLPRegressor((16,), epochs=30)])
def test_sklearn_check_estimator(make):
    failed = failed_estimator_checks(make())
    assert not failed, failed


def test_docstring_examples_run():
    result = doctest.testmod(sklearn_compat)
    assert result.attempted > 5 and result.failed == 0
