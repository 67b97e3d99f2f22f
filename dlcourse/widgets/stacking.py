"""Widget for stacking: toggle base learners in and out and see the stack's validation score."""

from __future__ import annotations

import numpy as np

from dlcourse.core.checks import as_float_array, check_same_length


def stacking_explorer(meta_train, y_train, columns: dict, base_scores: dict | None = None,
                      C: float = 1.0, cv: int = 5):
    """Checkboxes choose which base learners feed the meta-learner (logistic regression).

    Every choice is scored on the training data only, by ``cv``-fold cross-validation of the
    meta-learner on the out-of-fold meta-features: choosing learners is a model choice, and
    the test set is not used for it.

    Parameters
    ----------
    meta_train : array (n_train, n_meta)
        The meta-learner's training matrix of out-of-fold predictions, e.g.
        ``stack.train_meta_features_``.
    y_train : array (n_train,)
    columns : dict name -> slice
        Which columns each base learner contributes (``stack.meta_columns_``).
    base_scores : dict name -> float, optional
        Each base learner's own validation accuracy (e.g. out of fold), drawn beside the
        stack's.
    C : float
        Inverse regularisation strength of the logistic meta-learner.
    cv : int
        Folds of the (stratified) cross-validation of the meta-learner.

    The base predictions are computed once, before the widget; a toggle only refits the
    small meta-learner ``cv`` times (milliseconds), and results are cached per selection.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    meta_train = as_float_array(meta_train, "meta_train", ndim=2, shape_hint="(n_train, n_meta)")
    y_train = np.asarray(y_train)
    check_same_length(meta_train, y_train, "meta_train", "y_train")
    names = list(columns)
    for name in names:
        if len(np.arange(meta_train.shape[1])[columns[name]]) == 0:
            raise ValueError(f"columns[{name!r}] selects no column of meta_train, which has "
                             f"{meta_train.shape[1]} columns")
    base_scores = dict(base_scores or {})
    folds = StratifiedKFold(cv, shuffle=True, random_state=0)
    cache: dict[frozenset, float] = {}

    def stack_score(selected: frozenset) -> float:
        if selected not in cache:
            idx = np.concatenate([np.arange(meta_train.shape[1])[columns[n]] for n in names
                                  if n in selected])
            meta = LogisticRegression(C=C, max_iter=2000)
            cache[selected] = float(cross_val_score(meta, meta_train[:, idx], y_train,
                                                    cv=folds).mean())
        return cache[selected]

    def draw(**chosen):
        selected = frozenset(n for n in names if chosen.get(n))
        fig, ax = plt.subplots(figsize=(7, 3.4), layout="constrained")
        labels = [*names, "stack"]
        scores = [base_scores.get(n, np.nan) for n in names]
        colors = ["tab:blue" if n in selected else "lightgray" for n in names]
        if selected:
            score = stack_score(selected)
            best = max((base_scores[n] for n in selected if n in base_scores), default=np.nan)
            title = (f"stack of {len(selected)}: {score:.1%}   best chosen single: {best:.1%}"
                     if np.isfinite(best) else f"stack of {len(selected)}: {score:.1%}")
        else:
            score, title = np.nan, "choose at least one base learner"
        ax.barh(labels, [*scores, score], color=[*colors, "tab:orange"])
        for i, value in enumerate([*scores, score]):
            if np.isfinite(value):
                ax.text(value, i, f" {value:.1%}", va="center", fontsize=9)
        ax.set_xlim(0, 1.12)
        ax.set_xlabel("validation accuracy (training set, out of fold / cross-validated)")
        ax.set_title(title)
        ax.invert_yaxis()
        plt.show()

    controls = {n: widgets.Checkbox(value=True, description=n) for n in names}
    return widgets.interactive(draw, **controls)
