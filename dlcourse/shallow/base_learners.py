"""Ready-made sets of diverse base learners (基学习器) for stacking, with the course MLP among them.

Stacking gains when its base learners make *different* mistakes, so each set mixes model
families: a decision tree (axis-aligned splits), an RBF support vector machine (a smooth
kernel boundary), naive Bayes (a generative model with independent features), k nearest
neighbours (local votes) and the course's own numpy MLP (learned features). Learners that
depend on distances or gradients get a ``StandardScaler`` in front (a ``Pipeline``).
"""

from __future__ import annotations

from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, SVR
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from .estimators import MLPClassifier, MLPRegressor


def _scaled(model):
    return make_pipeline(StandardScaler(), model)


def diverse_classifiers(seed: int = 0, mlp_epochs: int = 30) -> list:
    """``[(name, unfitted classifier), …]``: tree, svm, naive_bayes, knn, mlp.

    The tree is grown to full depth (it memorises its training set — useful to show why the
    meta-learner must not see in-sample predictions); the SVM contributes its decision
    function (no costly internal Platt scaling); the MLP is one hidden layer of 64 ReLUs
    trained with Adam.
    """
    return [
        ("tree", DecisionTreeClassifier(random_state=seed)),
        ("svm", _scaled(SVC(random_state=seed))),
        ("naive_bayes", GaussianNB()),
        ("knn", _scaled(KNeighborsClassifier(n_neighbors=15))),
        ("mlp", _scaled(MLPClassifier((64,), lr=3e-3, epochs=mlp_epochs, random_state=seed))),
    ]


def diverse_regressors(seed: int = 0, mlp_epochs: int = 60) -> list:
    """``[(name, unfitted regressor), …]``: tree, svm, knn, mlp (the regression analogues)."""
    return [
        ("tree", DecisionTreeRegressor(max_depth=6, random_state=seed)),
        ("svm", _scaled(SVR(C=10.0))),
        ("knn", _scaled(KNeighborsRegressor(n_neighbors=10))),
        ("mlp", _scaled(MLPRegressor((64,), lr=3e-3, epochs=mlp_epochs, random_state=seed))),
    ]
