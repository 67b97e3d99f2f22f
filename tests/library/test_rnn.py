"""RNN and LSTM: cells == tuned layers, finite differences, torch.nn.RNN/LSTM, clipping, tasks."""

import subprocess
import sys

import numpy as np
import pytest

from dlcourse.core.gradcheck import (
    FLOAT64_TOLERANCE,
    check_module_gradients,
    numerical_gradient,
    numerical_gradient_of_output,
    relative_error,
)
from dlcourse.core.optim import clip_gradients
from dlcourse.data import make_long_dependency, make_noisy_sines, sliding_windows
from dlcourse.models.rnn import (
    LSTM,
    RNN,
    lstm_cell_backward,
    lstm_cell_forward,
    lstm_forward_naive,
    rnn_cell_backward,
    rnn_cell_forward,
    rnn_forward_naive,
)
from dlcourse.models.sequence_models import SequenceModel
from dlcourse.torch import to_torch

T, N, D, H = 5, 3, 4, 6
# Finite-difference step: at 1e-6 float64 round-off (~1e-16/h) already reaches 1e-6 relative
# error on the smallest LSTM gradient entries; 1e-5 balances round-off and truncation (h²).
STEP = 1e-5
LAYERS = [RNN, LSTM]


def _model(cls, num_layers=1, dtype=np.float64, **kw):
    return cls(D, H, num_layers=num_layers, seed=3, dtype=dtype, **kw)


def _torch_run(model, x, dout, h0=None, c0=None):
    """Forward + backward of the torch twin; returns out, dx, grads, h_n, (c_n), dh0, (dc0)."""
    torch = pytest.importorskip("torch")
    twin = to_torch(model)
    xt = torch.tensor(x, requires_grad=True)
    states = None
    if h0 is not None:
        h0t = torch.tensor(h0, requires_grad=True)
        c0t = torch.tensor(c0, requires_grad=True) if c0 is not None else None
        states = (h0t, c0t) if c0 is not None else h0t
    out, final = twin(xt, states)
    out.backward(torch.tensor(dout))
    grads = {name: p.grad.numpy() for name, p in twin.named_parameters()}
    result = {"out": out.detach().numpy(), "dx": xt.grad.numpy(), "grads": grads}
    if isinstance(final, tuple):
        result["h_n"], result["c_n"] = (s.detach().numpy() for s in final)
    else:
        result["h_n"] = final.detach().numpy()
    if h0 is not None:
        result["dh0"] = h0t.grad.numpy()
        if c0 is not None:
            result["dc0"] = c0t.grad.numpy()
    return result


# ---- the single-step functions ----------------------------------------------------------

def test_rnn_cell_is_the_formula(rng):
    x, h = rng.standard_normal((N, D)), rng.standard_normal((N, H))
    W_ih, W_hh = rng.standard_normal((H, D)), rng.standard_normal((H, H))
    b_ih, b_hh = rng.standard_normal(H), rng.standard_normal(H)
    out, _ = rnn_cell_forward(x, h, W_ih, W_hh, b_ih, b_hh)
    for n in range(N):
        assert np.allclose(out[n], np.tanh(W_ih @ x[n] + b_ih + W_hh @ h[n] + b_hh))


def test_cell_backwards_match_finite_differences(rng):
    x, h, c = (rng.standard_normal(s) for s in [(N, D), (N, H), (N, H)])
    W_ih, W_hh = rng.standard_normal((4 * H, D)) * 0.5, rng.standard_normal((4 * H, H)) * 0.5
    b_ih, b_hh = rng.standard_normal(4 * H), rng.standard_normal(4 * H)
    dh, dc = rng.standard_normal((N, H)), rng.standard_normal((N, H))

    def loss():
        h2, c2, _ = lstm_cell_forward(x, h, c, W_ih, W_hh, b_ih, b_hh)
        return float(np.sum(h2 * dh) + np.sum(c2 * dc))

    _, _, cache = lstm_cell_forward(x, h, c, W_ih, W_hh, b_ih, b_hh)
    grads = lstm_cell_backward(dh, dc, cache)
    for key, arr in [("dx", x), ("dh_prev", h), ("dc_prev", c), ("dW_ih", W_ih),
                     ("dW_hh", W_hh), ("db", b_ih)]:
        numeric = numerical_gradient(loss, arr, STEP)
        assert relative_error(grads[key], numeric) < FLOAT64_TOLERANCE, key

    Wr, Ur = W_ih[:H], W_hh[:H]
    br = b_ih[:H].copy()
    _, cache = rnn_cell_forward(x, h, Wr, Ur, br, b_hh[:H])
    grads = rnn_cell_backward(dh, cache)

    def rnn_loss():
        return float(np.sum(rnn_cell_forward(x, h, Wr, Ur, br, b_hh[:H])[0] * dh))

    for key, arr in [("dx", x), ("dh_prev", h), ("dW_ih", Wr), ("dW_hh", Ur), ("db", br)]:
        numeric = numerical_gradient(rnn_loss, arr, STEP)
        assert relative_error(grads[key], numeric) < FLOAT64_TOLERANCE, key


