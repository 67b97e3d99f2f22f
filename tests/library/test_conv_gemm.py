"""The tuned convolution (models/conv_gemm) == the naive loops == the readable im2col == torch.

Float64 for finite differences and exact comparisons, float32 for the dtype and the 1e-5
agreement Conv2D promises. Seeded and deterministic; no timing here (benchmarks/conv.py).
"""

import warnings

import numpy as np
import pytest

from dlcourse.core.gradcheck import (
    FLOAT64_TOLERANCE,
    numerical_gradient_of_output,
    relative_error,
)
from dlcourse.models.cnn import conv2d, conv2d_naive, im2col
from dlcourse.models.conv_gemm import ConvGeometry, ConvWorkspace
from dlcourse.torch import torch_gradients

# (stride, padding, dilation): the cases of test_cnn.py, plus padding wider than the filter's
# reach (the output is then wider than the input plus one padding column)
CONV_CASES = [(1, 0, 1), (1, 1, 1), (2, 1, 1), (1, 2, 2), (3, 1, 2), (2, 0, 1), (1, 3, 1)]
# bytes of columns per chunk: one image per chunk, the default, the whole batch at once
CHUNKS = [1, None, 1 << 40]


def _problem(rng, N=3, C=2, C_out=3, H=9, W=8, k=3, dtype=np.float64):
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    Wt = rng.standard_normal((C_out, C, k, k)).astype(dtype)
    b = rng.standard_normal(C_out).astype(dtype)
    return x, Wt, b


def _step(x, W, b, stride, padding, dilation, dout_seed=7, chunk_bytes=None, need_dx=True):
    """Tuned forward + backward; returns out, dout, dx, dW, db."""
    workspace = ConvWorkspace(chunk_bytes)
    out, cache = workspace.forward(x, W, b, stride, padding, dilation, training=True)
    dout = np.random.default_rng(dout_seed).standard_normal(out.shape).astype(x.dtype)
    dW, db = np.empty_like(W), np.empty_like(b)
    dx = workspace.backward(dout, cache, W, dW, db, need_dx=need_dx)
    return out, dout, dx, dW, db


@pytest.mark.parametrize("chunk_bytes", CHUNKS)
@pytest.mark.parametrize("stride,padding,dilation", CONV_CASES)
def test_forward_equals_naive_loops_and_readable_im2col(stride, padding, dilation,
                                                        chunk_bytes, rng):
    x, W, b = _problem(rng)
    out, _ = ConvWorkspace(chunk_bytes).forward(x, W, b, stride, padding, dilation)
    naive = conv2d_naive(x, W, b, stride, padding, dilation)
    assert out.shape == naive.shape and out.dtype == np.float64
    assert np.allclose(out, naive, atol=1e-12)
    assert np.allclose(out, conv2d(x, W, b, stride, padding, dilation), atol=1e-12)


@pytest.mark.parametrize("stride,padding,dilation", CONV_CASES)
def test_gradients_match_finite_differences_of_the_naive_loops(stride, padding, dilation, rng):
    x, W, b = _problem(rng, N=2, H=6, W=5)
    out, dout, dx, dW, db = _step(x, W, b, stride, padding, dilation, chunk_bytes=1)

    def naive():
        return conv2d_naive(x, W, b, stride, padding, dilation)

    # the convolution is linear in x, W and b: a large step has no truncation error
    for analytic, param in [(dx, x), (dW, W), (db, b)]:
        numeric = numerical_gradient_of_output(naive, param, dout, h=1e-3)
        assert relative_error(analytic, numeric) < FLOAT64_TOLERANCE


@pytest.mark.parametrize("chunk_bytes", CHUNKS)
@pytest.mark.parametrize("stride,padding,dilation", CONV_CASES)
def test_gradients_equal_the_readable_im2col_formulas(stride, padding, dilation, chunk_bytes,
                                                      rng):
    """dW = Σ_n dout[n] @ cols[n]ᵀ and db = Σ dout with the columns of cnn.im2col; dx from
    finite differences of cnn.conv2d (linear, so exact up to round-off)."""
    x, W, b = _problem(rng, N=4, C=3, C_out=5, H=8, W=9)
    out, dout, dx, dW, db = _step(x, W, b, stride, padding, dilation, chunk_bytes=chunk_bytes)
    cols = im2col(x, 3, stride, padding, dilation)               # (N, C·k·k, H_out·W_out)
    d2 = dout.reshape(dout.shape[0], dout.shape[1], -1)
    assert np.allclose(dW, np.einsum("nol,nkl->ok", d2, cols).reshape(W.shape), atol=1e-10)
    assert np.allclose(db, dout.sum(axis=(0, 2, 3)), atol=1e-10)
    numeric = numerical_gradient_of_output(lambda: conv2d(x, W, b, stride, padding, dilation),
                                           x, dout, h=1.0)
    assert np.allclose(dx, numeric, atol=1e-9)


