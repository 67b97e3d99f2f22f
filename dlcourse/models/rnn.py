"""Recurrent networks (循环神经网络): the tanh RNN and the LSTM, with backpropagation through time.

Layout (the same as ``torch.nn.RNN``/``torch.nn.LSTM`` with ``batch_first=False``):

- input ``x``: (T, N, input_size) — time first, then the batch, then the features;
  ``batch_first=True`` takes and returns (N, T, ·) instead;
- output ``out``: (T, N, hidden_size) — the top layer's hidden state at every step;
- initial/final states ``h0``, ``c0``, ``h_n``, ``c_n``: (num_layers, N, hidden_size).

Parameters carry torch's names and shapes, so weights copy across one to one:
``weight_ih_l{k}`` (G·H, in_k), ``weight_hh_l{k}`` (G·H, H), ``bias_ih_l{k}`` (G·H,),
``bias_hh_l{k}`` (G·H,), with G = 1 for the RNN and G = 4 for the LSTM, whose rows are the
gates in torch's order **i, f, g, o** (input, forget, cell candidate, output).

Two levels of code:

- small explicit single-step functions (:func:`rnn_cell_forward`, :func:`lstm_cell_forward`
  and their backward passes) that read like the formulas — for teaching and as references;
- the tuned layers :class:`RNN` and :class:`LSTM`. The RNN: the input projection
  ``x_t W_ih^T`` for all T steps is one GEMM before the time loop, buffers for all steps are
  allocated once per call and written in place (``out=``), and in backward the weight, input
  and bias gradients are one GEMM each after the loop, so the loop holds only the recurrent
  product and one elementwise pass. The LSTM runs the time loops of
  :mod:`dlcourse.models.lstm_fused`: a (features, batch) layout, gates reordered to o, i, f, g
  so the three sigmoids are one contiguous block evaluated with ``tanh``
  (σ(z) = ½ tanh(z/2) + ½, the ½ folded into the weights), one GEMM per step with the input
  and bias folded in, the backward pass's local derivatives computed a few steps at a time,
  and buffers reused from call to call.
"""

from __future__ import annotations

import numpy as np

from dlcourse.core.activations import sigmoid
from dlcourse.core.checks import as_float_array, check_positive
from dlcourse.core.module import Module
from dlcourse.models.lstm_fused import LSTMWorkspace, lstm_backward, lstm_forward

# --------------------------------------------------------------------------------------------
# Single steps, written like the formulas (teaching and reference implementations)
# --------------------------------------------------------------------------------------------


def rnn_cell_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    """One step of the tanh RNN: h = tanh(x W_ih^T + b_ih + h_prev W_hh^T + b_hh).

    x (N, D), h_prev (N, H), W_ih (H, D), W_hh (H, H), b_ih (H,), b_hh (H,)
    -> h (N, H), cache for :func:`rnn_cell_backward`.
    """
    h = np.tanh(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)
    return h, (x, h_prev, W_ih, W_hh, h)


def rnn_cell_backward(dh, cache):
    """Backward of one RNN step: dh (N, H) -> dict dx, dh_prev, dW_ih, dW_hh, db."""
    x, h_prev, W_ih, W_hh, h = cache
    dz = dh * (1.0 - h * h)                     # tanh'(z) = 1 - tanh(z)^2
    return {"dx": dz @ W_ih, "dh_prev": dz @ W_hh, "dW_ih": dz.T @ x,
            "dW_hh": dz.T @ h_prev, "db": dz.sum(axis=0)}


def lstm_cell_forward(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    """One LSTM step with torch's gate layout (rows i, f, g, o of the weights).

    x (N, D), h_prev (N, H), c_prev (N, H), W_ih (4H, D), W_hh (4H, H), b_ih/b_hh (4H,)
    -> h (N, H), c (N, H), cache for :func:`lstm_cell_backward`::

        i = σ(z_i)   input gate (输入门)      f = σ(z_f)   forget gate (遗忘门)
        g = tanh(z_g) candidate cell          o = σ(z_o)   output gate (输出门)
        c = f ⊙ c_prev + i ⊙ g                h = o ⊙ tanh(c)
    """
    H = h_prev.shape[1]
    z = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
    i, f = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H])
    g, o = np.tanh(z[:, 2 * H:3 * H]), sigmoid(z[:, 3 * H:])
    c = f * c_prev + i * g
    tc = np.tanh(c)
    h = o * tc
    return h, c, (x, h_prev, c_prev, W_ih, W_hh, i, f, g, o, tc)


