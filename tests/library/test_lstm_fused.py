"""The tuned LSTM time loops (dlcourse.models.lstm_fused) == the cell formulas == finite differences
== torch.nn.LSTM. Float64 for exact comparisons, float32 for the dtype; seeded, no timing."""

import warnings

import numpy as np
import pytest

from dlcourse.core.gradcheck import (
    FLOAT64_TOLERANCE,
    numerical_gradient_of_output,
    relative_error,
)
from dlcourse.models.lstm_fused import (
    internal_rows,
    lstm_backward,
    lstm_forward,
    lstm_layer_backward,
    lstm_layer_forward,
)
from dlcourse.models.rnn import LSTM, lstm_cell_backward, lstm_cell_forward, lstm_forward_naive
from dlcourse.torch import to_torch

T, N, D, H = 6, 3, 4, 5
STEP = 1e-5  # as in test_rnn.py: balances round-off and truncation for the LSTM in float64


def _weights(rng, D=D, H=H, dtype=np.float64, scale=0.5):
    return tuple((scale * rng.standard_normal(shape)).astype(dtype)
                 for shape in [(4 * H, D), (4 * H, H), (4 * H,), (4 * H,)])


def _inputs(rng, dtype=np.float64):
    x = rng.standard_normal((T, N, D)).astype(dtype)
    h0, c0 = rng.standard_normal((N, H)).astype(dtype), rng.standard_normal((N, H)).astype(dtype)
    return x, h0, c0


def test_internal_rows_put_the_sigmoid_gates_first():
    rows = internal_rows(2)        # torch rows i i f f g g o o -> o o i i f f g g
    assert list(rows) == [6, 7, 0, 1, 2, 3, 4, 5]


def test_forward_equals_the_cell_loop(rng):
    x, h0, c0 = _inputs(rng)
    weights = _weights(rng)
    out, cache = lstm_layer_forward(x, h0, c0, *weights)
    ref, h, c = lstm_forward_naive(x, h0, c0, *weights)
    assert out.shape == (T, N, H) and out.flags.c_contiguous
    assert np.allclose(out, ref, atol=1e-13)
    assert np.allclose(cache.h_n(), h, atol=1e-13) and np.allclose(cache.c_n(), c, atol=1e-13)
    gates = cache.gate_values()
    assert set(gates) == {"i", "f", "g", "o", "c", "h"}
    hs, cs, step_gates = h0, c0, []
    for t in range(T):
        hs, cs, step = lstm_cell_forward(x[t], hs, cs, *weights)
        step_gates.append(step)
    for name, position in [("i", 5), ("f", 6), ("g", 7), ("o", 8)]:
        assert np.allclose(gates[name], np.stack([s[position] for s in step_gates]), atol=1e-13)
    assert np.allclose(gates["h"], out) and np.allclose(gates["c"][-1], c)


def test_backward_equals_the_cell_backward_loop(rng):
    x, h0, c0 = _inputs(rng)
    weights = _weights(rng)
    W_ih, W_hh, _, _ = weights
    out, cache = lstm_layer_forward(x, h0, c0, *weights)
    dout = rng.standard_normal(out.shape)
    result = lstm_layer_backward(dout, cache)
    caches, h, c = [], h0, c0
    for t in range(T):
        h, c, step = lstm_cell_forward(x[t], h, c, *weights)
        caches.append(step)
    dh, dc = np.zeros((N, H)), np.zeros((N, H))
    dx = np.zeros_like(x)
    dW_ih, dW_hh, db = np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros(4 * H)
    for t in reversed(range(T)):
        g = lstm_cell_backward(dh + dout[t], dc, caches[t])
        dx[t], dh, dc = g["dx"], g["dh_prev"], g["dc_prev"]
        dW_ih += g["dW_ih"]
        dW_hh += g["dW_hh"]
        db += g["db"]
    for name, ref in [("dx", dx), ("dW_ih", dW_ih), ("dW_hh", dW_hh), ("db", db), ("dh0", dh),
                      ("dc0", dc)]:
        assert np.allclose(result[name], ref, atol=1e-12), name


def test_gradients_match_finite_differences(rng):
    x, h0, c0 = _inputs(rng)
    weights = list(_weights(rng))
    out, cache = lstm_layer_forward(x, h0, c0, *weights)
    dout = rng.standard_normal(out.shape)
    result = lstm_layer_backward(dout, cache)

    def run():
        return lstm_layer_forward(x, h0, c0, *weights)[0]

    b_ih = weights[2]
    for name, array in [("dx", x), ("dh0", h0), ("dc0", c0), ("dW_ih", weights[0]),
                        ("dW_hh", weights[1]), ("db", b_ih)]:
        numeric = numerical_gradient_of_output(run, array, dout, STEP)
        assert relative_error(result[name], numeric) < FLOAT64_TOLERANCE, name


