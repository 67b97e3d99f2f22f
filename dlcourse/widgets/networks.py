"""Widgets for network structure: gradient flow through depth, activation and initialization."""

from __future__ import annotations

import numpy as np

from dlcourse.core.layers import MLP
from dlcourse.studies.gradient_flow import activation_stds, layer_gradient_norms


def gradient_flow_explorer(X, y, depth: int = 10, width: int = 32):
    """Pick depth, activation and initialization; see the gradient norm of every layer.

    Builds ``MLP([d, width × depth, k])`` (float64) on the batch (X, y), runs one forward and
    backward pass of softmax cross-entropy, and plots ‖dLoss/dW‖ per layer (log scale) next to
    the standard deviation of each hidden layer's output. Nothing is trained, so it is instant.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    n_classes = int(y.max()) + 1

    def draw(depth=depth, activation="sigmoid", init="normal", seed=0):
        model = MLP([X.shape[1]] + [width] * depth + [n_classes], activation=activation,
                    init=init, seed=seed, dtype=np.float64)
        norms = layer_gradient_norms(model, X, y)
        stds = activation_stds(model, X)
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.2))
        ax1.bar(np.arange(1, len(norms) + 1), norms, color="tab:blue")
        ax1.set_yscale("log")
        ax1.set_xlabel("layer (1 = next to the input)")
        ax1.set_ylabel("‖dLoss/dW‖")
        ax1.set_title(f"first/last layer gradient ratio {norms[0] / norms[-1]:.1e}")
        ax2.plot(np.arange(1, len(stds) + 1), stds, "o-", color="tab:orange")
        ax2.set_yscale("log")
        ax2.set_xlabel("hidden layer")
        ax2.set_ylabel("std of the layer's output")
        ax2.set_title(f"{activation}, init={init!r}, depth {depth}")
        fig.tight_layout()
        plt.show()

    return widgets.interactive(
        draw,
        depth=widgets.IntSlider(value=depth, min=1, max=30, description="hidden layers",
                                continuous_update=False),
        activation=widgets.Dropdown(options=["sigmoid", "tanh", "relu"], value="sigmoid",
                                    description="activation"),
        init=widgets.Dropdown(options=["normal", "xavier", "he"], value="normal",
                              description="init"),
        seed=widgets.IntSlider(value=0, min=0, max=9, description="seed",
                               continuous_update=False),
    )
