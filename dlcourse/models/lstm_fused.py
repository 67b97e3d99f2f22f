"""One LSTM layer over a whole sequence, tuned for numpy: forward and backward through time.

The formulas are those of :func:`dlcourse.models.rnn.lstm_cell_forward` (torch's gate order i, f,
g, o in the weights); what changes is only how numpy spends its time. Every numpy call costs
a few µs, so the loops hold as few as possible, on contiguous memory:

- **Hidden × batch layout.** Every per-step array is (features, batch): the gate blocks of the
  (4H, N) pre-activation are contiguous (H, N) slices, so each elementwise call runs on
  contiguous memory (the batch × hidden layout, where each gate is a strided (N, H) slice,
  measured slower).
- **One GEMM per step, input and bias included.** The step multiplies the fused weights
  [W_hh | W_ih | b] by the stacked column [h_{t-1}; x_t; 1]: K grows from H to H + D + 1,
  which costs almost nothing at these sizes, and saves the separate input projection and
  two additions per step. The same stacked array gives dW_hh, dW_ih and db in one GEMM
  after the loop. On OpenBLAS's AVX-512 kernels the step products are cut into row blocks
  below its small-matrix size (:func:`dlcourse.models.conv_gemm.row_blocks`: 34 against
  44 µs for 512 × 161 × 32).
- **Sigmoids from one tanh.** The gates are reordered to o, i, f, g, so the three sigmoids
  are one contiguous (3H, N) block; their rows of the fused weights are halved, and one
  ``tanh`` over the block gives σ(z) = ½·tanh(z/2) + ½ (saturated gates give exactly 0 and 1,
  without overflow). On the AVX-512 machine numpy's float32 ``tanh`` is vectorised and
  cheaper than ``exp`` (``tanh``, ×½, +½: 7.7 µs against 10.4 for ``exp``, +1, reciprocal on
  12 288 values); on an AVX2 machine, where it is not, ``exp`` was the cheaper route (3
  against 4 ns a value).
- **Local derivatives a few steps at a time.** Before its loop reaches them, backward
  computes for 8 steps at once P = [σ'(o)·tanh(c), σ'(i)·g, σ'(f)·c_prev, tanh'(g)·i] and
  Q = o·tanh'(c), from the stored gates and states (8 calls per 8 steps, on slices still in
  cache when the steps use them). A backward step is then dc = dc_next·f + dh·Q,
  dz = P ⊙ [dh, dc, dc, dc], computed in place of P (contiguous, and a contiguous operand
  for the recurrent product), and the recurrent product: seven numpy calls instead of
  sixteen. Each chunk's dz goes into the feature-major array of the dW GEMM in one copy.
- **Buffers reused from call to call** (:class:`LSTMWorkspace`, one per layer, as the layer
  class :class:`dlcourse.models.rnn.LSTM` holds them): fresh MB-sized arrays page-fault on
  first touch, about 3 000 times a step at B = 32, T = 50, H = 128.

The recurrent GEMMs and the dW GEMM now take about 60 % of the time; the rest is numpy's
per-call cost of the 16 elementwise calls a step (forward and backward).
"""

from __future__ import annotations

import numpy as np

from dlcourse.models.conv_gemm import row_blocks

# Internal gate order o, i, f, g (torch stores i, f, g, o): the sigmoid gates are one block.
_TORCH_BLOCK_OF = (3, 0, 1, 2)


def internal_rows(H: int) -> np.ndarray:
    """Row indices that take torch's i, f, g, o weight rows to the internal o, i, f, g."""
    return np.concatenate([np.arange(b * H, (b + 1) * H) for b in _TORCH_BLOCK_OF])


class LSTMLayerCache:
    """Forward values kept for backward and for plots, all (features, batch)-major per step.

    ``sig`` (T, 3H, N): σ(o), σ(i), σ(f); ``gc`` (T + 1, 2H, N): [g_t; c_{t-1}] at step t, so
    ``gc[t + 1, H:]`` is c_t; ``tcs`` (T, H, N): tanh(c_t); ``stack`` (T + 1, H + D + 1, N):
    the GEMM operand [h_{t-1}; x_t; 1] of step t, so ``stack[t + 1, :H]`` is h_t;
    ``columns`` (H + D + 1, T, N): the same operands feature-major, for the dW GEMM.
    """

    def __init__(self, sig, gc, tcs, stack, columns, W_ih, W_hh, rows) -> None:
        self.sig, self.gc, self.tcs, self.stack, self.columns = sig, gc, tcs, stack, columns
        self.W_ih, self.W_hh, self.rows = W_ih, W_hh, rows
        self.workspace: LSTMWorkspace | None = None   # set when the arrays are lent

    @property
    def hidden_size(self) -> int:
        return self.gc.shape[1] // 2

    @property
    def sequence_shape(self) -> tuple[int, int]:
        """(T, N): steps and sequences of the forward pass."""
        return self.sig.shape[0], self.sig.shape[2]

    def gate_values(self) -> dict[str, np.ndarray]:
        """{"i", "f", "g", "o", "c", "h"}: (T, N, H) copies, for plots."""
        H = self.hidden_size
        values = {"o": self.sig[:, :H], "i": self.sig[:, H:2 * H], "f": self.sig[:, 2 * H:],
                  "g": self.gc[:-1, :H], "c": self.gc[1:, H:], "h": self.stack[1:, :H]}
        return {k: np.ascontiguousarray(v.transpose(0, 2, 1)) for k, v in values.items()}

    def h_n(self) -> np.ndarray:
        return self.stack[-1, :self.hidden_size].T.copy()

    def c_n(self) -> np.ndarray:
        return self.gc[-1, self.hidden_size:].T.copy()


