"""Language models (语言模型) over symbol ids: temperature, sampling, perplexity, n-grams.

Everything here works on arrays, not on a particular network, so a recurrent model, a
Transformer decoder and a table of counts are measured and sampled the same way:

- :func:`softmax_with_temperature`, :func:`sample_with_temperature` — turn next-symbol
  logits into a distribution sharpened (T < 1) or flattened (T > 1) by the temperature
  (温度), and draw from it with a seeded generator;
- :func:`perplexity`, :func:`perplexity_from_logits` — the perplexity (困惑度)
  ``exp(-mean log p(target))`` of held-out text: the number of equally likely symbols the
  model is, on average, as unsure as;
- :class:`NGramModel` — the counting baselines (unigram, bigram, …) with add-k smoothing;
- :func:`generate` — the sampling loop around any ``step(symbol, state) -> (logits, state)``;
  :func:`sequence_model_step` makes one for a recurrent character model;
- :func:`train_language_model`, :func:`window_perplexity` — next-symbol training on random
  windows of a long id sequence, and held-out perplexity, for any model that maps windows
  to logits (an LSTM reads them through ``encode``, e.g. one-hot vectors), so two models
  compared see the same data.

Shapes: a vocabulary of ``V`` symbols; logits and probabilities have the vocabulary on the
last axis, ``(..., V)``; targets are integer ids of shape ``(...)``, the leading shape.
"""

from __future__ import annotations

import numbers
import time

import numpy as np

from dlcourse.core.activations import softmax
from dlcourse.core.checks import as_float_array, check_positive
from dlcourse.core.losses import softmax_cross_entropy
from dlcourse.core.optim import Adam, clip_gradients

__all__ = ["NGramModel", "generate", "log_softmax", "perplexity", "perplexity_from_logits",
           "sample_with_temperature", "sequence_model_step", "softmax_with_temperature"]

_SUM_TOLERANCE = 1e-3     # rows of a probability array must sum to 1 within this


def _check_temperature(temperature) -> float:
    if (isinstance(temperature, bool) or not isinstance(temperature, numbers.Real)
            or not np.isfinite(temperature) or temperature < 0):
        raise ValueError(f"temperature must be a finite number >= 0 (0 = always the most "
                         f"likely symbol), got {temperature!r}")
    return float(temperature)


def _check_logits(logits, name: str = "logits") -> np.ndarray:
    z = as_float_array(logits, name)
    if z.ndim == 0 or z.shape[-1] == 0:
        raise ValueError(f"{name} must have shape (..., V) with the V symbols on the last "
                         f"axis, got shape {z.shape}")
    if np.isnan(z).any():
        raise ValueError(f"{name} contains NaN")
    return z


def _check_targets(targets, lead: tuple, V: int, name_probs: str) -> np.ndarray:
    t = np.asarray(targets)
    if t.dtype == np.bool_ or not np.issubdtype(t.dtype, np.integer):
        if np.issubdtype(t.dtype, np.floating) and t.size and np.all(t == np.round(t)):
            t = t.astype(np.int64)
        elif t.size or not np.issubdtype(t.dtype, np.floating):
            raise TypeError(f"targets must be integer symbol ids 0..{V - 1}, got dtype "
                            f"{t.dtype}")
        else:
            t = t.astype(np.int64)
    if t.shape != lead:
        raise ValueError(f"targets must have shape {lead} (the shape of {name_probs} without "
                         f"its last axis of {V} symbols), got {t.shape}")
    if t.size == 0:
        raise ValueError("targets is empty: perplexity needs at least one symbol")
    if t.min() < 0 or t.max() >= V:
        raise ValueError(f"targets must lie in 0..{V - 1} ({V} symbols), got ids from "
                         f"{t.min()} to {t.max()}")
    return t


def _as_rng(rng) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, bool) or not isinstance(rng, numbers.Integral):
        raise TypeError("rng must be a numpy Generator (np.random.default_rng(seed)) or an "
                        f"integer seed, got {rng!r}: sampling is always seeded here")
    return np.random.default_rng(int(rng))


