"""numpy MLP training step vs its torch twin on the CPU, and vs the machine's GEMM peak.

One step = forward, softmax cross-entropy, backward (no input gradient, as torch), SGD update;
float32, the same weights on both sides. Prints, per size, the median step time of each side
and their ratio (numpy / torch), then the numpy step's GFLOP/s as a fraction of the measured
float32 GEMM peak. Target: ratio <= 1.15, and >= 65 % of peak for 784-512-512-10 at batch 1024.

    python benchmarks/mlp.py [--repeats 9]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import gemm_peak_gflops, median_time, report, settle  # noqa: E402

from dlcourse.layers import MLP  # noqa: E402
from dlcourse.losses import softmax_cross_entropy  # noqa: E402
from dlcourse.optim import SGD  # noqa: E402

SIZES = [  # (layer sizes, batch)
    ([64, 128, 128, 10], 64),
    ([64, 256, 256, 10], 256),
    ([784, 512, 512, 10], 256),
    ([784, 512, 512, 10], 1024),
    ([784, 1024, 1024, 10], 1024),
]


def step_flops(sizes, batch) -> float:
    """Matmul FLOPs of one step: forward, weight grads, input grads of all but layer 1."""
    pairs = list(zip(sizes[:-1], sizes[1:], strict=True))
    fwd = sum(2 * batch * a * b for a, b in pairs)
    dx = sum(2 * batch * a * b for a, b in pairs[1:])
    return 2 * fwd + dx


def numpy_step(model, opt, X, y):
    def step():
        out, cache = model.forward(X, training=True)
        _, dout = softmax_cross_entropy(out, y)
        model.backward(dout, cache, need_dx=False)
        opt.step()
    return step


def torch_step(twin, X, y):
    import torch

    opt = torch.optim.SGD(twin.parameters(), lr=0.01)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=False)
        loss_fn(twin(Xt), yt).backward()
        opt.step()
    return step


def main(repeats: int = 9) -> None:
    import torch

    print(f"numpy {np.__version__}, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads); median of {repeats} steps, float32")
    rng = np.random.default_rng(0)
    rows, gflops = [], {}
    for sizes, batch in SIZES:
        X = rng.standard_normal((batch, sizes[0])).astype(np.float32)
        y = rng.integers(0, sizes[-1], batch)
        model = MLP(sizes, seed=0)
        twin = model.to_torch()
        np_step = numpy_step(model, SGD(model, lr=0.01), X, y)
        t_step = torch_step(twin, X, y)
        settle()
        t_np = median_time(np_step, repeats=repeats)
        settle()
        t_torch = median_time(t_step, repeats=repeats)
        settle()
        name = f"{'-'.join(map(str, sizes))} batch {batch}"
        rows.append((name, t_np, t_torch))
        gflops[name] = step_flops(sizes, batch) / t_np / 1e9
    settle()
    peak = gemm_peak_gflops()
    print()
    report(rows)
    print(f"\nfloat32 GEMM peak (numpy, n=2048): {peak:.0f} GFLOP/s")
    print(f"{'measurement':<48} {'GFLOP/s':>10} {'of peak':>10}")
    for name, g in gflops.items():
        print(f"{name:<48} {g:>10.1f} {g / peak:>10.0%}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    main(parser.parse_args().repeats)
