"""Loss functions (损失函数). Each returns ``(loss, dloss/dprediction)``.

Returning the gradient together with the value keeps the pairing of CS231n's layers:
the training loop starts backpropagation from the second element. Losses are averaged
over the samples, so gradients are divided by ``n``.
"""

from __future__ import annotations

import numpy as np

from .activations import sigmoid
from .checks import as_float_array


def _pair(pred, target, pred_name: str = "pred"):
    pred = as_float_array(pred, pred_name)
    target = as_float_array(target, "target").astype(pred.dtype, copy=False)
    if pred.shape != target.shape:
        raise ValueError(f"{pred_name} and target must have the same shape, got "
                         f"{pred.shape} and {target.shape}")
    if pred.size == 0:
        raise ValueError(f"{pred_name} is empty: a loss needs at least one sample")
    return pred, target


def mse(pred, target):
    """Mean squared error (均方误差) 1/n Σ (pred - target)²; shapes must match."""
    pred, target = _pair(pred, target)
    diff = pred - target
    n = pred.shape[0] if pred.ndim else 1
    return float(np.sum(diff * diff) / n), (2.0 / n) * diff


def binary_cross_entropy(prob, target, eps: float = 1e-7):
    """Binary cross-entropy (交叉熵) of probabilities in (0, 1) against labels in {0, 1}.

    Probabilities are clipped to [eps, 1 - eps] so log(0) never happens. When you have the
    logits, prefer :func:`binary_cross_entropy_with_logits`: it is exact and stable.
    """
    prob, target = _pair(prob, target, "prob")
    if np.any((prob < 0) | (prob > 1)):
        raise ValueError("prob must lie in [0, 1]; pass logits to "
                         "binary_cross_entropy_with_logits instead")
    p = np.clip(prob, eps, 1 - eps)
    n = prob.shape[0] if prob.ndim else 1
    loss = -np.sum(target * np.log(p) + (1 - target) * np.log1p(-p)) / n
    return float(loss), (p - target) / (p * (1 - p)) / n


def binary_cross_entropy_with_logits(logits, target):
    """Binary cross-entropy of sigmoid(logits), computed without forming the sigmoid.

    loss = max(z, 0) - z*y + log(1 + e^-|z|) is the textbook stable form; its gradient
    with respect to the logits is simply (sigmoid(z) - y) / n.
    """
    z, y = _pair(logits, target, "logits")
    n = z.shape[0] if z.ndim else 1
    loss = np.sum(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))) / n
    return float(loss), (sigmoid(z) - y) / n


def _check_labels(y, n: int, k: int) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"y must have shape ({n},): one integer class label per row of "
                         f"logits, got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        if np.issubdtype(y.dtype, np.floating) and np.all(y == np.round(y)):
            y = y.astype(np.int64)
        else:
            raise TypeError(f"y must hold integer class labels 0..{k - 1}, got dtype {y.dtype}")
    if n and (y.min() < 0 or y.max() >= k):
        raise ValueError(f"class labels must lie in 0..{k - 1} for {k} logits per row, got "
                         f"labels from {y.min()} to {y.max()}")
    return y


def softmax_cross_entropy(logits, y):
    """Softmax followed by cross-entropy (交叉熵), fused: returns ``(loss, dlogits)``.

    loss = 1/n Σ_i [log Σ_j e^{z_ij} - z_{i, y_i}]  (log-sum-exp with the row max subtracted,
    so any logits are safe), and the gradient of the pair is simply (softmax(z) - onehot(y)) / n.

    Shapes: logits (n, k), y (n,) integer labels in 0..k-1 -> float, (n, k).
    """
    z = as_float_array(logits, "logits", ndim=2, shape_hint="(n_samples, n_classes)")
    n, k = z.shape
    if n == 0:
        raise ValueError("logits is empty: a loss needs at least one sample")
    y = _check_labels(y, n, k)
    shifted = z - np.max(z, axis=1, keepdims=True)
    e = np.exp(shifted)
    sums = np.sum(e, axis=1)
    rows = np.arange(n)
    loss = float(np.mean(np.log(sums) - shifted[rows, y]))
    e /= sums[:, None]
    e[rows, y] -= 1.0
    e *= 1.0 / n
    return loss, e


def zero_one_loss(y_pred, y_true) -> float:
    """The 0-1 loss: the fraction of wrong predictions (1 - accuracy). For evaluation only.

    Its gradient is zero almost everywhere, so it cannot be minimized by gradient descent; a
    differentiable surrogate (cross-entropy) is optimized instead. ``y_pred`` may be labels of
    shape (n,) or scores of shape (n, k), whose row-wise argmax is taken.
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_pred.ndim == 2 and y_true.ndim == 1:
        y_pred = np.argmax(y_pred, axis=1)
    if y_pred.shape != y_true.shape:
        raise ValueError(f"y_pred and y_true must have the same shape, got {y_pred.shape} and "
                         f"{y_true.shape}")
    if y_true.size == 0:
        raise ValueError("y_true is empty: a loss needs at least one sample")
    return float(np.mean(y_pred != y_true))


#: The losses a model is trained with by name, and what "accuracy" means for each: class
#: labels (argmax of the logits), binary labels (logit > 0), or none (regression).
LOSSES = {
    "softmax_cross_entropy": (softmax_cross_entropy, "multiclass"),
    "mse": (mse, None),
    "binary_cross_entropy_with_logits": (binary_cross_entropy_with_logits, "binary"),
}


def resolve_loss(loss):
    """``(loss_fn, kind)`` for a loss name in :data:`LOSSES` or a callable ``(pred, target)
    -> (loss, dloss/dpred)``; kind picks the accuracy: "multiclass", "binary", None (no
    accuracy) or "auto" (guessed from the shapes, for a callable)."""
    if callable(loss):
        return loss, "auto"
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {tuple(LOSSES)} or a callable (pred, target) -> "
                         f"(loss, grad), got {loss!r}")
    fn, kind = LOSSES[loss]
    if loss == "softmax_cross_entropy":
        return fn, kind

    def matched(pred, target):
        # (n,) targets against (n, 1) outputs: reshape instead of broadcasting to (n, n).
        target = np.asarray(target)
        if target.ndim == pred.ndim - 1 and target.size == pred.size:
            target = target.reshape(pred.shape)
        return fn(pred, target.astype(pred.dtype, copy=False))

    return matched, kind

