"""numpy LSTM forward+backward over a sequence vs torch.nn.LSTM on the CPU (float32).

Batch 32, T = 50, input 32, hidden 128; target numpy/torch ≤ 1.0 with one thread (issue 17).
Both sides do the same work: forward over the sequence, backward of sum(out * dout) for
dx and every weight gradient. The numpy LSTM rows run ``dlcourse.models.rnn.LSTM``, whose time
loops are those of :mod:`dlcourse.models.lstm_fused` with a workspace of reused buffers; the
row "fused loops, fresh buffers" calls those loops without a workspace, as the functions
``lstm_forward``/``lstm_backward`` do by default (every call then allocates, and page-faults,
its MB-sized arrays).
Also reports the tanh RNN and a 2-layer LSTM. Three tables: the default thread count of both
libraries (2 here), and both limited to one thread, in wall time and in process CPU time
(the steadiest on a shared machine: it does not count the time spent waiting for a core
that other jobs hold).

    python benchmarks/lstm.py
"""

from __future__ import annotations

import time

import harness
import numpy as np
import torch
from harness import report

from dlcourse.models.lstm_fused import lstm_backward, lstm_forward
from dlcourse.models.rnn import LSTM, RNN
from dlcourse.torch import to_torch

T, N, D, H = 50, 32, 32, 128


def numpy_step(model, x, dout):
    def run():
        out, cache = model.forward(x, training=True)
        model.backward(dout, cache)
    return run


def fused_lstm_step(model, x, dout):
    """The tuned LSTM loops on the model's weights without a workspace (zero initial states,
    time-first)."""
    zeros = np.zeros((model.num_layers, x.shape[1], model.hidden_size), dtype=model.dtype)

    def run():
        out, caches = lstm_forward(x, zeros, zeros, model.params, model.num_layers)
        dx, grads, dh0, dc0 = lstm_backward(dout, caches)
        for name, grad in grads.items():
            model.grads[name][...] = grad
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
    return tuple(harness.interleaved_medians([fn_a, fn_b], repeats, warmup, clock, pause=0.2))


def run_table(repeats: int, threads: int, clock=time.perf_counter) -> None:
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    x = rng.standard_normal((T, N, D)).astype(np.float32)
    dout = rng.standard_normal((T, N, H)).astype(np.float32)
    rows = []
    torch.set_num_threads(threads)
    with threadpool_limits(threads, user_api="blas"):
        for name, model, step in [
                (f"LSTM fwd+bwd B={N} T={T} in={D} H={H}", LSTM(D, H), numpy_step),
                ("LSTM 2 layers, same sizes", LSTM(D, H, num_layers=2), numpy_step),
                ("LSTM, fused loops, fresh buffers", LSTM(D, H), fused_lstm_step),
                ("RNN (tanh) fwd+bwd, same sizes", RNN(D, H), numpy_step)]:
            twin = to_torch(model)
            t_np, t_torch = interleaved_medians(step(model, x, dout),
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
