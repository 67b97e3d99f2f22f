"""Convolutional layers (卷积层) in numpy: convolution, pooling (池化), flatten, batch norm.

Images are batches in the NCHW layout torch uses: ``x`` has shape (N, C, H, W) — N images,
C channels, H rows, W columns. A convolution with C_out filters of size k×k slides each filter
over the image and, at every position, takes the dot product of the filter with the k×k×C_in
patch under it::

    out[n, o, i, j] = b[o] + sum_{c, p, q} W[o, c, p, q] · x_pad[n, c, i·s + p·d, j·s + q·d]

with stride s, dilation d and zero padding. The output size per spatial axis is
``(H + 2·padding − d·(k − 1) − 1) // s + 1``.

Three implementations live here and beside it, on purpose:

- :func:`conv2d_naive` — nested Python loops over images, filters and output pixels; the
  formula above, line by line. For teaching and as the reference in the tests.
- :func:`im2col` and :func:`conv2d` — the readable lowering to a matrix product: copy every
  patch into one column of a matrix ("image to columns", a strided view of the padded input
  copied into an array), then the whole convolution is one matrix product per batch, done
  by BLAS. What chapter 07 teaches, and the second reference of the tests.
- :class:`Conv2D` — the layer, on the tuned path of :mod:`dlcourse.models.conv_gemm`: the
  same im2col arithmetic arranged for BLAS (stacked zero-padded planes, so each filter tap's
  columns are one contiguous copy; cache-sized chunks of images; the bias as a row of ones;
  scratch buffers reused between calls). Backward rebuilds the columns for the weight
  gradient and adds the column gradient back with k·k slice additions (col2im).

Every layer follows :class:`dlcourse.core.module.Module`: ``forward(x, training) -> (out, cache)``
and ``backward(dout, cache) -> dx``. Their torch twins live in :mod:`dlcourse.torch.cnn`
(``dlcourse.torch.to_torch(layer)``).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from dlcourse.core.checks import as_float_array, check_positive
from dlcourse.core.layers import Dense, ReLU, Sequential
from dlcourse.core.module import Module
from dlcourse.models.conv_gemm import ConvWorkspace


def _int_param(value, name: str, *, allow_zero: bool = False) -> int:
    """A non-negative (or positive) Python int hyperparameter, or a readable error."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        what = "a non-negative integer" if allow_zero else "a positive integer"
        raise ValueError(f"{name} must be {what}, got {value!r}")
    return int(value)


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0,
                     dilation: int = 1) -> int:
    """Output length along one spatial axis: (size + 2p − d(k − 1) − 1) // s + 1."""
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


def _check_images(x, name: str, channels: int | None, dtype=None) -> np.ndarray:
    hint = f"(N, {channels}, H, W)" if channels is not None else "(N, C, H, W)"
    x = as_float_array(x, name, ndim=4, shape_hint=hint)
    if channels is not None and x.shape[1] != channels:
        raise ValueError(f"{name} must have shape {hint}: this layer expects {channels} input "
                         f"channels (NCHW layout), got shape {x.shape}")
    if dtype is not None and x.dtype != dtype:
        x = x.astype(dtype)
    return x


def _output_hw(H: int, W: int, k: int, s: int, p: int, d: int) -> tuple[int, int]:
    Ho, Wo = conv_output_size(H, k, s, p, d), conv_output_size(W, k, s, p, d)
    if Ho < 1 or Wo < 1:
        raise ValueError(f"input of spatial size {H}×{W} is too small for kernel_size={k}, "
                         f"dilation={d}, padding={p}: the output would be {Ho}×{Wo}")
    return Ho, Wo


# ---------------------------------------------------------------------------------------
# The reference: loops, exactly the formula.
# ---------------------------------------------------------------------------------------

