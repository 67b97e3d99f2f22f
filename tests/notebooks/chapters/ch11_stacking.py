"""11 Stacking: bypasses, typical mistakes and claims (read by test_chapters.py)."""

from dlcourse.grading.variants import Claim, Variant

_BLEND = '''
def blend_predict(base_models, meta_model, X_train, y_train, X_test, val_size=0.3, seed=0):
    X_fit, X_val, y_fit, y_val = {split}

    def layer_one(X):
        columns = []
        for model in {order}:
            out = {output}
            columns.append(np.reshape(out, (len(X), -1)))
        return np.hstack(columns)

    for model in base_models:
        model.fit({base_X}, {base_y})
    meta_model.fit(layer_one({meta_X}), {meta_y})
    return meta_model.predict(layer_one(X_test))
'''


def _blend(split="train_test_split(X_train, y_train, test_size=val_size, random_state=seed, "
                 "stratify=y_train)",
           order="base_models",
           output='model.predict_proba(X) if hasattr(model, "predict_proba") else '
                  'model.decision_function(X)',
           base_X="X_fit", base_y="y_fit", meta_X="X_val", meta_y="y_val"):
    return _BLEND.format(split=split, order=order, output=output, base_X=base_X, base_y=base_y,
                         meta_X=meta_X, meta_y=meta_y)


_OOF = '''
def out_of_fold_proba(model, X, y, n_splits=5, seed=0):
    X, y = np.asarray(X), np.asarray(y)
    folds = {folds}
    out = np.zeros((len(y), len(np.unique(y))))
    for train_idx, test_idx in folds.split(X, y):
        fold_model = {copy}.fit(X[train_idx], y[train_idx])
        out[test_idx] = fold_model.predict_proba(X[test_idx])
    return out
'''


def _oof(folds="StratifiedKFold(n_splits, shuffle=True, random_state=seed)", copy="clone(model)"):
    return _OOF.format(folds=folds, copy=copy)


_STACK = '''
from dlcourse.shallow.stacking import out_of_fold_predict


def stack_predict(base_models, meta_model, X_train, y_train, X_test, n_splits=5, seed=0):
    folds = {folds}
    methods = [{method} for m in base_models]

    def side_by_side(outputs, n):
        return np.hstack([np.reshape(out, (n, -1)) for out in outputs])

    {meta_fit}
    {refit}
    outputs = [getattr(m, method)(X_test) for m, method in zip(base_models, methods)]
    return meta_model.predict(side_by_side(outputs, len(X_test)))
'''
_OOF_META = ('oof = [out_of_fold_predict(m, X_train, y_train, cv=folds, method=method) '
             'for m, method in zip(base_models, methods)]\n'
             '    meta_model.fit(side_by_side(oof, len(X_train)), y_train)')
_REFIT = 'for m in base_models:\n        m.fit(X_train, y_train)'


def _stack(folds="StratifiedKFold(n_splits, shuffle=True, random_state=seed)",
           method='"predict_proba" if hasattr(m, "predict_proba") else "decision_function"',
           meta_fit=_OOF_META, refit=_REFIT):
    return _STACK.format(folds=folds, method=method, meta_fit=meta_fit, refit=refit)


