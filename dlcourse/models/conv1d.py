"""One-dimensional convolution (一维卷积) in numpy, for signals such as raw audio.

A batch of signals has the layout torch uses, ``x`` of shape (N, C, T): N signals, C channels
(1 for a mono waveform), T time steps. A convolution with C_out filters of length k slides
each filter along time and, at every position, takes the dot product of the filter with the
C_in × k window under it::

    out[n, o, t] = b[o] + sum_{c, j} W[o, c, j] · x_pad[n, c, t·s + j]

with stride s and ``padding`` zeros added at both ends. This is a cross-correlation (the
filter is not flipped), as in every deep-learning framework; ``np.convolve`` flips it. The
output length is ``T_out = (T + 2·padding − k) // s + 1``.

The layer lowers the convolution to one matrix product (im2col): every window is copied into
one column of a (C_in·k, N·T_out) matrix, and ``W.reshape(C_out, C_in·k) @ cols`` computes
all outputs of the batch at once. The backward pass is the same product transposed
(dW = dout @ colsᵀ, dcols = Wᵀ @ dout) followed by col2im: k strided slice additions put each
tap's gradient back on the input positions it was read from.

:class:`GlobalAvgPool1D` averages every channel over time, (N, C, T) -> (N, C): it makes the
network's output independent of where in the clip a pattern occurred and of the clip's length.

Both follow :class:`dlcourse.core.module.Module`; their torch twins live in
:mod:`dlcourse.torch.conv1d` (``dlcourse.torch.to_torch(layer)``).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from dlcourse.core.checks import as_float_array, check_positive
from dlcourse.core.module import Module

__all__ = ["Conv1D", "GlobalAvgPool1D", "conv1d", "conv1d_naive", "conv1d_output_length",
           "im2col_1d"]


def _int(value, name: str, *, allow_zero: bool = False) -> int:
    """A positive (with ``allow_zero``: non-negative) integer hyperparameter, as an int."""
    if not allow_zero:
        check_positive(value, name, integer=True)
    elif isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def conv1d_output_length(length: int, kernel_size: int, stride: int = 1,
                         padding: int = 0) -> int:
    """Output length of a 1-D convolution: (T + 2·padding − k) // stride + 1."""
    return (length + 2 * padding - kernel_size) // stride + 1


def _check_signals(x, name: str, channels: int | None) -> np.ndarray:
    hint = f"(N, {channels}, T)" if channels is not None else "(N, C, T)"
    x = as_float_array(x, name, ndim=3, shape_hint=hint)
    if channels is not None and x.shape[1] != channels:
        raise ValueError(f"{name} must have shape {hint}: this layer expects {channels} input "
                         f"channel(s) (N, C, T layout), got shape {x.shape}")
    return x


def _check_weight(W, x: np.ndarray) -> np.ndarray:
    W = as_float_array(W, "W", ndim=3, shape_hint="(C_out, C_in, k)")
    if W.shape[1] != x.shape[1]:
        raise ValueError(f"W must have shape (C_out, {x.shape[1]}, k) for x with "
                         f"{x.shape[1]} channel(s), got {W.shape}")
    return W


def _length_out(T: int, k: int, s: int, p: int) -> int:
    T_out = conv1d_output_length(T, k, s, p)
    if T_out < 1:
        raise ValueError(f"a signal of length {T} is too short for kernel_size={k} with "
                         f"padding={p}: the output would have length {T_out}")
    return T_out


