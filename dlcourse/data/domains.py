"""Small synthetic data sets, one per input/output domain (输入域/输出域) of the notes:

- a **word** → a single label: pseudo-words from two invented languages (:func:`make_words`);
- a **word sequence** → a sequence of labels: part-of-speech tagging (词性标注) on sentences
  from a toy grammar with ambiguous words (:func:`make_tagged_sentences`);
- a **signal** → a label: noisy tones and chirps, like short audio clips (:func:`make_signals`);
- a **click log** → a probability: who clicked which item at which position
  (:func:`make_click_log`), for click-through-rate prediction.

Each comes with the encoding that turns it into the fixed-size float vectors an MLP takes:
:func:`char_counts`, :func:`window_features`, :func:`magnitude_spectrum`, :func:`one_hot`.
Everything is generated from a seed; nothing is downloaded.
"""

from __future__ import annotations

import numpy as np

from dlcourse.core.checks import as_float_array, check_positive

LETTERS = "abcdefghijklmnopqrstuvwxyz"

# Two invented "languages" that share letters and syllable shapes, so a word's language is
# learnable from its letters, but not perfectly.
_LANGUAGES = (
    {"consonants": "ptkmnslrh", "vowels": "aeiu", "p_closed": 0.2, "syllables": (2, 5)},
    {"consonants": "bdgkmnlrs", "vowels": "aeo", "p_closed": 0.6, "syllables": (1, 4)},
)
LANGUAGE_NAMES = ("Lang-A", "Lang-B")


def make_words(n: int = 600, seed: int = 0):
    """``n`` pseudo-words and their language: ``words`` (list of str), ``y`` (n,) in {0, 1}.

    Words are strings of syllables, consonant-vowel ("ka") or consonant-vowel-consonant
    ("dom"). Lang-A prefers open syllables and the letters p, t, h, i, u; Lang-B closed
    syllables and b, d, g, o; many letters (k, m, n, l, r, s, a, e) occur in both.
    """
    check_positive(n, "n", integer=True)
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    words = []
    for label in y:  # a few hundred short strings: building them is not the numeric path
        lang = _LANGUAGES[label]
        parts = []
        for _ in range(rng.integers(*lang["syllables"])):
            pattern = "CVC" if rng.random() < lang["p_closed"] else "CV"
            for slot in pattern:
                pool = lang["consonants"] if slot == "C" else lang["vowels"]
                parts.append(pool[rng.integers(len(pool))])
        words.append("".join(parts))
    return words, y.astype(np.int64)


def char_counts(words, normalize: bool = False) -> np.ndarray:
    """Bag of characters: ``(n, 26)`` counts of a..z per word (other characters ignored);
    ``normalize=True`` divides each row by its total (letter frequencies)."""
    lowered = [w.lower() for w in words]            # may change a word's length ("İ")
    codes = np.frombuffer("".join(lowered).encode("ascii", "replace"),
                          dtype=np.uint8).astype(np.int64) - ord("a")
    lengths = np.array([len(w) for w in lowered], dtype=np.int64)
    row = np.repeat(np.arange(len(words)), lengths)
    keep = (codes >= 0) & (codes < 26)
    counts = np.zeros((len(words), 26))
    np.add.at(counts, (row[keep], codes[keep]), 1.0)
    if normalize:
        counts /= np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
    return counts


# --------------------------------------------------------------------------- tagging

TAGS = ("DET", "ADJ", "NOUN", "VERB")
_LEXICON = {
    "DET": ["the", "a", "every", "my"],
    "ADJ": ["small", "green", "quick", "light", "old"],
    "NOUN": ["dog", "river", "fish", "run", "light", "walk", "book", "plan"],
    "VERB": ["sees", "likes", "fish", "run", "walk", "plan", "reads", "books"],
}


def make_tagged_sentences(n: int = 400, seed: int = 0):
    """Sentences from the grammar ``DET [ADJ] NOUN VERB [DET [ADJ] NOUN]`` and their tags.

    Several words are ambiguous ("fish", "run", "walk", "plan" are nouns or verbs, "light"
    a noun or an adjective, "books" a verb), so the right tag depends on the neighbours.
    Returns ``sentences`` and ``tags``: lists of ``n`` lists of str (same lengths).
    """
    check_positive(n, "n", integer=True)
    rng = np.random.default_rng(seed)

    def pick(tag):
        words = _LEXICON[tag]
        return words[rng.integers(len(words))], tag

    sentences, tags = [], []
    for _ in range(n):
        seq = [pick("DET")]
        if rng.random() < 0.5:
            seq.append(pick("ADJ"))
        seq += [pick("NOUN"), pick("VERB")]
        if rng.random() < 0.7:
            seq.append(pick("DET"))
            if rng.random() < 0.5:
                seq.append(pick("ADJ"))
            seq.append(pick("NOUN"))
        sentences.append([w for w, _ in seq])
        tags.append([t for _, t in seq])
    return sentences, tags


def build_vocabulary(sentences) -> dict[str, int]:
    """Map every distinct token to an id 0..V-1 (sorted, so the ids are reproducible)."""
    return {w: i for i, w in enumerate(sorted({w for s in sentences for w in s}))}


def window_features(ids, vocab_size: int, width: int = 1) -> np.ndarray:
    """One-hot context windows for sequence labelling (序列标注).

    ``ids`` (T,) token ids of one sentence -> ``(T, (2*width + 1) * (vocab_size + 1))``:
    for position t the one-hot vectors of tokens t-width … t+width, concatenated; positions
    outside the sentence use the extra padding id ``vocab_size``.
    """
    ids = np.asarray(ids, dtype=np.int64)
    T, V = ids.shape[0], vocab_size + 1
    padded = np.concatenate([np.full(width, vocab_size), ids, np.full(width, vocab_size)])
    k = 2 * width + 1
    windows = np.lib.stride_tricks.sliding_window_view(padded, k)       # (T, k)
    out = np.zeros((T, k * V))
    out[np.arange(T)[:, None], np.arange(k) * V + windows] = 1.0
    return out


