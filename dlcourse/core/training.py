"""The training loop (训练循环) and early stopping (早停法).

``train`` works with any :class:`dlcourse.core.module.Module` (``forward(x, training)`` ->
``(out, cache)``, ``backward(dout, cache)``, ``named_parameters()``) and any optimizer with
``step()``, ``zero_grad()`` and a settable ``lr`` (``dlcourse.core.optim``). One epoch is::

    for X_batch, y_batch in shuffled mini-batches:
        X_batch = augment(X_batch, rng)              # optional
        out, cache = model.forward(X_batch, training=True)
        loss, dout = loss_fn(out, y_batch)
        optimizer.zero_grad(); model.backward(dout, cache)
        loss += regularization(model)                # optional, adds its gradient
        clip_gradients(model, clip)                  # optional
        optimizer.step()

then the validation set is evaluated (``training=False``: dropout off) and early stopping
decides whether to go on. The recorded training loss and accuracy are averages over the
epoch's mini-batches, measured while the weights were still moving (as Keras reports them).
"""

from __future__ import annotations

import time

import numpy as np

from dlcourse.data.batching import iterate_minibatches

from .checks import as_float_array, check_positive, check_same_length
from .history import History, LivePlot
from .losses import resolve_loss
from .metrics import accuracy, evaluate
from .module import accepts_need_dx
from .optim import clip_gradients


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


def train(model, X, y, *, optimizer, loss="softmax_cross_entropy", epochs: int = 10,
          batch_size: int = 64, X_val=None, y_val=None, schedule=None, regularization=None,
          early_stopping=None, augment=None, clip=None, on_epoch_end=None, seed=0,
          progress: bool = True, live_plot: bool = False) -> History:
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
    clip : clip the gradients to this global norm before every step
        (:func:`dlcourse.core.optim.clip_gradients`); the norms before clipping are recorded
        in ``History.grad_norm``, one per step.
    on_epoch_end : callable ``(epoch, model, history) -> None``, called after each epoch's
        validation, for measurements of your own.
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
    loss_fn, kind = resolve_loss(loss)
    rng = np.random.default_rng(seed)
    # A training step never needs dLoss/dX of the data; layers that can skip it say so.
    backward_kwargs = {"need_dx": False} if accepts_need_dx(model) else {}
    history = History()
    plot = LivePlot() if live_plot else None
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
            if clip is not None:
                history.grad_norm.append(clip_gradients(model, clip))
            optimizer.step()
            m = X_batch.shape[0]
            total_loss += float(value) * m
            total_correct += accuracy(out, y_batch, kind) * m
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
        if on_epoch_end is not None:
            on_epoch_end(epoch, model, history)
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
