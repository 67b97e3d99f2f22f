"""Input validation shared by the library: clear errors instead of numpy tracebacks.

Every public function that takes arrays from a student passes them through
:func:`as_float_array` first, so a wrong shape or a list of strings gives a message that
names the argument, the expected shape and what was received.
"""

from __future__ import annotations

import numbers

import numpy as np


def as_float_array(x, name: str = "x", *, ndim: int | None = None,
                   shape_hint: str | None = None) -> np.ndarray:
    """Return ``x`` as a floating-point ndarray, or raise a readable error.

    Floating inputs keep their dtype (float32 stays float32); integers and booleans become
    float64. ``ndim`` checks the number of dimensions; ``shape_hint`` (for example
    ``"(n_samples, n_features)"``) is quoted in the error message.
    """
    if isinstance(x, np.ndarray):
        arr = x
    else:
        try:
            arr = np.asarray(x)
        except (ValueError, TypeError) as exc:  # ragged nested lists
            raise ValueError(f"{name} must be a rectangular array of numbers; "
                             f"numpy could not convert it: {exc}") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)
                                   or arr.dtype == np.bool_):
        raise TypeError(f"{name} must contain numbers, got an array of dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real-valued, got dtype {arr.dtype}")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    if ndim is not None and arr.ndim != ndim:
        expected = shape_hint or f"a {ndim}-D array"
        raise ValueError(f"{name} must have shape {expected} ({ndim}-D), "
                         f"got shape {arr.shape} ({arr.ndim}-D)")
    return arr


def check_same_length(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Raise if two arrays do not have the same number of samples (first axis)."""
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"{name_a} and {name_b} must have the same number of samples, "
                         f"got {a.shape[0]} and {b.shape[0]}")


def check_positive(value, name: str, *, integer: bool = False) -> None:
    """Raise if a hyperparameter is not a positive number (or integer)."""
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind) or value <= 0:
        what = "a positive integer" if integer else "a positive number"
        raise ValueError(f"{name} must be {what}, got {value!r}")
