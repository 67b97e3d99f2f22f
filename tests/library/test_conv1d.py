"""1-D convolution and global average pooling: loops == im2col, finite differences, torch."""

import numpy as np
import pytest

from dlcourse.core.gradcheck import FLOAT64_TOLERANCE, check_module_gradients, relative_error
from dlcourse.core.layers import Dense, ReLU, Sequential
from dlcourse.models.conv1d import (
    Conv1D,
    GlobalAvgPool1D,
    conv1d,
    conv1d_naive,
    conv1d_output_length,
    im2col_1d,
)

# (kernel_size, stride, padding)
CASES = [(3, 1, 0), (3, 1, 1), (5, 2, 2), (4, 3, 1), (1, 1, 0), (7, 4, 0), (3, 2, 4)]


def _layer(k, stride, padding, c_in=2, c_out=3, dtype=np.float64, seed=1):
    layer = Conv1D(c_in, c_out, k, stride=stride, padding=padding, seed=seed, dtype=dtype)
    layer.params["b"][...] = np.linspace(-0.5, 0.5, c_out)   # exercise the bias path
    return layer


@pytest.mark.parametrize("k,stride,padding", CASES)
def test_layer_equals_the_loops(k, stride, padding, rng):
    x = rng.standard_normal((3, 2, 17))
    layer = _layer(k, stride, padding)
    out, _ = layer.forward(x)
    ref = conv1d_naive(x, layer.params["W"], layer.params["b"], stride, padding)
    assert out.shape == ref.shape == layer.output_shape(x.shape)
    assert out.shape[2] == conv1d_output_length(17, k, stride, padding)
    assert np.allclose(out, ref, atol=1e-12)
    assert np.allclose(conv1d(x, layer.params["W"], layer.params["b"], stride, padding), ref,
                       atol=1e-12)


def test_the_formula_by_hand():
    """out[n, o, t] = b[o] + Σ_c,j W[o, c, j] x_pad[n, c, t·s + j] (no kernel flip)."""
    x = np.array([[[1.0, 2.0, 3.0, 4.0, 5.0]]])
    W = np.array([[[1.0, 0.0, -1.0]]])
    assert np.allclose(conv1d(x, W, np.array([0.5])), [[[-1.5, -1.5, -1.5]]])
    # np.convolve flips the kernel: the cross-correlation is the convolution with W reversed
    assert np.allclose(conv1d(x, W)[0, 0], np.convolve(x[0, 0], W[0, 0, ::-1], mode="valid"))
    assert np.allclose(conv1d(x, W, stride=2, padding=1), [[[-2.0, -2.0, 4.0]]])


def test_im2col_columns_are_the_windows(rng):
    x = rng.standard_normal((2, 3, 9))
    cols = im2col_1d(x, 4, stride=2, padding=1)
    T_out = conv1d_output_length(9, 4, 2, 1)
    assert cols.shape == (3 * 4, 2 * T_out)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1)))
    # output step t = 2 of signal n = 1 is column 1·T_out + 2: the window starting at 2·2
    assert np.array_equal(cols[:, T_out + 2], xp[1, :, 4:8].ravel())


def test_float32_stays_float32(rng):
    x = rng.standard_normal((4, 1, 64)).astype(np.float32)
    layer = Conv1D(1, 8, 9, stride=2, padding=4)
    out, cache = layer.forward(x, training=True)
    assert out.dtype == np.float32 and out.flags.c_contiguous
    dx = layer.backward(np.ones_like(out), cache)
    assert dx.dtype == np.float32 and dx.shape == x.shape
    assert layer.grads["W"].dtype == layer.grads["b"].dtype == np.float32
    ref = conv1d_naive(x.astype(np.float64), layer.params["W"].astype(np.float64), None, 2, 4)
    assert np.allclose(out, ref, atol=1e-5)
    pooled, _ = GlobalAvgPool1D().forward(out)
    assert pooled.dtype == np.float32 and pooled.shape == (4, 8)


@pytest.mark.parametrize("k,stride,padding", CASES)
def test_gradients_match_finite_differences(k, stride, padding, rng):
    x = rng.standard_normal((2, 2, 13))
    # the convolution is linear in x, W and b: a large step has no truncation error
    errors = check_module_gradients(_layer(k, stride, padding), x, seed=3, h=1e-3)
    assert set(errors) == {"x", "W", "b"}
    assert max(errors.values()) < FLOAT64_TOLERANCE, errors


def test_global_average_pool_gradients_and_values(rng):
    x = rng.standard_normal((3, 4, 10))
    pool = GlobalAvgPool1D()
    out, cache = pool.forward(x)
    assert out.shape == (3, 4) and np.allclose(out, x.mean(axis=2))
    dx = pool.backward(np.ones((3, 4)), cache)
    assert dx.shape == x.shape and np.allclose(dx, 0.1)
    assert check_module_gradients(pool, x, h=1e-3)["x"] < FLOAT64_TOLERANCE