@pytest.mark.parametrize("stride,padding,dilation", CONV_CASES)
def test_matches_torch_autograd_float64(stride, padding, dilation, rng):
    torch = pytest.importorskip("torch")
    x, W, b = _problem(rng, N=3, C=4, C_out=6, H=10, W=7)
    out, dout, dx, dW, db = _step(x, W, b, stride, padding, dilation)

    def f(x, W, b):
        return torch.nn.functional.conv2d(x, W, b, stride=stride, padding=padding,
                                          dilation=dilation)

    t_out, t_grads = torch_gradients(f, {"x": x, "W": W, "b": b}, dout)
    assert relative_error(out, t_out) < FLOAT64_TOLERANCE
    assert relative_error(dx, t_grads["x"]) < FLOAT64_TOLERANCE
    assert relative_error(dW, t_grads["W"]) < FLOAT64_TOLERANCE
    assert relative_error(db, t_grads["b"]) < FLOAT64_TOLERANCE


@pytest.mark.parametrize("shape", [(64, 3, 16, 32), (128, 1, 16, 8), (16, 32, 64, 16)])
def test_benchmark_shapes_in_float32_are_within_1e_5_of_exact(shape, rng):
    """The benchmark's layers (the wide one with fewer images): float32 in, float32 out, and
    out, dx, dW and db within 1e-5 (relative to the largest value) of torch run in float64
    on the same float32 numbers. (Measured: below 1e-6; torch's own float32 dW is 2-8e-6
    off, from summing 65 536 products in float32.)"""
    torch = pytest.importorskip("torch")
    N, C, C_out, H = shape
    x, W, b = _problem(rng, N=N, C=C, C_out=C_out, H=H, W=H, dtype=np.float32)
    W *= np.float32(1 / np.sqrt(9 * C))
    out, dout, dx, dW, db = _step(x, W, b, 1, 1, 1)
    for array in (out, dx, dW, db):
        assert array.dtype == np.float32

    def f(x, W, b):
        return torch.nn.functional.conv2d(x, W, b, padding=1)

    exact = {k: v.astype(np.float64) for k, v in {"x": x, "W": W, "b": b}.items()}
    t_out, t = torch_gradients(f, exact, dout.astype(np.float64))
    for mine, ref in [(out, t_out), (dx, t["x"]), (dW, t["W"]), (db, t["b"])]:
        assert np.max(np.abs(mine - ref)) <= 1e-5 * np.max(np.abs(ref))


def test_need_dx_false_skips_the_input_gradient_only(rng):
    x, W, b = _problem(rng)
    _, _, dx, dW, db = _step(x, W, b, 1, 1, 1)
    _, _, none, dW2, db2 = _step(x, W, b, 1, 1, 1, need_dx=False)
    assert dx is not None and none is None
    assert np.array_equal(dW, dW2) and np.array_equal(db, db2)


def test_no_bias_and_one_by_one_kernels(rng):
    x, W, _ = _problem(rng, k=1)
    out, _ = ConvWorkspace().forward(x, W, None)
    assert np.allclose(out, np.einsum("oc,nchw->nohw", W[:, :, 0, 0], x), atol=1e-12)
    x, W, _ = _problem(rng)
    out, cache = ConvWorkspace().forward(x, W, None, padding=1)
    assert np.allclose(out, conv2d_naive(x, W, None, 1, 1), atol=1e-12)


