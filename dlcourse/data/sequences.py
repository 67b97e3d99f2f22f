"""Synthetic sequences (序列) for the recurrent and Transformer chapters; deterministic per seed.

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


# ----------------------------------------------------- number words -> digits (a toy translation)

_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
          "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
          "eighteen", "nineteen"]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]

#: Source vocabulary of :func:`make_number_translation`: id 0 is padding.
NUMBER_WORDS = ["<pad>", *_UNITS, *_TENS, "hundred", "thousand"]
#: Target vocabulary: the digits 0-9 are ids 0-9, then end of sequence, start, padding.
DIGIT_TOKENS = [*"0123456789", "<eos>", "<bos>", "<pad>"]
DIGIT_EOS, DIGIT_BOS, DIGIT_PAD = 10, 11, 12
NUMBER_MAX_WORDS, NUMBER_MAX_DIGITS = 6, 4


def number_to_words(k: int) -> tuple[list[str], list[int]]:
    """English words for 0 <= k <= 9999 (no "and"), and for each decimal digit of k the index
    of the word that names it, or -1 for a zero no word names.

    >>> number_to_words(3042)
    (['three', 'thousand', 'forty', 'two'], [0, -1, 2, 3])

    A teen ("twelve") names both its digits; a tens word alone ("forty") names its zero too.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= 9999:
        raise ValueError(f"k must be an integer in 0..9999, got {k!r}")
    k = int(k)
    if k == 0:
        return ["zero"], [0]
    words: list[str] = []
    align: list[int] = []
    thousands, hundreds, rest = k // 1000, (k // 100) % 10, k % 100
    if thousands:
        align.append(len(words))
        words += [_UNITS[thousands], "thousand"]
    if hundreds:
        align.append(len(words))
        words += [_UNITS[hundreds], "hundred"]
    elif thousands:
        align.append(-1)
    tens_digit_shown = k >= 10
    if rest >= 20:
        tens_at = len(words)
        words.append(_TENS[rest // 10 - 2])
        align.append(tens_at)
        if rest % 10:
            align.append(len(words))
            words.append(_UNITS[rest % 10])
        else:
            align.append(tens_at)
    elif rest >= 10:
        align += [len(words), len(words)]
        words.append(_UNITS[rest])
    else:
        if tens_digit_shown:
            align.append(-1)
        if rest:
            align.append(len(words))
            words.append(_UNITS[rest])
        elif k >= 10:
            align.append(-1)
    return words, align


def make_number_translation(numbers=None, n: int = 0, seed: int = 0) -> dict:
    """A translation-like task: English number words -> the number's digits.

    ``numbers`` (a sequence of ints in 0..9999), or ``n`` numbers drawn uniformly with ``seed``.
    Returns a dict of int64 arrays, padded:

    - ``source`` (n, 6): word ids (:data:`NUMBER_WORDS`, 0 = padding), e.g. "three thousand
      forty two";
    - ``target`` (n, 5): digit ids then ``<eos>`` (:data:`DIGIT_TOKENS`), padded with ``<pad>``;
    - ``alignment`` (n, 4): for each digit, the index of the source word that names it
      (:func:`number_to_words`), -1 for a zero no word names and for padding;
    - ``numbers`` (n,).
    """
    if numbers is None:
        check_positive(n, "n", integer=True)
        numbers = np.random.default_rng(seed).integers(0, 10000, n)
    numbers = np.asarray(numbers)
    if numbers.ndim != 1 or not np.issubdtype(numbers.dtype, np.integer):
        raise ValueError(f"numbers must be a 1-D array of integers, got shape {numbers.shape} "
                         f"and dtype {numbers.dtype}")
    word_id = {w: i for i, w in enumerate(NUMBER_WORDS)}
    m = len(numbers)
    source = np.zeros((m, NUMBER_MAX_WORDS), dtype=np.int64)
    target = np.full((m, NUMBER_MAX_DIGITS + 1), DIGIT_PAD, dtype=np.int64)
    alignment = np.full((m, NUMBER_MAX_DIGITS), -1, dtype=np.int64)
    for i, k in enumerate(numbers):
        words, align = number_to_words(int(k))
        source[i, :len(words)] = [word_id[w] for w in words]
        digits = [int(c) for c in str(int(k))]
        target[i, :len(digits)] = digits
        target[i, len(digits)] = DIGIT_EOS
        alignment[i, :len(align)] = align
    return {"source": source, "target": target, "alignment": alignment,
            "numbers": numbers.astype(np.int64)}
