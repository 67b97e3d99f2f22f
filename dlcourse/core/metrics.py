"""Using a trained model: outputs in inference mode, predictions, probabilities, scores.

Every function here runs the model with ``training=False`` (dropout off, batch norm on its
running statistics) and in chunks of ``batch_size`` samples, so memory stays bounded.
"""

from __future__ import annotations

import numpy as np

from .activations import sigmoid, softmax
from .checks import as_float_array, check_positive, check_same_length
from .losses import resolve_loss


def accuracy(out: np.ndarray, y: np.ndarray, kind) -> float:
    """Fraction of correct predictions, or nan when accuracy does not apply (regression)."""
    if kind == "auto":
        kind = "multiclass" if out.ndim == 2 and out.shape[1] > 1 and y.ndim == 1 else None
    if kind == "multiclass":
        return float(np.mean(out.argmax(axis=1) == y))
    if kind == "binary":
        return float(np.mean((out.reshape(y.shape) > 0) == (y > 0.5)))
    return float("nan")


def outputs(model, X, batch_size: int = 1024) -> np.ndarray:
    """Model outputs for X in inference mode, computed in chunks (bounded memory)."""
    check_positive(batch_size, "batch_size", integer=True)
    parts = [model.forward(X[i:i + batch_size], training=False)[0]
             for i in range(0, X.shape[0], batch_size)]
    return np.concatenate(parts, axis=0)


def predict(model, X, batch_size: int = 1024) -> np.ndarray:
    """Class labels (n,): argmax of the logits, or ``logit > 0`` for a single output column."""
    X = as_float_array(X, "X")
    out = outputs(model, X, batch_size)
    if out.ndim == 2 and out.shape[1] > 1:
        return out.argmax(axis=1)
    return (out.reshape(-1) > 0).astype(np.int64)


def predict_proba(model, X, batch_size: int = 1024) -> np.ndarray:
    """Class probabilities (n, k): softmax of the logits (a single logit column gives
    ``[1 - sigmoid, sigmoid]``). Rows sum to 1."""
    X = as_float_array(X, "X")
    out = outputs(model, X, batch_size)
    if out.ndim == 2 and out.shape[1] > 1:
        return softmax(out)
    p = sigmoid(out.reshape(-1))
    return np.column_stack([1 - p, p])


def evaluate(model, X, y, loss="softmax_cross_entropy", batch_size: int = 1024) -> dict:
    """``{"loss": …, "accuracy": …}`` of the model on (X, y), in inference mode (accuracy
    is nan for regression losses)."""
    X = as_float_array(X, "X")
    y = np.asarray(y)
    check_same_length(X, y, "X", "y")
    loss_fn, kind = resolve_loss(loss)
    out = outputs(model, X, batch_size)
    value, _ = loss_fn(out, y)
    return {"loss": float(value), "accuracy": accuracy(out, y, kind)}