def lstm_cell_backward(dh, dc, cache):
    """Backward of one LSTM step.

    dh, dc (N, H): gradients arriving at h and c -> dict dx, dh_prev, dc_prev, dW_ih, dW_hh,
    db (= db_ih = db_hh), the gate rows in torch's i, f, g, o order.
    """
    x, h_prev, c_prev, W_ih, W_hh, i, f, g, o, tc = cache
    dc = dc + dh * o * (1.0 - tc * tc)
    dz = np.concatenate([dc * g * i * (1 - i),          # input gate
                         dc * c_prev * f * (1 - f),     # forget gate
                         dc * i * (1 - g * g),          # candidate
                         dh * tc * o * (1 - o)],        # output gate
                        axis=1)
    return {"dx": dz @ W_ih, "dh_prev": dz @ W_hh, "dc_prev": dc * f,
            "dW_ih": dz.T @ x, "dW_hh": dz.T @ h_prev, "db": dz.sum(axis=0)}


def rnn_forward_naive(x, h0, W_ih, W_hh, b_ih, b_hh):
    """Reference: a Python loop over :func:`rnn_cell_forward`. x (T, N, D) -> out (T, N, H)."""
    h, out = h0, []
    for t in range(x.shape[0]):
        h, _ = rnn_cell_forward(x[t], h, W_ih, W_hh, b_ih, b_hh)
        out.append(h)
    return np.stack(out)


def lstm_forward_naive(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    """Reference: a loop over :func:`lstm_cell_forward`. x (T, N, D) -> out (T, N, H), h, c."""
    h, c, out = h0, c0, []
    for t in range(x.shape[0]):
        h, c, _ = lstm_cell_forward(x[t], h, c, W_ih, W_hh, b_ih, b_hh)
        out.append(h)
    return np.stack(out), h, c


# --------------------------------------------------------------------------------------------
# Tuned layers
# --------------------------------------------------------------------------------------------


class _Recurrent(Module):
    """Shared code of RNN and LSTM: parameters, input checks, layer stacking."""

    n_gates = 1
    kind = "RNN"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, seed: int = 0,
                 dtype=np.float32, batch_first: bool = False) -> None:
        super().__init__()
        for value, name in [(input_size, "input_size"), (hidden_size, "hidden_size"),
                            (num_layers, "num_layers")]:
            check_positive(value, name, integer=True)
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.batch_first = bool(batch_first)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise TypeError(f"dtype must be float32 or float64, got {self.dtype}")
        # torch's initialisation: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H)).
        rng = np.random.default_rng(seed)
        bound = 1.0 / np.sqrt(hidden_size)
        rows = self.n_gates * hidden_size
        for k in range(num_layers):
            n_in = input_size if k == 0 else hidden_size
            for name, shape in [(f"weight_ih_l{k}", (rows, n_in)),
                                (f"weight_hh_l{k}", (rows, hidden_size)),
                                (f"bias_ih_l{k}", (rows,)), (f"bias_hh_l{k}", (rows,))]:
                self.params[name] = rng.uniform(-bound, bound, shape).astype(self.dtype)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def __repr__(self) -> str:
        extra = ", batch_first=True" if self.batch_first else ""
        return (f"{type(self).__name__}({self.input_size}, {self.hidden_size}, "
                f"num_layers={self.num_layers}{extra})")

    def _layer_params(self, k):
        p = self.params
        return (p[f"weight_ih_l{k}"], p[f"weight_hh_l{k}"], p[f"bias_ih_l{k}"],
                p[f"bias_hh_l{k}"])

    def _check_input(self, x) -> np.ndarray:
        hint = ("(N, T, input_size)" if self.batch_first else "(T, N, input_size)").replace(
            "input_size", str(self.input_size))
        x = as_float_array(x, "x", ndim=3, shape_hint=hint)
        if x.shape[2] != self.input_size:
            raise ValueError(f"x must have shape {hint}: this {self.kind} has input_size "
                             f"{self.input_size}, got {x.shape[2]} features (shape {x.shape})")
        if 0 in x.shape[:2]:
            raise ValueError(f"x must have at least one step and one sequence, got {x.shape}")
        if self.batch_first:
            x = x.transpose(1, 0, 2)
        return np.ascontiguousarray(x, dtype=self.dtype)

    def _check_state(self, state, name: str, n: int) -> np.ndarray:
        shape = (self.num_layers, n, self.hidden_size)
        if state is None:
            return np.zeros(shape, dtype=self.dtype)
        state = as_float_array(state, name, ndim=3, shape_hint=f"{shape}")
        if state.shape != shape:
            raise ValueError(f"{name} must have shape (num_layers, N, hidden_size) = {shape}, "
                             f"got {state.shape}")
        return state.astype(self.dtype, copy=False)

    def _check_dout(self, dout, T, N) -> np.ndarray:
        shape = (N, T, self.hidden_size) if self.batch_first else (T, N, self.hidden_size)
        dout = as_float_array(dout, "dout", ndim=3, shape_hint=f"{shape} like the output")
        if dout.shape != shape:
            raise ValueError(f"dout must have the output's shape {shape}, got {dout.shape}")
        if self.batch_first:
            dout = dout.transpose(1, 0, 2)
        return np.ascontiguousarray(dout, dtype=self.dtype)

    def _output(self, out):
        return np.ascontiguousarray(out.transpose(1, 0, 2)) if self.batch_first else out


