"""Widget for stacking: toggle base learners in and out and see the stack's test score."""

from __future__ import annotations

import numpy as np

from ..checks import as_float_array, check_same_length


def stacking_explorer(meta_train, y_train, meta_test, y_test, columns: dict,
                      base_scores: dict | None = None, C: float = 1.0):
    """Checkboxes choose which base learners feed the meta-learner (logistic regression).

    Parameters
    ----------
    meta_train : array (n_train, n_meta)
        The meta-learner's training matrix (out-of-fold or validation predictions), e.g.
        ``stack.train_meta_features_``.
    y_train : array (n_train,)
    meta_test : array (n_test, n_meta)
        The same columns for the test set, e.g. ``stack.transform(X_test)``.
    y_test : array (n_test,)
    columns : dict name -> slice
        Which columns each base learner contributes (``stack.meta_columns_``).
    base_scores : dict name -> float, optional
        Each base learner's own test accuracy, drawn beside the stack's.

    The base predictions are computed once, before the widget; a toggle only refits the
    small meta-learner (milliseconds), and results are cached per selection.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from sklearn.linear_model import LogisticRegression

    meta_train = as_float_array(meta_train, "meta_train", ndim=2, shape_hint="(n_train, n_meta)")
    meta_test = as_float_array(meta_test, "meta_test", ndim=2, shape_hint="(n_test, n_meta)")
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    check_same_length(meta_train, y_train, "meta_train", "y_train")
    check_same_length(meta_test, y_test, "meta_test", "y_test")
    if meta_train.shape[1] != meta_test.shape[1]:
        raise ValueError(f"meta_train and meta_test must have the same columns, got "
                         f"{meta_train.shape[1]} and {meta_test.shape[1]}")
    names = list(columns)
    base_scores = dict(base_scores or {})
    cache: dict[frozenset, float] = {}

    def stack_score(selected: frozenset) -> float:
        if selected not in cache:
            idx = np.concatenate([np.arange(meta_train.shape[1])[columns[n]] for n in names
                                  if n in selected])
            meta = LogisticRegression(C=C, max_iter=2000).fit(meta_train[:, idx], y_train)
            cache[selected] = float(meta.score(meta_test[:, idx], y_test))
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
        ax.set_xlabel("test accuracy")
        ax.set_title(title)
        ax.invert_yaxis()
        plt.show()

    controls = {n: widgets.Checkbox(value=True, description=n) for n in names}
    return widgets.interactive(draw, **controls)