def conv2d_naive(x, W, b=None, stride: int = 1, padding: int = 0,
                 dilation: int = 1) -> np.ndarray:
    """Convolution (cross-correlation, as in every DL framework) with explicit loops.

    x (N, C_in, H, W), W (C_out, C_in, k, k), b (C_out,) or None -> (N, C_out, H_out, W_out).
    Loops over images, filters and output pixels; the inner k×k×C_in dot product is one
    ``np.sum``. Hundreds of times slower than :class:`Conv2D` — that is the point.
    """
    x = _check_images(x, "x", None)
    W = as_float_array(W, "W", ndim=4, shape_hint="(C_out, C_in, k, k)")
    if W.shape[1] != x.shape[1] or W.shape[2] != W.shape[3]:
        raise ValueError(f"W must have shape (C_out, {x.shape[1]}, k, k) for x with "
                         f"{x.shape[1]} channels, got {W.shape}")
    C_out, _, k, _ = W.shape
    b = np.zeros(C_out, dtype=W.dtype) if b is None else as_float_array(b, "b", ndim=1)
    N, _, H, Wd = x.shape
    Ho, Wo = _output_hw(H, Wd, k, stride, padding, dilation)
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out = np.zeros((N, C_out, Ho, Wo), dtype=np.result_type(x, W))
    span = dilation * (k - 1) + 1
    for n in range(N):                        # every image
        for o in range(C_out):                # every filter
            for i in range(Ho):               # every output row
                for j in range(Wo):           # every output column
                    r, c = i * stride, j * stride
                    patch = xp[n, :, r:r + span:dilation, c:c + span:dilation]
                    out[n, o, i, j] = np.sum(patch * W[o]) + b[o]
    return out


# ---------------------------------------------------------------------------------------
# im2col: the readable lowering to one matrix product (the layer's tuned version is
# dlcourse.models.conv_gemm).
# ---------------------------------------------------------------------------------------

def _patches_view(xp: np.ndarray, k: int, Ho: int, Wo: int, s: int, d: int) -> np.ndarray:
    """Strided view (N, C, k, k, Ho, Wo) of a padded batch: [n, c, p, q, i, j] is
    xp[n, c, i·s + p·d, j·s + q·d]. No copy."""
    sn, sc, sh, sw = xp.strides
    N, C = xp.shape[:2]
    return as_strided(xp, shape=(N, C, k, k, Ho, Wo),
                      strides=(sn, sc, d * sh, d * sw, s * sh, s * sw), writeable=False)


def im2col(x, kernel_size: int, stride: int = 1, padding: int = 0,
           dilation: int = 1) -> np.ndarray:
    """Image to columns: x (N, C, H, W) -> (N, C·k·k, H_out·W_out).

    Column ``i·W_out + j`` of image n holds the C×k×k patch the filter sees at output pixel
    (i, j), flattened in the order of a weight tensor W[o] (channel, row, column), so that a
    convolution becomes ``W.reshape(C_out, -1) @ cols`` — one matrix product.
    """
    x = _check_images(x, "x", None)
    N, C, H, W = x.shape
    k, s, p, d = kernel_size, stride, padding, dilation
    Ho, Wo = _output_hw(H, W, k, s, p, d)
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))) if p else np.ascontiguousarray(x)
    cols = np.empty((N, C, k, k, Ho, Wo), dtype=x.dtype)
    np.copyto(cols, _patches_view(xp, k, Ho, Wo, s, d))
    return cols.reshape(N, C * k * k, Ho * Wo)


def conv2d(x, W, b=None, stride: int = 1, padding: int = 0, dilation: int = 1) -> np.ndarray:
    """The readable im2col convolution as a function: :func:`im2col`, then one matmul.

    x (N, C_in, H, W), W (C_out, C_in, k, k), b (C_out,) or None -> (N, C_out, H_out, W_out).
    Same result as :func:`conv2d_naive`, hundreds of times faster.
    """
    x = _check_images(x, "x", None)
    W = as_float_array(W, "W", ndim=4, shape_hint="(C_out, C_in, k, k)")
    if W.shape[1] != x.shape[1] or W.shape[2] != W.shape[3]:
        raise ValueError(f"W must have shape (C_out, {x.shape[1]}, k, k) for x with "
                         f"{x.shape[1]} channels, got {W.shape}")
    N, _, H, Wd = x.shape
    C_out, _, k, _ = W.shape
    Ho, Wo = _output_hw(H, Wd, k, stride, padding, dilation)
    out = np.matmul(W.reshape(C_out, -1), im2col(x, k, stride, padding, dilation))
    if b is not None:
        out += as_float_array(b, "b", ndim=1)[:, None]
    return out.reshape(N, C_out, Ho, Wo)


