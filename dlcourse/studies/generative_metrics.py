"""Targets and yardsticks for generative models in 2-D (numpy only, no torch).

A generative model is judged by comparing *samples*: ours against the target's. For a
mixture of Gaussians whose modes (centres) we know, two kinds of measurement are natural:

- **per-mode counts** — which mode each sample is near, how many modes receive a fair share
  (mode coverage), and what fraction of samples lands near *some* mode (sample quality);
- **a two-sample statistic** — the maximum mean discrepancy (MMD) with a Gaussian kernel,
  which is 0 when the two distributions are equal and grows as they differ.

All functions take ``samples`` of shape ``(n, 2)`` (any ``(n, d)`` works) and are seeded.
"""

from __future__ import annotations

import numpy as np

from dlcourse.core.checks import as_float_array

# --------------------------------------------------------------------------- targets


def ring_centers(n_modes: int = 8, radius: float = 2.0) -> np.ndarray:
    """``n_modes`` mode centres evenly spaced on a circle; shape ``(n_modes, 2)``."""
    if n_modes < 1:
        raise ValueError(f"n_modes must be >= 1, got {n_modes}")
    angles = 2 * np.pi * np.arange(n_modes) / n_modes
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def grid_centers(n_side: int = 5, spacing: float = 1.0) -> np.ndarray:
    """An ``n_side`` × ``n_side`` grid of mode centres, centred on 0; shape ``(n_side**2, 2)``."""
    if n_side < 1:
        raise ValueError(f"n_side must be >= 1, got {n_side}")
    ticks = (np.arange(n_side) - (n_side - 1) / 2) * spacing
    gx, gy = np.meshgrid(ticks, ticks)
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def sample_mixture(centers, n: int, std: float, seed=0) -> np.ndarray:
    """``n`` samples from an equal-weight mixture of isotropic Gaussians at ``centers``.

    ``seed`` is an int or a ``np.random.Generator``. Returns float32, shape ``(n, d)``.
    """
    centers = as_float_array(centers, "centers", ndim=2, shape_hint="(n_modes, d)")
    rng = np.random.default_rng(seed)
    which = rng.integers(0, len(centers), size=n)
    noise = rng.standard_normal((n, centers.shape[1]))
    return (centers[which] + std * noise).astype(np.float32)


class MixtureTarget:
    """A target distribution for a 2-D GAN: a Gaussian mixture with known modes.

    Parameters
    ----------
    centers : array (k, d)
        Mode centres.
    std : float
        Standard deviation of every component.
    name : str
        For printing ("ring", "grid").

    ``target.sample(n, rng)`` draws float32 samples of shape ``(n, d)``.
    """

    def __init__(self, centers, std: float, name: str = "mixture"):
        self.centers = as_float_array(centers, "centers", ndim=2, shape_hint="(n_modes, d)")
        self.std = float(std)
        self.name = name

    @property
    def n_modes(self) -> int:
        return len(self.centers)

    def sample(self, n: int, seed=0) -> np.ndarray:
        return sample_mixture(self.centers, n, self.std, seed)

    def __repr__(self) -> str:
        return f"MixtureTarget({self.name}, {self.n_modes} modes, std={self.std:g})"


def ring_target(n_modes: int = 8, radius: float = 2.0, std: float = 0.05) -> MixtureTarget:
    """The classic GAN test: ``n_modes`` narrow Gaussians on a circle."""
    return MixtureTarget(ring_centers(n_modes, radius), std, name="ring")


def grid_target(n_side: int = 5, spacing: float = 1.0, std: float = 0.05) -> MixtureTarget:
    """``n_side``² narrow Gaussians on a square grid."""
    return MixtureTarget(grid_centers(n_side, spacing), std, name="grid")


# --------------------------------------------------------------------------- mode metrics


