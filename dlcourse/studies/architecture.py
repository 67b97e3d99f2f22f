"""Network architecture (网络结构): parameter counts, depth versus width at a fixed budget.

An MLP with layer sizes [n_in, h1, …, n_out] has Σ (n_i · n_{i+1} + n_{i+1}) parameters
(weights plus biases). :func:`width_for_budget` picks the hidden width that makes a network
of a given depth about as large as a budget, so fat+shallow and thin+deep networks can be
compared fairly; :func:`depth_width_experiment` trains each and measures them, and
:func:`step_seconds` times one training step.

Where depth wins: :func:`tent_map` composed ``k`` times is a sawtooth with ``2**k`` linear
pieces. :func:`sawtooth_network` computes it exactly with ``k`` hidden layers of two ReLU
units (``6k + 1`` parameters), while one hidden layer of ``m`` ReLU units has at most
``m + 1`` linear pieces, so it needs ``2**k - 1`` units. :func:`mlp_from_weights` turns
weight and bias lists into a :class:`~dlcourse.core.layers.MLP`.
"""

from __future__ import annotations

import time

import numpy as np

from dlcourse.core.checks import check_positive


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


def depth_width_experiment(X_train, y_train, X_val, y_val, depths=(1, 2, 4, 8),
                           budget: int = 5000, epochs: int = 30, lr: float = 3e-3,
                           activation: str = "relu", seed: int = 0) -> list[dict]:
    """Train one MLP per depth, all with about ``budget`` parameters, on the same data.

    Models are compared on the validation set ``(X_val, y_val)``; keep the test set for
    the one final report. Returns one row per depth: ``{"hidden_layers", "width",
    "parameters", "train_accuracy", "val_accuracy", "ms_per_epoch"}``. Adam, batch 64, the
    same seed everywhere.
    """
    from dlcourse.core.layers import MLP
    from dlcourse.core.metrics import evaluate
    from dlcourse.core.optim import Adam
    from dlcourse.core.training import train

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
                     "val_accuracy": evaluate(model, X_val, y_val)["accuracy"],
                     "ms_per_epoch": 1e3 * seconds / epochs})
    return rows


def step_seconds(model, X, y, repeats: int = 30) -> float:
    """The fastest of ``repeats`` timed training steps (forward, softmax cross-entropy,
    backward) of ``model`` on the batch ``(X, y)``, in seconds.

    The minimum, not the mean: other programs can only slow a run down, so the fastest run
    is the best estimate of the step's own cost, and comparisons of two models stay fair on
    a busy machine.
    """
    from dlcourse.core.losses import softmax_cross_entropy

    check_positive(repeats, "repeats", integer=True)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        out, cache = model.forward(X, training=True)
        _, dout = softmax_cross_entropy(out, y)
        model.backward(dout, cache)
        best = min(best, time.perf_counter() - start)
    return best


# --------------------------------------------------------------------------- where depth wins

def tent_map(x, k: int = 1) -> np.ndarray:
    """The tent map t(x) = 2x for x ≤ 1/2, 2 − 2x above, composed ``k`` times, on [0, 1].

    t∘t∘…∘t (``k`` times) is a sawtooth with ``2**(k-1)`` teeth, ``2**k`` linear pieces.
    """
    check_positive(k, "k", integer=True)
    x = np.asarray(x, dtype=np.float64)
    for _ in range(k):
        x = np.where(x <= 0.5, 2 * x, 2 - 2 * x)
    return x


def mlp_from_weights(weights, biases, activation: str = "relu", dtype=np.float64):
    """An :class:`~dlcourse.core.layers.MLP` whose Dense layers hold ``weights[i]`` (n_i, n_{i+1})
    and ``biases[i]`` (n_{i+1},); hidden layers use ``activation``, the last one is linear."""
    from dlcourse.core.layers import MLP, Dense

    weights = [np.asarray(W, dtype=dtype) for W in weights]
    biases = [np.asarray(b, dtype=dtype).reshape(-1) for b in biases]
    if not weights or len(weights) != len(biases):
        raise ValueError(f"need as many bias vectors as weight matrices (at least one), got "
                         f"{len(weights)} and {len(biases)}")
    for i, (W, b) in enumerate(zip(weights, biases, strict=True)):
        if W.ndim != 2 or b.shape != (W.shape[1],):
            raise ValueError(f"layer {i}: W must be 2-D (n_in, n_out) with b of shape "
                             f"(n_out,), got {W.shape} and {b.shape}")
        if i and W.shape[0] != weights[i - 1].shape[1]:
            raise ValueError(f"layer {i}: W has {W.shape[0]} rows but layer {i - 1} has "
                             f"{weights[i - 1].shape[1]} units")
    sizes = [weights[0].shape[0]] + [W.shape[1] for W in weights]
    model = MLP(sizes, activation=activation, dtype=dtype)
    for layer, W, b in zip([m for m in model.layers if isinstance(m, Dense)], weights, biases,
                           strict=True):
        layer.params["W"][...] = W
        layer.params["b"][...] = b
    return model


def sawtooth_network(k: int, dtype=np.float64):
    """The ReLU MLP [1, 2 × k, 1] that computes :func:`tent_map` (x, k) exactly on [0, 1].

    On [0, 1], t(x) = 2·relu(x) − 4·relu(x − 1/2). Hidden layer 1 computes relu(x) and
    relu(x − 1/2); every further hidden layer first forms t = 2·h1 − 4·h2 of the layer
    before (inside its weights) and then relu(t), relu(t − 1/2); the linear output forms the
    last t. Parameters: 4 + 6 (k − 1) + 3 = 6k + 1.
    """
    check_positive(k, "k", integer=True)
    combine = np.array([[2.0, 2.0], [-4.0, -4.0]])
    weights = [np.array([[1.0, 1.0]])] + [combine] * (k - 1) + [np.array([[2.0], [-4.0]])]
    biases = [np.array([0.0, -0.5])] * k + [np.array([0.0])]
    return mlp_from_weights(weights, biases, dtype=dtype)
