"""Layers, containers and the MLP: finite differences, torch autograd, the torch twin."""

import numpy as np
import pytest

from dlcourse.core import init as initializers
from dlcourse.core.gradcheck import (
    FLOAT64_TOLERANCE,
    check_module_gradients,
    relative_error,
)
from dlcourse.core.layers import (
    MLP,
    Activation,
    Dense,
    Dropout,
    Identity,
    LayerNorm,
    LeakyReLU,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)
from dlcourse.core.losses import softmax_cross_entropy
from dlcourse.core.optim import Adam
from dlcourse.torch import to_torch, torch_gradients

ACTIVATION_LAYERS = [ReLU, lambda: LeakyReLU(0.1), Sigmoid, Tanh, Identity]


def _away_from_kinks(x):
    """Inputs at least 1e-3 from 0, so finite differences never straddle ReLU's kink."""
    return np.where(np.abs(x) < 1e-3, 0.5, x)


@pytest.mark.parametrize("init", ["he", "xavier", "normal", "he_uniform", "xavier_normal"])
def test_dense_gradients_match_finite_differences(init, rng):
    layer = Dense(5, 3, init=init, seed=1, dtype=np.float64)
    layer.params["b"][...] = rng.standard_normal(3)
    errors = check_module_gradients(layer, rng.standard_normal((4, 5)), seed=2)
    assert set(errors) == {"x", "W", "b"}
    assert max(errors.values()) < FLOAT64_TOLERANCE, errors


@pytest.mark.parametrize("make", ACTIVATION_LAYERS)
def test_activation_gradients_match_finite_differences(make, rng):
    x = _away_from_kinks(rng.standard_normal((6, 4)))
    errors = check_module_gradients(make(), x, seed=3)
    assert errors["x"] < FLOAT64_TOLERANCE, errors


@pytest.mark.parametrize("name,torch_name", [("relu", "relu"), ("sigmoid", "sigmoid"),
                                             ("tanh", "tanh"), ("leaky_relu", "leaky_relu")])
def test_activation_layers_match_torch_autograd(name, torch_name, rng):
    import torch.nn.functional as F

    x = _away_from_kinks(rng.standard_normal((5, 7)) * 3)
    dout = rng.standard_normal((5, 7))
    layer = Activation(name)
    out, cache = layer.forward(x)
    dx = layer.backward(dout, cache)
    t_out, t_grads = torch_gradients(getattr(F, torch_name), {"input": x}, dout)
    assert relative_error(out, t_out) < 1e-8
    assert relative_error(dx, t_grads["input"]) < 1e-8


def test_activation_by_name_equals_the_named_classes(rng):
    x = rng.standard_normal((3, 4))
    for name, cls in [("relu", ReLU), ("sigmoid", Sigmoid), ("tanh", Tanh),
                      ("identity", Identity), ("leaky_relu", LeakyReLU)]:
        assert np.array_equal(Activation(name)(x), cls()(x)), name
        assert isinstance(cls(), Activation)
    with pytest.raises(ValueError, match="unknown activation"):
        Activation("swish")


def test_layers_keep_float32(rng):
    x = rng.standard_normal((8, 6)).astype(np.float32)
    model = MLP([6, 5, 4, 3], activation="tanh", dropout=0.2)
    out, cache = model.forward(x, training=True)
    assert out.dtype == np.float32
    assert model.backward(np.ones_like(out), cache).dtype == np.float32
    assert all(g.dtype == np.float32 for _, _, g in model.named_parameters())
    # float64 input to a float32 layer is cast, not silently promoted
    assert Dense(6, 2)(x.astype(np.float64)).dtype == np.float32


def test_dropout_is_inverted_and_identity_at_test_time(rng):
    x = rng.standard_normal((400, 50))
    layer = Dropout(p=0.3, seed=5)
    assert np.array_equal(layer(x), x)
    out, mask = layer.forward(x, training=True)
    assert set(np.unique(mask)) == {0.0, 1 / 0.7}
    assert abs(np.mean(mask == 0) - 0.3) < 0.01
    assert np.allclose(out, x * mask)
    assert abs(out.mean() - x.mean()) < 0.02, "inverted dropout keeps the expected value"
    dout = rng.standard_normal(x.shape)
    assert np.array_equal(layer.backward(dout, mask), dout * mask)
    assert np.array_equal(layer.backward(dout, None), dout)
    for bad in (1.0, -0.1, "0.5"):
        with pytest.raises(ValueError, match="dropout probability"):
            Dropout(bad)