# ---- tuned layers == step-by-step loops ---------------------------------------------------

def test_tuned_rnn_equals_the_cell_loop(rng):
    model = _model(RNN)
    x, h0 = rng.standard_normal((T, N, D)), rng.standard_normal((1, N, H))
    out, cache = model.forward(x, h0=h0)
    p = model.params
    ref = rnn_forward_naive(x, h0[0], p["weight_ih_l0"], p["weight_hh_l0"], p["bias_ih_l0"],
                            p["bias_hh_l0"])
    assert out.shape == (T, N, H)
    assert np.allclose(out, ref, atol=1e-12)
    assert np.allclose(cache.h_n[0], ref[-1], atol=1e-12)


def test_tuned_lstm_equals_the_cell_loop(rng):
    model = _model(LSTM)
    x = rng.standard_normal((T, N, D))
    h0, c0 = rng.standard_normal((1, N, H)), rng.standard_normal((1, N, H))
    out, cache = model.forward(x, h0=h0, c0=c0)
    p = model.params
    ref, h, c = lstm_forward_naive(x, h0[0], c0[0], p["weight_ih_l0"], p["weight_hh_l0"],
                                   p["bias_ih_l0"], p["bias_hh_l0"])
    assert np.allclose(out, ref, atol=1e-12)
    assert np.allclose(cache.h_n[0], h, atol=1e-12) and np.allclose(cache.c_n[0], c, atol=1e-12)
    gates = model.gate_values(cache)
    assert set(gates) == {"i", "f", "g", "o", "c", "h"}
    assert np.allclose(gates["h"], out) and np.allclose(gates["c"][-1], c)
    assert np.all((gates["f"] > 0) & (gates["f"] < 1)) and np.all(np.abs(gates["g"]) < 1)


# ---- gradients: finite differences --------------------------------------------------------

@pytest.mark.parametrize("cls", LAYERS)
@pytest.mark.parametrize("num_layers", [1, 2])
def test_backward_matches_finite_differences(cls, num_layers, rng):
    model = _model(cls, num_layers)
    x = rng.standard_normal((T, N, D))
    errors = check_module_gradients(model, x, seed=7, h=STEP)
    assert len(errors) == 1 + 4 * num_layers
    assert max(errors.values()) < FLOAT64_TOLERANCE, errors


def test_relu_rnn_matches_torch(rng):
    # (finite differences are unreliable across ReLU's kink; torch's autograd is exact)
    model = _model(RNN, 2, nonlinearity="relu")
    x = rng.standard_normal((T, N, D))
    out, cache = model.forward(x)
    dout = rng.standard_normal(out.shape)
    dx = model.backward(dout, cache)
    ref = _torch_run(model, x, dout)
    assert relative_error(out, ref["out"]) < 1e-10
    assert relative_error(dx, ref["dx"]) < FLOAT64_TOLERANCE
    for name, grad in ref["grads"].items():
        assert relative_error(model.grads[name], grad) < FLOAT64_TOLERANCE, name


@pytest.mark.parametrize("cls", LAYERS)
def test_initial_state_gradients_match_finite_differences(cls, rng):
    model = _model(cls, 2)
    x = rng.standard_normal((T, N, D))
    h0, c0 = rng.standard_normal((2, N, H)), rng.standard_normal((2, N, H))
    kwargs = {"h0": h0, "c0": c0} if cls is LSTM else {"h0": h0}
    out, cache = model.forward(x, **kwargs)
    dout = rng.standard_normal(out.shape)
    model.backward(dout, cache)

    def run():
        return model.forward(x, **kwargs)[0]

    numeric = numerical_gradient_of_output(run, h0, dout, STEP)
    assert relative_error(model.dh0, numeric) < FLOAT64_TOLERANCE
    if cls is LSTM:
        numeric = numerical_gradient_of_output(run, c0, dout, STEP)
        assert relative_error(model.dc0, numeric) < FLOAT64_TOLERANCE


# ---- torch: outputs and gradients with copied weights -----------------------------------