def log_softmax(logits, axis: int = -1) -> np.ndarray:
    """log softmax(z) = z - log Σ e^z, computed with the max subtracted (never overflows).

    Shapes: any -> the same shape; float32 stays float32.
    """
    z = as_float_array(logits, "logits")
    shifted = z - np.max(z, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def softmax_with_temperature(logits, temperature: float = 1.0) -> np.ndarray:
    """The next-symbol distribution softmax(z / T).

    ``logits`` (..., V) -> probabilities (..., V), each row summing to 1. ``T = 1`` is the
    model's own distribution; ``T < 1`` sharpens it towards the most likely symbol,
    ``T > 1`` flattens it towards uniform, and ``T = 0`` puts all mass on the largest logit
    (ties shared equally). Dividing the logits by T is raising the probabilities to the power
    1/T and renormalising.
    """
    z = _check_logits(logits)
    T = _check_temperature(temperature)
    if T == 0:
        top = z == np.max(z, axis=-1, keepdims=True)
        return (top / top.sum(axis=-1, keepdims=True)).astype(z.dtype)
    return softmax(z / np.asarray(T, dtype=z.dtype), axis=-1)


def sample_with_temperature(logits, temperature: float, rng):
    """Draw next symbols from softmax(logits / T).

    ``logits`` (V,) -> one ``int``; (N, V) -> ``(N,)`` int64 ids, one draw per row
    (vectorised: one uniform number per row through the cumulative distribution).
    ``rng`` is a ``np.random.Generator`` (or an int seed): the same generator state gives
    the same draws. ``temperature=0`` is greedy decoding (the largest logit, no randomness).
    """
    z = _check_logits(logits)
    if z.ndim not in (1, 2):
        raise ValueError(f"logits must have shape (V,) or (N, V), got {z.shape}")
    T = _check_temperature(temperature)
    rows = z.reshape(-1, z.shape[-1])
    if T == 0:
        ids = np.argmax(rows, axis=-1)
    else:
        gen = _as_rng(rng)
        p = softmax_with_temperature(rows.astype(np.float64), T)
        cdf = np.cumsum(p, axis=-1)
        u = gen.random((rows.shape[0], 1)) * cdf[:, -1:]
        ids = np.minimum((cdf <= u).sum(axis=-1), rows.shape[-1] - 1)
    ids = ids.astype(np.int64)
    return int(ids[0]) if z.ndim == 1 else ids


def perplexity(probs, targets) -> float:
    """Perplexity exp(-1/n Σ log p(target)) of predicted distributions on held-out symbols.

    ``probs`` (..., V): for every position a distribution over the V symbols (rows summing
    to 1; raw logits are refused: use :func:`perplexity_from_logits`). ``targets`` (...):
    the symbol that actually came, ``targets.shape == probs.shape[:-1]``. Returns a float
    >= 1, the exponential of the mean cross-entropy in nats; a uniform guess over V symbols
    scores exactly V, and a target given probability 0 makes it ``inf``.
    """
    p = as_float_array(probs, "probs")
    if p.ndim == 0 or p.shape[-1] == 0:
        raise ValueError(f"probs must have shape (..., V), got {p.shape}")
    t = _check_targets(targets, p.shape[:-1], p.shape[-1], "probs")
    if np.isnan(p).any() or p.min() < 0:
        raise ValueError("probs must be probabilities (no NaN, nothing negative); pass logits "
                         "to perplexity_from_logits")
    sums = p.sum(axis=-1)
    if np.abs(sums - 1).max() > _SUM_TOLERANCE:
        raise ValueError(f"every row of probs must sum to 1 (a distribution over the "
                         f"{p.shape[-1]} symbols), found sums from {sums.min():.4g} to "
                         f"{sums.max():.4g}; pass logits to perplexity_from_logits")
    picked = np.take_along_axis(p, t[..., None], axis=-1)[..., 0].astype(np.float64)
    with np.errstate(divide="ignore"):
        nll = -np.mean(np.log(picked))
    return float(np.exp(nll))


def perplexity_from_logits(logits, targets) -> float:
    """:func:`perplexity` of softmax(logits), computed in log space (no underflow).

    ``logits`` (..., V), ``targets`` (...) ints -> float; equals
    ``exp(softmax_cross_entropy(logits, targets))``.
    """
    z = _check_logits(logits)
    t = _check_targets(targets, z.shape[:-1], z.shape[-1], "logits")
    logp = log_softmax(z.astype(np.float64))
    return float(np.exp(-np.mean(np.take_along_axis(logp, t[..., None], axis=-1))))


class NGramModel:
    """Counting n-gram model with add-k smoothing (加k平滑): the baseline a network must beat.

    ``order=1`` is the unigram model (symbol frequencies, no context), ``order=2`` the bigram
    model p(b | a), and so on. Smoothed estimate, with C the counts in the training ids::

        p(s | context) = (C(context, s) + k) / (C(context) + k·V)

    ``k=1`` is add-one (Laplace) smoothing; ``k → 0`` the maximum-likelihood counts, which
    give probability 0 (perplexity ``inf``) to any pair never seen in training.

    ``fit(ids)`` takes one sequence ``(L,)`` or several equally long ones ``(B, L)`` of int ids
    in 0..V-1 (windows never cross rows). ``predict_proba(ids, start)`` -> ``(..., L - start,
    V)``: row j is the distribution of ``ids[..., start + j]`` given the ``order - 1`` symbols
    before it (so ``start >= order - 1``; default ``order - 1``). ``next_probs(context)``:
    contexts ``(N, order - 1)`` -> ``(N, V)``.
    """

    def __init__(self, order: int, vocab_size: int, k: float = 1.0) -> None:
        for value, name in ((order, "order"), (vocab_size, "vocab_size")):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if isinstance(k, bool) or not isinstance(k, numbers.Real) or not k > 0:
            raise ValueError(f"k (the smoothing count) must be a number > 0, got {k!r}")
        if vocab_size ** order > 50_000_000:
            raise ValueError(f"a table of vocab_size**order = {vocab_size}**{order} counts is "
                             "too large for this counting model")
        self.order, self.vocab_size, self.k = int(order), int(vocab_size), float(k)
        self.counts_ = None

    def __repr__(self) -> str:
        return f"NGramModel(order={self.order}, vocab_size={self.vocab_size}, k={self.k:g})"

    def _check_ids(self, ids, name: str = "ids") -> np.ndarray:
        a = np.asarray(ids)
        if a.dtype == np.bool_ or not np.issubdtype(a.dtype, np.integer):
            raise TypeError(f"{name} must be integer symbol ids, got dtype {a.dtype}")
        if a.ndim not in (1, 2):
            raise ValueError(f"{name} must have shape (L,) or (B, L), got {a.shape}")
        if a.size and (a.min() < 0 or a.max() >= self.vocab_size):
            raise ValueError(f"{name} must lie in 0..{self.vocab_size - 1}, got ids from "
                             f"{a.min()} to {a.max()}")
        return a.astype(np.int64, copy=False)

    def _context_index(self, windows: np.ndarray) -> np.ndarray:
        """(..., order - 1) symbol ids -> (...) row of the count table."""
        index = np.zeros(windows.shape[:-1], dtype=np.int64)
        for j in range(windows.shape[-1]):
            index = index * self.vocab_size + windows[..., j]
        return index

    def fit(self, ids) -> NGramModel:
        """Count every window of ``order`` consecutive symbols; returns ``self``."""
        a = self._check_ids(ids)
        a = a[None] if a.ndim == 1 else a
        if a.shape[1] < self.order:
            raise ValueError(f"ids must hold at least order = {self.order} symbols per row, "
                             f"got {a.shape[1]}")
        grams = np.lib.stride_tricks.sliding_window_view(a, self.order, axis=1)
        rows = self._context_index(grams[..., :-1]).ravel()
        V = self.vocab_size
        flat = np.bincount(rows * V + grams[..., -1].ravel(), minlength=V ** self.order)
        self.counts_ = flat.reshape(V ** (self.order - 1), V)
        return self

    def _check_fitted(self) -> None:
        if self.counts_ is None:
            raise RuntimeError("this NGramModel is not fitted yet: call fit(training_ids)")

    def next_probs(self, context) -> np.ndarray:
        """Contexts ``(N, order - 1)`` ids -> ``(N, V)`` smoothed next-symbol distributions."""
        self._check_fitted()
        c = np.asarray(context)
        if c.ndim != 2 or c.shape[1] != self.order - 1:
            raise ValueError(f"context must have shape (N, {self.order - 1}) (the last "
                             f"order - 1 symbols), got {c.shape}")
        c = self._check_ids(c.reshape(-1), "context").reshape(c.shape)
        counts = self.counts_[self._context_index(c)] + self.k
        return counts / counts.sum(axis=1, keepdims=True)

    def predict_proba(self, ids, start: int | None = None) -> np.ndarray:
        """Distributions of ``ids[..., start:]``, each given the order - 1 symbols before it.

        ``ids`` (L,) or (B, L) -> (L - start, V) or (B, L - start, V).
        """
        self._check_fitted()
        a = self._check_ids(ids)
        n = self.order - 1
        start = n if start is None else start
        if isinstance(start, bool) or not isinstance(start, numbers.Integral) or not (
                n <= start < a.shape[-1]):
            raise ValueError(f"start must be an integer with order - 1 = {n} <= start < "
                             f"{a.shape[-1]} (the length of ids), got {start!r}")
        rows = a[None] if a.ndim == 1 else a
        windows = np.lib.stride_tricks.sliding_window_view(rows[:, start - n:-1], n, axis=1) \
            if n else np.zeros((rows.shape[0], rows.shape[1] - start, 0), dtype=np.int64)
        B, L = windows.shape[:2]
        out = self.next_probs(windows.reshape(B * L, n)).reshape(B, L, self.vocab_size)
        return out[0] if a.ndim == 1 else out

    def perplexity(self, ids, start: int | None = None) -> float:
        """:func:`perplexity` of this model on ``ids[..., start:]`` (see :meth:`predict_proba`)."""
        probs = self.predict_proba(ids, start)
        a = np.asarray(ids)
        start = self.order - 1 if start is None else start
        return perplexity(probs, a[..., start:])


def generate(step, state, prompt, length: int, *, temperature: float = 1.0, rng=0) -> list:
    """Sample ``length`` symbols after ``prompt`` from any next-symbol model.

    ``step(symbol, state) -> (logits (V,), new_state)`` reads one symbol id and returns the
    logits of the next one (a recurrent network keeps (h, c) in ``state``; a Transformer can
    keep the ids read so far). ``prompt`` is a non-empty sequence of ids, fed in order; then
    each drawn symbol (:func:`sample_with_temperature`) is fed back. Returns the ``length``
    new ids as a list of ints (the prompt not included).
    """
    prompt = [int(s) for s in np.asarray(prompt).reshape(-1)]
    if not prompt:
        raise ValueError("prompt must hold at least one symbol id to start from")
    if isinstance(length, bool) or not isinstance(length, numbers.Integral) or length < 0:
        raise ValueError(f"length must be an integer >= 0, got {length!r}")
    _check_temperature(temperature)
    gen = None if temperature == 0 else _as_rng(rng)
    logits = None
    for symbol in prompt:
        logits, state = step(symbol, state)
    out = []
    for n in range(int(length)):
        symbol = sample_with_temperature(np.asarray(logits).reshape(-1), temperature, gen)
        out.append(symbol)
        if n + 1 < length:
            logits, state = step(symbol, state)
    return out


def sequence_model_step(model):
    """A :func:`generate` step for a character model made of a recurrent layer and a readout.

    ``model`` is a :class:`~dlcourse.models.sequence_models.SequenceModel` (``cell`` "lstm" or
    "rnn", ``readout="all"``) whose inputs are one-hot symbols (``input_size`` = V). Returns
    ``step(symbol, state) -> (logits (V,), state)``; ``state`` is None at the start, then the
    recurrent layer's final states (``(h_n, c_n)`` for an LSTM, ``h_n`` for an RNN), so each
    step costs one time step, not a rerun of the whole text.
    """
    rnn, head = model.rnn, model.head
    eye = np.eye(rnn.input_size, dtype=rnn.dtype)
    lstm = getattr(model, "cell", "lstm") == "lstm"

    def step(symbol, state):
        x = eye[int(symbol)][None, None]              # (N=1, T=1, V), batch first
        if lstm:
            h0, c0 = (None, None) if state is None else state
            out, cache = rnn.forward(x, h0=h0, c0=c0)
            new_state = (cache.h_n, cache.c_n)
        else:
            out, cache = rnn.forward(x, h0=state)
            new_state = cache.h_n
        logits, _ = head.forward(out[:, -1])
        return logits[0], new_state

    return step


# ------------------------------------------------------------------ training and evaluation

def _check_id_sequence(ids, name: str, need: int) -> np.ndarray:
    a = np.asarray(ids)
    if a.dtype == np.bool_ or not np.issubdtype(a.dtype, np.integer) or a.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of integer symbol ids, got dtype "
                         f"{a.dtype} and shape {a.shape}")
    if a.size < need:
        raise ValueError(f"{name} must hold at least {need} ids (context + 1), got {a.size}")
    return a


