"""Per-layer gradient norms: vanishing in deep sigmoid nets with small init, not with ReLU + He."""

import numpy as np
import pytest

from dlcourse.core.layers import MLP, Dense
from dlcourse.studies.gradient_flow import activation_stds, layer_gradient_norms


@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    return rng.standard_normal((128, 16)), rng.integers(0, 4, 128)


def test_norms_match_the_grads_of_a_backward_pass(batch):
    X, y = batch
    model = MLP([16, 8, 8, 4], seed=1, dtype=np.float64)
    norms = layer_gradient_norms(model, X, y)
    assert norms.shape == (3,)
    assert np.allclose(norms, [np.linalg.norm(model[i].grads["W"]) for i in (0, 2, 4)])
    assert activation_stds(model, X).shape == (2,)


def test_deep_sigmoid_gradients_vanish_relu_he_do_not(batch):
    X, y = batch
    sizes = [16] + [32] * 10 + [4]
    sig = layer_gradient_norms(MLP(sizes, "sigmoid", init="normal", dtype=np.float64), X, y)
    relu = layer_gradient_norms(MLP(sizes, "relu", init="he", dtype=np.float64), X, y)
    assert sig[0] / sig[-1] < 1e-10, sig
    assert 0.05 < relu[0] / relu[-1] < 20, relu
    # the decay is geometric: every sigmoid layer shrinks the gradient by a factor >= 4
    assert np.all(sig[1:-1] / sig[2:] < 0.25)


def test_requires_a_sequential(batch):
    with pytest.raises(TypeError, match="Sequential"):
        layer_gradient_norms(Dense(16, 4), *batch)


def test_gradient_flow_widget_runs_headless(batch):
    from dlcourse.widgets import gradient_flow_explorer

    widget = gradient_flow_explorer(*batch, depth=5)
    assert widget.children
