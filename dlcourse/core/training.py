"""The training loop (训练循环), early stopping (早停法), inference and model files.

``train`` works with any :class:`dlcourse.core.module.Module` (``forward(x, training)`` ->
``(out, cache)``, ``backward(dout, cache)``, ``named_parameters()``) and any optimizer with
``step()``, ``zero_grad()`` and a settable ``lr`` (``dlcourse.core.optim``). One epoch is::

    for X_batch, y_batch in shuffled mini-batches:
        X_batch = augment(X_batch, rng)              # optional
        out, cache = model.forward(X_batch, training=True)
        loss, dout = loss_fn(out, y_batch)
        optimizer.zero_grad(); model.backward(dout, cache)
        loss += regularization(model)                # optional, adds its gradient
        optimizer.step()

then the validation set is evaluated (``training=False``: dropout off) and early stopping
decides whether to go on. The recorded training loss and accuracy are averages over the
epoch's mini-batches, measured while the weights were still moving (as Keras reports them).
"""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dlcourse.data.batching import iterate_minibatches

from .checks import as_float_array, check_positive, check_same_length

LOSSES = ("softmax_cross_entropy", "mse", "binary_cross_entropy_with_logits")


# --------------------------------------------------------------------------- losses & metrics

def _resolve_loss(loss):
    """Return ``(loss_fn, kind)``; kind picks the accuracy: "multiclass", "binary" or None."""
    if callable(loss):
        return loss, "auto"
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES} or a callable (pred, target) -> "
                         f"(loss, grad), got {loss!r}")
    from . import losses

    fn = getattr(losses, loss)
    kind = {"softmax_cross_entropy": "multiclass", "mse": None,
            "binary_cross_entropy_with_logits": "binary"}[loss]
    if loss == "softmax_cross_entropy":
        return fn, kind

    def matched(pred, target):
        # (n,) targets against (n, 1) outputs: reshape instead of broadcasting to (n, n).
        target = np.asarray(target)
        if target.ndim == pred.ndim - 1 and target.size == pred.size:
            target = target.reshape(pred.shape)
        return fn(pred, target.astype(pred.dtype, copy=False))

    return matched, kind


def _accuracy(out: np.ndarray, y: np.ndarray, kind) -> float:
    """Fraction of correct predictions, or nan when accuracy does not apply (regression)."""
    if kind == "auto":
        kind = "multiclass" if out.ndim == 2 and out.shape[1] > 1 and y.ndim == 1 else None
    if kind == "multiclass":
        return float(np.mean(out.argmax(axis=1) == y))
    if kind == "binary":
        return float(np.mean((out.reshape(y.shape) > 0) == (y > 0.5)))
    return float("nan")


def _outputs(model, X, batch_size: int = 1024) -> np.ndarray:
    """Model outputs for X in inference mode, computed in chunks (bounded memory)."""
    check_positive(batch_size, "batch_size", integer=True)
    parts = [model.forward(X[i:i + batch_size], training=False)[0]
             for i in range(0, X.shape[0], batch_size)]
    return np.concatenate(parts, axis=0)


def predict(model, X, batch_size: int = 1024) -> np.ndarray:
    """Class labels (n,): argmax of the logits, or ``logit > 0`` for a single output column."""
    X = as_float_array(X, "X")
    out = _outputs(model, X, batch_size)
    if out.ndim == 2 and out.shape[1] > 1:
        return out.argmax(axis=1)
    return (out.reshape(-1) > 0).astype(np.int64)


def predict_proba(model, X, batch_size: int = 1024) -> np.ndarray:
    """Class probabilities (n, k): softmax of the logits (a single logit column gives
    ``[1 - sigmoid, sigmoid]``). Rows sum to 1."""
    from .activations import sigmoid
    from .losses import softmax

    X = as_float_array(X, "X")
    out = _outputs(model, X, batch_size)
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
    loss_fn, kind = _resolve_loss(loss)
    out = _outputs(model, X, batch_size)
    value, _ = loss_fn(out, y)
    return {"loss": float(value), "accuracy": _accuracy(out, y, kind)}


# --------------------------------------------------------------------------- history