BYPASSES = [
    Variant("ex_blending", "the library's BlendingClassifier", kind="bypass", source='''
from dlcourse.shallow.stacking import BlendingClassifier as _Blend
def blend_predict(base_models, meta_model, X_train, y_train, X_test, val_size=0.3, seed=0):
    blend = _Blend([(f"m{i}", m) for i, m in enumerate(base_models)], meta_model,
                   validation_size=val_size, random_state=seed).fit(X_train, y_train)
    for model, fitted in zip(base_models, blend.estimators_):
        model.__dict__.update(fitted.__dict__)
    meta_model.__dict__.update(blend.final_estimator_.__dict__)
    return blend.predict(X_test)
'''),
    Variant("ex_out_of_fold", "scikit-learn's cross_val_predict", kind="bypass", source='''
from sklearn.model_selection import cross_val_predict as _cvp
def out_of_fold_proba(model, X, y, n_splits=5, seed=0):
    return _cvp(model, X, y, method="predict_proba",
                cv=StratifiedKFold(n_splits, shuffle=True, random_state=seed))
'''),
    Variant("ex_stack_predict", "the library's StackingClassifier", kind="bypass", source='''
from dlcourse.shallow.stacking import StackingClassifier as _Stack
def stack_predict(base_models, meta_model, X_train, y_train, X_test, n_splits=5, seed=0):
    folds = StratifiedKFold(n_splits, shuffle=True, random_state=seed)
    stack = _Stack([(f"m{i}", m) for i, m in enumerate(base_models)], meta_model,
                   cv=folds).fit(X_train, y_train)
    for model, fitted in zip(base_models, stack.estimators_):
        model.__dict__.update(fitted.__dict__)
    meta_model.__dict__.update(stack.final_estimator_.__dict__)
    return stack.predict(X_test)
'''),
    Variant("ex_stack_predict", "scikit-learn's StackingClassifier", kind="bypass", source='''
from sklearn.ensemble import StackingClassifier as _SkStack
def stack_predict(base_models, meta_model, X_train, y_train, X_test, n_splits=5, seed=0):
    folds = StratifiedKFold(n_splits, shuffle=True, random_state=seed)
    stack = _SkStack([(f"m{i}", m) for i, m in enumerate(base_models)], meta_model,
                     cv=folds).fit(X_train, y_train)
    for model, fitted in zip(base_models, stack.estimators_):
        model.__dict__.update(fitted.__dict__)
    meta_model.__dict__.update(stack.final_estimator_.__dict__)
    return stack.predict(X_test)
'''),
]

MISTAKES = [
    # ---- Exercise 1 (blending)
    Variant("ex_blending", "meta-learner trained on the fitting part's (in-sample) predictions",
            expect="in-sample", source=_blend(meta_X="X_fit", meta_y="y_fit")),
    Variant("ex_blending", "base models fitted on all of X_train", expect="all 120 rows",
            source=_blend(base_X="X_train", base_y="y_train")),
    Variant("ex_blending", "the two parts swapped", expect="validation part",
            source=_blend(base_X="X_val", base_y="y_val", meta_X="X_fit", meta_y="y_fit")),
    Variant("ex_blending", "split not stratified", expect="stratify=y_train",
            source=_blend(split="train_test_split(X_train, y_train, test_size=val_size, "
                                "random_state=seed)")),
    Variant("ex_blending", "predict instead of predict_proba", expect="predict_proba",
            source=_blend(output="model.predict(X)")),
    Variant("ex_blending", "columns in reverse model order", expect="order of base_models",
            source=_blend(order="base_models[::-1]")),
    # ---- Exercise 2 (out-of-fold)
    Variant("ex_out_of_fold", "predict instead of predict_proba", expect="predict_proba",
            source='''
def out_of_fold_proba(model, X, y, n_splits=5, seed=0):
    out = np.zeros(len(y))
    folds = StratifiedKFold(n_splits, shuffle=True, random_state=seed)
    for train_idx, test_idx in folds.split(X, y):
        out[test_idx] = clone(model).fit(X[train_idx], y[train_idx]).predict(X[test_idx])
    return out
'''),
    Variant("ex_out_of_fold", "in-fold: one model fitted on everything predicts everything",
            expect="must not see the rows", source='''
def out_of_fold_proba(model, X, y, n_splits=5, seed=0):
    return clone(model).fit(X, y).predict_proba(X)
'''),
    Variant("ex_out_of_fold", "fold predictions stacked in fold order", expect="fold order",
            source='''
def out_of_fold_proba(model, X, y, n_splits=5, seed=0):
    parts = [clone(model).fit(X[tr], y[tr]).predict_proba(X[te])
             for tr, te in StratifiedKFold(n_splits, shuffle=True, random_state=seed).split(X, y)]
    return np.concatenate(parts)
'''),
    Variant("ex_out_of_fold", "folds not shuffled", expect="not shuffled",
            source=_oof(folds="StratifiedKFold(n_splits)")),
    Variant("ex_out_of_fold", "the model passed in is fitted", expect="stay unfitted",
            source=_oof(copy="model")),
    # ---- Exercise 3 (K-fold stack)
    Variant("ex_stack_predict", "meta-learner trained on in-sample predictions",
            expect="in-sample", source=_stack(meta_fit=(
                _REFIT + "\n    meta_model.fit(side_by_side([getattr(m, method)(X_train) for m, "
                "method in zip(base_models, methods)], len(X_train)), y_train)"), refit="pass")),
    Variant("ex_stack_predict", "predict instead of predict_proba", expect="predict_proba",
            source=_stack(method='"predict"')),
    Variant("ex_stack_predict", "base models not refit on all of X_train",
            expect="before it was fitted",
            source=_stack(refit="pass")),
    Variant("ex_stack_predict", "base models left holding the last fold's fit",
            expect="refit each one", source=_stack(meta_fit=(
                "oof = [np.zeros((len(X_train), 3)) for m in base_models]\n"
                "    for tr, te in folds.split(X_train, y_train):\n"
                "        for o, m, method in zip(oof, base_models, methods):\n"
                "            m.fit(X_train[tr], y_train[tr])\n"
                "            o[te] = getattr(m, method)(X_train[te])\n"
                "    meta_model.fit(side_by_side(oof, len(X_train)), y_train)"), refit="pass")),
    Variant("ex_stack_predict", "folds not shuffled", expect="not shuffled",
            source=_stack(folds="StratifiedKFold(n_splits)")),
    Variant("ex_stack_predict", "columns in reverse model order", expect="order of base_models",
            source=_stack().replace("side_by_side(oof, len(X_train))",
                                    "side_by_side(oof[::-1], len(X_train))").replace(
                "side_by_side(outputs, len(X_test))", "side_by_side(outputs[::-1], len(X_test))")),
]

