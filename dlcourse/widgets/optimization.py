"""Widget for the learning algorithm: GD, SGD, momentum, RMSprop and Adam racing on a surface."""

from __future__ import annotations

import numpy as np

from dlcourse.studies.surfaces import OPTIMIZERS, SURFACES, distance_to_minimum, race

COLORS = {"GD": "tab:blue", "SGD": "tab:gray", "Momentum": "tab:green",
          "RMSprop": "tab:purple", "Adam": "tab:red"}


def plot_race(surface, paths, ax=None):
    """Contours of the surface with every optimizer's path; returns the axes."""
    import matplotlib.pyplot as plt

    s = SURFACES[surface] if isinstance(surface, str) else surface
    x0, x1, y0, y1 = s.extent
    gx, gy = np.meshgrid(np.linspace(x0, x1, 200), np.linspace(y0, y1, 200))
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    ax.contour(gx, gy, np.log1p(s.f(gx, gy)), levels=25, cmap="Greys", linewidths=0.6)
    dist = distance_to_minimum(s, paths)
    for name, path in paths.items():
        ax.plot(path[:, 0], path[:, 1], ".-", ms=2, lw=1, color=COLORS.get(name),
                label=f"{name}: {dist[name]:.3f}" if np.isfinite(dist[name])
                else f"{name}: diverged")
    ax.plot(*s.minimum, "*", color="gold", ms=14, mec="k")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.legend(title="distance to minimum", fontsize=8, loc="upper right")
    return ax


def optimizer_race(surface: str = "ravine", steps: int = 60):
    """Sliders for the surface, the number of steps, a common step-size multiplier and the
    SGD gradient noise; the legend gives each optimizer's final distance to the minimum."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    def draw(surface=surface, steps=steps, lr_scale=1.0, noise=1.0, seed=0):
        paths = race(surface, OPTIMIZERS, steps=steps, lr_scale=lr_scale, noise=noise,
                     seed=seed)
        fig, ax = plt.subplots(figsize=(7, 4))
        plot_race(surface, paths, ax)
        ax.set_title(f"{surface}: {steps} steps, step sizes × {lr_scale:g}")
        plt.show()

    return widgets.interactive(
        draw,
        surface=widgets.Dropdown(options=list(SURFACES), value=surface, description="surface"),
        steps=widgets.IntSlider(value=steps, min=5, max=300, step=5, description="steps",
                                continuous_update=False),
        lr_scale=widgets.FloatLogSlider(value=1.0, base=10, min=-1.5, max=0.5, step=0.1,
                                        description="lr ×", continuous_update=False),
        noise=widgets.FloatSlider(value=1.0, min=0.0, max=3.0, step=0.25,
                                  description="SGD noise", continuous_update=False),
        seed=widgets.IntSlider(value=0, min=0, max=9, description="seed",
                               continuous_update=False),
    )
