"""A recurrent layer with a linear readout: sequence classification and sequence prediction.

:class:`SequenceModel` = :class:`~dlcourse.models.rnn.RNN` or :class:`~dlcourse.models.rnn.LSTM`
(batch-first) followed by a :class:`~dlcourse.core.layers.Dense` layer on the last hidden state
(``readout="last"``: one output per sequence) or on every step (``readout="all"``).
:meth:`SequenceModel.fit` trains it with Adam and gradient clipping, through
:func:`dlcourse.core.training.train`.
"""

from __future__ import annotations

import numpy as np

from dlcourse.core.checks import as_float_array
from dlcourse.core.layers import Dense
from dlcourse.core.losses import LOSSES
from dlcourse.core.module import Module
from dlcourse.core.optim import Adam
from dlcourse.core.training import train

from .rnn import LSTM, RNN


class SequenceModel(Module):
    """Recurrent layer + Dense readout, batch-first.

    Parameters
    ----------
    cell : {"lstm", "rnn"}
    input_size, hidden_size, output_size : int
    num_layers : int
    readout : {"last", "all"} — read the last step only, or every step.
    seed : int; dtype : float32 (default) or float64.

    Shapes: x (N, T, input_size) -> out (N, output_size) for ``readout="last"``,
    (N, T, output_size) for ``readout="all"``. Parameters are named ``rnn.<torch name>`` and
    ``head.W``, ``head.b``.
    """

    def __init__(self, cell: str, input_size: int, hidden_size: int, output_size: int,
                 num_layers: int = 1, readout: str = "last", seed: int = 0,
                 dtype=np.float32) -> None:
        super().__init__()
        layers = {"lstm": LSTM, "rnn": RNN}
        if cell not in layers:
            raise ValueError(f"cell must be 'lstm' or 'rnn', got {cell!r}")
        if readout not in ("last", "all"):
            raise ValueError(f"readout must be 'last' or 'all', got {readout!r}")
        self.cell, self.readout = cell, readout
        self.rnn = layers[cell](input_size, hidden_size, num_layers, seed=seed, dtype=dtype,
                                batch_first=True)
        self.head = Dense(hidden_size, output_size, init="xavier", seed=seed + 1, dtype=dtype)

    def __repr__(self) -> str:
        return f"SequenceModel({self.rnn!r} -> {self.head!r}, readout={self.readout!r})"

    def named_parameters(self):
        for prefix, part in (("rnn", self.rnn), ("head", self.head)):
            for name, param, grad in part.named_parameters():
                yield f"{prefix}.{name}", param, grad

    def forward(self, x, training: bool = False):
        hs, rnn_cache = self.rnn.forward(x, training)
        N, T, H = hs.shape
        feats = hs[:, -1] if self.readout == "last" else hs.reshape(N * T, H)
        out, head_cache = self.head.forward(feats, training)
        if self.readout == "all":
            out = out.reshape(N, T, -1)
        return out, (rnn_cache, head_cache, hs.shape)

    def backward(self, dout, cache):
        rnn_cache, head_cache, (N, T, H) = cache
        if self.readout == "last":
            dfeat = self.head.backward(dout, head_cache)
            dhs = np.zeros((N, T, H), dtype=dfeat.dtype)
            dhs[:, -1] = dfeat
        else:
            dout = as_float_array(dout, "dout", ndim=3, shape_hint="(N, T, output_size)")
            dhs = self.head.backward(dout.reshape(N * T, -1), head_cache).reshape(N, T, H)
        return self.rnn.backward(dhs, rnn_cache)

    def predict(self, x) -> np.ndarray:
        """Class labels (argmax of the outputs) for classification models."""
        return np.argmax(self(x), axis=-1)

    def fit(self, X, y, *, loss: str = "softmax_cross_entropy", epochs: int = 10,
            batch_size: int = 32, lr: float = 1e-2, clip: float | None = 1.0, seed: int = 0,
            X_val=None, y_val=None, blas_threads: int | None = 1):
        """Mini-batch Adam with gradient clipping (梯度裁剪); returns ``self``.

        X (N, T, input_size). Targets y: (N,) class labels or (N, output_size) values for
        ``readout="last"``; (N, T) labels or (N, T, output_size) values for ``readout="all"``
        (the loss is then averaged over every step). Records ``loss_history_`` (mean training
        loss per epoch), ``grad_norm_`` (norm before clipping, per step) and, for
        classification with validation data, ``val_accuracy_`` per epoch, measured at the
        **last** step.

        ``blas_threads=1`` (default) runs BLAS single-threaded while training: a small
        recurrent model does thousands of tiny matrix products, for which waking BLAS
        threads costs more than it saves (measured on a shared 2-core machine: one training
        step of a 16-unit LSTM over 50 steps took 20 ms single-threaded, 55-63 ms with two
        threads). ``None`` leaves the BLAS thread count alone.
        """
        if blas_threads is not None:
            from threadpoolctl import threadpool_limits

            with threadpool_limits(blas_threads, user_api="blas"):
                return self.fit(X, y, loss=loss, epochs=epochs, batch_size=batch_size, lr=lr,
                                clip=clip, seed=seed, X_val=X_val, y_val=y_val,
                                blas_threads=None)
        if loss not in ("softmax_cross_entropy", "mse"):
            raise ValueError(f"loss must be one of ['mse', 'softmax_cross_entropy'], "
                             f"got {loss!r}")
        X = as_float_array(X, "X", ndim=3, shape_hint="(N, T, input_size)")
        y = np.asarray(y)
        if len(y) != len(X):
            raise ValueError(f"X and y must have the same number of sequences, got {len(X)} "
                             f"and {len(y)}")
        loss_fn, _ = LOSSES[loss]
        if self.readout == "all":        # every step is a sample of the loss
            def step_loss(out, target):
                k = out.shape[-1]
                target = target.reshape(-1) if loss != "mse" else target.reshape(-1, k)
                value, dout = loss_fn(out.reshape(-1, k), target)
                return value, dout.reshape(out.shape)
        else:
            step_loss = loss_fn
        self.val_accuracy_ = []

        def measure(epoch, model, history):
            if X_val is not None and loss == "softmax_cross_entropy":
                self.val_accuracy_.append(self.accuracy(X_val, y_val))

        self.history_ = train(self, X, y, optimizer=Adam(self, lr=lr), loss=step_loss,
                              epochs=epochs, batch_size=batch_size, clip=clip,
                              on_epoch_end=measure, seed=seed, progress=False)
        self.loss_history_, self.grad_norm_ = self.history_.train_loss, self.history_.grad_norm
        return self

    def accuracy(self, X, y) -> float:
        """Classification accuracy at the last step (y (N,) or (N, T) labels)."""
        pred, y = self.predict(X), np.asarray(y)
        if pred.ndim == 2:
            pred = pred[:, -1]
        if y.ndim == 2:
            y = y[:, -1]
        return float(np.mean(pred == y))