def _init_conv_weight(init: str, shape, rng, dtype) -> np.ndarray:
    C_out, C_in, k, _ = shape
    fan_in, fan_out = C_in * k * k, C_out * k * k
    if init == "he":
        w = rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
    elif init == "xavier":
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        w = rng.uniform(-limit, limit, size=shape)
    elif init == "torch":  # what nn.Conv2d does: kaiming_uniform with a = sqrt(5)
        limit = 1.0 / np.sqrt(fan_in)
        w = rng.uniform(-limit, limit, size=shape)
    elif init == "normal":
        w = rng.standard_normal(shape) * 0.01
    else:
        raise ValueError(f"init must be 'he', 'xavier', 'torch' or 'normal', got {init!r}")
    return w.astype(dtype)


class Conv2D(Module):
    """2-D convolution layer: im2col + BLAS matmuls, tuned (:mod:`dlcourse.models.conv_gemm`).

    Parameters
    ----------
    in_channels, out_channels : int
        C_in and C_out.
    kernel_size : int
        k, for a square k×k filter.
    stride, padding, dilation : int
        Step between filter positions, zeros added on every side, spacing between filter taps.
    init : {"he", "xavier", "torch", "normal"}
        Initial weights (biases start at 0). "he" suits ReLU networks.
    seed : int
    dtype : numpy float dtype, default float32

    Attributes
    ----------
    params : {"W": (C_out, C_in, k, k), "b": (C_out,)} — torch's ``nn.Conv2d`` layout.

    Shapes: x (N, C_in, H, W) -> out (N, C_out, H_out, W_out),
    H_out = (H + 2·padding − dilation·(k − 1) − 1) // stride + 1, same for W_out.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0, dilation: int = 1, init: str = "he", seed: int = 0,
                 dtype=np.float32) -> None:
        super().__init__()
        check_positive(in_channels, "in_channels", integer=True)
        check_positive(out_channels, "out_channels", integer=True)
        self.kernel_size = _int_param(kernel_size, "kernel_size")
        self.stride = _int_param(stride, "stride")
        self.padding = _int_param(padding, "padding", allow_zero=True)
        self.dilation = _int_param(dilation, "dilation")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.init = init
        rng = np.random.default_rng(seed)
        shape = (out_channels, in_channels, self.kernel_size, self.kernel_size)
        self.params["W"] = _init_conv_weight(init, shape, rng, np.dtype(dtype))
        self.params["b"] = np.zeros(out_channels, dtype=dtype)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        # Scratch buffers of the tuned path, reused between calls (fresh MB-sized arrays
        # cost page faults); see dlcourse.models.conv_gemm.
        self._workspace = ConvWorkspace()

    @property
    def dtype(self):
        return self.params["W"].dtype

    def __repr__(self) -> str:
        extra = "".join(f", {name}={getattr(self, name)}" for name, default in
                        (("stride", 1), ("padding", 0), ("dilation", 1))
                        if getattr(self, name) != default)
        return (f"Conv2D({self.in_channels}, {self.out_channels}, "
                f"kernel_size={self.kernel_size}{extra})")

    def output_shape(self, input_shape) -> tuple[int, int, int, int]:
        """(N, C_in, H, W) -> (N, C_out, H_out, W_out)."""
        N, _, H, W = input_shape
        Ho, Wo = _output_hw(H, W, self.kernel_size, self.stride, self.padding, self.dilation)
        return N, self.out_channels, Ho, Wo

    def forward(self, x, training: bool = False):
        """x (N, C_in, H, W) -> out (N, C_out, H_out, W_out) in the layer's dtype; cache =
        the input's stacked planes and geometry (:mod:`dlcourse.models.conv_gemm`)."""
        x = _check_images(x, "x", self.in_channels, self.dtype)
        _output_hw(x.shape[2], x.shape[3], self.kernel_size, self.stride, self.padding,
                   self.dilation)
        return self._workspace.forward(x, self.params["W"], self.params["b"], self.stride,
                                       self.padding, self.dilation, training=training)

    def backward(self, dout, cache, *, need_dx: bool = True):
        """dout (N, C_out, H_out, W_out) -> dx (N, C_in, H, W); fills grads "W" and "b".

        ``need_dx=False`` skips the input gradient and returns None (a network's first layer
        never needs dLoss/dimages; torch skips it too).

        The arithmetic of the readable version: dW = Σ_n dout[n] @ cols[n]ᵀ, db = Σ dout,
        dcols = Wᵀ @ dout, then col2im adds each of the k·k column slices back onto the
        (padded) input positions it was copied from — done by :mod:`dlcourse.models.conv_gemm`.
        """
        g = cache.geometry
        C_out = self.out_channels
        shape = (g.N, C_out, g.Ho, g.Wo)
        dout = as_float_array(dout, "dout", ndim=4, shape_hint=f"(N, {C_out}, H_out, W_out)")
        if dout.shape != shape:
            raise ValueError(f"dout must have the forward output's shape {shape}, "
                             f"got {dout.shape}")
        dout = np.asarray(dout, dtype=self.dtype)
        return self._workspace.backward(dout, cache, self.params["W"], self.grads["W"],
                                        self.grads["b"], need_dx=need_dx)


