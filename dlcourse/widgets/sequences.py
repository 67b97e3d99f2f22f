"""Widgets for recurrent networks: watch an LSTM's gates and outputs move through time."""

from __future__ import annotations

import numpy as np

from dlcourse.core.checks import as_float_array

_GATES = {"i": "input gate i", "f": "forget gate f", "o": "output gate o",
          "g": "candidate g", "c": "cell state c", "h": "hidden state h"}


def lstm_gate_explorer(model, x, target=None, units=None):
    """Slide through the steps of one sequence and see what a trained LSTM does at each.

    ``model`` is a :class:`~dlcourse.models.sequence_models.SequenceModel` with an LSTM cell;
    ``x`` one sequence (T, input_size); ``target`` optional (T,) values or labels to draw
    next to the model's outputs; ``units`` the hidden units to show (default: all, up to 16).

    Top: the inputs and the model's output up to step t (class-1 probability for a
    classifier, the prediction for a regressor). Middle: the chosen gate (or state) of every
    unit over time, a vertical line at t. Bottom: its value per unit at step t.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    if getattr(model, "cell", None) != "lstm":
        raise ValueError("lstm_gate_explorer needs a SequenceModel with cell='lstm'")
    x = as_float_array(x, "x", ndim=2, shape_hint=f"(T, {model.rnn.input_size})")
    if x.shape[1] != model.rnn.input_size:
        raise ValueError(f"x must have shape (T, {model.rnn.input_size}), got {x.shape}")
    T = x.shape[0]
    out, (rnn_cache, _, _) = model.forward(x[None])
    values = {k: v[0] for k, v in model.rnn.gate_values(rnn_cache).items()}   # (T, H)
    H = values["h"].shape[1]
    units = np.arange(min(H, 16)) if units is None else np.asarray(units)
    out = out[0] if out.ndim == 3 else np.repeat(out, T, axis=0)              # (T, k)
    if out.shape[1] > 1:                                                      # classifier
        e = np.exp(out - out.max(axis=1, keepdims=True))
        curve, curve_label = (e / e.sum(axis=1, keepdims=True))[:, 1], "P(class 1)"
    else:
        curve, curve_label = out[:, 0], "prediction"

    def draw(t=0, gate="f"):
        fig, axes = plt.subplots(3, 1, figsize=(8, 7), height_ratios=[1.2, 1.4, 1])
        steps = np.arange(T)
        for j in range(x.shape[1]):
            axes[0].plot(steps, x[:, j], lw=1, alpha=0.6, label=f"input {j}")
        if target is not None:
            axes[0].plot(steps, np.asarray(target, dtype=float), "k:", lw=1.5, label="target")
        axes[0].plot(steps[:t + 1], curve[:t + 1], "C3", lw=2, label=curve_label)
        axes[0].axvline(t, color="gray")
        axes[0].legend(loc="upper right", fontsize=8, ncol=4)
        axes[0].set_title(f"step t = {t}")
        v = values[gate][:, units]
        low, high = (0.0, 1.0) if gate in ("i", "f", "o") else (-1.0, 1.0)
        if gate == "c":
            low, high = -np.abs(v).max() - 1e-9, np.abs(v).max() + 1e-9
        im = axes[1].imshow(v.T, aspect="auto", cmap="viridis" if low == 0 else "RdBu_r",
                            vmin=low, vmax=high, interpolation="nearest")
        axes[1].axvline(t, color="white" if low == 0 else "black", lw=1.5)
        axes[1].set_ylabel("unit")
        axes[1].set_title(_GATES[gate] + " of each unit over time")
        fig.colorbar(im, ax=axes[1], pad=0.01)
        axes[2].bar(np.arange(len(units)), v[t], color="C0")
        axes[2].set_ylim(low, high)
        axes[2].set_xticks(np.arange(len(units)), [str(u) for u in units])
        axes[2].set_xlabel("unit")
        axes[2].set_ylabel(f"{gate} at t = {t}")
        fig.tight_layout()
        plt.show()

    return widgets.interactive(
        draw,
        t=widgets.IntSlider(value=0, min=0, max=T - 1, step=1, description="step t",
                            continuous_update=False),
        gate=widgets.Dropdown(options=[(label, k) for k, label in _GATES.items()], value="f",
                              description="show"),
    )
