"""Conv2D forward + backward (input and weight gradients): tuned numpy im2col vs torch CPU.

    python benchmarks/conv.py [--repeats 9] [--threads N]

Prints, per layer shape, the median time of one numpy step (``Conv2D.forward`` then
``Conv2D.backward``) and of one torch step (``F.conv2d`` then ``backward`` with x, W and b
requiring gradients), float32, both measured in this run with the BLAS threads settled in
between; the ratio numpy/torch (target ≤ 1.0 on the first two rows); the numpy step's GEMM
throughput as a fraction of this machine's float32 GEMM peak; and the naive-loop reference
against the tuned forward pass. ``--threads N`` limits both numpy's BLAS (threadpoolctl)
and torch to N threads: on a machine shared with other jobs, 1 thread each gives steadier
ratios than the default 2, where torch's worker threads stall when the cores are busy.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import gemm_peak_gflops, median_time, report, settle  # noqa: E402

from dlcourse.cnn import Conv2D, conv2d_naive  # noqa: E402

# (label, N, C_in, C_out, H=W, k, padding)
CASES = [
    ("N=64, 3->16, 32x32, k=3, pad 1", 64, 3, 16, 32, 3, 1),
    ("N=128, 1->16, 8x8, k=3, pad 1", 128, 1, 16, 8, 3, 1),
    ("wider: N=64, 32->64, 16x16, k=3, pad 1", 64, 32, 64, 16, 3, 1),
]


def _inputs(N, C_in, C_out, H, k, p, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C_in, H, H)).astype(np.float32)
    layer = Conv2D(C_in, C_out, k, padding=p, seed=seed)
    layer.params["b"][...] = rng.standard_normal(C_out)
    Ho = H + 2 * p - k + 1
    dout = rng.standard_normal((N, C_out, Ho, Ho)).astype(np.float32)
    return x, layer, dout


def numpy_step(layer, x, dout):
    def step():
        out, cache = layer.forward(x, training=True)
        return layer.backward(dout, cache)
    return step


def torch_step(layer, x, dout):
    import torch
    import torch.nn.functional as F

    xt = torch.from_numpy(x.copy()).requires_grad_()
    Wt = torch.from_numpy(layer.params["W"].copy()).requires_grad_()
    bt = torch.from_numpy(layer.params["b"].copy()).requires_grad_()
    dt = torch.from_numpy(dout.copy())

    def step():
        xt.grad = Wt.grad = bt.grad = None
        out = F.conv2d(xt, Wt, bt, padding=layer.padding)
        out.backward(dt)
        return xt.grad
    return step


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9, help="median of this many (>= 7)")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS and torch threads (default: the libraries' defaults)")
    args = parser.parse_args(argv)
    import torch

    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
        torch.set_num_threads(args.threads)

    from threadpoolctl import threadpool_info

    blas = ", ".join(f"{i['internal_api']} {i['num_threads']} threads" for i in threadpool_info())
    print(f"numpy {np.__version__} ({blas}), torch {torch.__version__} "
          f"({torch.get_num_threads()} threads), float32, median of {args.repeats}")
    peak = gemm_peak_gflops()
    settle()
    print(f"numpy float32 GEMM peak on this machine: {peak:.0f} GFLOP/s\n")

    rows, extra = [], []
    for label, N, C_in, C_out, H, k, p in CASES:
        x, layer, dout = _inputs(N, C_in, C_out, H, k, p)
        # same result first: the comparison is only fair if both compute the same thing
        dx_np, dx_t = numpy_step(layer, x, dout)(), torch_step(layer, x, dout)().numpy()
        assert np.allclose(dx_np, dx_t, atol=1e-3), "numpy and torch disagree"
        settle()
        t_np = median_time(numpy_step(layer, x, dout), repeats=args.repeats)
        settle()
        t_torch = median_time(torch_step(layer, x, dout), repeats=args.repeats)
        settle()
        rows.append((label, t_np, t_torch))
        flops = 3 * 2 * N * C_out * (C_in * k * k) * H * H  # forward, dW and dcols GEMMs
        extra.append((label, flops / t_np / 1e9))
    report(rows)
    print()
    for label, gflops in extra:
        print(f"{label:<48} numpy step at {gflops:6.1f} GFLOP/s = {gflops / peak:5.1%} of peak")

    # naive loops vs the tuned forward pass, on a batch small enough for the loops
    x, layer, _ = _inputs(4, 3, 16, 32, 3, 1)
    W, b = layer.params["W"], layer.params["b"]
    naive = median_time(lambda: conv2d_naive(x, W, b, 1, 1), repeats=args.repeats, warmup=1)
    tuned = median_time(lambda: layer.forward(x), repeats=args.repeats)
    assert np.allclose(conv2d_naive(x, W, b, 1, 1), layer(x), atol=1e-4)
    print(f"\nforward N=4, 3->16, 32x32, k=3, pad 1: naive loops {naive * 1e3:.1f} ms, "
          f"im2col {tuned * 1e3:.3f} ms -> speed-up {naive / tuned:.0f}x")


if __name__ == "__main__":
    main()
