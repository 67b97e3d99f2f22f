"""Convolution lowered to matrix products (GEMM), tuned for numpy and a BLAS library.

:mod:`dlcourse.models.cnn` teaches two convolutions: the loops of the formula and the readable
*im2col* (copy every patch into a column, then one matrix product). This module does the same
im2col arithmetic, arranged so that almost all of the time goes to BLAS. Three ideas:

- **Stacked planes.** The images of a chunk, channel by channel, are laid end to end in one
  flat array, each zero-padded image a block of ``Hq × Wq`` with ``Hq = H + padding``: the
  zero rows after one image are the top padding of the next. At stride 1, output pixel
  (i, j) of block b and filter tap (u, v) read element ``b·Hq·Wq + i·Wq + j + offset(u, v)``
  with ``offset(u, v) = (u·Wq + v)·dilation``. So, for one tap, *every* channel of *every*
  image reads one contiguous run of the array: im2col is a single copy of k·k long runs, and
  col2im (its adjoint: add each column gradient back where it was copied from) is k·k
  contiguous additions. When the padding is within the filter's reach (2·padding ≤
  dilation·(k − 1), as in every "same" convolution), rows are as wide as the image
  (``Wq = W``): a tap near the left or right edge then reads across the end of a row into
  the next one, and those few reads (one column of pixels per edge tap at k = 3) are set to
  zero in the columns and in their gradient (:meth:`ConvGeometry.mask`); otherwise each row
  gets its own zero columns (``Wq = W + padding``). The price is a band of throw-away output
  rows (``Hq·Wq`` computed per ``H_out·W_out`` kept: 6 % more GEMM work for 16×16 images
  with padding 1, 3 % for 32×32), dropped when the result is copied back to NCHW (in runs
  of whole images); their output gradient is set to zero, so they add nothing to dW, db or
  dx. (Zero columns instead of masks measured 5 % slower on the 32 → 64 layer, 25 % on
  8×8 images: 13 % more GEMM work, copies in 16-pixel runs.)
- **Chunks of images that fit in the L2 cache** (:data:`CHUNK_BYTES` of columns at a time):
  the columns are used by the GEMM right after they are built, and rebuilt from the small
  stacked planes in backward instead of being stored, since streaming a column matrix 9×
  the size of the input through main memory costs more than building it again. That holds
  with one BLAS thread; with several, every BLAS call wakes the other threads, and on a
  machine busy with other jobs those waits dominated (512 KB chunks measured 2.6–4.7×
  slower than one chunk), so then the whole batch is one chunk. Thin products (few
  channels) get chunks of at most :data:`SMALL_GEMM` multiply-adds when the BLAS has
  small-matrix code, whatever the thread count: that code is faster and single-threaded
  (measured with two threads on a busy machine: 5–9 ms against 31–45 ms for the whole
  batch of N=64, 3→16, 32×32).
- **One GEMM per chunk and product**, with a row of ones under the columns so the bias rides
  along: out = [W | b] @ [columns; 1], [dW | db]ᵀ += [columns; 1] @ doutᵀ (in that
  orientation: 130 against 100 GFLOP/s for dout @ [columns; 1]ᵀ on the AVX-512 kernel),
  dcolumns = Wᵀ @ dout. Buffers are reused from call to call (a :class:`ConvWorkspace` per
  layer: fresh MB-sized arrays cost page faults), in the layer's dtype throughout.

Strides above 1 use exact columns (no throw-away pixels) read with a strided view and
strided col2im additions: correct, not tuned.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

# Bytes of columns built per chunk of images, well inside one core's L2 cache. Measured with
# one thread on a 2 MB-L2 Xeon, for the 32 → 64 layer on 16×16 images (335 KB of columns an
# image): 2 images a chunk 5 % faster than 1 and 2–3 % faster than 3; the 512 KB chosen
# before on a 512 KB-L2 machine ran 1 image a chunk.
CHUNK_BYTES = 3 << 18

# Products of at most this many multiply-adds (M·N·K), where that is possible: OpenBLAS's
# SkylakeX-family kernels (AVX-512) run them with unpacked small-matrix code, measured
# 1.3–1.5× faster on thin products (16 × 28 × 2178 against 16 × 28 × 4356; a 512 × 161 × 32
# LSTM step as three 171-row blocks: 34 against 44 µs). Its Haswell kernel has no such
# path (there, the same blocks measured 5 % slower), so the rule applies only to those.
SMALL_GEMM = 10**6
_SMALL_GEMM_KERNELS = ("skylakex", "cooperlake", "sapphirerapids")

_blas_libraries: list | None = None


def _blas() -> list:
    global _blas_libraries
    if _blas_libraries is None:
        try:
            from threadpoolctl import ThreadpoolController

            _blas_libraries = ThreadpoolController().select(user_api="blas").lib_controllers
        except Exception:  # no threadpoolctl or no BLAS it knows: behave as one thread
            _blas_libraries = []
    return _blas_libraries


def blas_threads() -> int:
    """Threads numpy's BLAS uses now (threadpoolctl, looked up once; 1 if unknown)."""
    return max([lib.num_threads for lib in _blas()], default=1)


