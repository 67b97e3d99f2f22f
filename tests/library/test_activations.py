import numpy as np
import pytest

from dlcourse.core.activations import ACTIVATIONS, get_activation, sigmoid
from dlcourse.core.gradcheck import relative_error

NAMES = sorted(ACTIVATIONS)


@pytest.mark.parametrize("name", NAMES)
def test_no_overflow_at_extremes(name):
    act = ACTIVATIONS[name]
    z = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out, grad = act.fn(z), act.grad(z)
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(grad))


@pytest.mark.parametrize("name", NAMES)
def test_float32_stays_float32(name):
    z = np.linspace(-3, 3, 7, dtype=np.float32)
    assert ACTIVATIONS[name].fn(z).dtype == np.float32
    assert ACTIVATIONS[name].grad(z).dtype == np.float32


@pytest.mark.parametrize("name", NAMES)
def test_derivative_matches_finite_differences(name, rng):
    act = ACTIVATIONS[name]
    z = rng.uniform(-4, 4, 200)
    z = z[np.abs(z) > 1e-3]  # keep away from ReLU's kink
    h = 1e-6
    numeric = (act.fn(z + h) - act.fn(z - h)) / (2 * h)
    assert relative_error(act.grad(z), numeric) < 1e-6


def test_sigmoid_values_and_symmetry():
    assert sigmoid(0.0) == 0.5
    z = np.array([-1000.0, -2.0, 2.0, 1000.0])
    assert np.allclose(sigmoid(z), [0.0, 1 / (1 + np.exp(2)), 1 / (1 + np.exp(-2)), 1.0])
    assert np.allclose(sigmoid(-z), 1 - sigmoid(z))


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "leaky_relu"])
def test_matches_torch(name, rng):
    torch = pytest.importorskip("torch")
    fns = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
           "leaky_relu": lambda t: torch.nn.functional.leaky_relu(t, 0.01)}
    z = rng.normal(0, 5, 1000)
    zt = torch.tensor(z, requires_grad=True)
    fns[name](zt).sum().backward()
    act = ACTIVATIONS[name]
    assert np.allclose(act.fn(z), fns[name](torch.tensor(z)).numpy(), atol=1e-12)
    assert np.allclose(act.grad(z), zt.grad.numpy(), atol=1e-12)


def test_unknown_activation_lists_valid_names():
    with pytest.raises(ValueError, match="expected one of"):
        get_activation("softplus")


def test_non_numeric_input_is_a_type_error():
    with pytest.raises(TypeError, match="must contain numbers"):
        sigmoid(["a", "b"])