@dataclass
class History:
    """What happened during training, one entry per epoch."""

    train_loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    train_accuracy: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    best_epoch: int | None = None
    stopped_epoch: int | None = None

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def plot(self, fig=None):
        """Loss and accuracy curves (train and validation); marks the early-stopping epoch.
        Returns the matplotlib figure (draws into ``fig`` when given)."""
        import matplotlib.pyplot as plt

        if fig is None:
            fig = plt.figure(figsize=(9, 3.2))
        fig.clear()
        ax_loss, ax_acc = fig.subplots(1, 2)
        epochs = np.arange(len(self.train_loss))
        ax_loss.plot(epochs, self.train_loss, label="train")
        if self.val_loss:
            ax_loss.plot(epochs, self.val_loss, label="validation")
        ax_loss.set_xlabel("epoch")
        ax_loss.set_ylabel("loss")
        if self.train_accuracy and not np.all(np.isnan(self.train_accuracy)):
            ax_acc.plot(epochs, self.train_accuracy, label="train")
            if self.val_accuracy:
                ax_acc.plot(epochs, self.val_accuracy, label="validation")
        ax_acc.set_xlabel("epoch")
        ax_acc.set_ylabel("accuracy")
        if self.best_epoch is not None:
            for ax in (ax_loss, ax_acc):
                ax.axvline(self.best_epoch, color="gray", ls=":", label="best epoch")
        for ax in (ax_loss, ax_acc):
            ax.grid(alpha=0.3)
            if ax.lines:
                ax.legend(loc="best", fontsize=8)
        fig.tight_layout()
        return fig

    def __repr__(self) -> str:
        last = (f", last train_loss={self.train_loss[-1]:.4f}" if self.train_loss else "")
        best = f", best_epoch={self.best_epoch}" if self.best_epoch is not None else ""
        return f"History(epochs={self.epochs}{last}{best})"


# --------------------------------------------------------------------------- early stopping

class EarlyStopping:
    """Stop when the validation loss has not improved for ``patience`` epochs.

    An epoch improves when its loss is below ``best_loss_ - min_delta``. The weights of the
    best epoch are kept (``model.state_dict()``) and, with ``restore_best``, copied back into
    the model when training stops (``update`` returns True) or ends (``restore``).

    Attributes: ``best_epoch_``, ``best_loss_``, ``stopped_epoch_`` (None if it never fired).
    """

    def __init__(self, patience: int = 10, min_delta: float = 0.0, restore_best: bool = True):
        check_positive(patience, "patience", integer=True)
        if min_delta < 0:
            raise ValueError(f"min_delta must be >= 0, got {min_delta!r}")
        self.patience, self.min_delta, self.restore_best = patience, min_delta, restore_best
        self.reset()

    def reset(self) -> None:
        self.best_epoch_, self.best_loss_, self.stopped_epoch_ = None, np.inf, None
        self.best_state_, self._waited = None, 0

    def update(self, val_loss: float, model, epoch: int) -> bool:
        """Record this epoch's validation loss; return True when training should stop."""
        if val_loss < self.best_loss_ - self.min_delta:
            self.best_loss_, self.best_epoch_, self._waited = float(val_loss), epoch, 0
            self.best_state_ = model.state_dict()
            return False
        self._waited += 1
        if self._waited >= self.patience:
            self.stopped_epoch_ = epoch
            self.restore(model)
            return True
        return False

    def restore(self, model) -> None:
        """Copy the best weights back into ``model`` (if ``restore_best``)."""
        if self.restore_best and self.best_state_ is not None:
            model.load_state_dict(self.best_state_)

    def __repr__(self) -> str:
        return (f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta}, "
                f"restore_best={self.restore_best})")


# --------------------------------------------------------------------------- live plot

class _LivePlot:
    """Redraws ``History.plot`` in place in a notebook; does nothing outside IPython."""

    def __init__(self, min_interval: float = 1.0):
        self.handle, self.fig, self.min_interval, self.last = None, None, min_interval, 0.0
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover - IPython ships with Jupyter
            return
        shell = get_ipython()
        if shell is None or "Terminal" in type(shell).__name__:
            return
        import matplotlib.pyplot as plt
        from IPython.display import display

        self.fig = plt.figure(figsize=(9, 3.2), dpi=72)
        plt.close(self.fig)  # we display it ourselves; inline must not show it a second time
        self.handle = display(self.fig, display_id=True)

    def update(self, history: History, final: bool = False) -> None:
        if self.handle is None:
            return
        now = time.perf_counter()
        if final or now - self.last >= self.min_interval:
            history.plot(self.fig)
            self.handle.update(self.fig)
            self.last = time.perf_counter()


# --------------------------------------------------------------------------- train

