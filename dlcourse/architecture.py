"""Network architecture (网络结构): parameter counts, depth versus width at a fixed budget.

An MLP with layer sizes [n_in, h1, …, n_out] has Σ (n_i · n_{i+1} + n_{i+1}) parameters
(weights plus biases). :func:`width_for_budget` picks the hidden width that makes a network
of a given depth about as large as a budget, so fat+shallow and thin+deep networks can be
compared fairly; :func:`depth_width_experiment` trains each and measures them.
"""

from __future__ import annotations

import time

import numpy as np

from .checks import check_positive


def count_parameters(sizes) -> int:
    """Weights and biases of an MLP with layer sizes ``[n_in, h1, …, n_out]``."""
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least [n_in, n_out], got {sizes}")
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True))


def width_for_budget(n_in: int, n_out: int, n_hidden_layers: int, budget: int) -> int:
    """The hidden width w whose MLP [n_in, w × n_hidden_layers, n_out] has the parameter
    count closest to ``budget`` (ties: the smaller w)."""
    for name, value in [("n_in", n_in), ("n_out", n_out), ("n_hidden_layers", n_hidden_layers),
                        ("budget", budget)]:
        check_positive(value, name, integer=True)
    L = n_hidden_layers
    # count(w) = (L - 1) w² + (n_in + n_out + L) w + n_out: solve the quadratic, check ±1.
    a, b, c = L - 1, n_in + n_out + L, n_out - budget
    root = -c / b if a == 0 else (-b + np.sqrt(b * b - 4 * a * c)) / (2 * a)
    candidates = {max(1, int(np.floor(root)) + k) for k in (-1, 0, 1, 2)}
    return min(sorted(candidates),
               key=lambda w: abs(count_parameters([n_in] + [w] * L + [n_out]) - budget))


def depth_width_experiment(X_train, y_train, X_test, y_test, depths=(1, 2, 4, 8),
                           budget: int = 5000, epochs: int = 30, lr: float = 3e-3,
                           activation: str = "relu", seed: int = 0) -> list[dict]:
    """Train one MLP per depth, all with about ``budget`` parameters, on the same data.

    Returns one row per depth: ``{"hidden_layers", "width", "parameters", "train_accuracy",
    "test_accuracy", "ms_per_epoch"}``. Adam, batch 64, the same seed everywhere.
    """
    from .layers import MLP
    from .optim import Adam
    from .training import evaluate, train

    n_in, n_out = X_train.shape[1], int(np.max(y_train)) + 1
    rows = []
    for depth in depths:
        width = width_for_budget(n_in, n_out, depth, budget)
        sizes = [n_in] + [width] * depth + [n_out]
        model = MLP(sizes, activation=activation, seed=seed)
        start = time.perf_counter()
        train(model, X_train, y_train, optimizer=Adam(model, lr=lr), epochs=epochs,
              batch_size=64, seed=seed, progress=False)
        seconds = time.perf_counter() - start
        rows.append({"hidden_layers": depth, "width": width,
                     "parameters": count_parameters(sizes),
                     "train_accuracy": evaluate(model, X_train, y_train)["accuracy"],
                     "test_accuracy": evaluate(model, X_test, y_test)["accuracy"],
                     "ms_per_epoch": 1e3 * seconds / epochs})
    return rows
