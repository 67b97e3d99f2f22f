"""Two-dimensional loss surfaces (损失曲面) for watching optimizers move.

A :class:`Point` is a Module whose only parameter is a 2-vector ``"xy"``, so the optimizers
of :mod:`dlcourse.core.optim` move it exactly as they move a network's weights. :func:`race` runs
several optimizers from the same start on the same surface and returns their paths.

Surfaces (each with its minimum, a start point and step sizes that suit it):

- ``"ravine"``: f = 0.05 x² + 5 y², a long narrow valley (condition number 100) — the case
  where plain gradient descent zig-zags and momentum or per-coordinate scaling helps;
- ``"rosenbrock"``: f = (1 - x)² + 10 (y - x²)², a curved banana-shaped valley (a gentler
  Rosenbrock: the classic factor 100 needs thousands of steps);
- ``"bowl"``: f = (x² + y²) / 2, the easy case.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dlcourse.core.module import Module
from dlcourse.core.optim import SGD, Adam, RMSprop


@dataclass(frozen=True)
class Surface:
    """A 2-D function with its gradient, minimum, a start point and per-optimizer lrs."""

    name: str
    f: callable
    grad: callable
    minimum: tuple[float, float]
    start: tuple[float, float]
    lrs: dict = field(default_factory=dict)
    extent: tuple[float, float, float, float] = (-2.0, 2.0, -2.0, 2.0)

    def __call__(self, x, y):
        return self.f(x, y)


def _ravine_grad(x, y):
    return np.array([0.1 * x, 10.0 * y])


def _rosen_grad(x, y):
    return np.array([-2 * (1 - x) - 40 * x * (y - x * x), 20 * (y - x * x)])


SURFACES: dict[str, Surface] = {
    "ravine": Surface("ravine", lambda x, y: 0.05 * x**2 + 5.0 * y**2, _ravine_grad,
                      (0.0, 0.0), (-9.0, 1.0),
                      {"GD": 0.19, "SGD": 0.1, "Momentum": 0.03, "RMSprop": 0.1,
                       "Adam": 0.3},
                      (-10.0, 2.0, -2.0, 2.0)),
    "rosenbrock": Surface("rosenbrock", lambda x, y: (1 - x) ** 2 + 10 * (y - x * x) ** 2,
                          _rosen_grad, (1.0, 1.0), (-1.5, 1.5),
                          {"GD": 0.02, "SGD": 0.01, "Momentum": 0.01, "RMSprop": 0.1,
                           "Adam": 0.2},
                          (-2.0, 2.0, -1.0, 3.0)),
    "bowl": Surface("bowl", lambda x, y: 0.5 * (x**2 + y**2), lambda x, y: np.array([x, y]),
                    (0.0, 0.0), (-1.8, 1.5),
                    {"GD": 0.1, "SGD": 0.1, "Momentum": 0.02, "RMSprop": 0.02,
                     "Adam": 0.1}),
}

OPTIMIZERS = ("GD", "SGD", "Momentum", "RMSprop", "Adam")


class Point(Module):
    """A Module holding one 2-vector parameter ``"xy"`` (and its gradient)."""

    def __init__(self, xy) -> None:
        super().__init__()
        self.params["xy"] = np.array(xy, dtype=np.float64).reshape(2)
        self.grads["xy"] = np.zeros(2)


def make_optimizer(name: str, point: Point, lr: float):
    """GD and SGD are :class:`~dlcourse.core.optim.SGD`; Momentum is SGD with momentum 0.9."""
    if name in ("GD", "SGD"):
        return SGD(point, lr=lr)
    if name == "Momentum":
        return SGD(point, lr=lr, momentum=0.9)
    if name == "RMSprop":
        return RMSprop(point, lr=lr)
    if name == "Adam":
        return Adam(point, lr=lr)
    raise ValueError(f"unknown optimizer {name!r}; expected one of {list(OPTIMIZERS)}")


def get_surface(surface) -> Surface:
    if isinstance(surface, Surface):
        return surface
    try:
        return SURFACES[surface]
    except (KeyError, TypeError):
        raise ValueError(f"unknown surface {surface!r}; expected one of "
                         f"{sorted(SURFACES)}") from None


def race(surface="ravine", optimizers=OPTIMIZERS, steps: int = 100, lr_scale: float = 1.0,
         noise: float = 1.0, start=None, seed: int = 0) -> dict[str, np.ndarray]:
    """Run each optimizer ``steps`` times from the same start; return {name: path (steps+1, 2)}.

    "SGD" sees the true gradient plus Gaussian noise of standard deviation ``noise`` times the
    gradient's size (the mini-batch estimate of a gradient is noisy); the others see the exact
    gradient (full batch). ``lr_scale`` multiplies every optimizer's suggested step size.
    """
    surface = get_surface(surface)
    rng = np.random.default_rng(seed)
    paths = {}
    for name in optimizers:
        point = Point(surface.start if start is None else start)
        opt = make_optimizer(name, point, surface.lrs.get(name, 0.01) * lr_scale)
        xy = point.params["xy"]
        path = [xy.copy()]
        for _ in range(steps):
            g = surface.grad(*xy)
            if name == "SGD" and noise:
                g = g + noise * np.linalg.norm(g) / np.sqrt(2) * rng.standard_normal(2)
            point.grads["xy"][...] = g
            opt.step()
            if not np.all(np.isfinite(xy)) or np.max(np.abs(xy)) > 1e6:
                xy[...] = np.nan                 # diverged: stop this path
                path.append(xy.copy())
                break
            path.append(xy.copy())
        paths[name] = np.array(path)
    return paths


def distance_to_minimum(surface, paths: dict[str, np.ndarray]) -> dict[str, float]:
    """Euclidean distance of each path's last point from the surface's minimum (nan: diverged)."""
    target = np.array(get_surface(surface).minimum)
    return {name: float(np.linalg.norm(p[-1] - target)) for name, p in paths.items()}