CLAIMS = [
    Claim("the best single model is chosen by cross-validation on the training set", check='''
assert best_name == max(cv_scores, key=cv_scores.get)
'''),
    Claim("the K-fold stack beats every base learner on the test set", check='''
assert stack_score >= max(single_scores.values()) + 0.01, (stack_score, single_scores)
'''),
    Claim("our StackingClassifier gives scikit-learn's numbers", check='''
assert np.abs(ours.predict_proba(X_test) - ref.predict_proba(X_test)).max() < 1e-9
'''),
    Claim("the MLP meta-learner also beats every single model", check='''
assert mlp_stack_score >= max(single_scores.values())
'''),
    Claim("the stack beat the validation-chosen single model on every one of five splits",
          check='''
assert len(gains) == 5 and gains.min() > 0, gains
'''),
    Claim("the robustness measured is that of the gain, not a steadier score: which split we got "
          "still moves the stack's accuracy", check='''
assert spread_stack > 0.005 and spread_stack > 0.5 * spread_single, (spread_stack, spread_single)
'''),
    Claim("the leaky stack is perfect on its training data and relies on the tree", check='''
assert leaky.score(X_train, y_train) == 1.0
assert leaky_importance["tree"] > 3 * max(v for n, v in leaky_importance.items() if n != "tree")
assert leaky_importance["tree"] > 5 * importance["tree"], (leaky_importance, importance)
'''),
    Claim("the leaky stack falls to the tree's level on the test set; the out-of-fold stack "
          "keeps its gain", check='''
assert abs(leaky.score(X_test, y_test) - single_scores["tree"]) <= 0.02
assert stack_score > leaky.score(X_test, y_test) + 0.05
'''),
    Claim("on this data a third level does not pay for itself", check='''
assert level3_score < stack_score + 0.01, (level3_score, stack_score)
'''),
    Claim("stacking costs several times the compute of one model", check='''
assert stack_fit_seconds > 3 * fit_seconds[best_name], (stack_fit_seconds, fit_seconds)
assert stack_predict_seconds > single_predict_seconds
'''),
]
