"""Conv2D forward + backward (input and weight gradients): tuned numpy GEMM path vs torch CPU.

    python benchmarks/conv.py [--repeats 9] [--threads N] [--clock wall|cpu] [--path tuned|layer]

Prints, per layer shape, the median time of one numpy step (forward then backward of the
tuned convolution of :mod:`dlcourse.models.conv_gemm`, the path ``Conv2D`` uses) and of one torch
step (``F.conv2d`` then ``backward`` with x, W and b requiring gradients), float32, both
measured in this run with the BLAS threads settled in between; the ratio numpy/torch
(targets: ≤ 1.0 on the first two rows, ≤ 1.5 on the wide layer); the numpy step's rate in
direct-convolution FLOPs as a fraction of this machine's float32 GEMM peak, a 2048² matmul
timed again right after each row (target ≥ 55 % on the wide layer); and the naive-loop
reference against the tuned forward pass.
``--threads N`` limits both numpy's BLAS (threadpoolctl) and torch to N threads: on a machine
shared with other jobs, 1 thread each gives steadier ratios than the default 2, where torch's
worker threads stall when the cores are busy. ``--clock cpu`` times with the process's CPU
time instead of the wall clock (one thread only: it leaves out the time spent waiting for a
core that other jobs hold, which a loaded machine adds to both sides unevenly).
``--path layer`` times ``dlcourse.models.cnn.Conv2D`` (the same tuned path behind the layer's
input checks and dtype conversion) instead of :class:`~dlcourse.models.conv_gemm.ConvWorkspace`
directly. The BLAS kernel is chosen by OpenBLAS (``OPENBLAS_CORETYPE`` overrides it for one
run: set or unset it on the command line only); the header names the one in use.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import gemm_peak_gflops, median_time, report, settle  # noqa: E402

from dlcourse.models.cnn import Conv2D, conv2d_naive  # noqa: E402
from dlcourse.models.conv_gemm import ConvWorkspace  # noqa: E402

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


def layer_step(layer, x, dout):
    """``Conv2D.forward`` then ``Conv2D.backward`` as installed (``--path layer``)."""
    def step():
        out, cache = layer.forward(x, training=True)
        return layer.backward(dout, cache)
    return step


def numpy_step(layer, x, dout):
    """One tuned forward + backward with the layer's weights, gradients into the layer."""
    workspace = ConvWorkspace()
    W, b = layer.params["W"], layer.params["b"]

    def step():
        out, cache = workspace.forward(x, W, b, layer.stride, layer.padding, layer.dilation,
                                       training=True)
        return workspace.backward(dout, cache, W, layer.grads["W"], layer.grads["b"])
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
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall clock (default) or process CPU time (with --threads 1)")
    parser.add_argument("--path", choices=("tuned", "layer"), default="tuned",
                        help="tuned: dlcourse.models.conv_gemm (default); layer: "
                             "dlcourse.models.cnn.Conv2D as installed, for before/after "
                             "comparisons")
    args = parser.parse_args(argv)
    step_of = numpy_step if args.path == "tuned" else layer_step
    import torch

    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
        torch.set_num_threads(args.threads)
    clock = time.perf_counter
    if args.clock == "cpu":
        if args.threads != 1:
            parser.error("--clock cpu needs --threads 1 (CPU time adds up all threads)")
        clock = time.process_time

    from threadpoolctl import threadpool_info

    blas = ", ".join(f"{i['internal_api']} {i.get('architecture') or ''} {i['num_threads']} "
                     "threads" for i in threadpool_info())
    coretype = os.environ.get("OPENBLAS_CORETYPE", "unset")
    print(f"numpy {np.__version__} ({blas}; OPENBLAS_CORETYPE {coretype}), torch "
          f"{torch.__version__} ({torch.get_num_threads()} threads), float32, median of "
          f"{args.repeats}, {args.clock} clock, numpy path: {args.path}")
    peak = gemm_peak_gflops(clock=clock)
    settle()
    print(f"numpy float32 GEMM peak on this machine (n = 2048): {peak:.0f} GFLOP/s (timed again "
          "after each row)\n")

    rows, extra = [], []
    for label, N, C_in, C_out, H, k, p in CASES:
        x, layer, dout = _inputs(N, C_in, C_out, H, k, p)
        # same result first: the comparison is only fair if both compute the same thing
        dx_np, dx_t = step_of(layer, x, dout)(), torch_step(layer, x, dout)().numpy()
        assert np.allclose(dx_np, dx_t, atol=1e-3), "numpy and torch disagree"
        settle()
        t_np = median_time(step_of(layer, x, dout), repeats=args.repeats, clock=clock)
        settle()
        t_torch = median_time(torch_step(layer, x, dout), repeats=args.repeats, clock=clock)
        settle()
        row_peak = gemm_peak_gflops(clock=clock)      # the peak again, right after the row
        settle()
        rows.append((label, t_np, t_torch))
        flops = 3 * 2 * N * C_out * (C_in * k * k) * H * H  # forward, dW and dx products
        extra.append((label, flops / t_np / 1e9, flops / t_torch / 1e9, row_peak))
    report(rows)
    print("\nGFLOP/s of the step (direct-convolution FLOPs) as a share of the GEMM peak timed "
          "right after it:")
    for label, gflops, gflops_torch, row_peak in extra:
        print(f"{label:<48} numpy {gflops:6.1f} GFLOP/s = {gflops / row_peak:5.1%} of "
              f"{row_peak:4.0f} (torch {gflops_torch / row_peak:5.1%})")

    # naive loops vs the tuned forward pass, on a batch small enough for the loops
    x, layer, _ = _inputs(4, 3, 16, 32, 3, 1)
    W, b = layer.params["W"], layer.params["b"]
    workspace = ConvWorkspace()
    naive = median_time(lambda: conv2d_naive(x, W, b, 1, 1), repeats=args.repeats, warmup=1,
                        clock=clock)
    tuned = median_time(lambda: workspace.forward(x, W, b, 1, 1), repeats=args.repeats,
                        clock=clock)
    assert np.allclose(conv2d_naive(x, W, b, 1, 1), workspace.forward(x, W, b, 1, 1)[0],
                       atol=1e-4)
    print(f"\nforward N=4, 3->16, 32x32, k=3, pad 1: naive loops {naive * 1e3:.1f} ms, "
          f"tuned {tuned * 1e3:.3f} ms -> speed-up {naive / tuned:.0f}x")


if __name__ == "__main__":
    main()