class RNN(_Recurrent):
    """Elman RNN with a tanh (or relu) cell, ``num_layers`` stacked: torch.nn.RNN in numpy.

    h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)

    Parameters
    ----------
    input_size, hidden_size, num_layers : int
    seed : int — initial weights ~ U(-1/√H, 1/√H) as in torch.
    dtype : float32 (default) or float64.
    nonlinearity : "tanh" (default) or "relu".
    batch_first : bool — take and return (N, T, ·) instead of (T, N, ·).

    forward(x (T, N, input_size), training=False, h0=None (L, N, H)) -> out (T, N, H), cache;
    ``cache.h_n`` is the final hidden state (L, N, H). backward(dout (T, N, H), cache) -> dx
    (T, N, input_size), fills ``self.grads`` and sets ``self.dh0`` (L, N, H).
    """

    n_gates = 1
    kind = "RNN"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, seed: int = 0,
                 dtype=np.float32, nonlinearity: str = "tanh", batch_first: bool = False):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, seed, dtype, batch_first)

    def forward(self, x, training: bool = False, h0=None):
        x = self._check_input(x)
        T, N, _ = x.shape
        H = self.hidden_size
        h0 = self._check_state(h0, "h0", N)
        layers, inp = [], x
        for k in range(self.num_layers):
            W_ih, W_hh, b_ih, b_hh = self._layer_params(k)
            hs = np.empty((T + 1, N, H), dtype=self.dtype)       # hs[0] = h0, hs[t+1] = h_t
            hs[0] = h0[k]
            # input projection of every step at once, straight into the state buffer
            np.matmul(inp.reshape(T * N, -1), W_ih.T, out=hs[1:].reshape(T * N, H))
            hs[1:] += b_ih + b_hh
            # a C-contiguous W_hh^T: BLAS ran the (N, H) x (H, H) product ~1.5x faster than
            # with the transposed view
            W_hh_T, tmp = np.ascontiguousarray(W_hh.T), np.empty((N, H), dtype=self.dtype)
            for t in range(T):
                np.matmul(hs[t], W_hh_T, out=tmp)
                hs[t + 1] += tmp
                if self.nonlinearity == "tanh":
                    np.tanh(hs[t + 1], out=hs[t + 1])
                else:
                    np.maximum(hs[t + 1], 0, out=hs[t + 1])
            layers.append((inp, hs))
            inp = hs[1:]
        return self._output(inp), _RecurrentCache(layers, np.stack([hs[-1] for _, hs in layers]))

    def backward(self, dout, cache):
        layers = cache.layers
        T, N = layers[0][0].shape[:2]
        H = self.hidden_size
        dh_in = self._check_dout(dout, T, N)
        self.dh0 = np.empty((self.num_layers, N, H), dtype=self.dtype)
        for k in reversed(range(self.num_layers)):
            inp, hs = layers[k]
            W_ih, W_hh = self.params[f"weight_ih_l{k}"], self.params[f"weight_hh_l{k}"]
            out = hs[1:]
            # tanh'(z) = 1 - h^2 (relu': h > 0) for every step at once, outside the loop
            deriv = 1.0 - out * out if self.nonlinearity == "tanh" else (out > 0).astype(
                self.dtype)
            dz = np.empty((T, N, H), dtype=self.dtype)
            dh = np.zeros((N, H), dtype=self.dtype)
            for t in reversed(range(T)):
                dh += dh_in[t]
                np.multiply(dh, deriv[t], out=dz[t])
                np.matmul(dz[t], W_hh, out=dh)
            self.dh0[k] = dh
            dz2 = dz.reshape(T * N, H)
            self.grads[f"weight_ih_l{k}"][...] = dz2.T @ inp.reshape(T * N, -1)
            self.grads[f"weight_hh_l{k}"][...] = dz2.T @ hs[:-1].reshape(T * N, H)
            db = np.ones(T * N, dtype=self.dtype) @ dz2
            self.grads[f"bias_ih_l{k}"][...] = db
            self.grads[f"bias_hh_l{k}"][...] = db
            dh_in = (dz2 @ W_ih).reshape(T, N, -1)
        return self._output(dh_in)