class LSTMWorkspace:
    """Scratch buffers of one LSTM layer, reused from call to call.

    Fresh MB-sized arrays cost page faults on every call (measured: about 3 000 a step at
    B = 32, T = 50, H = 128, and the forward pass 1.4–1.6× slower than with reused buffers).
    ``lstm_layer_forward(..., workspace, training=True)`` lends the arrays its cache keeps
    to that one training pass until its backward; a second training forward before that
    (a layer used twice in one graph), or an inference forward, gets fresh arrays, so
    interleaved passes stay correct. The temporaries of forward and backward (fused
    weights, gate block, the per-step gradients) are always reused.
    """

    def __init__(self) -> None:
        self._key = None
        self._kept: tuple | None = None
        self._kept_lent = False
        self._buffers: dict = {}

    def _shapes(self, T, N, D, H, dtype) -> None:
        key = (T, N, D, H, np.dtype(dtype))
        if key != self._key:  # new shapes: drop every buffer
            self._key, self._kept, self._kept_lent, self._buffers = key, None, False, {}

    def kept(self, T, N, D, H, dtype, training: bool):
        """(sig, gc, tcs, stack, columns) for a forward pass, and whether they are lent."""
        self._shapes(T, N, D, H, dtype)
        if training and not self._kept_lent:
            if self._kept is None:
                self._kept = _kept_arrays(T, N, D, H, dtype)
            self._kept_lent = True
            return self._kept, True
        return _kept_arrays(T, N, D, H, dtype), False

    def release(self, cache: LSTMLayerCache) -> None:
        """Called by backward: the lent arrays may serve the next training forward."""
        if self._kept is not None and cache.sig is self._kept[0]:
            self._kept_lent = False

    def buffer(self, name: str, shape, dtype) -> np.ndarray:
        buf = self._buffers.get((name, shape))
        if buf is None:
            buf = self._buffers[(name, shape)] = np.empty(shape, dtype=dtype)
        return buf


def _kept_arrays(T, N, D, H, dtype):
    """The arrays a layer's cache keeps (see :class:`LSTMLayerCache`), uninitialised."""
    F = H + D + 1
    return (np.empty((T, 3 * H, N), dtype=dtype), np.empty((T + 1, 2 * H, N), dtype=dtype),
            np.empty((T, H, N), dtype=dtype), np.empty((T + 1, F, N), dtype=dtype),
            np.empty((F, T, N), dtype=dtype))