@pytest.mark.parametrize("cls", LAYERS)
@pytest.mark.parametrize("num_layers", [1, 2, 3])
@pytest.mark.parametrize("batch_first", [False, True])
def test_matches_torch_float64(cls, num_layers, batch_first, rng):
    model = _model(cls, num_layers, batch_first=batch_first)
    x = rng.standard_normal((N, T, D) if batch_first else (T, N, D))
    h0 = rng.standard_normal((num_layers, N, H))
    c0 = rng.standard_normal((num_layers, N, H)) if cls is LSTM else None
    kwargs = {"h0": h0} if c0 is None else {"h0": h0, "c0": c0}
    out, cache = model.forward(x, **kwargs)
    dout = rng.standard_normal(out.shape)
    dx = model.backward(dout, cache)
    ref = _torch_run(model, x, dout, h0, c0)
    assert relative_error(out, ref["out"]) < 1e-10
    assert relative_error(cache.h_n, ref["h_n"]) < 1e-10
    assert relative_error(dx, ref["dx"]) < FLOAT64_TOLERANCE
    assert relative_error(model.dh0, ref["dh0"]) < FLOAT64_TOLERANCE
    if cls is LSTM:
        assert relative_error(cache.c_n, ref["c_n"]) < 1e-10
        assert relative_error(model.dc0, ref["dc0"]) < FLOAT64_TOLERANCE
    assert set(ref["grads"]) == set(model.grads)
    for name, grad in ref["grads"].items():
        assert relative_error(model.grads[name], grad) < FLOAT64_TOLERANCE, name


@pytest.mark.parametrize("cls", LAYERS)
def test_matches_torch_float32(cls, rng):
    model = cls(8, 16, num_layers=2, seed=1)          # float32 by default
    x = rng.standard_normal((20, 4, 8)).astype(np.float32)
    out, cache = model.forward(x)
    assert out.dtype == np.float32
    dout = rng.standard_normal(out.shape).astype(np.float32)
    dx = model.backward(dout, cache)
    assert dx.dtype == np.float32 and all(g.dtype == np.float32 for g in model.grads.values())
    ref = _torch_run(model, x, dout)
    assert np.allclose(out, ref["out"], atol=1e-5)
    assert np.allclose(dx, ref["dx"], atol=1e-4)
    for name, grad in ref["grads"].items():
        assert np.allclose(model.grads[name], grad, atol=1e-3, rtol=1e-3), name


def test_sequence_model_matches_its_torch_twin(rng):
    torch = pytest.importorskip("torch")
    for readout in ("last", "all"):
        model = SequenceModel("lstm", 3, 5, 2, num_layers=2, readout=readout, dtype=np.float64)
        x = rng.standard_normal((4, 7, 3))
        out, cache = model.forward(x)
        dout = rng.standard_normal(out.shape)
        dx = model.backward(dout, cache)
        twin = to_torch(model)
        xt = torch.tensor(x, requires_grad=True)
        out_t = twin(xt)
        out_t.backward(torch.tensor(dout))
        assert np.allclose(out, out_t.detach().numpy(), atol=1e-12)
        assert np.allclose(dx, xt.grad.numpy(), atol=1e-12)
        assert np.allclose(model.head.grads["W"], twin.head.weight.grad.numpy().T, atol=1e-12)
        errors = check_module_gradients(model, x, seed=1, h=STEP)
        assert max(errors.values()) < FLOAT64_TOLERANCE, errors


# ---- the LSTM layer on its tuned loops (dlcourse.models.lstm_fused) -----------------------

def test_lstm_layer_equals_the_fused_loops(rng):
    """LSTM.forward/backward are lstm_fused's loops on the layer's parameters: same numbers
    (float64), for a stack of two layers with initial states."""
    from dlcourse.models.lstm_fused import lstm_backward, lstm_forward

    model = _model(LSTM, 2)
    x = rng.standard_normal((T, N, D))
    h0, c0 = rng.standard_normal((2, N, H)), rng.standard_normal((2, N, H))
    out, cache = model.forward(x, training=True, h0=h0, c0=c0)
    dout = rng.standard_normal(out.shape)
    dx = model.backward(dout, cache)
    ref_out, caches = lstm_forward(x, h0, c0, model.params, 2)
    ref_dx, grads, dh0, dc0 = lstm_backward(dout, caches)
    assert np.array_equal(out, ref_out) and np.array_equal(dx, ref_dx)
    assert np.array_equal(model.dh0, dh0) and np.array_equal(model.dc0, dc0)
    for name, grad in grads.items():
        assert np.array_equal(model.grads[name], grad), name