@pytest.mark.parametrize("num_layers", [1, 2, 3])
def test_stack_matches_torch_float64(num_layers, rng):
    torch = pytest.importorskip("torch")
    model = LSTM(D, H, num_layers=num_layers, seed=2, dtype=np.float64)
    x = rng.standard_normal((T, N, D))
    h0, c0 = rng.standard_normal((num_layers, N, H)), rng.standard_normal((num_layers, N, H))
    out, caches = lstm_forward(x, h0, c0, model.params, num_layers)
    dout = rng.standard_normal(out.shape)
    dx, grads, dh0, dc0 = lstm_backward(dout, caches)

    twin = to_torch(model)
    xt, h0t, c0t = (torch.tensor(a, requires_grad=True) for a in (x, h0, c0))
    out_t, (h_n, c_n) = twin(xt, (h0t, c0t))
    out_t.backward(torch.tensor(dout))
    assert relative_error(out, out_t.detach().numpy()) < 1e-10
    assert relative_error(np.stack([c.h_n() for c in caches]), h_n.detach().numpy()) < 1e-10
    assert relative_error(np.stack([c.c_n() for c in caches]), c_n.detach().numpy()) < 1e-10
    assert relative_error(dx, xt.grad.numpy()) < FLOAT64_TOLERANCE
    assert relative_error(dh0, h0t.grad.numpy()) < FLOAT64_TOLERANCE
    assert relative_error(dc0, c0t.grad.numpy()) < FLOAT64_TOLERANCE
    assert set(grads) == {name for name, _ in twin.named_parameters()}
    for name, p in twin.named_parameters():
        assert relative_error(grads[name], p.grad.numpy()) < FLOAT64_TOLERANCE, name


def test_benchmark_size_in_float32_agrees_with_torch(rng):
    """B = 32, T = 50, 32 -> 128 (benchmarks/lstm.py): float32 throughout, within float32
    round-off of torch run in float64 on the same numbers."""
    torch = pytest.importorskip("torch")
    model = LSTM(32, 128, seed=0)
    x = rng.standard_normal((50, 32, 32)).astype(np.float32)
    zeros = np.zeros((1, 32, 128), dtype=np.float32)
    out, caches = lstm_forward(x, zeros, zeros, model.params, 1)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    dx, grads, dh0, dc0 = lstm_backward(dout, caches)
    assert {a.dtype for a in (out, dx, dh0, dc0, *grads.values())} == {np.dtype(np.float32)}
    twin = to_torch(model).double()
    xt = torch.tensor(x.astype(np.float64), requires_grad=True)
    out_t, _ = twin(xt)
    out_t.backward(torch.tensor(dout.astype(np.float64)))
    assert np.max(np.abs(out - out_t.detach().numpy())) < 1e-5
    assert np.max(np.abs(dx - xt.grad.numpy())) < 1e-4
    for name, p in twin.named_parameters():
        ref = p.grad.numpy()
        assert np.max(np.abs(grads[name] - ref)) <= 1e-4 * max(1.0, np.max(np.abs(ref))), name


def test_saturated_gates_give_the_limits_without_warnings(rng):
    """Pre-activations of ±1000: exp overflows to inf inside, σ must come out 0 or 1 and
    tanh ±1, with no floating-point warning and finite gradients."""
    x, h0, c0 = _inputs(rng, dtype=np.float32)
    weights = _weights(rng, dtype=np.float32, scale=1000.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, cache = lstm_layer_forward(x, h0, c0, *weights)
        result = lstm_layer_backward(np.ones_like(out), cache)
    gates = cache.gate_values()
    for name in "ifo":
        assert np.all((gates[name] >= 0) & (gates[name] <= 1))
        assert np.mean((gates[name] < 1e-6) | (gates[name] > 1 - 1e-6)) > 0.9
    assert np.all(np.abs(gates["g"]) <= 1) and np.all(np.isfinite(out))
    assert all(np.all(np.isfinite(v)) for v in result.values())
    ref, _, _ = lstm_forward_naive(x.astype(np.float64), h0.astype(np.float64),
                                   c0.astype(np.float64), *(w.astype(np.float64)
                                                            for w in weights))
    assert np.allclose(out, ref, atol=1e-5)


def test_layer_cache_holds_no_reference_to_the_caller_arrays(rng):
    """Changing x after forward must not change what backward computes (the stacked
    operands are copies)."""
    x, h0, c0 = _inputs(rng)
    weights = _weights(rng)
    out, cache = lstm_layer_forward(x, h0, c0, *weights)
    dout = rng.standard_normal(out.shape)
    before = lstm_layer_backward(dout, cache)
    x[...] = 0
    h0[...] = 0
    after = lstm_layer_backward(dout, cache)
    for name in before:
        assert np.array_equal(before[name], after[name]), name