def lstm_layer_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh,
                       workspace: LSTMWorkspace | None = None, training: bool = False):
    """x (T, N, D), h0/c0 (N, H), torch-layout weights -> out (T, N, H), LSTMLayerCache.

    Everything in x's dtype (float32 or float64); the weights must have it too. With a
    ``workspace`` the buffers are reused (lent to the cache when ``training``; the cache
    is then valid until its backward).
    """
    T, N, D = x.shape
    H = W_hh.shape[1]
    dt = x.dtype
    rows = internal_rows(H)
    F = H + D + 1
    if workspace is None:
        (sig, gc, tcs, stack, columns), lent = _kept_arrays(T, N, D, H, dt), False
        Wf, z = np.empty((4 * H, F), dtype=dt), np.empty((4 * H, N), dtype=dt)
        prod = np.empty((2 * H, N), dtype=dt)
    else:
        (sig, gc, tcs, stack, columns), lent = workspace.kept(T, N, D, H, dt, training)
        Wf = workspace.buffer("Wf", (4 * H, F), dt)
        z = workspace.buffer("z", (4 * H, N), dt)
        prod = workspace.buffer("prod", (2 * H, N), dt)
    # fused, reordered weights, the sigmoid rows halved: W @ [h; x; 1] = [z_o; z_i; z_f; 2·z_g]/2
    np.take(W_hh, rows, axis=0, out=Wf[:, :H])
    np.take(W_ih, rows, axis=0, out=Wf[:, H:H + D])
    Wf[:, H + D] = (b_ih + b_hh)[rows]
    Wf[:3 * H] *= 0.5
    # stack[t] = [h_{t-1}; x_t; 1]
    stack[0, :H] = h0.T
    stack[:T, H:H + D] = x.transpose(0, 2, 1)
    stack[T, H:H + D] = 0
    stack[:, H + D] = 1
    # the same, feature-major, for dW
    columns[:, 0] = stack[0]
    columns[H:] = stack[:T, H:].transpose(1, 0, 2)
    gc[0, H:] = c0.T
    gc[T, :H] = 0
    blocks = [(Wf[r], z[r]) for r in row_blocks(4 * H, F, N)]
    for t in range(T):
        for W_block, z_block in blocks:          # the GEMM writes into z, hot in cache
            np.matmul(W_block, stack[t], out=z_block)
        s, a = z[:3 * H], sig[t]
        np.tanh(s, out=s)
        np.multiply(s, 0.5, out=a)
        a += 0.5                                 # σ(z) = ½·tanh(z/2) + ½ for o, i, f
        o, i_f = a[:H], a[H:]
        np.tanh(z[3 * H:], out=gc[t, :H])        # g
        np.multiply(i_f, gc[t], out=prod)        # [i·g; f·c_prev]
        c = gc[t + 1, H:]
        np.add(prod[:H], prod[H:], out=c)
        np.tanh(c, out=tcs[t])
        np.multiply(o, tcs[t], out=stack[t + 1, :H])
    columns[:H, 1:] = stack[1:T, :H].transpose(1, 0, 2)
    out = np.ascontiguousarray(stack[1:, :H].transpose(0, 2, 1))
    cache = LSTMLayerCache(sig, gc, tcs, stack, columns, W_ih, W_hh, rows)
    cache.workspace = workspace if lent else None
    return out, cache


# Steps whose local derivatives backward computes at once, just before it needs them: a few
# (T, 4H, N) slices, so they are still in cache when the steps use them.
STEPS_PER_CHUNK = 8


def _local_derivatives(cache: LSTMLayerCache, t0: int, t1: int, P, Q, prod) -> None:
    """P and Q (see :func:`lstm_layer_backward`) of steps t0 .. t1-1, into P[:n], Q[:n]
    (``prod``: scratch of P's shape, 2H rows).

    With [i·g; f·c_prev] = [i; f] ⊙ [g; c_prev] and h = o·tanh(c): P = [(1 − o)·h,
    (1 − [i; f]) ⊙ [i·g; f·c_prev], i − (i·g)·g] and Q = o − h·tanh(c).
    """
    H = cache.hidden_size
    n = t1 - t0
    sig, P, Q = cache.sig[t0:t1], P[:n], Q[:n]
    o, i = sig[:, :H], sig[:, H:2 * H]
    h, tc = cache.stack[t0 + 1:t1 + 1, :H], cache.tcs[t0:t1]
    prod = np.multiply(sig[:, H:], cache.gc[t0:t1], out=prod[:n])
    np.subtract(1, o, out=P[:, :H])
    P[:, :H] *= h
    np.subtract(1, sig[:, H:], out=P[:, H:3 * H])
    P[:, H:3 * H] *= prod
    np.multiply(prod[:, :H], cache.gc[t0:t1, :H], out=P[:, 3 * H:])
    np.subtract(i, P[:, 3 * H:], out=P[:, 3 * H:])
    np.multiply(h, tc, out=Q)
    np.subtract(o, Q, out=Q)


