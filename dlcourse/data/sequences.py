"""Synthetic sequences (序列) for the recurrent-network chapter; deterministic per seed.

Arrays are batch-first, (n_sequences, T, features), the layout ``batch_first=True`` layers
and mini-batching expect.
"""

from __future__ import annotations

import numpy as np

from dlcourse.core.checks import as_float_array, check_positive


def make_noisy_sines(n_series: int, length: int, noise: float = 0.05, seed: int = 0,
                     dtype=np.float32) -> np.ndarray:
    """Sums of two sines with random periods (8–40 steps), phases and amplitudes, plus noise.

    Returns an array (n_series, length). Each series is a small "time series" (时间序列):
    predictable from its recent past up to the noise.
    """
    check_positive(n_series, "n_series", integer=True)
    check_positive(length, "length", integer=True)
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    periods = rng.uniform(8, 40, size=(n_series, 2, 1))
    phases = rng.uniform(0, 2 * np.pi, size=(n_series, 2, 1))
    amps = rng.uniform(0.3, 1.0, size=(n_series, 2, 1)) * np.array([[[1.0], [0.5]]])
    clean = np.sum(amps * np.sin(2 * np.pi * t / periods + phases), axis=1)
    return (clean + noise * rng.standard_normal(clean.shape)).astype(dtype)


def sliding_windows(series, window: int, horizon: int = 1):
    """Cut series (n_series, length) into inputs and next-value targets.

    Returns X (n_windows, window, 1), the values x[s : s + window], and y (n_windows, 1),
    the value ``horizon`` steps after the window. Windows of every series, in order.
    """
    series = as_float_array(series, "series", ndim=2, shape_hint="(n_series, length)")
    check_positive(window, "window", integer=True)
    check_positive(horizon, "horizon", integer=True)
    n, length = series.shape
    n_win = length - window - horizon + 1
    if n_win < 1:
        raise ValueError(f"series of length {length} are too short for window {window} and "
                         f"horizon {horizon}")
    views = np.lib.stride_tricks.sliding_window_view(series, window, axis=1)[:, :n_win]
    X = views.reshape(n * n_win, window, 1).copy()
    y = series[:, window + horizon - 1:window + horizon - 1 + n_win].reshape(n * n_win, 1)
    return X, y.copy()


def make_long_dependency(n: int, length: int, seed: int = 0, dtype=np.float32):
    """A long-range dependency (长期依赖) task: remember the first bit among distractors.

    Two input channels. Channel 0 holds a random ±1 at *every* step; channel 1 is a marker,
    1 at step 0 and 0 afterwards. The target at every step t is the bit seen at step 0
    (1 if x[0, 0] = +1, else 0): the model must latch it and ignore the 1 … t later values of
    the same channel, which look exactly alike. Reading the target at step t needs a memory
    reaching t steps back, so the last step tests a dependency of ``length - 1`` steps.

    Returns X (n, length, 2) and y (n, length) integer labels in {0, 1} (constant along each
    row); ``y[:, -1]`` is the sequence's label.
    """
    check_positive(n, "n", integer=True)
    check_positive(length, "length", integer=True)
    rng = np.random.default_rng(seed)
    X = np.zeros((n, length, 2), dtype=dtype)
    X[:, :, 0] = rng.choice(np.array([-1.0, 1.0], dtype=dtype), size=(n, length))
    X[:, 0, 1] = 1.0
    y = np.repeat((X[:, 0, 0] > 0).astype(np.int64)[:, None], length, axis=1)
    return X, y


SEQUENCE_TASKS = ("sort", "reverse")


def make_sequence_task(n: int, length: int = 8, vocab: int = 10, task: str = "sort",
                       seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random digit sequences X (n, length) and their targets Y (n, length), int64:
    the same digits sorted, or reversed (the Transformer chapter's sequence-to-sequence task)."""
    if task not in SEQUENCE_TASKS:
        raise ValueError(f"task must be one of {SEQUENCE_TASKS}, got {task!r}")
    X = np.random.default_rng(seed).integers(0, vocab, size=(n, length))
    Y = np.sort(X, axis=1) if task == "sort" else X[:, ::-1].copy()
    return X, Y
