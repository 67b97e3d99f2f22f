import numpy as np
import pytest

from dlcourse.core.gradcheck import FLOAT64_TOLERANCE, check_module_gradients
from dlcourse.core.losses import binary_cross_entropy, binary_cross_entropy_with_logits, mse
from dlcourse.data import make_linearly_separable, make_xor
from dlcourse.models.neuron import Neuron
from dlcourse.torch import to_torch, torch_gradients

ACTS = ["sigmoid", "tanh", "relu", "leaky_relu", "identity"]


def test_forward_is_the_three_steps(rng):
    X = rng.standard_normal((5, 3))
    neuron = Neuron(3, "tanh", seed=2)
    w, b = neuron.params["w"], neuron.params["b"]
    out, _ = neuron.forward(X)
    assert out.shape == (5,)
    assert np.allclose(out, np.tanh(X @ w + b))


@pytest.mark.parametrize("activation", ACTS)
def test_backward_matches_finite_differences(activation, rng):
    X = rng.standard_normal((6, 4))
    errors = check_module_gradients(Neuron(4, activation, seed=3), X, seed=5)
    assert set(errors) == {"x", "w", "b"}
    assert max(errors.values()) < FLOAT64_TOLERANCE, errors


@pytest.mark.parametrize("activation", ACTS)
@pytest.mark.parametrize("dtype,atol", [(np.float64, 1e-10), (np.float32, 1e-5)])
def test_matches_torch_twin(activation, dtype, atol, rng):
    pytest.importorskip("torch")
    X = rng.standard_normal((8, 3)).astype(dtype)
    dout = rng.standard_normal(8).astype(dtype)
    neuron = Neuron(3, activation, seed=4, dtype=dtype)
    out, cache = neuron.forward(X)
    dX = neuron.backward(dout, cache)
    twin = to_torch(neuron)

    def run(x):
        return twin(x)

    t_out, t_grads = torch_gradients(run, {"x": X}, dout)
    assert t_out.dtype == dtype
    assert np.allclose(out, t_out, atol=atol)
    assert np.allclose(dX, t_grads["x"], atol=atol)
    assert np.allclose(neuron.grads["w"], twin.linear.weight.grad.numpy().ravel(), atol=atol)
    assert np.allclose(neuron.grads["b"], twin.linear.bias.grad.numpy(), atol=atol)


def test_fit_separates_a_linearly_separable_set():
    X, y = make_linearly_separable(200, margin=0.5, seed=0)
    neuron = Neuron(2, seed=0).fit(X, y, lr=0.5, epochs=200)
    assert neuron.score(X, y) == 1.0
    assert neuron.loss_history_[-1] < 0.05 < neuron.loss_history_[0]
    assert np.all(np.diff(neuron.loss_history_) <= 1e-12), "full-batch GD loss must not rise"


def test_fit_cannot_learn_xor():
    X, y = make_xor(400, seed=0)
    neuron = Neuron(2, seed=0).fit(X, y, lr=0.5, epochs=1000)
    # The best line gets 3 of 4 clusters; gradient descent does not even reach that.
    assert neuron.score(X, y) <= 0.76
    assert neuron.loss_history_[-1] > 0.6


@pytest.mark.parametrize("activation", ["tanh", "identity"])
def test_fit_with_mse_reduces_loss(activation):
    X, y = make_linearly_separable(100, seed=1)
    neuron = Neuron(2, activation, seed=0).fit(X, y, lr=0.1, epochs=100)
    assert neuron.loss_history_[-1] < neuron.loss_history_[0] / 2


def test_bad_inputs_name_the_expected_shape():
    neuron = Neuron(3)
    with pytest.raises(ValueError, match=r"\(n_samples, 3\)"):
        neuron(np.ones((4, 2)))
    with pytest.raises(ValueError, match="2-D"):
        neuron(np.ones(3))
    with pytest.raises(TypeError, match="numbers"):
        neuron([["a", "b", "c"]])
    with pytest.raises(ValueError, match="same number of samples"):
        neuron.fit(np.ones((4, 3)), np.ones(5))
    with pytest.raises(ValueError, match="n_inputs must be a positive integer"):
        Neuron(0)
    with pytest.raises(ValueError, match="lr must be a positive number"):
        neuron.fit(np.ones((4, 3)), np.ones(4), lr=-1)
    with pytest.raises(ValueError, match="needs a sigmoid"):
        Neuron(3, "relu").fit(np.ones((4, 3)), np.ones(4), loss="binary_cross_entropy_with_logits")


def test_state_dict_round_trip():
    a, b = Neuron(3, seed=1), Neuron(3, seed=2)
    b.load_state_dict(a.state_dict())
    X = np.arange(6.0).reshape(2, 3)
    assert np.array_equal(a(X), b(X))
    with pytest.raises(KeyError, match="missing"):
        b.load_state_dict({"w": np.zeros(3)})
    with pytest.raises(ValueError, match="shape"):
        b.load_state_dict({"w": np.zeros(4), "b": np.zeros(())})


def test_losses_gradients_match_finite_differences(rng):
    z = rng.standard_normal(7)
    y = (rng.random(7) > 0.5).astype(float)
    p = 1 / (1 + np.exp(-z))
    h = 1e-6
    for fn, x in [(mse, z), (binary_cross_entropy_with_logits, z), (binary_cross_entropy, p)]:
        _, grad = fn(x, y)
        numeric = np.array([(fn(x + h * e, y)[0] - fn(x - h * e, y)[0]) / (2 * h)
                            for e in np.eye(7)])
        assert np.allclose(grad, numeric, atol=1e-6), fn.__name__


def test_bce_with_logits_is_stable_and_equals_bce():
    z = np.array([-800.0, -3.0, 0.0, 3.0, 800.0])
    y = np.array([0.0, 0.0, 1.0, 1.0, 1.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, grad = binary_cross_entropy_with_logits(z, y)
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    small = slice(1, 4)
    ref, _ = binary_cross_entropy(1 / (1 + np.exp(-z[small])), y[small])
    assert np.isclose(binary_cross_entropy_with_logits(z[small], y[small])[0], ref)
    with pytest.raises(ValueError, match="same shape"):
        mse(np.ones(3), np.ones(4))


def test_fit_records_the_loss_before_each_update():
    X, y = make_linearly_separable(n_samples=50, margin=0.5, seed=1)
    neuron = Neuron(2, "sigmoid", seed=0)
    first = neuron.loss_and_backward(X, y)
    neuron.fit(X, y, lr=0.5, epochs=3)
    assert len(neuron.loss_history_) == 3
    assert neuron.loss_history_[0] == first
    assert neuron.loss_history_[-1] > neuron.loss_and_backward(X, y)
