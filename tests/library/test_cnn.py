"""Convolution, pooling, flatten and batch norm: naive == tuned, finite differences, torch."""

import numpy as np
import pytest

from dlcourse.core.gradcheck import (
    FLOAT64_TOLERANCE,
    check_module_gradients,
    numerical_gradient_of_output,
    relative_error,
)
from dlcourse.core.layers import Sequential
from dlcourse.models.cnn import (
    AvgPool2D,
    BatchNorm2D,
    Conv2D,
    Flatten,
    MaxPool2D,
    conv2d_naive,
    conv_output_size,
    im2col,
)
from dlcourse.torch import to_torch, torch_gradients

# (stride, padding, dilation)
CONV_CASES = [(1, 0, 1), (1, 1, 1), (2, 1, 1), (1, 2, 2), (3, 1, 2), (2, 0, 1)]
# for the layer, also padding wider than the filter's reach (its tuned path has a case there)
LAYER_CASES = CONV_CASES + [(1, 3, 1)]
POOL_CASES = [(2, None), (3, None), (3, 2), (2, 1), (3, 1)]


def _conv(stride, padding, dilation, dtype=np.float64, c_in=2, c_out=3, k=3, seed=1):
    layer = Conv2D(c_in, c_out, k, stride=stride, padding=padding, dilation=dilation,
                   seed=seed, dtype=dtype)
    # non-zero biases so the bias path is exercised
    layer.params["b"][...] = np.linspace(-0.5, 0.5, c_out)
    return layer


@pytest.mark.parametrize("stride,padding,dilation", LAYER_CASES)
def test_tuned_conv_equals_naive_loops(stride, padding, dilation, rng):
    x = rng.standard_normal((3, 2, 9, 8))
    layer = _conv(stride, padding, dilation)
    out, _ = layer.forward(x)
    ref = conv2d_naive(x, layer.params["W"], layer.params["b"], stride, padding, dilation)
    assert out.shape == ref.shape == layer.output_shape(x.shape)
    assert out.shape[2] == conv_output_size(9, 3, stride, padding, dilation)
    assert np.allclose(out, ref, atol=1e-12)


def test_float32_stays_float32_and_matches_naive(rng):
    x = rng.standard_normal((4, 3, 10, 10)).astype(np.float32)
    layer = Conv2D(3, 5, 3, padding=1)
    out, cache = layer.forward(x, training=True)
    assert out.dtype == np.float32
    dx = layer.backward(np.ones_like(out), cache)
    assert dx.dtype == np.float32 and dx.shape == x.shape
    assert layer.grads["W"].dtype == np.float32
    ref = conv2d_naive(x.astype(np.float64), layer.params["W"].astype(np.float64), None, 1, 1)
    assert np.allclose(out, ref, atol=1e-5)


def test_im2col_columns_are_the_patches(rng):
    x = rng.standard_normal((2, 3, 5, 6))
    cols = im2col(x, 3, stride=1, padding=1)
    assert cols.shape == (2, 3 * 9, 5 * 6)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    # output pixel (i, j) = (2, 4) is column 2*6 + 4 and holds the patch centred there
    assert np.array_equal(cols[1, :, 2 * 6 + 4], xp[1, :, 2:5, 4:7].ravel())
    W = rng.standard_normal((4, 3, 3, 3))
    via_matmul = (W.reshape(4, -1) @ cols).reshape(2, 4, 5, 6)
    assert np.allclose(via_matmul, conv2d_naive(x, W, None, 1, 1))


@pytest.mark.parametrize("stride,padding,dilation", LAYER_CASES)
def test_conv_gradients_match_finite_differences(stride, padding, dilation, rng):
    x = rng.standard_normal((2, 2, 7, 8))
    # conv is linear in x, W and b, so a large step has no truncation error, less round-off
    errors = check_module_gradients(_conv(stride, padding, dilation), x, seed=3, h=1e-3)
    assert set(errors) == {"x", "W", "b"}
    assert max(errors.values()) < FLOAT64_TOLERANCE, errors


@pytest.mark.parametrize("stride,padding,dilation", LAYER_CASES)
def test_conv_matches_torch_autograd(stride, padding, dilation, rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((3, 2, 9, 8))
    layer = _conv(stride, padding, dilation)
    out, cache = layer.forward(x, training=True)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout, cache)

    def f(x, W, b):
        return torch.nn.functional.conv2d(x, W, b, stride=stride, padding=padding,
                                          dilation=dilation)

    t_out, t_grads = torch_gradients(
        f, {"x": x, "W": layer.params["W"], "b": layer.params["b"]}, dout)
    assert relative_error(out, t_out) < FLOAT64_TOLERANCE
    assert relative_error(dx, t_grads["x"]) < FLOAT64_TOLERANCE
    assert relative_error(layer.grads["W"], t_grads["W"]) < FLOAT64_TOLERANCE
    assert relative_error(layer.grads["b"], t_grads["b"]) < FLOAT64_TOLERANCE


