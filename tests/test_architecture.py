"""Parameter counts, width for a budget, and the depth/width experiment."""

import numpy as np
import pytest

from dlcourse.architecture import count_parameters, depth_width_experiment, width_for_budget
from dlcourse.layers import MLP


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
    assert all(r["ms_per_epoch"] > 0 and 0 <= r["test_accuracy"] <= 1 for r in rows)
    assert max(r["train_accuracy"] for r in rows) > 0.8