def test_interleaved_training_passes_and_buffer_reuse(rng):
    """Two training forwards before their backwards (a layer used twice in one graph), an
    inference forward in between, then the same shapes again: every result stays right."""
    x1, W, b = _problem(rng)
    x2 = rng.standard_normal(x1.shape)
    workspace = ConvWorkspace(chunk_bytes=1)
    out1, cache1 = workspace.forward(x1, W, b, padding=1, training=True)
    out2, cache2 = workspace.forward(x2, W, b, padding=1, training=True)
    workspace.forward(rng.standard_normal(x1.shape), W, b, padding=1)       # inference
    d1, d2 = rng.standard_normal(out1.shape), rng.standard_normal(out2.shape)
    dW, db = np.empty_like(W), np.empty_like(b)
    dx2 = workspace.backward(d2, cache2, W, dW, db)
    dW2 = dW.copy()
    dx1 = workspace.backward(d1, cache1, W, dW, db)
    for x, out, d, dx, gW in [(x1, out1, d1, dx1, dW.copy()), (x2, out2, d2, dx2, dW2)]:
        assert np.allclose(out, conv2d_naive(x, W, b, 1, 1), atol=1e-12)
        fresh = ConvWorkspace()
        _, cache = fresh.forward(x, W, b, padding=1, training=True)
        fresh_dW = np.empty_like(W)
        assert np.allclose(fresh.backward(d, cache, W, fresh_dW, None), dx, atol=1e-12)
        assert np.allclose(fresh_dW, gW, atol=1e-12)
    for _ in range(2):  # the lent planes are reused again afterwards: identical results
        out, cache = workspace.forward(x1, W, b, padding=1, training=True)
        assert np.allclose(out, out1, atol=1e-12)
        assert np.allclose(workspace.backward(d1, cache, W, dW, db), dx1, atol=1e-12)


def test_changing_batch_size_and_shapes_rebuilds_the_buffers(rng):
    workspace = ConvWorkspace(chunk_bytes=1 << 12)
    for N, H, W_ in [(5, 8, 8), (3, 8, 8), (5, 8, 8), (2, 6, 11)]:
        x, W, b = _problem(rng, N=N, H=H, W=W_)
        out, cache = workspace.forward(x, W, b, padding=1, training=True)
        assert np.allclose(out, conv2d_naive(x, W, b, 1, 1), atol=1e-12)
        dout = rng.standard_normal(out.shape)
        dx = workspace.backward(dout, cache, W, np.empty_like(W), np.empty_like(b))

        def reference(x=x, W=W, b=b):
            return conv2d(x, W, b, 1, 1)

        numeric = numerical_gradient_of_output(reference, x, dout, h=1.0)
        assert np.allclose(dx, numeric, atol=1e-9)


def test_geometry_of_the_stacked_planes():
    g = ConvGeometry((4, 2, 16, 16), 8, 3, 1, 1, 1, np.float32, chunk_bytes=1 << 20)
    assert (g.Ho, g.Wo, g.Wq, g.Hq) == (16, 16, 16, 17)        # rows wrap, one zero row
    assert g.wrapped and g.masks == [(0, slice(0, 1)), (2, slice(15, 16))]
    assert g.offsets == [0, 1, 2, 16, 17, 18, 32, 33, 34]
    assert g.area == 17 * 16 and g.chunk == 4
    assert sum(n for _, n in g.chunks()) == 4
    wide = ConvGeometry((4, 2, 16, 16), 8, 3, 1, 3, 1, np.float32)    # padding beyond reach
    assert not wide.wrapped and (wide.Wo, wide.Wq) == (20, 20) and wide.masks == []
    strided = ConvGeometry((4, 2, 16, 16), 8, 3, 2, 1, 1, np.float32)
    assert (strided.Ho, strided.Wo) == (8, 8) and strided.area == 64   # exact columns
    one = ConvGeometry((7, 2, 16, 16), 8, 3, 1, 1, 1, np.float64, chunk_bytes=1)
    assert one.chunk == 1 and len(one.chunks()) == 7


def test_planes_keep_their_zero_padding(rng):
    """After a backward the lent planes still hold zeros outside the image pixels, so the
    next forward's padding is right (a failure here would corrupt every later step)."""
    x, W, b = _problem(rng, N=4)
    workspace = ConvWorkspace(chunk_bytes=1)
    for _ in range(2):
        out, cache = workspace.forward(x, W, b, padding=1, training=True)
        workspace.backward(np.ones_like(out), cache, W, np.empty_like(W), np.empty_like(b))
    for (_, n), plane in zip(cache.geometry.chunks(), cache.planes, strict=True):
        pixels = np.zeros_like(plane, dtype=bool)
        cache.geometry.interior(pixels, n)[...] = True
        assert not np.any(plane[~pixels])
    big = 50 * x
    assert np.allclose(workspace.forward(big, W, b, padding=1)[0],
                       conv2d_naive(big, W, b, 1, 1), atol=1e-10)