def test_dropout_gradient_with_a_fixed_mask(rng):
    x = rng.standard_normal((5, 4))
    layer = Dropout(p=0.5, seed=3)

    def fresh_forward():
        layer.rng = np.random.default_rng(9)
        return layer.forward(x, training=True)

    out, mask = fresh_forward()
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout, mask)
    h, numeric = 1e-6, np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += h
        plus = np.sum(fresh_forward()[0] * dout)
        x[i] -= 2 * h
        minus = np.sum(fresh_forward()[0] * dout)
        x[i] += h
        numeric[i] = (plus - minus) / (2 * h)
    assert relative_error(dx, numeric) < FLOAT64_TOLERANCE


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "leaky_relu"])
def test_mlp_gradients_match_finite_differences(activation, rng):
    model = MLP([4, 6, 5, 3], activation=activation, seed=2, dtype=np.float64)
    for _, p, _ in model.named_parameters():
        p += 0.05 * rng.standard_normal(p.shape)      # nonzero biases too
    errors = check_module_gradients(model, rng.standard_normal((7, 4)), seed=4)
    assert set(errors) == {"x", "0.W", "0.b", "2.W", "2.b", "4.W", "4.b"}
    assert max(errors.values()) < FLOAT64_TOLERANCE, errors


def _twin_comparison(model, X, y):
    """numpy and torch twin: logits, loss, dLoss/dX and every parameter gradient."""
    import torch

    from dlcourse.torch.mlp import copy_grads_from_torch

    logits, cache = model.forward(X)
    loss, dlogits = softmax_cross_entropy(logits, y)
    dX = model.backward(dlogits, cache)
    twin = to_torch(model)
    Xt = torch.tensor(X, requires_grad=True)
    t_logits = twin(Xt)
    t_loss = torch.nn.functional.cross_entropy(t_logits, torch.tensor(y))
    t_loss.backward()
    t_grads = copy_grads_from_torch(twin)
    errors = {"logits": np.max(np.abs(logits - t_logits.detach().numpy())),
              "loss": abs(loss - t_loss.item()),
              "dX": np.max(np.abs(dX - Xt.grad.numpy()))}
    for name, _, grad in model.named_parameters():
        errors[name] = np.max(np.abs(grad - t_grads[name]))
    return errors


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-5), (np.float32, 1e-4)])
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "leaky_relu"])
def test_mlp_and_torch_twin_agree(dtype, tol, activation, rng):
    pytest.importorskip("torch")
    model = MLP([10, 32, 16, 4], activation=activation, seed=3, dtype=dtype)
    X = rng.standard_normal((64, 10)).astype(dtype)
    y = rng.integers(0, 4, 64)
    errors = _twin_comparison(model, X, y)
    assert len(errors) == 3 + 6
    assert max(errors.values()) < tol, errors
    if dtype == np.float64:
        assert max(errors.values()) < 1e-12, errors   # the same arithmetic, to rounding


def test_twin_structure_and_dropout(rng):
    import torch

    model = MLP([3, 8, 2], activation="tanh", dropout=0.25, seed=0)
    twin = to_torch(model)
    assert [type(m).__name__ for m in twin] == ["Linear", "Tanh", "Dropout", "Linear"]
    assert twin[2].p == 0.25 and twin[0].weight.dtype == torch.float32
    assert np.array_equal(twin[0].weight.detach().numpy(), model[0].params["W"].T)
    twin.eval()
    X = rng.standard_normal((5, 3)).astype(np.float32)
    assert np.allclose(twin(torch.from_numpy(X)).detach().numpy(), model(X), atol=1e-6)