def assign_modes(samples, centers, max_distance: float) -> np.ndarray:
    """Index of the nearest centre for every sample, or -1 when it is farther than
    ``max_distance`` from all of them. ``samples`` (n, d), ``centers`` (k, d) -> (n,) int."""
    samples = as_float_array(samples, "samples", ndim=2, shape_hint="(n_samples, d)")
    centers = as_float_array(centers, "centers", ndim=2, shape_hint="(n_modes, d)")
    if samples.shape[1] != centers.shape[1]:
        raise ValueError(f"samples have {samples.shape[1]} features but centers have "
                         f"{centers.shape[1]}; expected samples of shape (n, {centers.shape[1]})")
    d2 = ((samples[:, None, :] - centers[None, :, :]) ** 2).sum(axis=-1)
    nearest = d2.argmin(axis=1)
    near = d2[np.arange(len(samples)), nearest] <= max_distance ** 2
    return np.where(near, nearest, -1)


def mode_fractions(samples, centers, max_distance: float) -> np.ndarray:
    """Fraction of the samples within ``max_distance`` of each centre; shape ``(k,)``."""
    labels = assign_modes(samples, centers, max_distance)
    counts = np.bincount(labels[labels >= 0], minlength=len(centers))
    return counts / max(len(labels), 1)


def modes_covered(samples, centers, max_distance: float, min_fraction: float | None = None
                  ) -> int:
    """Number of modes that receive a fair share of the samples.

    A mode counts as covered when at least ``min_fraction`` of the samples lie within
    ``max_distance`` of it; the default ``min_fraction`` is a quarter of the share a perfect
    generator would give each mode, ``0.25 / k``.
    """
    fractions = mode_fractions(samples, centers, max_distance)
    if min_fraction is None:
        min_fraction = 0.25 / len(fractions)
    return int((fractions >= min_fraction).sum())


def high_quality_fraction(samples, centers, max_distance: float) -> float:
    """Fraction of the samples within ``max_distance`` of some centre ("high quality")."""
    return float((assign_modes(samples, centers, max_distance) >= 0).mean())


# --------------------------------------------------------------------------- two-sample


def mmd_rbf(X, Y, bandwidth: float = 1.0) -> float:
    """Squared maximum mean discrepancy between samples ``X`` (n, d) and ``Y`` (m, d).

    With the Gaussian kernel k(a, b) = exp(-|a-b|² / (2 h²)),
    MMD² = mean k(X, X') + mean k(Y, Y') - 2 mean k(X, Y), using the unbiased estimate
    (diagonal terms left out), so it is ≈ 0 (and may be slightly negative) when X and Y come
    from the same distribution. Computed in float64.
    """
    X = as_float_array(X, "X", ndim=2, shape_hint="(n, d)").astype(np.float64)
    Y = as_float_array(Y, "Y", ndim=2, shape_hint="(m, d)").astype(np.float64)
    if X.shape[1] != Y.shape[1]:
        raise ValueError(f"X has {X.shape[1]} features and Y has {Y.shape[1]}; expected "
                         f"Y of shape (m, {X.shape[1]})")
    if len(X) < 2 or len(Y) < 2:
        raise ValueError("mmd_rbf needs at least 2 samples on each side")
    gamma = 1.0 / (2.0 * bandwidth ** 2)

    def kernel_sum(A, B):
        sq = (A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2.0 * A @ B.T
        return np.exp(-gamma * np.maximum(sq, 0.0)).sum()

    n, m = len(X), len(Y)
    kxx = (kernel_sum(X, X) - n) / (n * (n - 1))
    kyy = (kernel_sum(Y, Y) - m) / (m * (m - 1))
    kxy = kernel_sum(X, Y) / (n * m)
    return float(kxx + kyy - 2.0 * kxy)


def mode_report(samples, target: MixtureTarget, reference=None, max_distance=None,
                bandwidth: float = 0.5) -> dict:
    """All the numbers in one dict: modes covered, quality, per-mode fractions, MMD².

    ``max_distance`` defaults to 3 × the target's std; ``reference`` (target samples for the
    MMD) defaults to 2000 fresh samples drawn with seed 12345.
    """
    max_distance = 3 * target.std if max_distance is None else max_distance
    if reference is None:
        reference = target.sample(2000, seed=12345)
    return {
        "modes_covered": modes_covered(samples, target.centers, max_distance),
        "n_modes": target.n_modes,
        "high_quality": high_quality_fraction(samples, target.centers, max_distance),
        "fractions": mode_fractions(samples, target.centers, max_distance),
        "mmd": mmd_rbf(samples, reference, bandwidth),
    }