def train(model, X, y, *, optimizer, loss="softmax_cross_entropy", epochs: int = 10,
          batch_size: int = 64, X_val=None, y_val=None, schedule=None, regularization=None,
          early_stopping=None, augment=None, seed=0, progress: bool = True,
          live_plot: bool = False) -> History:
    """Mini-batch training of ``model`` with ``optimizer``; returns a :class:`History`.

    Parameters
    ----------
    X, y : training inputs (n, ...) and targets (n,) or (n, k).
    loss : "softmax_cross_entropy" (int labels), "mse", "binary_cross_entropy_with_logits",
        or a callable ``(pred, target) -> (loss, dloss/dpred)``.
    X_val, y_val : validation set, evaluated after every epoch (needed by early stopping).
    schedule : callable ``epoch -> lr`` (``dlcourse.core.schedules``), applied at each epoch start.
    regularization : callable ``model -> penalty`` called after ``backward`` (it adds its own
        gradient), e.g. ``lambda m: l2_penalty(m, 1e-4)``. The penalty is part of the
        recorded training loss; the validation loss is the data loss alone.
    early_stopping : an :class:`EarlyStopping`; it restores the best weights at the end.
    augment : callable ``(X_batch, rng) -> X_batch`` applied to each training batch.
    seed : seeds the shuffling and the augmentation (an int: the same run twice is identical).
    progress : tqdm progress bar over epochs (``tqdm.auto``: a widget in notebooks).
    live_plot : redraw loss/accuracy curves in the notebook as training runs.
    """
    X = as_float_array(X, "X")
    y = np.asarray(y)
    check_same_length(X, y, "X", "y")
    check_positive(epochs, "epochs", integer=True)
    check_positive(batch_size, "batch_size", integer=True)
    has_val = X_val is not None
    if has_val:
        X_val = as_float_array(X_val, "X_val")
        y_val = np.asarray(y_val)
        check_same_length(X_val, y_val, "X_val", "y_val")
    if early_stopping is not None and not has_val:
        raise ValueError("early_stopping needs a validation set: pass X_val and y_val")
    loss_fn, kind = _resolve_loss(loss)
    rng = np.random.default_rng(seed)
    # A training step never needs dLoss/dX of the data; layers that can skip it say so.
    backward_kwargs = ({"need_dx": False}
                       if "need_dx" in inspect.signature(model.backward).parameters else {})
    history = History()
    plot = _LivePlot() if live_plot else None
    if early_stopping is not None:
        early_stopping.reset()

    from tqdm.auto import tqdm

    bar = tqdm(range(epochs), desc="training", unit="epoch", disable=not progress,
               leave=True)
    for epoch in bar:
        start = time.perf_counter()
        if schedule is not None:
            optimizer.lr = float(schedule(epoch))
        total_loss, total_correct, n_seen = 0.0, 0.0, 0
        for X_batch, y_batch in iterate_minibatches(X, y, batch_size, shuffle=True, seed=rng):
            if augment is not None:
                X_batch = augment(X_batch, rng)
            out, cache = model.forward(X_batch, training=True)
            value, dout = loss_fn(out, y_batch)
            optimizer.zero_grad()
            model.backward(dout, cache, **backward_kwargs)
            if regularization is not None:
                value = value + float(regularization(model))
            optimizer.step()
            m = X_batch.shape[0]
            total_loss += float(value) * m
            total_correct += _accuracy(out, y_batch, kind) * m
            n_seen += m
        history.train_loss.append(total_loss / n_seen)
        history.train_accuracy.append(total_correct / n_seen)
        history.lr.append(float(getattr(optimizer, "lr", np.nan)))
        postfix = {"loss": f"{history.train_loss[-1]:.4f}"}
        stop = False
        if has_val:
            scores = evaluate(model, X_val, y_val, loss=loss)
            history.val_loss.append(scores["loss"])
            history.val_accuracy.append(scores["accuracy"])
            postfix["val_loss"] = f"{scores['loss']:.4f}"
            if not np.isnan(scores["accuracy"]):
                postfix["val_acc"] = f"{scores['accuracy']:.3f}"
            if early_stopping is not None:
                stop = early_stopping.update(scores["loss"], model, epoch)
                history.best_epoch = early_stopping.best_epoch_
        history.seconds.append(time.perf_counter() - start)
        bar.set_postfix(postfix, refresh=False)
        if plot is not None:
            plot.update(history)
        if not np.isfinite(history.train_loss[-1]):
            bar.close()
            raise FloatingPointError(f"the training loss became {history.train_loss[-1]} at "
                                     f"epoch {epoch}: lower the learning rate")
        if stop:
            history.stopped_epoch = epoch
            break
    bar.close()
    if early_stopping is not None:
        early_stopping.restore(model)
    if plot is not None:
        plot.update(history, final=True)
    return history


# --------------------------------------------------------------------------- save / load

def save_model(model, path) -> Path:
    """Save every parameter (``model.state_dict()``) to an ``.npz`` file; returns the path
    written (numpy appends ``.npz`` when missing)."""
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    np.savez(path, **model.state_dict())
    return path


def load_model(model, path):
    """Load parameters saved by :func:`save_model` into ``model`` (same architecture) in
    place; returns the model."""
    path = Path(path)
    if not path.exists() and path.with_name(path.name + ".npz").exists():
        path = path.with_name(path.name + ".npz")
    with np.load(path) as data:
        model.load_state_dict({name: data[name] for name in data.files})
    return model