def test_conv_1x1_and_one_channel(rng):
    x = rng.standard_normal((5, 1, 4, 4))
    layer = Conv2D(1, 2, 1, dtype=np.float64)
    out = layer(x)
    assert np.allclose(out, layer.params["W"][None, :, 0, 0, 0, None, None] * x)
    assert max(check_module_gradients(layer, x, h=1e-3).values()) < FLOAT64_TOLERANCE


def test_scratch_buffers_do_not_corrupt_interleaved_passes(rng):
    """Two training forwards before their backwards (a layer used twice in one graph)."""
    layer = Conv2D(2, 3, 3, padding=1, dtype=np.float64)
    x1, x2 = rng.standard_normal((2, 2, 6, 6)), rng.standard_normal((2, 2, 6, 6))
    out1, cache1 = layer.forward(x1, training=True)
    out2, cache2 = layer.forward(x2, training=True)
    d1, d2 = rng.standard_normal(out1.shape), rng.standard_normal(out2.shape)
    dx2 = layer.backward(d2, cache2)
    gW2 = layer.grads["W"].copy()
    dx1 = layer.backward(d1, cache1)
    gW1 = layer.grads["W"].copy()
    fresh = Conv2D(2, 3, 3, padding=1, dtype=np.float64)
    for x, d, dx, gW in [(x1, d1, dx1, gW1), (x2, d2, dx2, gW2)]:
        _, cache = fresh.forward(x, training=True)
        assert np.allclose(fresh.backward(d, cache), dx)
        assert np.allclose(fresh.grads["W"], gW)
    # and the buffer is reused again afterwards: repeated passes give identical results
    for _ in range(2):
        out, cache = layer.forward(x1, training=True)
        assert np.allclose(layer.backward(d1, cache), dx1)


@pytest.mark.parametrize("kernel,stride", POOL_CASES)
@pytest.mark.parametrize("cls", [MaxPool2D, AvgPool2D])
def test_pool_gradients_match_finite_differences(cls, kernel, stride, rng):
    x = rng.standard_normal((2, 3, 7, 6))
    # average pooling is linear (a large step is exact); max pooling needs a step smaller
    # than the gaps between window values
    h = 1e-3 if cls is AvgPool2D else 1e-5
    errors = check_module_gradients(cls(kernel, stride), x, seed=4, h=h)
    assert errors["x"] < FLOAT64_TOLERANCE, errors


@pytest.mark.parametrize("kernel,stride", POOL_CASES)
@pytest.mark.parametrize("name", ["max", "avg"])
def test_pool_matches_torch_autograd(name, kernel, stride, rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 8, 7))
    x[0, 0] = 0.0                       # ties, as after a ReLU: both must pick the first
    layer = (MaxPool2D if name == "max" else AvgPool2D)(kernel, stride)
    out, cache = layer.forward(x)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout, cache)
    fn = getattr(torch.nn.functional, f"{name}_pool2d")
    t_out, t_grads = torch_gradients(lambda x: fn(x, kernel, stride), {"x": x}, dout)
    assert relative_error(out, t_out) < FLOAT64_TOLERANCE
    assert relative_error(dx, t_grads["x"]) < FLOAT64_TOLERANCE


def test_flatten_round_trip(rng):
    x = rng.standard_normal((4, 3, 2, 5))
    out, cache = Flatten().forward(x)
    assert out.shape == (4, 30) and np.array_equal(out[1], x[1].ravel())
    assert np.array_equal(Flatten().backward(out, cache), x)
    assert check_module_gradients(Flatten(), x)["x"] < FLOAT64_TOLERANCE