def im2col_1d(x, kernel_size: int, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Signals to columns: x (N, C, T) -> cols (C·k, N·T_out), in x's dtype.

    Column ``n·T_out + t`` holds the C × k window that output step t of signal n sees,
    flattened in the order of a weight row W[o] (channel, then tap), so that the whole
    convolution is ``W.reshape(C_out, C·k) @ cols``.
    """
    x = _check_signals(x, "x", None)
    k, s, p = (_int(kernel_size, "kernel_size"), _int(stride, "stride"),
               _int(padding, "padding", allow_zero=True))
    N, C, T = x.shape
    T_out = _length_out(T, k, s, p)
    xp = np.pad(x, ((0, 0), (0, 0), (p, p))) if p else np.ascontiguousarray(x)
    sn, sc, st = xp.strides
    # view[c, j, n, t] = xp[n, c, t·s + j], no copy; the copy below lays it out for BLAS
    view = as_strided(xp, shape=(C, k, N, T_out), strides=(sc, st, sn, s * st),
                      writeable=False)
    cols = np.empty((C, k, N, T_out), dtype=x.dtype)
    np.copyto(cols, view)
    return cols.reshape(C * k, N * T_out)


def conv1d(x, W, b=None, stride: int = 1, padding: int = 0) -> np.ndarray:
    """The 1-D convolution as a function: :func:`im2col_1d`, then one matrix product.

    x (N, C_in, T), W (C_out, C_in, k), b (C_out,) or None -> out (N, C_out, T_out).
    """
    x = _check_signals(x, "x", None)
    W = _check_weight(W, x)
    N, C_out, k = x.shape[0], W.shape[0], W.shape[2]
    cols = im2col_1d(x, k, stride, padding)
    out = W.reshape(C_out, -1) @ cols                                  # (C_out, N·T_out)
    if b is not None:
        out += as_float_array(b, "b", ndim=1, shape_hint=f"({C_out},)")[:, None]
    return np.ascontiguousarray(out.reshape(C_out, N, -1).transpose(1, 0, 2))


def conv1d_naive(x, W, b=None, stride: int = 1, padding: int = 0) -> np.ndarray:
    """The formula with explicit loops over signals, filters and output steps (slow).

    x (N, C_in, T), W (C_out, C_in, k), b (C_out,) or None -> out (N, C_out, T_out).
    The reference the tests compare the vectorised version with.
    """
    x = _check_signals(x, "x", None)
    W = _check_weight(W, x)
    C_out, _, k = W.shape
    b = np.zeros(C_out) if b is None else as_float_array(b, "b", ndim=1)
    N, _, T = x.shape
    T_out = _length_out(T, k, stride, padding)
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding)))
    out = np.zeros((N, C_out, T_out), dtype=np.result_type(x, W))
    for n in range(N):
        for o in range(C_out):
            for t in range(T_out):
                out[n, o, t] = np.sum(W[o] * xp[n, :, t * stride:t * stride + k]) + b[o]
    return out


class Conv1D(Module):
    """1-D convolution layer (一维卷积层): im2col and one BLAS matrix product per pass.

    Parameters
    ----------
    in_channels, out_channels : int
        C_in and C_out.
    kernel_size : int
        k, the filter length in time steps.
    stride : int
        Step between filter positions (a stride s shortens the output about s times).
    padding : int
        Zeros added at both ends of every signal.
    init : {"he", "xavier", "torch"}
        Initial weights (biases start at 0): "he" (normal, std √(2 / (C_in·k)), for ReLU),
        "xavier" (uniform), "torch" (uniform ±1/√(C_in·k), as ``nn.Conv1d``).
    seed : int
    dtype : numpy float dtype, default float32

    Attributes
    ----------
    params : {"W": (C_out, C_in, k), "b": (C_out,)} — the layout of torch's ``nn.Conv1d``.

    Shapes: x (N, C_in, T) -> out (N, C_out, T_out), T_out = (T + 2·padding − k) // stride + 1.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0, init: str = "he", seed: int = 0, dtype=np.float32) -> None:
        super().__init__()
        check_positive(in_channels, "in_channels", integer=True)
        check_positive(out_channels, "out_channels", integer=True)
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _int(kernel_size, "kernel_size")
        self.stride = _int(stride, "stride")
        self.padding = _int(padding, "padding", allow_zero=True)
        dtype = np.dtype(dtype)
        if not np.issubdtype(dtype, np.floating):
            raise ValueError(f"dtype must be a float dtype, got {dtype}")
        fan_in = self.in_channels * self.kernel_size
        fan_out = self.out_channels * self.kernel_size
        shape = (self.out_channels, self.in_channels, self.kernel_size)
        rng = np.random.default_rng(seed)
        if init == "he":
            W = rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
        elif init == "xavier":
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            W = rng.uniform(-limit, limit, size=shape)
        elif init == "torch":
            W = rng.uniform(-1.0, 1.0, size=shape) / np.sqrt(fan_in)
        else:
            raise ValueError(f"init must be 'he', 'xavier' or 'torch', got {init!r}")
        self.init = init
        self.params["W"] = W.astype(dtype)
        self.params["b"] = np.zeros(self.out_channels, dtype=dtype)
        self.grads = {name: np.zeros_like(p) for name, p in self.params.items()}

    @property
    def dtype(self):
        return self.params["W"].dtype

    def __repr__(self) -> str:
        extra = "".join(f", {name}={getattr(self, name)}" for name, default in
                        (("stride", 1), ("padding", 0)) if getattr(self, name) != default)
        return (f"Conv1D({self.in_channels}, {self.out_channels}, "
                f"kernel_size={self.kernel_size}{extra})")

    def output_shape(self, input_shape) -> tuple[int, int, int]:
        """(N, C_in, T) -> (N, C_out, T_out)."""
        N, _, T = input_shape
        return N, self.out_channels, _length_out(T, self.kernel_size, self.stride,
                                                 self.padding)

    def forward(self, x, training: bool = False):
        """x (N, C_in, T) -> out (N, C_out, T_out) in the layer's dtype;
        cache = (cols (C_in·k, N·T_out), x.shape)."""
        x = _check_signals(x, "x", self.in_channels)
        x = x.astype(self.dtype, copy=False)
        N = x.shape[0]
        cols = im2col_1d(x, self.kernel_size, self.stride, self.padding)
        out = self.params["W"].reshape(self.out_channels, -1) @ cols     # (C_out, N·T_out)
        out += self.params["b"][:, None]
        out = np.ascontiguousarray(out.reshape(self.out_channels, N, -1).transpose(1, 0, 2))
        return out, (cols, x.shape)

    def backward(self, dout, cache, *, need_dx: bool = True):
        """dout (N, C_out, T_out) -> dx (N, C_in, T); fills grads "W" (C_out, C_in, k) and
        "b" (C_out,).

        dW = dout @ colsᵀ, db = Σ dout, dcols = Wᵀ @ dout, then col2im: tap j's gradients are
        added onto the input steps j, j + s, j + 2s, … they were read from. ``need_dx=False``
        skips the input gradient and returns None (a network's first layer never needs it).
        """
        cols, x_shape = cache
        N, C, T = x_shape
        out_shape = self.output_shape(x_shape)
        dout = as_float_array(dout, "dout", ndim=3,
                              shape_hint=f"(N, {self.out_channels}, T_out)")
        if dout.shape != out_shape:
            raise ValueError(f"dout must have the forward output's shape {out_shape}, "
                             f"got {dout.shape}")
        C_out, k, s, p = self.out_channels, self.kernel_size, self.stride, self.padding
        T_out = out_shape[2]
        d2 = dout.astype(self.dtype, copy=False).transpose(1, 0, 2).reshape(C_out, -1)
        np.matmul(d2, cols.T, out=self.grads["W"].reshape(C_out, -1))
        self.grads["b"][...] = d2.sum(axis=1)
        if not need_dx:
            return None
        W2 = self.params["W"].reshape(C_out, -1)
        dcols = (W2.T @ d2).reshape(C, k, N, T_out)
        # col2im in the (C, N, T) layout of the columns (no strided transposes per tap),
        # returned as an (N, C, T) view
        dxp = np.zeros((C, N, T + 2 * p), dtype=self.dtype)
        span = s * (T_out - 1) + 1
        for j in range(k):                    # k strided slice additions
            dxp[:, :, j:j + span:s] += dcols[:, j]
        return dxp[:, :, p:p + T].transpose(1, 0, 2)


class GlobalAvgPool1D(Module):
    """Global average pooling over time (全局平均池化): (N, C, T) -> (N, C).

    Each channel's mean over all T steps; backward spreads dout / T evenly over the steps.
    No parameters.
    """

    def __repr__(self) -> str:
        return "GlobalAvgPool1D()"

    def forward(self, x, training: bool = False):
        """x (N, C, T) -> out (N, C); cache = x.shape."""
        x = _check_signals(x, "x", None)
        return x.mean(axis=2, dtype=x.dtype), x.shape

    def backward(self, dout, cache):
        """dout (N, C) -> dx (N, C, T)."""
        N, C, T = cache
        dout = as_float_array(dout, "dout", ndim=2, shape_hint=f"({N}, {C})")
        if dout.shape != (N, C):
            raise ValueError(f"dout must have the forward output's shape {(N, C)}, "
                             f"got {dout.shape}")
        return np.broadcast_to((dout / T)[:, :, None], (N, C, T)).astype(dout.dtype)