# ---------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------

class _Pool2D(Module):
    """Shared shape logic of max and average pooling (no parameters)."""

    def __init__(self, kernel_size: int, stride: int | None = None) -> None:
        super().__init__()
        self.kernel_size = _int_param(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else _int_param(stride, "stride")

    def __repr__(self) -> str:
        extra = "" if self.stride == self.kernel_size else f", stride={self.stride}"
        return f"{type(self).__name__}(kernel_size={self.kernel_size}{extra})"

    def output_shape(self, input_shape):
        N, C, H, W = input_shape
        return (N, C) + _output_hw(H, W, self.kernel_size, self.stride, 0, 1)

    def _windows(self, x):
        """x (N, C, H, W) -> ((N, C, H_out, W_out, k, k) strided view, H_out, W_out)."""
        k, s = self.kernel_size, self.stride
        Ho, Wo = _output_hw(x.shape[2], x.shape[3], k, s, 0, 1)
        sn, sc, sh, sw = x.strides
        view = as_strided(x, shape=x.shape[:2] + (Ho, Wo, k, k),
                          strides=(sn, sc, s * sh, s * sw, sh, sw), writeable=False)
        return view, Ho, Wo

    def _scatter(self, dwin, x_shape):
        """Adjoint of ``_windows``: add (N, C, H_out, W_out, k, k) window grads into dx."""
        k, s = self.kernel_size, self.stride
        N, C, Ho, Wo = dwin.shape[:4]
        if s == k and x_shape[2] == Ho * k and x_shape[3] == Wo * k:  # tiles: a transpose
            return np.ascontiguousarray(dwin.transpose(0, 1, 2, 4, 3, 5)).reshape(x_shape)
        dx = np.zeros(x_shape, dtype=dwin.dtype)
        for i in range(k):
            for j in range(k):
                dx[:, :, i:i + s * (Ho - 1) + 1:s, j:j + s * (Wo - 1) + 1:s] += dwin[..., i, j]
        return dx


class MaxPool2D(_Pool2D):
    """Max pooling (最大池化): the largest value of every k×k window (stride defaults to k).

    x (N, C, H, W) -> out (N, C, H_out, W_out), H_out = (H − k) // stride + 1.
    The gradient flows only to the position of each window's maximum (the first one on ties,
    as torch does).
    """

    def forward(self, x, training: bool = False):
        """x (N, C, H, W) -> out (N, C, H_out, W_out); cache = (x.shape, argmax (N, C, H_out,
        W_out) int index into each flattened window)."""
        x = _check_images(x, "x", None)
        view, Ho, Wo = self._windows(np.ascontiguousarray(x))
        k = self.kernel_size
        flat = view.reshape(x.shape[:2] + (Ho, Wo, k * k))  # copies the windows
        idx = flat.argmax(axis=-1)
        out = np.take_along_axis(flat, idx[..., None], axis=-1)[..., 0]
        return out, (x.shape, idx)

    def backward(self, dout, cache):
        """dout (N, C, H_out, W_out) -> dx (N, C, H, W)."""
        x_shape, idx = cache
        dout = as_float_array(dout, "dout", ndim=4, shape_hint="(N, C, H_out, W_out)")
        if dout.shape != idx.shape:
            raise ValueError(f"dout must have the forward output's shape {idx.shape}, "
                             f"got {dout.shape}")
        k = self.kernel_size
        # one-hot of the argmax times dout (faster than np.put_along_axis here)
        dwin = (idx[..., None] == np.arange(k * k)) * dout[..., None]
        return self._scatter(dwin.reshape(idx.shape + (k, k)), x_shape)


class AvgPool2D(_Pool2D):
    """Average pooling (平均池化): the mean of every k×k window (stride defaults to k).

    x (N, C, H, W) -> out (N, C, H_out, W_out); each input receives dout / k² from every
    window that contains it.
    """

    def forward(self, x, training: bool = False):
        """x (N, C, H, W) -> out (N, C, H_out, W_out); cache = x.shape."""
        x = _check_images(x, "x", None)
        view, _, _ = self._windows(np.ascontiguousarray(x))
        return view.mean(axis=(4, 5), dtype=x.dtype), x.shape

    def backward(self, dout, cache):
        """dout (N, C, H_out, W_out) -> dx (N, C, H, W)."""
        x_shape = cache
        out_shape = self.output_shape(x_shape)
        dout = as_float_array(dout, "dout", ndim=4, shape_hint="(N, C, H_out, W_out)")
        if dout.shape != out_shape:
            raise ValueError(f"dout must have the forward output's shape {out_shape}, "
                             f"got {dout.shape}")
        k = self.kernel_size
        share = (dout / (k * k)).astype(dout.dtype, copy=False)
        dwin = np.broadcast_to(share[..., None, None], out_shape + (k, k))
        return self._scatter(dwin, x_shape)


class Flatten(Module):
    """(N, C, H, W) -> (N, C·H·W), the bridge from feature maps to a dense classifier."""

    def __repr__(self) -> str:
        return "Flatten()"

    def forward(self, x, training: bool = False):
        """x (N, ...) -> out (N, prod(...)); cache = x.shape."""
        x = as_float_array(x, "x")
        if x.ndim < 2:
            raise ValueError(f"x must have shape (N, ...) with at least 2 dimensions, "
                             f"got shape {x.shape}")
        return x.reshape(x.shape[0], -1), x.shape

    def backward(self, dout, cache):
        """dout (N, prod(...)) -> dx (N, ...)."""
        return np.reshape(dout, cache)


class BatchNorm2D(Module):
    """Batch normalization (批归一化) per channel over (N, H, W), as ``nn.BatchNorm2d``.

    Training: normalize with the batch mean and (biased) variance, update the running
    statistics with ``momentum`` (torch's convention: new = (1 − m)·old + m·batch, the
    running variance unbiased). Inference: use the running statistics.
    params {"gamma": (C,), "beta": (C,)}; x (N, C, H, W) -> out (N, C, H, W).
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 dtype=np.float32) -> None:
        super().__init__()
        check_positive(num_features, "num_features", integer=True)
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.params["gamma"] = np.ones(num_features, dtype=dtype)
        self.params["beta"] = np.zeros(num_features, dtype=dtype)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.running_mean = np.zeros(num_features, dtype=dtype)
        self.running_var = np.ones(num_features, dtype=dtype)

    def __repr__(self) -> str:
        return f"BatchNorm2D({self.num_features})"

    def forward(self, x, training: bool = False):
        """x (N, C, H, W) -> out (N, C, H, W); cache = (x_hat, inv_std, training)."""
        x = _check_images(x, "x", self.num_features, self.params["gamma"].dtype)
        if training:
            mean = x.mean(axis=(0, 2, 3))
            var = x.var(axis=(0, 2, 3))
            m = x.size // self.num_features
            self.running_mean[...] = (1 - self.momentum) * self.running_mean \
                + self.momentum * mean
            self.running_var[...] = (1 - self.momentum) * self.running_var \
                + self.momentum * var * m / max(m - 1, 1)
        else:
            mean, var = self.running_mean, self.running_var
        inv_std = 1.0 / np.sqrt(var + self.eps)
        x_hat = (x - mean[:, None, None]) * inv_std[:, None, None]
        out = self.params["gamma"][:, None, None] * x_hat + self.params["beta"][:, None, None]
        return out.astype(x.dtype, copy=False), (x_hat, inv_std, training)

    def backward(self, dout, cache):
        """dout (N, C, H, W) -> dx (N, C, H, W); fills grads "gamma" and "beta"."""
        x_hat, inv_std, training = cache
        dout = as_float_array(dout, "dout", ndim=4, shape_hint="(N, C, H, W)")
        if dout.shape != x_hat.shape:
            raise ValueError(f"dout must have shape {x_hat.shape}, got {dout.shape}")
        axes = (0, 2, 3)
        self.grads["beta"][...] = dout.sum(axis=axes)
        self.grads["gamma"][...] = (dout * x_hat).sum(axis=axes)
        g = (self.params["gamma"] * inv_std)[:, None, None]
        if not training:  # running statistics are constants
            return dout * g
        m = dout.size // self.num_features
        mean_d = dout.mean(axis=axes, keepdims=True)
        mean_dx = (dout * x_hat).mean(axis=axes, keepdims=True)
        return g * (dout - mean_d - x_hat * mean_dx) if m else dout * g


# ---------------------------------------------------------------------------------------
# A small network
# ---------------------------------------------------------------------------------------

def small_cnn(in_channels: int = 1, n_classes: int = 10, image_size: int = 8,
              channels=(32, 64), seed: int = 0, dtype=np.float32) -> Sequential:
    """Two conv blocks and a linear classifier, for small images (the 8×8 digits)::

        Conv2D(in, c1, 3, padding=1) → ReLU → MaxPool2D(2)      (N, c1, s/2, s/2)
        Conv2D(c1, c2, 3, padding=1) → ReLU → MaxPool2D(2)      (N, c2, s/4, s/4)
        Flatten → Dense(c2·(s/4)², n_classes)                   (N, n_classes) logits

    x (N, in_channels, image_size, image_size) -> logits (N, n_classes);
    ``dlcourse.torch.to_torch(model)`` gives the same network in torch.
    """
    check_positive(image_size, "image_size", integer=True)
    if image_size % 4:
        raise ValueError(f"image_size must be a multiple of 4 (two 2×2 poolings), "
                         f"got {image_size}")
    c1, c2 = channels
    seeds = np.random.SeedSequence(seed).generate_state(3)
    return Sequential(
        Conv2D(in_channels, c1, 3, padding=1, seed=int(seeds[0]), dtype=dtype), ReLU(),
        MaxPool2D(2),
        Conv2D(c1, c2, 3, padding=1, seed=int(seeds[1]), dtype=dtype), ReLU(), MaxPool2D(2),
        Flatten(),
        Dense(c2 * (image_size // 4) ** 2, n_classes, seed=int(seeds[2]), dtype=dtype),
    )