def test_batchnorm_training_gradients_and_torch(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((4, 3, 5, 5)) * 2 + 1
    bn = BatchNorm2D(3, dtype=np.float64)
    bn.params["gamma"][...] = [0.5, 1.5, -1.0]
    bn.params["beta"][...] = [0.1, 0.0, -0.2]
    twin = to_torch(bn)
    out, cache = bn.forward(x, training=True)
    dout = rng.standard_normal(out.shape)
    bn.zero_grad()
    dx = bn.backward(dout, cache)
    numeric = numerical_gradient_of_output(lambda: bn.forward(x, training=True)[0], x, dout)
    assert relative_error(dx, numeric) < 1e-5  # nonlinear: finite differences ~1e-7 abs
    xt = torch.tensor(x, requires_grad=True)
    twin.train()
    out_t = twin(xt)
    out_t.backward(torch.tensor(dout))
    assert np.allclose(out, out_t.detach().numpy(), atol=1e-10)
    assert np.allclose(dx, xt.grad.numpy(), atol=1e-10)
    assert np.allclose(bn.grads["gamma"], twin.weight.grad.numpy(), atol=1e-10)
    # running statistics after one training step (numpy ran forward many times: redo once)
    bn2 = BatchNorm2D(3, dtype=np.float64)
    bn2.forward(x, training=True)
    assert np.allclose(bn2.running_mean, twin.running_mean.numpy())
    assert np.allclose(bn2.running_var, twin.running_var.numpy())
    # inference mode uses the running statistics, like twin.eval()
    twin.eval()
    assert np.allclose(to_torch(bn2).eval()(xt).detach().numpy(), bn2(x), atol=1e-10)
    assert max(check_module_gradients(bn2, x).values()) < FLOAT64_TOLERANCE


def test_twins_match_in_float32(rng):
    torch = pytest.importorskip("torch")

    layers = [Conv2D(1, 4, 3, padding=1, seed=2), MaxPool2D(2),
              Conv2D(4, 6, 3, stride=1, dilation=2, seed=3), AvgPool2D(2), Flatten()]
    x = rng.standard_normal((5, 1, 12, 12)).astype(np.float32)
    out = x
    for layer in layers:
        out = layer(out)
    twin = to_torch(Sequential(*layers))
    assert isinstance(twin[0], torch.nn.Conv2d) and twin[0].weight.dtype == torch.float32
    with torch.no_grad():
        t_out = twin(torch.from_numpy(x)).numpy()
    assert out.shape == t_out.shape == (5, 6)
    assert np.allclose(out, t_out, atol=1e-5)


def test_bad_shapes_and_hyperparameters_give_clear_errors():
    layer = Conv2D(3, 4, 3)
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        layer(np.ones((2, 1, 8, 8)))          # wrong channel count
    with pytest.raises(ValueError, match="4-D"):
        layer(np.ones((3, 8, 8)))             # a single image without the batch axis
    with pytest.raises(ValueError, match="too small"):
        layer(np.ones((1, 3, 2, 2)))          # 2×2 image, 3×3 kernel, no padding
    with pytest.raises(TypeError, match="numbers"):
        layer(np.array([[[["a"]]]]))
    out, cache = layer.forward(np.ones((2, 3, 5, 5)), training=True)
    with pytest.raises(ValueError, match="forward output's shape"):
        layer.backward(np.ones((2, 4, 4, 4)), cache)
    with pytest.raises(ValueError, match="kernel_size must be a positive integer"):
        Conv2D(3, 4, 0)
    with pytest.raises(ValueError, match="padding must be a non-negative integer"):
        Conv2D(3, 4, 3, padding=-1)
    with pytest.raises(ValueError, match="stride must be an integer"):
        Conv2D(3, 4, 3, stride=1.5)
    with pytest.raises(ValueError, match="init must be"):
        Conv2D(3, 4, 3, init="zeros")
    with pytest.raises(ValueError, match="in_channels must be a positive integer"):
        Conv2D(0, 4, 3)
    with pytest.raises(ValueError, match=r"\(C_out, 2, k, k\)"):
        conv2d_naive(np.ones((1, 2, 5, 5)), np.ones((4, 3, 3, 3)))
    with pytest.raises(ValueError, match="4-D"):
        MaxPool2D(2)(np.ones((8, 8)))
    with pytest.raises(ValueError, match="too small"):
        AvgPool2D(3)(np.ones((1, 1, 2, 2)))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        Flatten()(np.ones(5))


def test_init_scales_and_repr():
    he = Conv2D(16, 32, 3, seed=0)
    assert abs(he.params["W"].std() - np.sqrt(2 / (16 * 9))) < 0.01
    assert np.all(he.params["b"] == 0)
    assert repr(Conv2D(1, 8, 5, padding=2)) == "Conv2D(1, 8, kernel_size=5, padding=2)"
    assert repr(MaxPool2D(2)) == "MaxPool2D(kernel_size=2)"
    assert he.n_parameters() == 32 * 16 * 9 + 32
    assert np.array_equal(Conv2D(2, 2, 3, seed=5).params["W"],
                          Conv2D(2, 2, 3, seed=5).params["W"])


def test_small_cnn_shapes_and_twin(rng):
    torch = pytest.importorskip("torch")
    from dlcourse.models.cnn import small_cnn

    model = small_cnn(channels=(4, 8), seed=1)
    assert isinstance(model, Sequential)
    x = rng.random((6, 1, 8, 8)).astype(np.float32)
    logits, caches = model.forward(x, training=True)
    assert logits.shape == (6, 10)
    dx = model.backward(np.ones_like(logits), caches)
    assert dx.shape == x.shape
    names = [name for name, _, _ in model.named_parameters()]
    assert names == ["0.W", "0.b", "3.W", "3.b", "7.W", "7.b"]
    twin = to_torch(model)
    with torch.no_grad():
        assert np.allclose(twin(torch.from_numpy(x)).numpy(), logits, atol=1e-5)
    with pytest.raises(ValueError, match="multiple of 4"):
        small_cnn(image_size=10)


def test_functional_conv2d_equals_naive(rng):
    from dlcourse.models.cnn import conv2d

    x = rng.standard_normal((2, 3, 7, 7))
    W, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    for stride, padding, dilation in CONV_CASES:
        assert np.allclose(conv2d(x, W, b, stride, padding, dilation),
                           conv2d_naive(x, W, b, stride, padding, dilation))
    with pytest.raises(ValueError, match=r"\(C_out, 3, k, k\)"):
        conv2d(x, W[:, :2])


def test_feature_map_explorer_runs_headless(rng):
    pytest.importorskip("ipywidgets")
    import matplotlib

    matplotlib.use("Agg")
    from dlcourse.widgets import feature_map_explorer

    images = rng.random((5, 8, 8))
    filters = {"vertical edge": np.array([[1.0, 0, -1]] * 3), "blur": np.ones((3, 3)) / 9}
    widget = feature_map_explorer(images, filters, labels=np.arange(5))
    assert len(widget.children) >= 2
    learned = Conv2D(1, 4, 3).params["W"]
    feature_map_explorer(images[:, None], learned)
    with pytest.raises(ValueError, match="square"):
        feature_map_explorer(images, {"bad": np.ones((3, 2))})
    with pytest.raises(ValueError, match=r"\(n, h, w\)"):
        feature_map_explorer(np.ones((4, 4)), filters)


def test_image_grid_tiles_and_scales():
    from dlcourse.widgets.cnn import image_grid

    maps = np.stack([np.full((2, 3), v) for v in (1.0, -4.0, 0.0)])
    grid = image_grid(maps, ncols=2)
    assert grid.shape == (2 * 3 - 1, 2 * 4 - 1)
    assert np.all(grid[0:2, 0:3] == 1.0) and np.all(grid[0:2, 4:7] == -1.0)
    assert np.all(grid[3:5, 0:3] == 0.0) and np.isnan(grid[2, 0]) and np.isnan(grid[4, 5])


def test_plain_sequential_of_cnn_layers_has_a_twin_and_skips_dx():
    torch = pytest.importorskip("torch")
    from dlcourse.core.layers import Dense, ReLU, Sequential

    model = Sequential(Conv2D(1, 4, 3, padding=1, dtype=np.float64), ReLU(), MaxPool2D(2),
                       Flatten(), Dense(4 * 4 * 4, 10, dtype=np.float64))
    x = np.random.default_rng(0).standard_normal((2, 1, 8, 8))
    out, cache = model.forward(x)
    assert model.backward(np.ones_like(out), cache, need_dx=False) is None
    twin = to_torch(model)
    assert np.allclose(twin(torch.tensor(x)).detach().numpy(), out, atol=1e-12)


# ---- the layer on its tuned path (dlcourse.models.conv_gemm) ------------------------------

@pytest.mark.parametrize("stride,padding,dilation", LAYER_CASES)
def test_layer_gradients_equal_the_readable_im2col_formulas(stride, padding, dilation, rng):
    """Conv2D.backward == the readable im2col arithmetic: dW = Σ_n dout[n] @ cols[n]ᵀ with
    the columns of cnn.im2col, db = Σ dout, dx from differences of cnn.conv2d (linear in
    x, so a step of 1 is exact up to round-off)."""
    from dlcourse.models.cnn import conv2d

    layer = _conv(stride, padding, dilation, c_in=3, c_out=4)
    x = rng.standard_normal((4, 3, 8, 9))
    out, cache = layer.forward(x, training=True)
    W, b = layer.params["W"], layer.params["b"]
    assert np.allclose(out, conv2d(x, W, b, stride, padding, dilation), atol=1e-12)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout, cache)
    cols = im2col(x, 3, stride, padding, dilation)
    d2 = dout.reshape(dout.shape[0], dout.shape[1], -1)
    assert np.allclose(layer.grads["W"], np.einsum("nol,nkl->ok", d2, cols).reshape(W.shape),
                       atol=1e-10)
    assert np.allclose(layer.grads["b"], dout.sum(axis=(0, 2, 3)), atol=1e-10)
    numeric = numerical_gradient_of_output(lambda: conv2d(x, W, b, stride, padding, dilation),
                                           x, dout, h=1.0)
    assert np.allclose(dx, numeric, atol=1e-9)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("shape", [(16, 3, 16, 32), (128, 1, 16, 8), (6, 32, 64, 16)])