def test_sequential_container(rng):
    model = Sequential(Dense(3, 4, seed=1), ReLU(), Dense(4, 2, seed=2))
    assert len(model) == 3 and isinstance(model[1], ReLU)
    names = [name for name, _, _ in model.named_parameters()]
    assert names == ["0.W", "0.b", "2.W", "2.b"]
    assert model.n_parameters() == 3 * 4 + 4 + 4 * 2 + 2
    x = rng.standard_normal((5, 3)).astype(np.float32)
    out, caches = model.forward(x)
    assert out.shape == (5, 2) and len(caches) == 3
    assert model.backward(np.ones_like(out), caches, need_dx=False) is None
    assert "Dense(3, 4)" in repr(model)
    with pytest.raises(TypeError, match="layer 1 must be a dlcourse Module"):
        Sequential(Dense(3, 4), np.tanh)


def test_mlp_structure_and_state_dict(rng):
    model = MLP([5, 7, 7, 3], activation="tanh", dropout=0.1, seed=4)
    kinds = [type(layer).__name__ for layer in model]
    assert kinds == ["Dense", "Activation", "Dropout", "Dense", "Activation", "Dropout",
                     "Dense"]
    assert MLP([5, 7, 7, 3], activation="tanh", dropout=0.1, seed=4)[0].params["W"].tolist() \
        == model[0].params["W"].tolist(), "same seed, same weights"
    assert not np.allclose(model[0].params["W"][:5, :5], model[3].params["W"][:5, :5])
    other = MLP([5, 7, 7, 3], activation="tanh", dropout=0.1, seed=99)
    x = rng.standard_normal((4, 5)).astype(np.float32)
    assert not np.allclose(other(x), model(x))
    other.load_state_dict(model.state_dict())
    assert np.array_equal(other(x), model(x))


def test_initializer_variances():
    rng = np.random.default_rng(0)
    n_in, n_out = 400, 300
    expected = {"he_normal": 2 / n_in, "he_uniform": 2 / n_in,
                "xavier_uniform": 2 / (n_in + n_out), "xavier_normal": 2 / (n_in + n_out),
                "normal": 1e-4}
    for name, var in expected.items():
        W = initializers.INITIALIZERS[name](n_in, n_out, rng, np.float64)
        assert W.shape == (n_in, n_out)
        assert abs(W.var() / var - 1) < 0.03, name
    assert initializers.INITIALIZERS["he"] is initializers.he_normal
    assert initializers.xavier_uniform(3, 2, rng, np.float32).dtype == np.float32
    with pytest.raises(ValueError, match="unknown init"):
        Dense(3, 2, init="lecun")


def test_he_init_keeps_relu_activations_alive():
    """Through 20 ReLU layers He keeps the scale; N(0, 0.01²) lets it vanish."""
    X = np.random.default_rng(0).standard_normal((256, 100))
    scales = {}
    for init in ["he", "normal"]:
        model = MLP([100] * 21, init=init, seed=0, dtype=np.float64)
        scales[init] = np.std(model(X))
    assert 0.2 < scales["he"] < 5
    assert scales["normal"] < 1e-15


def test_bad_inputs_raise_clear_errors():
    layer = Dense(3, 2)
    with pytest.raises(ValueError, match=r"\(n_samples, 3\)"):
        layer(np.ones((4, 5)))
    with pytest.raises(ValueError, match="2-D"):
        layer(np.ones(3))
    with pytest.raises(TypeError, match="numbers"):
        layer([["a", "b", "c"]])
    _, cache = layer.forward(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"dout must have shape \(4, 2\)"):
        layer.backward(np.ones((4, 3)), cache)
    with pytest.raises(ValueError, match="n_in must be a positive integer"):
        Dense(0, 2)
    with pytest.raises(ValueError, match="at least"):
        MLP([4])
    with pytest.raises(ValueError, match="sizes must be a positive integer"):
        MLP([4, 2.5, 3])
    with pytest.raises(ValueError, match="unknown activation"):
        MLP([4, 3], activation="softplus")
    relu = ReLU()
    _, c = relu.forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match="output's shape"):
        relu.backward(np.ones((3, 2)), c)
    model = MLP([3, 4, 2])
    with pytest.raises(ValueError, match="cache must be the list"):
        model.backward(np.ones((1, 2)), [None])