def window_perplexity(model, ids, context: int, *, encode=None, batch_size: int = 256) -> float:
    """Perplexity of ``model`` on the non-overlapping windows of ``ids``.

    ``ids`` (L,) is cut into windows of ``context + 1`` symbols overlapping by one; in each
    the model reads ``context`` symbols (``encode(window (N, context))`` if given) and
    predicts the next one at every position, so symbol t of a window is predicted from the
    t symbols before it in that window. The tail that does not fill a window is left out.
    Returns exp(mean cross-entropy) over all predicted symbols
    (:func:`perplexity_from_logits`).
    """
    ids = _check_id_sequence(ids, "ids", context + 1)
    n = (ids.size - 1) // context
    starts = np.arange(n) * context
    windows = ids[starts[:, None] + np.arange(context + 1)]
    logits = []
    for i in range(0, n, batch_size):
        w = windows[i:i + batch_size, :-1]
        logits.append(model.forward(w if encode is None else encode(w))[0])
    return perplexity_from_logits(np.concatenate(logits), windows[:, 1:])


def train_language_model(model, ids, *, context: int, seconds: float | None = None,
                         steps: int | None = None, batch_size: int = 32, lr: float = 3e-3,
                         clip: float | None = 1.0, encode=None, val_ids=None,
                         eval_every: float = 1.0, seed: int = 0,
                         blas_threads: int | None = 1) -> dict:
    """Next-symbol training on random windows of ``ids``, for a time budget or a step count.

    Each step draws ``batch_size`` windows of ``context + 1`` consecutive symbols at random
    positions of ``ids`` (L,); the model reads the first ``context`` (through ``encode`` if
    given, e.g. one-hot vectors for an LSTM) and must output logits (N, context, V) for the
    next symbol at every position; the loss is the mean cross-entropy over all positions;
    then gradient clipping to norm ``clip`` and one Adam step (learning rate ``lr``).

    Training stops after ``seconds`` of training time or after ``steps`` steps, whichever
    comes first (at least one must be given). Training time is the **CPU time** of this
    process (``time.process_time``), with BLAS on ``blas_threads`` threads: on a shared
    machine the wall-clock time of a step changes with what else runs, its CPU time hardly,
    so two models given the same budget get a fair and repeatable number of steps. The wall
    time is recorded too. With ``val_ids`` the held-out perplexity
    (:func:`window_perplexity`) is measured every ``eval_every`` seconds of training time and
    at the end; evaluation is not counted as training time.

    Returns a history dict: ``loss`` (per step), ``steps``, ``seconds`` (training CPU time),
    ``wall_seconds``, ``val_seconds``, ``val_steps``, ``val_perplexity``.
    """
    if seconds is None and steps is None:
        raise ValueError("give a time budget (seconds=...) or a number of steps (steps=...)")
    if seconds is not None:
        check_positive(seconds, "seconds")
    if steps is not None:
        check_positive(steps, "steps", integer=True)
    check_positive(context, "context", integer=True)
    check_positive(batch_size, "batch_size", integer=True)
    ids = _check_id_sequence(ids, "ids", context + 2)
    if blas_threads is not None:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(blas_threads, user_api="blas"):
            return train_language_model(
                model, ids, context=context, seconds=seconds, steps=steps,
                batch_size=batch_size, lr=lr, clip=clip, encode=encode, val_ids=val_ids,
                eval_every=eval_every, seed=seed, blas_threads=None)
    rng = np.random.default_rng(seed)
    optimizer = Adam(model, lr=lr)
    offsets = np.arange(context + 1)
    history = {"loss": [], "val_seconds": [], "val_steps": [], "val_perplexity": []}

    def measure(elapsed, step):
        if val_ids is not None:
            history["val_seconds"].append(elapsed)
            history["val_steps"].append(step)
            history["val_perplexity"].append(window_perplexity(model, val_ids, context,
                                                               encode=encode))

    measure(0.0, 0)
    elapsed, wall, step, next_eval = 0.0, 0.0, 0, eval_every
    while (steps is None or step < steps) and (seconds is None or elapsed < seconds):
        start, start_wall = time.process_time(), time.perf_counter()
        w = ids[rng.integers(0, ids.size - context, batch_size)[:, None] + offsets]
        logits, cache = model.forward(w[:, :-1] if encode is None else encode(w[:, :-1]),
                                      training=True)
        V = logits.shape[-1]
        loss, dlogits = softmax_cross_entropy(logits.reshape(-1, V), w[:, 1:].reshape(-1))
        optimizer.zero_grad()
        model.backward(dlogits.reshape(logits.shape), cache)
        if clip is not None:
            clip_gradients(model, clip)
        optimizer.step()
        elapsed += time.process_time() - start
        wall += time.perf_counter() - start_wall
        step += 1
        history["loss"].append(loss)
        if not np.isfinite(loss):
            raise FloatingPointError(f"the training loss became {loss} at step {step}: "
                                     "lower the learning rate")
        if elapsed >= next_eval:
            measure(elapsed, step)
            next_eval = elapsed + eval_every
    if not history["val_steps"] or history["val_steps"][-1] != step:
        measure(elapsed, step)
    history["steps"], history["seconds"], history["wall_seconds"] = step, elapsed, wall
    return history