def small_gemm_kernel() -> bool:
    """Whether numpy's BLAS runs products below :data:`SMALL_GEMM` with small-matrix code
    (an OpenBLAS kernel of the SkylakeX family, as threadpoolctl reports it)."""
    return any(str(getattr(lib, "architecture", "")).lower() in _SMALL_GEMM_KERNELS
               for lib in _blas())


def row_blocks(M: int, K: int, N: int, minimum: int = 16) -> list[slice]:
    """Row slices of an (M × K) @ (K × N) product, each at most :data:`SMALL_GEMM`
    multiply-adds when the BLAS has small-matrix code and blocks of ``minimum`` rows allow
    it; else the whole product in one block."""
    rows = SMALL_GEMM // max(1, K * N)
    if rows >= M or rows < minimum or not small_gemm_kernel():
        return [slice(0, M)]
    count = -(-M // rows)
    size = -(-M // count)                    # blocks of (nearly) equal size
    return [slice(i, min(M, i + size)) for i in range(0, M, size)]


class ConvGeometry:
    """Sizes, offsets and views of one convolution shape (no data).

    Rows of the column matrix are ordered (tap u, tap v, channel) — the weights are permuted
    to match — so that one tap's rows for all channels are one contiguous run of a stacked
    plane. A chunk of ``n`` images has ``n·area`` columns: at stride 1 ``area = Hq·Wq``
    (throw-away pixels included), at larger strides the exact ``H_out·W_out``.
    """

    def __init__(self, x_shape, C_out: int, k: int, stride: int, padding: int,
                 dilation: int, dtype, chunk_bytes: int | None = None) -> None:
        N, C, H, W = x_shape
        s, p, d = stride, padding, dilation
        self.x_shape, self.N, self.C, self.H, self.W = tuple(x_shape), N, C, H, W
        self.C_out, self.k, self.s, self.p, self.d = C_out, k, s, p, d
        self.dtype = np.dtype(dtype)
        self.Ho = (H + 2 * p - d * (k - 1) - 1) // s + 1
        self.Wo = (W + 2 * p - d * (k - 1) - 1) // s + 1
        self.K = C * k * k
        self.contiguous = s == 1
        # rows as wide as the image when the output is no wider (padding within the filter's
        # reach): a tap then reads across a row's end into the next row, and those reads
        # are masked to zero (self.masks) instead of being zeros of the plane
        self.wrapped = self.contiguous and 2 * p <= d * (k - 1)
        # blocks must hold the image plus its padding, and at stride 1 the output too
        self.Wq = W if self.wrapped else max(W + p, self.Wo) if self.contiguous else W + p
        self.Hq = max(H + p, self.Ho) if self.contiguous else H + p
        self.block = self.Hq * self.Wq
        self.start = p * self.Wq + p                     # where pixel (0, 0) of block 0 sits
        self.offsets = [u * d * self.Wq + v * d for u in range(k) for v in range(k)]
        self.slack = max(self.start, self.offsets[-1])   # zeros after the last block
        self.area = self.block if self.contiguous else self.Ho * self.Wo
        # (tap column v, output columns j) whose reads wrapped around a row: j + v·d − p
        # outside 0 .. W − 1
        self.masks = []
        if self.wrapped:
            for v in range(k):
                if p - v * d > 0:
                    self.masks.append((v, slice(0, p - v * d)))
                if W + p - v * d < W:
                    self.masks.append((v, slice(W + p - v * d, W)))
        per_image = (self.K + 1) * self.area * self.dtype.itemsize
        budget = CHUNK_BYTES if chunk_bytes is None else chunk_bytes
        most = int(min(N, max(1, budget // per_image)))
        self.chunk = -(-N // -(-N // most))      # chunks of (nearly) equal size

    def key(self):
        return (self.x_shape, self.C_out, self.k, self.s, self.p, self.d, self.dtype,
                self.chunk)

    def chunks(self):
        """(first image, number of images) of every chunk."""
        return [(n0, min(self.chunk, self.N - n0)) for n0 in range(0, self.N, self.chunk)]

    def plane_len(self, n: int) -> int:
        return self.C * n * self.block + self.slack

    def interior(self, plane: np.ndarray, n: int) -> np.ndarray:
        """(n, C, H, W) view of the image pixels in the stacked plane of an n-image chunk."""
        a, span = self.start, self.C * n * self.block
        blocks = plane[a:a + span].reshape(self.C, n, self.Hq, self.Wq)
        return blocks[:, :, :self.H, :self.W].transpose(1, 0, 2, 3)

    def columns_view(self, plane: np.ndarray, n: int) -> np.ndarray:
        """Read-only view of the K column rows of a chunk, shaped like the first K rows of
        the columns buffer reshaped by :meth:`columns_shape`."""
        item, k, d, Wq = plane.itemsize, self.k, self.d, self.Wq
        if self.contiguous:  # one run of C·n·block elements per tap
            return as_strided(plane, (k, k, self.C * n * self.block),
                              (d * Wq * item, d * item, item), writeable=False)
        s, b = self.s, self.block
        return as_strided(plane, (k, k, self.C, n, self.Ho, self.Wo),
                          (d * Wq * item, d * item, n * b * item, b * item, s * Wq * item,
                           s * item), writeable=False)

    def columns_shape(self, n: int):
        if self.contiguous:
            return (self.k, self.k, self.C * n * self.block)
        return (self.k, self.k, self.C, n, self.Ho, self.Wo)

    def mask(self, cols: np.ndarray, n: int) -> None:
        """Zero the wrapped reads (:attr:`masks`) in the K column rows of an n-image chunk."""
        if self.masks:
            taps = cols[:self.K].reshape(self.k, self.k, self.C, n, self.Hq, self.Wq)
            for v, columns in self.masks:
                taps[:, v, :, :, :, columns] = 0

    def output_view(self, buf: np.ndarray, n: int) -> np.ndarray:
        """(n, C_out, H_out, W_out) view of a GEMM result (C_out, n·area), throw-aways out."""
        if self.contiguous:
            blocks = buf.reshape(self.C_out, n, self.Hq, self.Wq)
            return blocks[:, :, :self.Ho, :self.Wo].transpose(1, 0, 2, 3)
        return buf.reshape(self.C_out, n, self.Ho, self.Wo).transpose(1, 0, 2, 3)


class _ConvCache:
    """What backward needs: the geometry and the stacked planes of the input, per chunk."""

    def __init__(self, geometry: ConvGeometry, planes: list, lent: bool) -> None:
        self.geometry, self.planes, self.lent = geometry, planes, lent


class ConvWorkspace:
    """Scratch buffers of one convolution layer, reused from call to call.

    ``forward`` lends its input planes to the cache of one training pass until the matching
    ``backward``; a second training forward before that (a layer used twice in one graph),
    or an inference forward, gets fresh planes, so interleaved passes stay correct.
    """

    def __init__(self, chunk_bytes: int | None = None) -> None:
        self.chunk_bytes = chunk_bytes
        self._key = None
        self._planes: list | None = None
        self._planes_lent = False
        self._buffers: dict = {}

    def geometry(self, x_shape, C_out, k, stride, padding, dilation, dtype) -> ConvGeometry:
        budget = self.chunk_bytes
        if budget is None:  # see the module docstring
            g = ConvGeometry(x_shape, C_out, k, stride, padding, dilation, dtype, 1)
            madds = C_out * (g.K + 1) * g.area          # multiply-adds of one image's GEMM
            if small_gemm_kernel() and madds <= SMALL_GEMM:   # thin: small-matrix chunks
                budget = min(CHUNK_BYTES, SMALL_GEMM // madds
                             * (g.K + 1) * g.area * g.dtype.itemsize)
            else:  # L2-sized chunks with one BLAS thread, the whole batch with several
                budget = CHUNK_BYTES if blas_threads() == 1 else 1 << 62
        g = ConvGeometry(x_shape, C_out, k, stride, padding, dilation, dtype, budget)
        if g.key() != self._key:  # new shapes: drop every buffer
            self._key, self._planes, self._planes_lent, self._buffers = g.key(), None, False, {}
        return g

    def _buffer(self, name, shape, dtype, zero=False) -> np.ndarray:
        buf = self._buffers.get((name, shape))
        if buf is None:
            buf = (np.zeros if zero else np.empty)(shape, dtype=dtype)
            self._buffers[(name, shape)] = buf
        return buf

    def _columns_buffer(self, g: ConvGeometry, n: int) -> np.ndarray:
        """(K + 1, n·area) columns buffer of an n-image chunk; its last row holds ones."""
        key = ("cols", n)
        cols = self._buffers.get(key)
        if cols is None:
            cols = self._buffers[key] = np.empty((g.K + 1, n * g.area), dtype=g.dtype)
            cols[g.K] = 1
        return cols

    # -- forward --------------------------------------------------------------------------

    def forward(self, x: np.ndarray, W: np.ndarray, b: np.ndarray | None, stride: int = 1,
                padding: int = 0, dilation: int = 1, training: bool = False):
        """x (N, C, H, W), W (C_out, C, k, k), b (C_out,) or None -> (out, cache).

        ``x`` and ``W`` must already be arrays of the working dtype (the layer checks them).
        """
        C_out, C, k, _ = W.shape
        g = self.geometry(x.shape, C_out, k, stride, padding, dilation, x.dtype)
        if training and not self._planes_lent:
            if self._planes is None:  # zeros: the padding stays 0 for good
                self._planes = [np.zeros(g.plane_len(n), dtype=g.dtype) for _, n in g.chunks()]
            planes, lent = self._planes, True
            self._planes_lent = True
        else:
            planes, lent = [np.zeros(g.plane_len(n), dtype=g.dtype) for _, n in g.chunks()], False
        Wb = self._buffer("Wb", (C_out, g.K + 1), g.dtype)
        Wb[:, :g.K].reshape(C_out, k, k, C)[...] = W.transpose(0, 2, 3, 1)
        Wb[:, g.K] = 0 if b is None else b
        out = np.empty((g.N, C_out, g.Ho, g.Wo), dtype=g.dtype)
        for (n0, n), plane in zip(g.chunks(), planes, strict=True):
            np.copyto(g.interior(plane, n), x[n0:n0 + n])
            cols = self._columns(g, plane, n)
            res = self._buffer("out", (C_out, n * g.area), g.dtype)
            np.matmul(Wb, cols, out=res)
            np.copyto(out[n0:n0 + n], g.output_view(res, n))
        return out, _ConvCache(g, planes, lent)

    def _columns(self, g: ConvGeometry, plane, n: int) -> np.ndarray:
        """The (K + 1, n·area) columns of one chunk, built in the chunk's buffer."""
        cols = self._columns_buffer(g, n)
        np.copyto(cols[:g.K].reshape(g.columns_shape(n)), g.columns_view(plane, n))
        g.mask(cols, n)
        return cols

    # -- backward -------------------------------------------------------------------------

    def backward(self, dout: np.ndarray, cache: _ConvCache, W: np.ndarray,
                 dW: np.ndarray, db: np.ndarray | None, need_dx: bool = True):
        """dout (N, C_out, H_out, W_out) -> dx (N, C, H, W), or None with ``need_dx=False``.

        Writes the weight gradient into ``dW`` (C_out, C, k, k) and, unless None, the bias
        gradient into ``db`` (C_out,). ``dout`` must have the working dtype.
        """
        g = cache.geometry
        C_out, C, K, k = g.C_out, g.C, g.K, g.k
        WT = self._buffer("WT", (K, C_out), g.dtype)
        WT.reshape(k, k, C, C_out)[...] = W.transpose(2, 3, 1, 0)
        # [dW | db]ᵀ, tap-major rows: cols @ doutᵀ ran at 130 GFLOP/s where dout @ colsᵀ ran
        # at 100 (1 thread, AVX-512 kernel, 64 × 289 × 289·n)
        grad = self._buffer("grad", (K + 1, C_out), g.dtype)
        part = self._buffer("grad_part", (K + 1, C_out), g.dtype)
        grad[...] = 0
        dx = np.empty(g.x_shape, dtype=g.dtype) if need_dx else None
        for (n0, n), plane in zip(g.chunks(), cache.planes, strict=True):
            dq = self._buffer("dout", (C_out, n * g.area), g.dtype, zero=True)
            # one buffer per chunk size: the throw-away positions are never written, stay 0
            np.copyto(g.output_view(dq, n), dout[n0:n0 + n])
            cols = self._columns(g, plane, n)
            np.matmul(cols, dq.T, out=part)
            grad += part
            if need_dx:
                np.matmul(WT, dq, out=cols[:K])      # the columns' gradient, in their buffer
                g.mask(cols, n)                      # nothing flows back to wrapped reads
                self._col2im(g, cols[:K], dx, n0, n)
        if cache.lent and cache.planes is self._planes:   # (not if the shapes changed since)
            self._planes_lent = False
        dW[...] = grad[:K].reshape(k, k, C, C_out).transpose(3, 2, 0, 1)
        if db is not None:
            db[...] = grad[K]
        return dx

    def _col2im(self, g: ConvGeometry, dcols, dx, n0: int, n: int) -> None:
        """Add each tap's column gradient back onto a stacked plane; keep the pixels in dx."""
        dplane = self._buffer("dplane", (g.plane_len(n),), g.dtype)
        if g.contiguous:  # k·k contiguous additions
            span = g.C * n * g.block
            taps = dcols.reshape(g.k * g.k, span)
            np.copyto(dplane[:span], taps[0])     # offsets[0] == 0
            dplane[span:] = 0
            for t in range(1, g.k * g.k):
                o = g.offsets[t]
                dplane[o:o + span] += taps[t]
        else:  # k·k strided additions
            dplane[...] = 0
            item, b = dplane.itemsize, g.block
            taps = dcols.reshape(g.k * g.k, g.C, n, g.Ho, g.Wo)
            for t in range(g.k * g.k):
                target = as_strided(dplane[g.offsets[t]:], (g.C, n, g.Ho, g.Wo),
                                    (n * b * item, b * item, g.s * g.Wq * item, g.s * item))
                target += taps[t]
        np.copyto(dx[n0:n0 + n], g.interior(dplane, n))
