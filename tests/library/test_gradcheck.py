import numpy as np
import pytest

from dlcourse.core.gradcheck import (
    check_module_gradients,
    numerical_gradient,
    relative_error,
)
from dlcourse.models.neuron import Neuron
from dlcourse.torch import torch_gradients


def test_relative_error_conventions():
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert np.isclose(relative_error([1.0], [3.0]), 0.5)
    with pytest.raises(ValueError, match="shapes"):
        relative_error(np.zeros(2), np.zeros(3))


def test_numerical_gradient_of_a_known_function(rng):
    x = rng.standard_normal(5)
    grad = numerical_gradient(lambda: float(np.sum(x ** 3)), x)
    assert relative_error(grad, 3 * x ** 2) < 1e-7
    assert np.array_equal(x, x.copy()), "x must be restored after perturbation"


def test_gradient_check_catches_a_broken_backward(rng):
    class BrokenNeuron(Neuron):
        def backward(self, da, cache):
            dx = super().backward(da, cache)
            self.grads["w"] *= 1.01  # a 1 % bug
            return dx

    errors = check_module_gradients(BrokenNeuron(3, "tanh"), rng.standard_normal((4, 3)))
    assert errors["w"] > 1e-3
    assert errors["x"] < 1e-6


def test_torch_gradients_of_a_product(rng):
    pytest.importorskip("torch")
    a, b = rng.standard_normal(4), rng.standard_normal(4)
    out, grads = torch_gradients(lambda a, b: a * b, {"a": a, "b": b})
    assert np.allclose(out, a * b)
    assert np.allclose(grads["a"], b) and np.allclose(grads["b"], a)