def lstm_layer_backward(dout, cache: LSTMLayerCache, workspace: LSTMWorkspace | None = None):
    """dout (T, N, H) = dLoss/dh_t of every step -> dict with dx (T, N, D), dW_ih, dW_hh, db
    (torch's row order; db is the gradient of b_ih and of b_hh), dh0 and dc0 (N, H).

    Per step: dh = dout_t + dh from step t + 1; dc = dh·Q_t + dc_{t+1}·f_{t+1};
    dz_t = P_t ⊙ [dh; dc; dc; dc]; dh for step t − 1 = W_hhᵀ dz_t, where
    P = [σ'(o)·tanh(c), σ'(i)·g, σ'(f)·c_prev, tanh'(g)·i] and Q = o·tanh'(c).
    ``workspace`` (default: the one the forward pass lent its arrays from, if any) holds the
    temporaries; the lent arrays are released at the end.
    """
    sig = cache.sig
    T, H3, N = sig.shape
    H = H3 // 3
    F = cache.columns.shape[0]
    D = F - H - 1
    dt = sig.dtype
    rows = cache.rows
    f = sig[:, 2 * H:]
    ws = cache.workspace if workspace is None else workspace
    if ws is None:
        def buffer(name, shape):
            return np.empty(shape, dtype=dt)
    else:
        def buffer(name, shape):
            return ws.buffer(name, shape, dt)
    dh_in = buffer("dh_in", (T, H, N))                              # (T, H, N)
    np.copyto(dh_in, np.asarray(dout).transpose(0, 2, 1))
    WhT = buffer("WhT", (H, 4 * H))
    np.copyto(WhT, cache.W_hh[rows].T)
    dz = buffer("dz", (4 * H, T, N))               # feature-major, for the dW and dx GEMMs
    P = buffer("P", (STEPS_PER_CHUNK, 4 * H, N))   # P, then dz of the steps in P
    prod = buffer("prod", (STEPS_PER_CHUNK, 2 * H, N))
    Q = buffer("Q", (STEPS_PER_CHUNK, H, N))
    dh = buffer("dh", (H, N))
    dc = buffer("dc", (H, N))
    carry = buffer("carry", (H, N))                                 # dc_{t+1} · f_{t+1}
    dh[...] = 0
    carry[...] = 0
    blocks = [(WhT[r], dh[r]) for r in row_blocks(H, 4 * H, N)]
    t0 = T
    for t in reversed(range(T)):
        if t < t0:
            t1, t0 = t + 1, max(0, t + 1 - STEPS_PER_CHUNK)
            _local_derivatives(cache, t0, t1, P, Q, prod)
        d, q = P[t - t0], Q[t - t0]
        dh += dh_in[t]
        np.multiply(dh, q, out=dc)
        dc += carry
        # dz_t in place of P_t: contiguous writes, and a contiguous operand for the GEMM
        # (writing into the strided dz[:, t] measured 3× slower per step)
        d[:H] *= dh
        d[H:].reshape(3, H, N)[...] *= dc
        np.multiply(dc, f[t], out=carry)
        for W_block, dh_block in blocks:
            np.matmul(W_block, d, out=dh_block)
        if t == t0:   # the chunk's dz into the feature-major array, in one copy
            np.copyto(dz[:, t0:t1], P[:t1 - t0].transpose(1, 0, 2))
    # dz (4H, T·N) against the stacked [h; x; 1] (F, T·N): [dW_hh | dW_ih | db] in one GEMM
    dz = dz.reshape(4 * H, T * N)
    grads = dz @ cache.columns.reshape(F, T * N).T
    dx = (dz.T @ cache.W_ih[rows]).reshape(T, N, D)
    result = {"dx": dx, "dh0": dh.T.copy(), "dc0": carry.T.copy()}
    for name, block in (("dW_hh", grads[:, :H]), ("dW_ih", grads[:, H:H + D]),
                        ("db", grads[:, H + D])):
        torch_order = np.empty_like(block)
        torch_order[rows] = block
        result[name] = torch_order
    if cache.workspace is not None:
        cache.workspace.release(cache)
    return result


def lstm_forward(x, h0, c0, params: dict, num_layers: int, workspaces=None,
                 training: bool = False):
    """A stack of layers: x (T, N, D), h0/c0 (L, N, H), ``params`` with torch's names
    (``weight_ih_l0``, ...) -> out (T, N, H) of the top layer, list of layer caches.
    ``workspaces``: one :class:`LSTMWorkspace` per layer, or None (fresh arrays)."""
    caches, inp = [], x
    for k in range(num_layers):
        inp, cache = lstm_layer_forward(inp, h0[k], c0[k], params[f"weight_ih_l{k}"],
                                        params[f"weight_hh_l{k}"], params[f"bias_ih_l{k}"],
                                        params[f"bias_hh_l{k}"],
                                        None if workspaces is None else workspaces[k],
                                        training)
        caches.append(cache)
    return inp, caches


def lstm_backward(dout, caches: list):
    """dout (T, N, H) of the top layer -> dx (T, N, D), grads under torch's names,
    dh0 and dc0 (L, N, H)."""
    grads, dh0, dc0 = {}, [], []
    for k in reversed(range(len(caches))):
        r = lstm_layer_backward(dout, caches[k])
        grads[f"weight_ih_l{k}"], grads[f"weight_hh_l{k}"] = r["dW_ih"], r["dW_hh"]
        grads[f"bias_ih_l{k}"] = grads[f"bias_hh_l{k}"] = r["db"]
        dh0.append(r["dh0"])
        dc0.append(r["dc0"])
        dout = r["dx"]
    return dout, grads, np.stack(dh0[::-1]), np.stack(dc0[::-1])