def test_float32_stays_float32_without_warnings(rng):
    x, W, b = _problem(rng, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, dout, dx, dW, db = _step(x, W, b, 1, 1, 1)
    assert {a.dtype for a in (out, dx, dW, db)} == {np.dtype(np.float32)}
    ref = conv2d_naive(x.astype(np.float64), W.astype(np.float64), b.astype(np.float64), 1, 1)
    assert np.max(np.abs(out - ref)) <= 1e-5 * np.max(np.abs(ref))


def test_a_pending_pass_of_another_shape_does_not_release_the_current_planes(rng):
    """forward(A), forward(B), backward(A), forward(B), backward of both B passes: the
    backward of the older shape must not hand B's lent planes to the next forward."""
    workspace = ConvWorkspace()
    xa, W, b = _problem(rng, N=2, H=6, W=6)
    xb1, xb2 = rng.standard_normal((3, 2, 7, 7)), rng.standard_normal((3, 2, 7, 7))
    out_a, cache_a = workspace.forward(xa, W, b, padding=1, training=True)
    out_b1, cache_b1 = workspace.forward(xb1, W, b, padding=1, training=True)
    workspace.backward(np.ones_like(out_a), cache_a, W, np.empty_like(W), None)
    out_b2, cache_b2 = workspace.forward(xb2, W, b, padding=1, training=True)
    d = np.ones_like(out_b1)
    for x, cache in [(xb1, cache_b1), (xb2, cache_b2)]:
        dW = np.empty_like(W)
        workspace.backward(d, cache, W, dW, None)
        ref = np.einsum("nol,nkl->ok", d.reshape(3, 3, -1), im2col(x, 3, 1, 1))
        assert np.allclose(dW, ref.reshape(W.shape), atol=1e-10)


def test_default_chunks_follow_the_blas_thread_count(rng):
    """Wide products: L2-sized chunks with one BLAS thread, the whole batch with several.
    Thin products on a BLAS with small-matrix code: chunks of at most SMALL_GEMM
    multiply-adds whatever the thread count. Same numbers every way."""
    from threadpoolctl import threadpool_limits

    from dlcourse.models.conv_gemm import CHUNK_BYTES, SMALL_GEMM, blas_threads, small_gemm_kernel

    for C, C_out in [(16, 32), (2, 4)]:
        x, W, b = _problem(rng, N=40, C=C, C_out=C_out, H=16, W=16, dtype=np.float32)
        results = {}
        for threads in (1, 2):
            with threadpool_limits(threads, user_api="blas"):
                workspace = ConvWorkspace()
                g = workspace.geometry(x.shape, C_out, 3, 1, 1, 1, np.float32)
                madds = C_out * (g.K + 1) * g.area
                if small_gemm_kernel() and madds <= SMALL_GEMM:
                    assert g.chunk * madds <= SMALL_GEMM
                    assert g.chunk * (g.K + 1) * g.area * 4 <= CHUNK_BYTES
                elif blas_threads() == 1:   # the most that fit, spread evenly
                    most = max(1, CHUNK_BYTES // ((g.K + 1) * g.area * 4))
                    assert g.chunk == -(-40 // -(-40 // most)) < 40
                else:
                    assert g.chunk == 40
                results[threads] = workspace.forward(x, W, b, padding=1)[0]
        scale = np.max(np.abs(results[1]))         # float32 sums in another order
        assert np.max(np.abs(results[1] - results[2])) <= 1e-5 * scale


def test_row_blocks_cover_the_rows_and_respect_the_small_gemm_size():
    """Whatever the BLAS kernel: the blocks tile 0..M in order; with small-matrix code each
    block is at most SMALL_GEMM multiply-adds (when blocks of 16 rows allow it)."""
    from dlcourse.models.conv_gemm import SMALL_GEMM, row_blocks, small_gemm_kernel

    for M, K, N in [(512, 161, 32), (128, 512, 32), (64, 17, 4), (4096, 4096, 64), (7, 3, 2)]:
        blocks = row_blocks(M, K, N)
        assert blocks[0].start == 0 and blocks[-1].stop == M
        assert all(a.stop == b.start for a, b in zip(blocks[:-1], blocks[1:], strict=True))
        fits = 16 * K * N <= SMALL_GEMM
        if small_gemm_kernel() and fits and M * K * N > SMALL_GEMM:
            assert len(blocks) > 1
            assert all((b.stop - b.start) * K * N <= SMALL_GEMM for b in blocks)
        elif not fits or M * K * N <= SMALL_GEMM or not small_gemm_kernel():
            assert len(blocks) == 1
