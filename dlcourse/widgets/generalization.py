"""Widget for generalization: under- and overfitting as capacity and data size change."""

from __future__ import annotations

import numpy as np

from dlcourse.data.synthetic import make_sine_data, true_function
from dlcourse.studies.generalization import fit_polynomial, predict_polynomial, train_test_errors


def capacity_explorer(degree: int = 3, n_train: int = 15, noise: float = 0.2):
    """Sliders for the polynomial degree (capacity), the training-set size and the noise.

    Left: the data, the true function and the fitted polynomial. Right: training and test
    error against the degree for this data size — the U-shaped test curve of under- and
    overfitting, with the current degree marked.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    grid = np.linspace(0, 1, 400)

    def draw(degree=degree, n_train=n_train, noise=noise, seed=0):
        x, y = make_sine_data(n_train, noise, seed)
        coef = fit_polynomial(x, y, degree)
        degrees = np.arange(0, 16)
        errors = np.array([train_test_errors(int(d), n_train, noise, seed) for d in degrees])
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.5))
        ax1.plot(grid, true_function(grid), "k--", lw=1, label="true function")
        ax1.plot(grid, predict_polynomial(coef, grid), color="tab:red",
                 label=f"degree {degree} fit")
        ax1.scatter(x, y, s=15, label=f"{n_train} training points")
        ax1.set_ylim(-2, 2)
        ax1.legend(fontsize=8)
        ax2.semilogy(degrees, errors[:, 0], "o-", label="training error")
        ax2.semilogy(degrees, errors[:, 1], "s-", label="test error")
        ax2.axvline(degree, color="gray", ls=":")
        ax2.axhline(noise**2, color="k", lw=0.8, ls="--", label="noise level σ²")
        ax2.set_ylim(1e-4, 1e2)
        ax2.set_xlabel("polynomial degree (capacity)")
        ax2.set_ylabel("mean squared error")
        train, test = errors[degree]
        ax2.set_title(f"degree {degree}: train {train:.3f}, test {test:.3f}")
        ax2.legend(fontsize=8)
        fig.tight_layout()
        plt.show()

    return widgets.interactive(
        draw,
        degree=widgets.IntSlider(value=degree, min=0, max=15, description="degree",
                                 continuous_update=False),
        n_train=widgets.IntSlider(value=n_train, min=5, max=200, step=5,
                                  description="n train", continuous_update=False),
        noise=widgets.FloatSlider(value=noise, min=0.0, max=1.0, step=0.05,
                                  description="noise", continuous_update=False),
        seed=widgets.IntSlider(value=0, min=0, max=9, description="seed",
                               continuous_update=False),
    )
