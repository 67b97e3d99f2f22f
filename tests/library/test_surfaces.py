"""The optimizer race on 2-D surfaces: gradients, who wins where, the widget."""

import numpy as np
import pytest

from dlcourse.studies.surfaces import OPTIMIZERS, SURFACES, Point, distance_to_minimum, race


@pytest.mark.parametrize("name", sorted(SURFACES))
def test_surface_gradients_match_finite_differences(name):
    s = SURFACES[name]
    rng = np.random.default_rng(0)
    for x, y in rng.uniform(-1.5, 1.5, (5, 2)):
        h = 1e-6
        numeric = [(s.f(x + h, y) - s.f(x - h, y)) / (2 * h),
                   (s.f(x, y + h) - s.f(x, y - h)) / (2 * h)]
        assert np.allclose(s.grad(x, y), numeric, rtol=1e-6, atol=1e-6)
    assert s.f(*s.minimum) == pytest.approx(0.0)


def test_ravine_race_adaptive_and_momentum_beat_gradient_descent():
    d = distance_to_minimum("ravine", race("ravine", steps=100))
    assert set(d) == set(OPTIMIZERS)
    for fast in ("Momentum", "RMSprop", "Adam"):
        assert d[fast] < d["GD"] / 10, d
    assert d["GD"] > 0.5 and d["SGD"] > d["GD"], d


def test_race_paths_and_divergence():
    paths = race("bowl", steps=30)
    assert all(p.shape == (31, 2) for p in paths.values())
    assert np.allclose(paths["GD"][0], SURFACES["bowl"].start)
    big = race("ravine", optimizers=["GD"], steps=50, lr_scale=3.0)["GD"]
    assert np.isnan(big[-1]).all() and len(big) < 51, "GD diverges past lr = 2 / curvature"
    with pytest.raises(ValueError, match="unknown surface"):
        race("everest")
    with pytest.raises(ValueError, match="unknown optimizer"):
        race("bowl", optimizers=["LBFGS"])


def test_point_is_a_module_the_optimizers_move():
    from dlcourse.core.optim import Adam

    p = Point([1.0, 2.0])
    opt = Adam(p, lr=0.1)
    p.grads["xy"][...] = [1.0, -1.0]
    opt.step()
    assert np.allclose(p.params["xy"], [0.9, 2.1])


def test_optimizer_race_widget_runs_headless():
    from dlcourse.widgets import optimizer_race

    assert optimizer_race("rosenbrock", steps=20).children
