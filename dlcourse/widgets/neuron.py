"""Widgets for the single neuron: an activation explorer and a 2-input neuron explorer."""

from __future__ import annotations

import numpy as np

from dlcourse.core.activations import ACTIVATIONS
from dlcourse.core.checks import as_float_array


def _slider(value, low, high, step, description):
    import ipywidgets as widgets

    return widgets.FloatSlider(value=value, min=low, max=high, step=step,
                               description=description, continuous_update=False)


def activation_explorer(z_range: float = 6.0):
    """Pick an activation and a point z; see f(z), its derivative and the tangent there."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    z = np.linspace(-z_range, z_range, 401)

    def draw(activation="sigmoid", z0=0.0):
        act = ACTIVATIONS[activation]
        f0, slope = float(act.fn(np.array(z0))), float(act.grad(np.array(z0)))
        fig, ax = plt.subplots(figsize=(6, 3.2))
        ax.plot(z, act.fn(z), label=f"{activation}(z)")
        ax.plot(z, act.grad(z), "--", label="derivative")
        ax.plot(z, f0 + slope * (z - z0), ":", color="gray", label="tangent at z0")
        ax.plot([z0], [f0], "o", color="black")
        ax.set_ylim(-1.5, 3.0)
        ax.set_xlabel("net input z")
        ax.set_title(f"f({z0:+.1f}) = {f0:.3f}, f'({z0:+.1f}) = {slope:.3f}")
        ax.legend(loc="upper left")
        ax.grid(alpha=0.3)
        plt.show()

    return widgets.interactive(
        draw,
        activation=widgets.Dropdown(options=list(ACTIVATIONS), value="sigmoid",
                                    description="activation"),
        z0=_slider(0.0, -z_range, z_range, 0.5, "z0"),
    )


def neuron_explorer(X, y, w1: float = 1.0, w2: float = -1.0, b: float = 0.0):
    """Sliders for a 2-input neuron's weights and bias over a labelled 2-D data set.

    The background shows the neuron's output a = f(w1 x1 + w2 x2 + b); the black line is
    where the output crosses the middle of its range (the decision boundary), and the
    title reports the accuracy those weights reach on (X, y).
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    X = as_float_array(X, "X", ndim=2, shape_hint="(n_samples, 2)")
    y = np.asarray(y)
    if X.shape[1] != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"neuron_explorer needs X of shape (n, 2) and y of shape (n,), got "
                         f"{X.shape} and {y.shape}")
    pad = 0.5
    x1 = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, 150)
    x2 = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, 150)
    G1, G2 = np.meshgrid(x1, x2)

    def draw(w1=w1, w2=w2, b=b, activation="sigmoid"):
        act = ACTIVATIONS[activation]
        low, high = act.output_range
        threshold = (low + high) / 2 if np.isfinite(low) and np.isfinite(high) else 0.0
        out = act.fn(w1 * G1 + w2 * G2 + b)
        accuracy = np.mean((act.fn(X @ np.array([w1, w2]) + b) > threshold) == y)
        fig, ax = plt.subplots(figsize=(5, 4))
        mesh = ax.contourf(G1, G2, out, levels=20, cmap="RdBu_r", alpha=0.6)
        if out.min() < threshold < out.max():
            ax.contour(G1, G2, out, levels=[threshold], colors="black", linewidths=2)
        ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", edgecolors="k", s=18)
        fig.colorbar(mesh, ax=ax, label="neuron output")
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
        ax.set_title(f"accuracy {accuracy:.0%}  (w=({w1:+.1f}, {w2:+.1f}), b={b:+.1f})")
        plt.show()

    return widgets.interactive(
        draw,
        w1=_slider(w1, -5, 5, 0.1, "w1"),
        w2=_slider(w2, -5, 5, 0.1, "w2"),
        b=_slider(b, -5, 5, 0.1, "b"),
        activation=widgets.Dropdown(options=["sigmoid", "tanh", "relu"], value="sigmoid",
                                    description="activation"),
    )