# --------------------------------------------------------------------------- signals

SIGNAL_CLASSES = ("low tone", "high tone", "chirp")


def make_signals(n: int = 600, length: int = 128, noise: float = 0.8, seed: int = 0,
                 dtype=np.float64):
    """Short noisy clips: ``X`` (n, length) waveforms, ``y`` (n,) in {0, 1, 2}.

    Class 0 is a low tone (3-6 cycles per clip), class 1 a high tone (14-20 cycles), class 2
    a chirp sweeping from 4 to 20 cycles; every clip has a random phase and amplitude and
    Gaussian noise of std ``noise``.
    """
    check_positive(n, "n", integer=True)
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    t = np.arange(length) / length                                     # one clip = 1 unit
    f0 = np.where(y == 0, rng.uniform(3, 6, n), np.where(y == 1, rng.uniform(14, 20, n), 4.0))
    sweep = np.where(y == 2, 16.0, 0.0)                                # extra cycles, chirp
    phase = rng.uniform(0, 2 * np.pi, n)
    amplitude = rng.uniform(0.7, 1.3, n)
    cycles = f0[:, None] * t + 0.5 * sweep[:, None] * t**2              # instantaneous phase
    X = amplitude[:, None] * np.sin(2 * np.pi * cycles + phase[:, None])
    X += noise * rng.standard_normal((n, length))
    return X.astype(dtype), y.astype(np.int64)


def magnitude_spectrum(X) -> np.ndarray:
    """``(n, L)`` signals -> ``(n, L//2 + 1)`` amplitude of each frequency, |rfft| / L.

    The phase is dropped, so a tone of a whole number of cycles per clip gives the same
    features wherever it starts. A tone of k + 1/2 cycles leaks into the neighbouring bins
    (spectral leakage, 频谱泄漏), and how it spreads there depends on the phase."""
    X = as_float_array(X, "X", ndim=2, shape_hint="(n_signals, length)")
    return np.abs(np.fft.rfft(X, axis=1)) / X.shape[1]


def band_energies(X, edges) -> np.ndarray:
    """Energy (频带能量) of each clip in frequency bands: ``(n, L)`` -> ``(n, len(edges) - 1)``.

    With ``A = magnitude_spectrum(X)`` (bin k = k cycles per clip), band b is the sum of
    ``A[:, k] ** 2`` over the bins ``edges[b] <= k < edges[b + 1]``. ``edges`` are increasing
    integers from 0 to ``L // 2 + 1``. Summing a band makes the feature nearly independent of
    where inside the band a tone lies, and of how leakage spreads it over neighbouring bins.
    """
    A = magnitude_spectrum(X)
    edges = np.asarray(edges)
    if (edges.ndim != 1 or edges.size < 2 or not np.issubdtype(edges.dtype, np.integer)
            or np.any(np.diff(edges) <= 0) or edges[0] < 0 or edges[-1] > A.shape[1]):
        raise ValueError(f"edges must be increasing integers in 0..{A.shape[1]} (the "
                         f"{A.shape[1]} frequency bins), at least two of them; got "
                         f"{edges.tolist()}")
    power = A**2
    bands = zip(edges[:-1], edges[1:], strict=True)
    return np.stack([power[:, a:b].sum(axis=1) for a, b in bands], axis=1)


# --------------------------------------------------------------------------- click logs

def make_click_log(n: int = 20000, n_users: int = 40, n_items: int = 30, n_positions: int = 5,
                   seed: int = 0):
    """A synthetic click log (点击日志): one row per item shown to a user.

    Returns ``log`` (n, 3) int columns (user, item, position 0..n_positions-1), ``clicked``
    (n,) in {0, 1}, and ``p_true`` (n,), the click probability the log was drawn from:
    sigmoid(user bias + item bias + user·item taste − 0.6·position − 1.5).
    """
    check_positive(n, "n", integer=True)
    rng = np.random.default_rng(seed)
    user_bias = rng.normal(0, 0.7, n_users)
    item_bias = rng.normal(0, 0.7, n_items)
    taste_u, taste_i = rng.normal(0, 0.8, (n_users, 2)), rng.normal(0, 0.8, (n_items, 2))
    user = rng.integers(0, n_users, n)
    item = rng.integers(0, n_items, n)
    position = rng.integers(0, n_positions, n)
    logit = (user_bias[user] + item_bias[item] + np.sum(taste_u[user] * taste_i[item], axis=1)
             - 0.6 * position - 1.5)
    p_true = 1.0 / (1.0 + np.exp(-logit))
    clicked = (rng.random(n) < p_true).astype(np.int64)
    return np.column_stack([user, item, position]), clicked, p_true


def one_hot(ids, n_values: int, dtype=np.float64) -> np.ndarray:
    """``(n,)`` ints in 0..n_values-1 -> ``(n, n_values)`` one-hot rows."""
    ids = np.asarray(ids, dtype=np.int64)
    if ids.size and (ids.min() < 0 or ids.max() >= n_values):
        raise ValueError(f"ids must lie in 0..{n_values - 1}, got {ids.min()}..{ids.max()}")
    out = np.zeros((ids.shape[0], n_values), dtype=dtype)
    out[np.arange(ids.shape[0]), ids] = 1
    return out
