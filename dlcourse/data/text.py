"""Text for the language chapters: the course's own English prose, shipped with the package.

``corpus/course_prose.txt`` (132 k characters, 53 distinct) is the markdown of the chapter
notebooks as they stood when it was cut: lower-cased, code, formulas, tables and the Chinese
glosses removed, one paragraph per line. It needs no download and has no licence question,
and it is frozen, so the numbers measured on it stay put when a chapter's prose changes.

:class:`CharVocabulary` maps characters to ids and back, :func:`split_by_position` cuts a
text into consecutive training / validation / test parts, and :func:`next_symbol_windows`
cuts ids into (input, next-symbol target) windows for a language model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dlcourse.core.checks import check_positive

CORPUS = Path(__file__).with_name("corpus") / "course_prose.txt"


def load_course_text() -> str:
    """The course-prose corpus as one string (paragraphs separated by newlines)."""
    return CORPUS.read_text(encoding="utf-8")


class CharVocabulary:
    """The symbols of a text, each with an integer id (ids in sorted order of the symbols).

    ``CharVocabulary(text)`` collects the distinct characters; ``encode(text) -> (L,) int64``
    ids and ``decode(ids) -> str`` map back and forth; ``len(vocab)`` is V, ``vocab.symbols``
    the characters in id order. A character the vocabulary does not know raises a
    ``ValueError`` that names it (no silent "unknown" symbol).
    """

    def __init__(self, text: str) -> None:
        if not isinstance(text, str) or not text:
            raise ValueError("CharVocabulary needs a non-empty string to collect symbols from")
        self.symbols = "".join(sorted(set(text)))
        self._id = {ch: k for k, ch in enumerate(self.symbols)}
        self._table = np.array(list(self.symbols))

    def __len__(self) -> int:
        return len(self.symbols)

    def __repr__(self) -> str:
        return f"CharVocabulary({len(self)} symbols: {self.symbols!r})"

    def encode(self, text: str) -> np.ndarray:
        """A string -> its ids, shape (len(text),), int64."""
        if not isinstance(text, str):
            raise TypeError(f"encode takes a string, got {type(text).__name__}")
        unknown = sorted(set(text) - self._id.keys())
        if unknown:
            raise ValueError(f"characters not in the vocabulary: {''.join(unknown)!r}")
        return np.fromiter((self._id[ch] for ch in text), dtype=np.int64, count=len(text))

    def decode(self, ids) -> str:
        """Ids (any shape, flattened in order) -> the string they spell."""
        ids = np.asarray(ids).reshape(-1)
        if ids.size and (not np.issubdtype(ids.dtype, np.integer) or ids.min() < 0
                         or ids.max() >= len(self)):
            raise ValueError(f"ids must be integers in 0..{len(self) - 1}, got dtype "
                             f"{ids.dtype}, values {ids.min()}..{ids.max()}")
        return "".join(self._table[ids])


def split_by_position(sequence, val_size: float = 0.1, test_size: float = 0.1):
    """Cut a text (or an id array) into consecutive training, validation and test parts.

    Text is not a set of independent samples: neighbouring characters share words and
    sentences, so a shuffled split would test on text seen in training. The first
    ``1 - val_size - test_size`` of it trains, the next ``val_size`` validates, the last
    ``test_size`` tests. Returns ``(train, val, test)`` of the input's type.
    """
    for value, name in ((val_size, "val_size"), (test_size, "test_size")):
        if not 0.0 < value < 1.0:
            raise ValueError(f"{name} must be a fraction strictly between 0 and 1, got "
                             f"{value!r}")
    if val_size + test_size >= 1.0:
        raise ValueError(f"val_size + test_size must be < 1 to leave a training part, got "
                         f"{val_size} + {test_size}")
    n = len(sequence)
    a, b = round(n * (1.0 - val_size - test_size)), round(n * (1.0 - test_size))
    if not 0 < a < b < n:
        raise ValueError(f"a sequence of {n} symbols is too short to split into three parts")
    return sequence[:a], sequence[a:b], sequence[b:]


def next_symbol_windows(ids, length: int, stride: int | None = None):
    """Cut an id sequence into (input, next-symbol target) windows for a language model.

    ``ids`` (L,) ints -> ``inputs`` (n, length) = ids[s : s + length] and ``targets``
    (n, length) = ids[s + 1 : s + length + 1], the same window shifted by one, for starts
    s = 0, stride, 2·stride, … (default ``stride = length``: windows that do not overlap).
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"ids must be a 1-D array of integer ids, got shape {ids.shape}, "
                         f"dtype {ids.dtype}")
    check_positive(length, "length", integer=True)
    stride = length if stride is None else stride
    check_positive(stride, "stride", integer=True)
    if len(ids) < length + 1:
        raise ValueError(f"ids of length {len(ids)} are too short for windows of {length} "
                         "symbols and their next-symbol targets")
    views = np.lib.stride_tricks.sliding_window_view(ids, length + 1)[::stride]
    return views[:, :-1].copy(), views[:, 1:].copy()
