"""Parameter counts, width for a budget, the depth/width experiment, and the sawtooth."""

import numpy as np
import pytest

from dlcourse.core.layers import MLP
from dlcourse.studies.architecture import (
    count_parameters,
    depth_width_experiment,
    mlp_from_weights,
    sawtooth_network,
    step_seconds,
    tent_map,
    width_for_budget,
)


def test_count_parameters_matches_the_model():
    for sizes in ([64, 10], [64, 32, 10], [2, 5, 5, 5, 3]):
        assert count_parameters(sizes) == MLP(sizes).n_parameters()
    with pytest.raises(ValueError, match="at least"):
        count_parameters([3])


@pytest.mark.parametrize("depth", [1, 2, 3, 8])
@pytest.mark.parametrize("budget", [300, 5000, 100_000])
def test_width_for_budget_is_the_closest(depth, budget):
    w = width_for_budget(64, 10, depth, budget)
    brute = min(range(1, 3000),
                key=lambda v: abs(count_parameters([64] + [v] * depth + [10]) - budget))
    assert w == brute
    with pytest.raises(ValueError, match="budget must be a positive integer"):
        width_for_budget(64, 10, 2, 0)


def test_depth_width_experiment_rows():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 4)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    rows = depth_width_experiment(X[:150], y[:150], X[150:], y[150:], depths=(1, 3),
                                  budget=400, epochs=20)
    assert [r["hidden_layers"] for r in rows] == [1, 3]
    assert all(abs(r["parameters"] - 400) < 60 for r in rows)
    assert all(r["ms_per_epoch"] > 0 and 0 <= r["val_accuracy"] <= 1 for r in rows)
    assert max(r["train_accuracy"] for r in rows) > 0.8


def test_step_seconds_is_positive_and_leaves_the_weights():
    model = MLP([4, 8, 3], seed=0)
    before = model[0].params["W"].copy()
    X = np.ones((16, 4), dtype=np.float32)
    assert 0 < step_seconds(model, X, np.zeros(16, dtype=np.int64), repeats=3) < 1
    assert np.array_equal(model[0].params["W"], before)


def test_tent_map_is_a_sawtooth():
    x = np.linspace(0, 1, 9)
    assert np.allclose(tent_map(x, 1), [0, 0.25, 0.5, 0.75, 1, 0.75, 0.5, 0.25, 0])
    assert np.allclose(tent_map(x, 2), [0, 0.5, 1, 0.5, 0, 0.5, 1, 0.5, 0])
    with pytest.raises(ValueError):
        tent_map(x, 0)


@pytest.mark.parametrize("k", [1, 2, 5, 12])
def test_sawtooth_network_is_exact(k):
    net = sawtooth_network(k)
    assert net.sizes == [1] + [2] * k + [1]
    assert net.n_parameters() == 6 * k + 1
    x = np.random.default_rng(k).uniform(0, 1, (500, 1))
    assert np.allclose(net(x)[:, 0], tent_map(x[:, 0], k), atol=1e-9)


def test_mlp_from_weights_uses_the_given_weights_and_checks_shapes():
    rng = np.random.default_rng(0)
    Ws = [rng.standard_normal((3, 4)), rng.standard_normal((4, 2))]
    bs = [rng.standard_normal(4), rng.standard_normal(2)]
    X = rng.standard_normal((5, 3))
    expected = np.maximum(X @ Ws[0] + bs[0], 0) @ Ws[1] + bs[1]
    assert np.allclose(mlp_from_weights(Ws, bs)(X), expected)
    with pytest.raises(ValueError, match="as many bias"):
        mlp_from_weights(Ws, bs[:1])
    with pytest.raises(ValueError, match="layer 1"):
        mlp_from_weights([Ws[0], rng.standard_normal((3, 2))], bs)
