"""Timing helpers for the benchmarks: medians, BLAS settling, the machine's GEMM peak.

Absolute times drift 15–25 % between runs on shared machines, so every benchmark reports
*ratios measured in the same run* (numpy / torch, achieved / GEMM peak).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def settle(seconds: float = 0.2) -> None:
    """Let OpenBLAS worker threads stop spinning before timing another library.

    Measured here: right after a numpy BLAS call, torch matmuls started in the same process
    can run up to 75x slower while OpenBLAS threads still spin (../shared/notes).
    """
    time.sleep(seconds)


def median_time(fn: Callable[[], object], repeats: int = 9, warmup: int = 2) -> float:
    """Median wall time of ``fn()`` in seconds over ``repeats`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def gemm_peak_gflops(n: int = 2048, dtype=np.float32) -> float:
    """Practical float32 matmul throughput of numpy's BLAS on this machine, in GFLOP/s."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    out = np.empty((n, n), dtype=dtype)
    seconds = median_time(lambda: np.matmul(a, b, out=out), repeats=5)
    return 2 * n**3 / seconds / 1e9


def report(rows: list[tuple[str, float, float]], left: str = "numpy", right: str = "torch"):
    """Print ``(name, left_seconds, right_seconds)`` rows with their ratio."""
    print(f"{'measurement':<48} {left + ' ms':>10} {right + ' ms':>10} {'ratio':>7}")
    for name, a, b in rows:
        print(f"{name:<48} {a * 1e3:>10.3f} {b * 1e3:>10.3f} {a / b:>7.2f}")