def test_lstm_reused_buffers_keep_interleaved_passes_right(rng):
    """Two training forwards before their backwards (a layer used twice in one graph), an
    inference pass in between, then new sequence lengths and batch sizes: every result
    equals a fresh layer's."""
    model = _model(LSTM, 2, batch_first=True)
    x1, x2 = rng.standard_normal((N, T, D)), rng.standard_normal((N, T, D))
    out1, cache1 = model.forward(x1, training=True)
    out2, cache2 = model.forward(x2, training=True)
    model.forward(rng.standard_normal((N, T, D)))                       # inference
    d1, d2 = rng.standard_normal(out1.shape), rng.standard_normal(out2.shape)
    results = {}
    for key, d, cache in [(2, d2, cache2), (1, d1, cache1)]:
        dx = model.backward(d, cache)
        results[key] = (dx, {k: g.copy() for k, g in model.grads.items()})
    for key, x, out, d in [(1, x1, out1, d1), (2, x2, out2, d2)]:
        fresh = _model(LSTM, 2, batch_first=True)
        f_out, f_cache = fresh.forward(x, training=True)
        assert np.array_equal(out, f_out)
        assert np.allclose(results[key][0], fresh.backward(d, f_cache), atol=1e-14)
        for k, g in results[key][1].items():
            assert np.allclose(g, fresh.grads[k], atol=1e-14), k
    for shape in [(N, T, D), (2, 9, D), (N, T, D), (5, 1, D)]:
        x = rng.standard_normal(shape)
        out, cache = model.forward(x, training=True)
        d = rng.standard_normal(out.shape)
        dx = model.backward(d, cache)
        fresh = _model(LSTM, 2, batch_first=True)
        f_out, f_cache = fresh.forward(x, training=True)
        assert np.array_equal(out, f_out)
        assert np.allclose(dx, fresh.backward(d, f_cache), atol=1e-14)


@pytest.mark.parametrize("threads", [1, 2])
def test_lstm_layer_at_the_benchmark_size_in_float32_agrees_with_torch(threads, rng):
    """B = 32, T = 50, 32 -> 128 (benchmarks/lstm.py) through the layer, with one and two
    BLAS threads: float32 throughout, within float32 round-off of torch in float64."""
    torch = pytest.importorskip("torch")
    from threadpoolctl import threadpool_limits

    model = LSTM(32, 128, seed=0)
    x = rng.standard_normal((50, 32, 32)).astype(np.float32)
    with threadpool_limits(threads, user_api="blas"):
        out, cache = model.forward(x, training=True)
        dout = rng.standard_normal(out.shape).astype(np.float32)
        dx = model.backward(dout, cache)
    assert {a.dtype for a in (out, dx, *model.grads.values())} == {np.dtype(np.float32)}
    twin = to_torch(model).double()
    xt = torch.tensor(x.astype(np.float64), requires_grad=True)
    out_t, _ = twin(xt)
    out_t.backward(torch.tensor(dout.astype(np.float64)))
    assert np.max(np.abs(out - out_t.detach().numpy())) < 1e-5
    assert np.max(np.abs(dx - xt.grad.numpy())) < 1e-4
    for name, p in twin.named_parameters():
        ref = p.grad.numpy()
        assert np.max(np.abs(model.grads[name] - ref)) <= 1e-4 * max(1.0, np.abs(ref).max())


# ---- clipping ---------------------------------------------------------------------------

def test_clip_gradients_scales_to_max_norm_like_torch(rng):
    torch = pytest.importorskip("torch")
    model = _model(LSTM, 2)
    out, cache = model.forward(rng.standard_normal((T, N, D)))
    model.backward(100 * rng.standard_normal(out.shape), cache)
    before = {k: g.copy() for k, g in model.grads.items()}
    norm = clip_gradients(model, 1.0)
    expected = np.sqrt(sum(np.sum(g ** 2) for g in before.values()))
    assert np.isclose(norm, expected) and norm > 1.0
    after = np.sqrt(sum(np.sum(g ** 2) for g in model.grads.values()))
    assert np.isclose(after, 1.0, rtol=1e-5)
    for k in before:      # direction is kept
        assert np.allclose(model.grads[k] * norm, before[k], rtol=1e-4, atol=1e-9)
    params = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in
              before.values()]
    for p, g in zip(params, before.values(), strict=True):
        p.grad = torch.tensor(g)
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    for p, k in zip(params, before, strict=True):
        assert np.allclose(p.grad.numpy(), model.grads[k], rtol=1e-5)
    # below the threshold nothing changes
    small = {k: g.copy() for k, g in model.grads.items()}
    assert clip_gradients(model, 10.0) < 10.0
    assert all(np.array_equal(small[k], model.grads[k]) for k in small)
    with pytest.raises(ValueError, match="max_norm"):
        clip_gradients(model, 0)


