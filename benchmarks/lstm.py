"""numpy LSTM forward+backward over a sequence vs torch.nn.LSTM on the CPU (float32).

Batch 32, T = 50, input 32, hidden 128 (the issue's setting); target numpy/torch ≤ 2.0.
Both sides do the same work: forward over the sequence, backward of sum(out * dout) for
dx and every weight gradient. Also reports the tanh RNN and a 2-layer LSTM. Two tables:
the default thread count of both libraries (2 here), and both limited to one thread, in wall
time and in process CPU time (the steadiest on a shared machine: it does not count the time
spent waiting for a core that other jobs hold).

    python benchmarks/lstm.py
"""

from __future__ import annotations

import time

import numpy as np
import torch
from harness import report, settle

from dlcourse.rnn import LSTM, RNN

T, N, D, H = 50, 32, 32, 128


def numpy_step(model, x, dout):
    def run():
        out, cache = model.forward(x, training=True)
        model.backward(dout, cache)
    return run


def torch_step(twin, x, dout):
    xt = torch.from_numpy(x).requires_grad_(True)
    dt = torch.from_numpy(dout)

    def run():
        xt.grad = None
        twin.zero_grad(set_to_none=True)
        out, _ = twin(xt)
        out.backward(dt)
    return run


def interleaved_medians(fn_a, fn_b, repeats: int = 9, warmup: int = 2, clock=time.perf_counter):
    """Median times of fn_a and fn_b, timed alternately with BLAS settling between sides.

    Alternating keeps both sides under the same (shared, drifting) machine load; the pause
    lets OpenBLAS threads stop spinning before torch runs (and vice versa). ``clock`` can be
    ``time.process_time`` (CPU time of the process): with one thread per library that
    ignores the time spent waiting for a core that other jobs hold.
    """
    times_a, times_b = [], []
    for r in range(warmup + repeats):
        for fn, times in ((fn_a, times_a), (fn_b, times_b)):
            settle()
            start = clock()
            fn()
            if r >= warmup:
                times.append(clock() - start)
    return float(np.median(times_a)), float(np.median(times_b))


def run_table(repeats: int, threads: int, clock=time.perf_counter) -> None:
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    x = rng.standard_normal((T, N, D)).astype(np.float32)
    dout = rng.standard_normal((T, N, H)).astype(np.float32)
    rows = []
    torch.set_num_threads(threads)
    with threadpool_limits(threads, user_api="blas"):
        for name, model in [(f"LSTM fwd+bwd B={N} T={T} in={D} H={H}", LSTM(D, H)),
                            ("LSTM 2 layers, same sizes", LSTM(D, H, num_layers=2)),
                            ("RNN (tanh) fwd+bwd, same sizes", RNN(D, H))]:
            twin = model.to_torch()
            t_np, t_torch = interleaved_medians(numpy_step(model, x, dout),
                                                torch_step(twin, x, dout), repeats,
                                                clock=clock)
            rows.append((name, t_np, t_torch))
    what = "CPU time" if clock is time.process_time else "wall time"
    print(f"\n{threads} BLAS/torch thread(s), float32, {what}, median of {repeats}, "
          "interleaved")
    report(rows)


def main(repeats: int = 9) -> None:
    print(f"numpy {np.__version__}, torch {torch.__version__}")
    default_threads = torch.get_num_threads()
    run_table(repeats, default_threads)
    if default_threads > 1:
        run_table(repeats, 1)
    run_table(repeats, 1, clock=time.process_time)


if __name__ == "__main__":
    main()