def test_layer_float32_on_the_benchmark_shapes_agrees_with_torch(shape, threads, rng):
    """The benchmark's layers (fewer images): float32 in and out, out, dx, dW and db within
    1e-5 (relative to the largest value) of torch in float64 on the same float32 numbers,
    with one BLAS thread (cache-sized chunks of images) and two (one chunk)."""
    torch = pytest.importorskip("torch")
    from threadpoolctl import threadpool_limits

    N, C, C_out, H = shape
    layer = Conv2D(C, C_out, 3, padding=1, seed=2)
    layer.params["b"][...] = rng.standard_normal(C_out)
    x = rng.standard_normal((N, C, H, H)).astype(np.float32)
    with threadpool_limits(threads, user_api="blas"):
        out, cache = layer.forward(x, training=True)
        dout = rng.standard_normal(out.shape).astype(np.float32)
        dx = layer.backward(dout, cache)
    assert {a.dtype for a in (out, dx, layer.grads["W"], layer.grads["b"])} == {
        np.dtype(np.float32)}
    exact = {"x": x, "W": layer.params["W"], "b": layer.params["b"]}
    t_out, t = torch_gradients(lambda x, W, b: torch.nn.functional.conv2d(x, W, b, padding=1),
                               {k: v.astype(np.float64) for k, v in exact.items()},
                               dout.astype(np.float64))
    for mine, ref in [(out, t_out), (dx, t["x"]), (layer.grads["W"], t["W"]),
                      (layer.grads["b"], t["b"])]:
        assert np.max(np.abs(mine - ref)) <= 1e-5 * np.max(np.abs(ref))


