"""numpy MLP training step vs its torch twin on the CPU, and vs the machine's GEMM peak.

One step = forward, softmax cross-entropy, backward (no input gradient, as torch), SGD update;
float32, the same weights on both sides. The two sides (and, for the target size, a float32
GEMM of n=2048) are timed in interleaved rounds with the BLAS threads settled in between
(``harness.settle``); each round is the median of 3 steps. Prints, per size, the median step
time of each side and their ratio (numpy / torch), then the numpy step's GFLOP/s as a fraction
of the GEMM's, measured in the same rounds. Targets: ratio <= 1.15, and >= 65 % of the GEMM
peak for 784-512-512-10 at batch 1024.

    python benchmarks/mlp.py [--repeats 9]
    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python benchmarks/mlp.py   # one thread per side

On a machine shared with other jobs, two-thread BLAS calls stall whenever a worker thread is
descheduled, and the medians mostly measure the load; the one-thread run is the steadier
measure of how close the numpy step comes to its GEMM peak.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import settle  # noqa: E402

from dlcourse.core.layers import MLP  # noqa: E402
from dlcourse.core.losses import softmax_cross_entropy  # noqa: E402
from dlcourse.core.optim import SGD  # noqa: E402
from dlcourse.torch import to_torch

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


def _block(fn, k: int = 3) -> float:
    """Median of ``k`` timed calls (the caller has warmed ``fn`` up)."""
    times = []
    for _ in range(k):
        begin = time.perf_counter()
        fn()
        times.append(time.perf_counter() - begin)
    return float(np.median(times))


def interleaved(fns: dict, rounds: int) -> dict[str, np.ndarray]:
    """Time every function once per round, in turn, settling BLAS threads between them.

    On a shared machine the load changes from second to second; interleaving the sides
    exposes them to the same conditions, so their ratio means something even when the
    absolute times do not. Returns {name: per-round times}.
    """
    for fn in fns.values():
        fn()
        fn()
    out = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            settle(0.05)
            out[name].append(_block(fn))
    return {name: np.array(v) for name, v in out.items()}


def gemm(n: int = 2048):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(np.float32)
    b = rng.standard_normal((n, n)).astype(np.float32)
    out = np.empty((n, n), dtype=np.float32)
    return (lambda: np.matmul(a, b, out=out)), 2 * n**3


def main(repeats: int = 9) -> None:
    import os

    import torch

    print(f"numpy {np.__version__}, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads); {repeats} interleaved rounds, float32; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    rng = np.random.default_rng(0)
    gemm_fn, gemm_flops = gemm()
    rows, fractions = [], []
    for sizes, batch in SIZES:
        X = rng.standard_normal((batch, sizes[0])).astype(np.float32)
        y = rng.integers(0, sizes[-1], batch)
        model = MLP(sizes, seed=0)
        twin = to_torch(model)
        fns = {"numpy": numpy_step(model, SGD(model, lr=0.01), X, y),
               "torch": torch_step(twin, X, y)}
        if sizes == [784, 512, 512, 10] and batch == 1024:
            fns["gemm"] = gemm_fn
        t = interleaved(fns, repeats)
        name = f"{'-'.join(map(str, sizes))} batch {batch}"
        rows.append((name, float(np.median(t["numpy"])), float(np.median(t["torch"])),
                     float(np.min(t["numpy"])), float(np.min(t["torch"])),
                     float(np.median(t["numpy"] / t["torch"]))))
        if "gemm" in t:
            flops = step_flops(sizes, batch)
            for stat in (np.median, np.min):
                step_gflops = flops / stat(t["numpy"]) / 1e9
                peak = gemm_flops / stat(t["gemm"]) / 1e9
                fractions.append((name, stat.__name__, step_gflops, peak))
    print(f"\n{'measurement':<34} {'numpy ms':>9} {'torch ms':>9} {'ratio':>6} "
          f"{'best np':>8} {'best t':>8} {'ratio':>6} {'per-round ratio':>16}")
    for name, a, b, amin, bmin, per_round in rows:
        print(f"{name:<34} {a * 1e3:>9.2f} {b * 1e3:>9.2f} {a / b:>6.2f} {amin * 1e3:>8.2f} "
              f"{bmin * 1e3:>8.2f} {amin / bmin:>6.2f} {per_round:>16.2f}")
    print("(ratio = numpy / torch from the medians; 'best' = fastest round; per-round ratio =")
    print(" median over rounds of numpy / torch measured back to back)\n")
    for name, stat, step_gflops, peak in fractions:
        print(f"{name} ({stat} of rounds): numpy step {step_gflops:.1f} GFLOP/s, float32 GEMM "
              f"n=2048 {peak:.1f} GFLOP/s -> {step_gflops / peak:.0%} of GEMM peak")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    main(parser.parse_args().repeats)