def test_mlp_learns_digits():
    """A small MLP trained by a plain mini-batch loop reaches > 95 % on held-out digits."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    order = np.random.default_rng(0).permutation(len(X))
    train, test = order[:1400], order[1400:]
    model = MLP([64, 128, 10], seed=0)
    opt = Adam(model, lr=3e-3)
    rng = np.random.default_rng(1)
    for _ in range(15):
        idx = rng.permutation(train)
        for start in range(0, len(idx), 64):
            batch = idx[start:start + 64]
            logits, cache = model.forward(X[batch], training=True)
            _, dlogits = softmax_cross_entropy(logits, y[batch])
            model.backward(dlogits, cache, need_dx=False)
            opt.step()
    accuracy = np.mean(np.argmax(model(X[test]), axis=1) == y[test])
    assert accuracy > 0.95, accuracy


def test_mlp_learns_moons():
    from sklearn.datasets import make_moons

    X, y = make_moons(400, noise=0.1, random_state=0)
    X = X.astype(np.float32)
    model = MLP([2, 32, 32, 2], seed=0)
    opt = Adam(model, lr=0.01)
    for _ in range(300):
        logits, cache = model.forward(X, training=True)
        _, dlogits = softmax_cross_entropy(logits, y)
        model.backward(dlogits, cache, need_dx=False)
        opt.step()
    assert np.mean(np.argmax(model(X), axis=1) == y) > 0.98


# ---------------------------------------------------------------------------- LayerNorm

def _layer_norm(d, rng, dtype=np.float64):
    norm = LayerNorm(d, dtype=dtype)
    norm.params["gamma"][...] = 1 + 0.5 * rng.standard_normal(d)
    norm.params["beta"][...] = rng.standard_normal(d)
    return norm


def test_layer_norm_normalises_each_position_over_its_features(rng):
    x = 3 + 5 * rng.standard_normal((4, 7, 6))
    out, _ = LayerNorm(6, dtype=np.float64).forward(x)          # gamma 1, beta 0
    assert np.allclose(out.mean(-1), 0, atol=1e-12)
    assert np.allclose(out.var(-1), 1 / (1 + 1e-5 / x.var(-1)), atol=1e-10)  # biased var
    out0, _ = LayerNorm(6, dtype=np.float64).forward(x[:1])      # other samples don't matter
    assert np.allclose(out0, out[:1], atol=1e-12)


@pytest.mark.parametrize("shape", [(5, 6), (2, 3, 6)])
def test_layer_norm_gradients_match_finite_differences(shape, rng):
    errors = check_module_gradients(_layer_norm(6, rng), rng.standard_normal(shape))
    assert max(errors.values()) < FLOAT64_TOLERANCE, errors


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_layer_norm_matches_torch_forward_and_backward(dtype, tol, rng):
    import torch

    norm = _layer_norm(8, rng, dtype)
    twin = to_torch(norm)
    assert isinstance(twin, torch.nn.LayerNorm) and twin.eps == norm.eps
    x = rng.standard_normal((3, 4, 8)).astype(dtype)
    dout = rng.standard_normal((3, 4, 8)).astype(dtype)
    out, cache = norm.forward(x)
    dx = norm.backward(dout, cache)
    assert out.dtype == dx.dtype == norm.grads["gamma"].dtype == dtype
    xt = torch.tensor(x, requires_grad=True)
    twin(xt).backward(torch.tensor(dout))
    assert np.abs(out - twin(xt).detach().numpy()).max() < tol
    assert np.abs(dx - xt.grad.numpy()).max() < tol * 10
    assert np.abs(norm.grads["gamma"] - twin.weight.grad.numpy()).max() < tol * 10
    assert np.abs(norm.grads["beta"] - twin.bias.grad.numpy()).max() < tol * 10


def test_layer_norm_backward_overwrites_and_validates(rng):
    norm = _layer_norm(4, rng)
    out, cache = norm.forward(rng.standard_normal((2, 4)))
    norm.backward(np.ones_like(out), cache)
    first = norm.grads["beta"].copy()
    norm.backward(np.ones_like(out), cache)
    assert np.allclose(norm.grads["beta"], first)                # not accumulated
    with pytest.raises(ValueError, match=r"\(\.\.\., 4\)"):
        norm.forward(np.ones((2, 5)))
    with pytest.raises(ValueError, match="output's shape"):
        norm.backward(np.ones((3, 4)), cache)
    with pytest.raises(ValueError, match="positive"):
        LayerNorm(0)