class _RecurrentCache:
    """What backward needs, per layer, plus the final states ``h_n`` (and ``c_n``)."""

    def __init__(self, layers, h_n, c_n=None):
        self.layers, self.h_n, self.c_n = layers, h_n, c_n


class LSTM(_Recurrent):
    """Long short-term memory (长短期记忆网络), ``num_layers`` stacked: torch.nn.LSTM in numpy.

    Gates in torch's row order i, f, g, o (see :func:`lstm_cell_forward` for the formulas).
    The time loops are the tuned ones of :mod:`dlcourse.models.lstm_fused` (one workspace of
    reused buffers per layer; a training forward's cache is valid until its backward).

    Parameters
    ----------
    input_size, hidden_size, num_layers : int
    seed : int — initial weights ~ U(-1/√H, 1/√H) as in torch.
    dtype : float32 (default) or float64.
    batch_first : bool — take and return (N, T, ·) instead of (T, N, ·).

    forward(x (T, N, input_size), training=False, h0=None, c0=None (L, N, H)) -> out
    (T, N, H), cache; ``cache.h_n``, ``cache.c_n`` are the final states (L, N, H).
    backward(dout (T, N, H), cache) -> dx (T, N, input_size); fills ``self.grads`` and sets
    ``self.dh0``, ``self.dc0`` (L, N, H).
    """

    n_gates = 4
    kind = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, seed: int = 0,
                 dtype=np.float32, batch_first: bool = False) -> None:
        super().__init__(input_size, hidden_size, num_layers, seed, dtype, batch_first)
        self._workspaces = [LSTMWorkspace() for _ in range(self.num_layers)]

    def forward(self, x, training: bool = False, h0=None, c0=None):
        x = self._check_input(x)
        N = x.shape[1]
        h0, c0 = self._check_state(h0, "h0", N), self._check_state(c0, "c0", N)
        out, layers = lstm_forward(x, h0, c0, self.params, self.num_layers, self._workspaces,
                                   training=training)
        h_n = np.stack([layer.h_n() for layer in layers])
        c_n = np.stack([layer.c_n() for layer in layers])
        return self._output(out), _RecurrentCache(layers, h_n, c_n)

    def gate_values(self, cache, layer: int = -1) -> dict[str, np.ndarray]:
        """The gates and states a forward pass computed, for one layer (default: the top).

        Returns {"i", "f", "g", "o", "c", "h"}: arrays (T, N, H), or (N, T, H) when
        ``batch_first`` — what a plot of gate activations over time needs.
        """
        values = cache.layers[layer].gate_values()
        return {k: self._output(v) for k, v in values.items()}

    def backward(self, dout, cache):
        T, N = cache.layers[0].sequence_shape
        dh_in = self._check_dout(dout, T, N)
        dx, grads, self.dh0, self.dc0 = lstm_backward(dh_in, cache.layers)
        for name, grad in grads.items():
            self.grads[name][...] = grad
        return self._output(dx)


def gradient_through_time(module, x, seed: int = 0) -> np.ndarray:
    """How much the last step's output depends on each earlier input: ||dL/dx_t|| per step.

    L = the last step's output (T-1) dotted with a fixed random vector; the gradient flows
    back through the recurrence only (dout is zero at every other step). Returns an array
    (T,), entry t = the norm of dL/dx_t over the batch and features; plot it against the
    distance T-1-t to see vanishing (梯度消失) or exploding (梯度爆炸) gradients.
    ``module`` is an RNN or LSTM (time-first) and x (T, N, input_size).
    """
    out, cache = module.forward(x)
    dout = np.zeros_like(out)
    last = (slice(None), -1) if module.batch_first else (-1,)
    dout[last] = np.random.default_rng(seed).standard_normal(dout[last].shape)
    dx = module.backward(dout, cache)
    if module.batch_first:
        dx = dx.transpose(1, 0, 2)
    return np.sqrt(np.sum(dx.astype(np.float64) ** 2, axis=(1, 2)))