# ---- clear errors -----------------------------------------------------------------------

def test_bad_inputs_give_clear_errors():
    lstm = LSTM(4, 6)
    with pytest.raises(ValueError, match=r"\(T, N, 4\)"):
        lstm(np.ones((5, 4)))
    with pytest.raises(ValueError, match="input_size 4"):
        lstm(np.ones((5, 2, 3)))
    with pytest.raises(ValueError, match=r"\(N, T, 4\)"):
        LSTM(4, 6, batch_first=True)(np.ones((5, 4)))
    with pytest.raises(TypeError, match="numbers"):
        lstm(np.array([[["a"] * 4]]))
    with pytest.raises(ValueError, match="h0 must have shape"):
        lstm.forward(np.ones((5, 2, 4)), h0=np.zeros((1, 3, 6)))
    out, cache = lstm.forward(np.ones((5, 2, 4)))
    with pytest.raises(ValueError, match="dout must have the output's shape"):
        lstm.backward(np.ones((5, 2, 7)), cache)
    with pytest.raises(ValueError, match="hidden_size"):
        RNN(3, 0)
    with pytest.raises(ValueError, match="nonlinearity"):
        RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="cell"):
        SequenceModel("gru", 1, 2, 1)


def test_parameters_have_torch_names_and_shapes():
    lstm = LSTM(3, 5, num_layers=2)
    shapes = {k: v.shape for k, v in lstm.params.items()}
    assert shapes == {"weight_ih_l0": (20, 3), "weight_hh_l0": (20, 5), "bias_ih_l0": (20,),
                      "bias_hh_l0": (20,), "weight_ih_l1": (20, 5), "weight_hh_l1": (20, 5),
                      "bias_ih_l1": (20,), "bias_hh_l1": (20,)}
    assert all(np.abs(v).max() <= 1 / np.sqrt(5) for v in lstm.params.values())
    assert repr(lstm) == "LSTM(3, 5, num_layers=2)"


def test_importing_rnn_does_not_import_torch():
    code = ("import sys, dlcourse.models.rnn, dlcourse.models.sequence_models, dlcourse.data, "
            "dlcourse.widgets; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


# ---- data and the chapter's measured claims ----------------------------------------------

def test_sequence_data_shapes():
    series = make_noisy_sines(3, 50, seed=0)
    assert series.shape == (3, 50) and series.dtype == np.float32
    X, y = sliding_windows(series, 10)
    assert X.shape == (3 * 40, 10, 1) and y.shape == (3 * 40, 1)
    assert np.allclose(X[1, :, 0], series[0, 1:11]) and np.isclose(y[1, 0], series[0, 11])
    X, y = make_long_dependency(8, 12, seed=1)
    assert X.shape == (8, 12, 2) and y.shape == (8, 12)
    assert np.all(y == (X[:, :1, 0] > 0)) and np.all(X[:, 1:, 1] == 0)


def test_lstm_remembers_across_50_steps_where_the_rnn_fails():
    """The chapter's long-dependency claim, at its settings (seeded, deterministic)."""
    X, y = make_long_dependency(512, 50, seed=0)
    X_val, y_val = make_long_dependency(500, 50, seed=1)
    accuracy = {}
    for cell in ("rnn", "lstm"):
        model = SequenceModel(cell, 2, 16, 2, readout="all", seed=0)
        model.fit(X, y, epochs=10, batch_size=32, lr=1e-2)
        accuracy[cell] = model.accuracy(X_val, y_val)
    assert accuracy["lstm"] > 0.95, accuracy
    assert accuracy["rnn"] < 0.6, accuracy


def test_gradient_through_time_vanishes_for_a_small_rnn(rng):
    from dlcourse.models.rnn import gradient_through_time

    x = rng.standard_normal((40, 8, 2))
    norms = gradient_through_time(RNN(2, 16, dtype=np.float64), x)
    assert norms.shape == (40,) and np.all(norms > 0)
    assert norms[0] < 1e-6 * norms[-1], "default init shrinks the gradient back in time"
    # batch_first gives the same numbers
    bf = RNN(2, 16, dtype=np.float64, batch_first=True)
    assert np.allclose(gradient_through_time(bf, x.transpose(1, 0, 2)), norms)