def test_layer_need_dx_false_inference_caches_and_changing_batches(rng):
    """need_dx=False gives the same weight gradients; a cache from an inference forward
    can still be back-propagated; batches of changing size (a last, smaller batch) and an
    inference pass between a training forward and its backward stay exact."""
    layer = Conv2D(2, 3, 3, padding=1, dtype=np.float64)
    x = rng.standard_normal((5, 2, 7, 7))
    out, cache = layer.forward(x, training=True)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout, cache)
    gW, gb = layer.grads["W"].copy(), layer.grads["b"].copy()
    _, cache = layer.forward(x, training=True)
    assert layer.backward(dout, cache, need_dx=False) is None
    assert np.array_equal(layer.grads["W"], gW) and np.array_equal(layer.grads["b"], gb)
    _, cache = layer.forward(x)                        # inference forward, then backward
    assert np.allclose(layer.backward(dout, cache), dx, atol=1e-12)
    assert np.allclose(layer.grads["W"], gW, atol=1e-12)
    for N in (5, 3, 5, 1):
        xb = rng.standard_normal((N, 2, 7, 7))
        out, cache = layer.forward(xb, training=True)
        layer(rng.standard_normal((2, 2, 7, 7)))        # an inference pass in between
        assert np.allclose(out, conv2d_naive(xb, layer.params["W"], layer.params["b"], 1, 1),
                           atol=1e-12)
        db = rng.standard_normal(out.shape)
        layer.backward(db, cache)
        cols = im2col(xb, 3, 1, 1)
        ref = np.einsum("nol,nkl->ok", db.reshape(N, 3, -1), cols).reshape(gW.shape)
        assert np.allclose(layer.grads["W"], ref, atol=1e-10)


def test_layer_converts_inputs_and_output_gradients_to_its_dtype(rng):
    layer = Conv2D(2, 3, 3, padding=1)                 # float32
    x = rng.standard_normal((2, 2, 5, 5))              # float64 input
    out, cache = layer.forward(x, training=True)
    assert out.dtype == np.float32
    dx = layer.backward(rng.standard_normal(out.shape), cache)   # float64 dout
    assert dx.dtype == np.float32 and layer.grads["W"].dtype == np.float32
    with pytest.raises(ValueError, match="forward output's shape"):
        layer.backward(np.ones((2, 3, 4, 4)), cache)