def test_a_small_network_checks_and_skips_dx_of_its_input(rng):
    x = rng.standard_normal((3, 1, 40))
    net = Sequential(Conv1D(1, 4, 5, stride=2, seed=1, dtype=np.float64), ReLU(),
                     Conv1D(4, 3, 3, padding=1, seed=2, dtype=np.float64), ReLU(),
                     GlobalAvgPool1D(), Dense(3, 2, seed=3, dtype=np.float64))
    out, cache = net.forward(x, training=True)
    assert out.shape == (3, 2)
    errors = check_module_gradients(net, x, seed=5, h=1e-6)
    assert max(errors.values()) < 1e-5, errors       # ReLU kinks: a little above 1e-7
    assert net.backward(np.ones((3, 2)), cache, need_dx=False) is None


@pytest.mark.parametrize("k,stride,padding", CASES)
def test_layer_matches_torch_conv1d(k, stride, padding, rng):
    torch = pytest.importorskip("torch")
    from dlcourse.torch import to_torch, torch_gradients

    x = rng.standard_normal((3, 2, 17))
    layer = _layer(k, stride, padding)
    twin = to_torch(layer)
    assert isinstance(twin, torch.nn.Conv1d) and twin.weight.dtype == torch.float64
    out, cache = layer.forward(x, training=True)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout, cache)
    with torch.no_grad():
        assert relative_error(out, twin(torch.from_numpy(x)).numpy()) < FLOAT64_TOLERANCE

    def f(x, W, b):
        return torch.nn.functional.conv1d(x, W, b, stride=stride, padding=padding)

    t_out, t_grads = torch_gradients(
        f, {"x": x, "W": layer.params["W"], "b": layer.params["b"]}, dout)
    pairs = {"out": (out, t_out), "x": (dx, t_grads["x"])}
    pairs |= {name: (layer.grads[name], t_grads[name]) for name in ("W", "b")}
    errors = {name: relative_error(*pair) for name, pair in pairs.items()}
    assert max(errors.values()) < FLOAT64_TOLERANCE, errors


def test_network_twin_gives_the_same_logits_and_gradients(rng):
    pytest.importorskip("torch")
    from dlcourse.torch import to_torch, torch_gradients

    x = rng.standard_normal((4, 1, 50))
    net = Sequential(Conv1D(1, 6, 7, stride=3, seed=1, dtype=np.float64), ReLU(),
                     Conv1D(6, 5, 5, stride=2, padding=2, seed=2, dtype=np.float64), ReLU(),
                     GlobalAvgPool1D(), Dense(5, 3, seed=3, dtype=np.float64))
    logits, cache = net.forward(x, training=True)
    upstream = rng.standard_normal(logits.shape)
    grad_x = net.backward(upstream, cache)
    twin = to_torch(net)
    twin_logits, twin_grads = torch_gradients(lambda x: twin(x), {"x": x}, upstream)
    assert relative_error(logits, twin_logits) < FLOAT64_TOLERANCE
    assert relative_error(grad_x, twin_grads["x"]) < FLOAT64_TOLERANCE
    # the layer indices agree: numpy "0.W" is the twin's "0.weight" (Dense's transposed)
    assert relative_error(net[0].grads["W"], twin[0].weight.grad.numpy()) < FLOAT64_TOLERANCE
    assert relative_error(net[2].grads["b"], twin[2].bias.grad.numpy()) < FLOAT64_TOLERANCE
    assert relative_error(net[5].grads["W"], twin[5].weight.grad.numpy().T) < FLOAT64_TOLERANCE


def test_init_matches_its_scale():
    he = Conv1D(4, 64, 25, seed=0)
    assert abs(he.params["W"].std() - np.sqrt(2 / 100)) < 0.01
    limit = 1 / np.sqrt(100)
    torch_like = Conv1D(4, 64, 25, init="torch", seed=0).params["W"]
    assert np.abs(torch_like).max() <= limit and np.abs(torch_like).max() > 0.9 * limit
    assert np.array_equal(Conv1D(4, 8, 3, seed=5).params["W"], Conv1D(4, 8, 3, seed=5).params["W"])
    assert repr(Conv1D(1, 8, 9, stride=2)) == "Conv1D(1, 8, kernel_size=9, stride=2)"


def test_invalid_inputs_say_what_was_expected():
    layer = Conv1D(2, 3, 5)
    with pytest.raises(ValueError, match=r"\(N, 2, T\)"):
        layer.forward(np.zeros((4, 3, 20)))
    with pytest.raises(ValueError, match=r"\(N, 2, T\).*3-D"):
        layer.forward(np.zeros((4, 20)))
    with pytest.raises(ValueError, match="too short"):
        layer.forward(np.zeros((1, 2, 4)))
    with pytest.raises(TypeError, match="numbers"):
        layer.forward(np.array([[["a"]]]))
    out, cache = layer.forward(np.zeros((4, 2, 20)), training=True)
    with pytest.raises(ValueError, match="forward output's shape"):
        layer.backward(np.zeros((4, 3, 15)), cache)
    for bad in [dict(kernel_size=0), dict(kernel_size=2.5), dict(stride=0),
                dict(padding=-1), dict(init="zeros")]:
        args = dict(in_channels=1, out_channels=2, kernel_size=3) | bad
        with pytest.raises(ValueError):
            Conv1D(**args)
    with pytest.raises(ValueError, match=r"\(C_out, 2, k\)"):
        conv1d(np.zeros((1, 2, 9)), np.zeros((3, 1, 3)))
    with pytest.raises(ValueError, match=r"\(N, C, T\)"):
        GlobalAvgPool1D().forward(np.zeros((2, 3)))
