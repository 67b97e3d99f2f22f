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


def median_time(fn: Callable[[], object], repeats: int = 9, warmup: int = 2,
                clock: Callable[[], float] = time.perf_counter) -> float:
    """Median time of ``fn()`` in seconds over ``repeats`` runs after ``warmup`` runs.

    ``clock`` is the wall clock by default; ``time.process_time`` (CPU time of the process)
    leaves out the time spent waiting for a core that other jobs hold, with one thread.
    """
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        times.append(clock() - start)
    return float(np.median(times))


def interleaved_medians(fns: list[Callable[[], object]], repeats: int = 9, warmup: int = 2,
                        clock: Callable[[], float] = time.perf_counter,
                        pause: float = 0.0) -> list[float]:
    """Median times (s) of several functions timed round-robin: each repetition runs every
    function once, so all of them see the same (shared, drifting) machine load. The order
    rotates from one repetition to the next, so each function follows each other one (and
    the caches it leaves) equally often.

    ``pause`` seconds of :func:`settle` before each call let one library's threads stop
    spinning before the other runs (needed with more than one thread per library).
    """
    times: list[list[float]] = [[] for _ in fns]
    for r in range(warmup + repeats):
        for j in range(len(fns)):
            i = (r + j) % len(fns)
            if pause:
                settle(pause)
            start = clock()
            fns[i]()
            if r >= warmup:
                times[i].append(clock() - start)
    return [float(np.median(column)) for column in times]


def gemm_problem(n: int = 2048, dtype=np.float32):
    """``(run, flops)``: one n×n float32 matmul into a preallocated output, and its FLOPs."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    out = np.empty((n, n), dtype=dtype)
    return (lambda: np.matmul(a, b, out=out)), 2 * n**3


def gemm_peak_gflops(n: int = 2048, dtype=np.float32,
                     clock: Callable[[], float] = time.perf_counter) -> float:
    """Practical float32 matmul throughput of numpy's BLAS on this machine, in GFLOP/s."""
    run, flops = gemm_problem(n, dtype)
    seconds = median_time(run, repeats=5, clock=clock)
    return flops / seconds / 1e9


def report(rows: list[tuple[str, float, float]], left: str = "numpy", right: str = "torch"):
    """Print ``(name, left_seconds, right_seconds)`` rows with their ratio."""
    print(f"{'measurement':<48} {left + ' ms':>10} {right + ' ms':>10} {'ratio':>7}")
    for name, a, b in rows:
        print(f"{name:<48} {a * 1e3:>10.3f} {b * 1e3:>10.3f} {a / b:>7.2f}")
