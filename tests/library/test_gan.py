"""GAN chapter library: losses, metrics, training on 2-D mixtures, mode collapse and a remedy.

Training runs are seeded and single-threaded with deterministic kernels, so the numbers
asserted here repeat exactly; the thresholds still leave a margin below what was measured
(noted beside each one).
"""

from __future__ import annotations

import numpy as np
import pytest

from dlcourse.data import load_digits_data
from dlcourse.studies.generative_metrics import (
    MixtureTarget,
    assign_modes,
    grid_centers,
    grid_target,
    high_quality_fraction,
    mmd_rbf,
    mode_fractions,
    mode_report,
    modes_covered,
    ring_centers,
    ring_target,
    sample_mixture,
)

torch = pytest.importorskip("torch")
from dlcourse.torch import gan  # noqa: E402  (imports torch)

F = torch.nn.functional


# --------------------------------------------------------------------------- metrics (numpy)


def test_targets_have_the_stated_modes():
    ring = ring_centers(8, radius=2.0)
    assert ring.shape == (8, 2)
    assert np.allclose(np.linalg.norm(ring, axis=1), 2.0)
    grid = grid_centers(5, spacing=1.0)
    assert grid.shape == (25, 2)
    assert np.allclose(grid.mean(axis=0), 0.0) and np.isclose(grid.max(), 2.0)
    a, b = sample_mixture(ring, 500, 0.1, seed=3), sample_mixture(ring, 500, 0.1, seed=3)
    assert a.dtype == np.float32 and a.shape == (500, 2) and np.array_equal(a, b)
    assert repr(ring_target()).startswith("MixtureTarget(ring, 8 modes")


def test_all_samples_on_one_mode_cover_one_mode():
    target = ring_target(8, 2.0, 0.05)
    samples = target.centers[3] + 0.01 * np.random.default_rng(0).standard_normal((400, 2))
    assert modes_covered(samples, target.centers, 0.15) == 1
    fractions = mode_fractions(samples, target.centers, 0.15)
    assert fractions[3] == 1.0 and fractions.sum() == 1.0
    assert high_quality_fraction(samples, target.centers, 0.15) == 1.0


def test_target_samples_cover_every_mode_and_far_points_are_low_quality():
    target = grid_target(5, 1.0, 0.05)
    samples = target.sample(5000, seed=1)
    assert modes_covered(samples, target.centers, 0.15) == 25
    assert high_quality_fraction(samples, target.centers, 0.15) > 0.98  # 3 sigma: 98.9 %
    between = target.centers[:4] + 0.5  # halfway between grid points
    assert np.all(assign_modes(between, target.centers, 0.15) == -1)
    assert high_quality_fraction(between, target.centers, 0.15) == 0.0


def test_assign_modes_checks_shapes():
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        assign_modes(np.zeros((4, 3)), ring_centers(), 0.1)
    with pytest.raises(ValueError, match="n_samples"):
        assign_modes(np.zeros(4), ring_centers(), 0.1)


def test_mmd_is_near_zero_for_same_distribution_and_large_when_shifted():
    target = ring_target(8, 2.0, 0.1)
    a, b = target.sample(1000, seed=1), target.sample(1000, seed=2)
    same = mmd_rbf(a, b, bandwidth=0.5)
    shifted = mmd_rbf(a, b + np.float32(1.0), bandwidth=0.5)
    collapsed = mmd_rbf(np.repeat(target.centers[:1], 1000, axis=0), b, bandwidth=0.5)
    assert abs(same) < 2e-3, same
    assert shifted > 0.1 and collapsed > 0.3, (shifted, collapsed)
    assert mmd_rbf(a, a, 0.5) < 0  # unbiased: diagonal left out, slightly negative


def test_mmd_matches_the_definition_on_a_tiny_example():
    X, Y = np.array([[0.0], [1.0]]), np.array([[0.0], [2.0], [3.0]])
    k = lambda a, b: np.exp(-((a - b) ** 2) / 2.0)  # noqa: E731  (bandwidth 1)
    kxx = 2 * k(0, 1) / 2
    kyy = 2 * (k(0, 2) + k(0, 3) + k(2, 3)) / 6
    kxy = sum(k(x, y) for x in (0, 1) for y in (0, 2, 3)) / 6
    assert np.isclose(mmd_rbf(X, Y, 1.0), kxx + kyy - 2 * kxy)
    with pytest.raises(ValueError, match=r"\(m, 1\)"):
        mmd_rbf(X, np.zeros((3, 2)))


def test_mode_report_collects_everything():
    target = ring_target()
    report = mode_report(target.sample(1000, seed=5), target)
    assert report["modes_covered"] == report["n_modes"] == 8
    assert report["fractions"].shape == (8,) and abs(report["mmd"]) < 2e-3
    assert isinstance(MixtureTarget(grid_centers(2), 0.1).sample(4), np.ndarray)


# --------------------------------------------------------------------------- losses (torch)


@pytest.fixture
def logits():
    g = torch.Generator().manual_seed(0)
    return (4 * torch.randn(64, generator=g, dtype=torch.float64),
            4 * torch.randn(64, generator=g, dtype=torch.float64))


def test_discriminator_loss_is_the_formula_and_bce_with_logits(logits):
    real, fake = logits
    d_real, d_fake = torch.sigmoid(real), torch.sigmoid(fake)
    formula = -(torch.log(d_real).mean() + torch.log(1 - d_fake).mean())
    bce = (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
           + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
    loss = gan.discriminator_loss(real, fake)
    assert torch.allclose(loss, formula, rtol=1e-10) and torch.allclose(loss, bce, rtol=1e-12)
    # Stable where the formula is not: a confident D on logits of +-200.
    big = gan.discriminator_loss(torch.tensor([200.0]), torch.tensor([-200.0]))
    assert torch.isfinite(big) and big.item() < 1e-80


def test_generator_losses_are_the_formulas(logits):
    _, fake = logits
    d_fake = torch.sigmoid(fake)
    ns = gan.generator_loss(fake, "non_saturating")
    sat = gan.generator_loss(fake, "saturating")
    assert torch.allclose(ns, -torch.log(d_fake).mean(), rtol=1e-10)
    assert torch.allclose(ns, F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake)))
    assert torch.allclose(sat, torch.log(1 - d_fake).mean(), rtol=1e-10)
    assert torch.allclose(sat, -F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
    with pytest.raises(ValueError, match="non_saturating"):
        gan.generator_loss(fake, "wasserstein")


def test_generator_loss_gradients_saturate_only_for_the_minimax_form():
    logit = torch.tensor([-8.0, 0.0, 3.0], dtype=torch.float64, requires_grad=True)
    p = torch.sigmoid(logit).detach().numpy()
    for kind in gan.GENERATOR_LOSSES:
        (grad,) = torch.autograd.grad(gan.generator_loss(logit, kind) * 3, logit)
        assert np.allclose(grad.numpy(), gan.generator_loss_gradient(p, kind))
    # D confidently rejects a fake (D(G(z)) = 3e-4): the minimax gradient all but vanishes.
    assert abs(gan.generator_loss_gradient(p[0], "saturating")) < 1e-3
    assert abs(gan.generator_loss_gradient(p[0], "non_saturating")) > 0.99


def test_networks_shapes_and_errors():
    G = gan.Generator(latent_dim=3, out_dim=2, hidden=16)
    D = gan.Discriminator(in_dim=2, hidden=16, pack=2, spectral_norm=True)
    x = G(torch.randn(10, 3))
    assert x.shape == (10, 2) and D(x).shape == (5,)
    with pytest.raises(ValueError, match="multiple of pack=2"):
        D(torch.zeros(3, 2))
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        D(torch.zeros(4, 3))
    images = gan.Generator(4, 64, 16, out_activation="tanh").sample(5)
    assert images.shape == (5, 64) and images.abs().max() <= 1


def test_train_step_updates_both_networks_as_documented():
    gan.set_determinism(0)
    G, D = gan.Generator(2, 2, 16), gan.Discriminator(2, 16)
    opt_g = torch.optim.SGD(G.parameters(), lr=0.1)
    opt_d = torch.optim.SGD(D.parameters(), lr=0.1)
    real, z = torch.randn(32, 2) + 3, torch.randn(32, 2)
    G0, D0 = [p.detach().clone() for p in G.parameters()], [p.detach().clone() for p in
                                                            D.parameters()]
    d_loss, g_loss = gan.train_step(G, D, opt_g, opt_d, real, z)
    # Reference: the same two updates written out by hand.
    Gr, Dr = gan.Generator(2, 2, 16), gan.Discriminator(2, 16)
    for p, v in zip(Gr.parameters(), G0, strict=True):
        p.data.copy_(v)
    for p, v in zip(Dr.parameters(), D0, strict=True):
        p.data.copy_(v)
    fake = Gr(z).detach()
    ref_d = -(F.logsigmoid(Dr(real)).mean() + torch.log1p(-torch.sigmoid(Dr(fake))).mean())
    for p, g in zip(Dr.parameters(), torch.autograd.grad(ref_d, list(Dr.parameters())),
                    strict=True):
        p.data -= 0.1 * g
    ref_g = -F.logsigmoid(Dr(Gr(z))).mean()  # with the updated D
    for p, g in zip(Gr.parameters(), torch.autograd.grad(ref_g, list(Gr.parameters())),
                    strict=True):
        p.data -= 0.1 * g
    assert np.isclose(d_loss, ref_d.item(), rtol=1e-5) and np.isclose(g_loss, ref_g.item(),
                                                                      rtol=1e-5)
    for a, b in zip(list(G.parameters()) + list(D.parameters()),
                    list(Gr.parameters()) + list(Dr.parameters()), strict=True):
        assert torch.allclose(a, b, atol=1e-6)


def test_generator_gradient_norm_is_the_norm_of_backward_and_changes_nothing():
    gan.set_determinism(0)
    G, D = gan.Generator(2, 2, 16), gan.Discriminator(2, 16)
    z = torch.randn(64, 2)
    before = [p.detach().clone() for p in list(G.parameters()) + list(D.parameters())]
    for kind in gan.GENERATOR_LOSSES:
        G.zero_grad()
        gan.generator_loss(D(G(z)), kind).backward()
        by_hand = torch.sqrt(sum((p.grad ** 2).sum() for p in G.parameters())).item()
        G.zero_grad()
        D.zero_grad()
        assert np.isclose(gan.generator_gradient_norm(G, D, z, kind), by_hand, rtol=1e-5)
        # a measurement: no .grad left behind, no weight changed
        assert all(p.grad is None or not p.grad.any() for p in D.parameters())
        assert all(p.grad is None or not p.grad.any() for p in G.parameters())
    after = list(G.parameters()) + list(D.parameters())
    assert all(torch.equal(a, b) for a, b in zip(before, after, strict=True))
    with pytest.raises(ValueError, match="non_saturating"):
        gan.generator_gradient_norm(G, D, z, "least_squares")
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        gan.generator_gradient_norm(G, D, torch.randn(8, 3))


def test_generator_gradient_norms_follow_the_logit_gradients_when_d_is_confident():
    """Both losses share ∂logit/∂θ_G; per fake they weight it by -D (saturating) or D - 1.

    With D's last layer scaled down (every logit ≈ its bias) all fakes get the same
    D(G(z)) = sigmoid(bias), so the ratio of the two norms is exactly (1 - D)/D: ≈ e⁹ ≈ 8100
    for a bias of -9 (D confidently rejects), 1 for a bias of 0 (D = 1/2)."""
    gan.set_determinism(1)
    G, D = gan.Generator(2, 2, 16), gan.Discriminator(2, 16)
    z = torch.randn(256, 2)
    last = D.net[-1]
    with torch.no_grad():
        last.weight.mul_(1e-6)                 # still differentiable, logits ≈ bias
    for bias in (-9.0, -3.0, 0.0):
        with torch.no_grad():
            last.bias.fill_(bias)
            p = torch.sigmoid(D(G(z))).mean().item()
        ratio = (gan.generator_gradient_norm(G, D, z, "non_saturating")
                 / gan.generator_gradient_norm(G, D, z, "saturating"))
        assert np.isclose(ratio, (1 - p) / p, rtol=1e-4), (bias, ratio, (1 - p) / p)
    assert np.isclose(ratio, 1.0, rtol=1e-4)


# --------------------------------------------------------------------------- training runs

RING = ring_target(8, 2.0, 0.1)
RING_DATA = RING.sample(10000, seed=0)


@pytest.fixture(scope="module")
def ring_run():
    return gan.train_gan(RING_DATA, steps=1500, lr_g=5e-3, lr_d=5e-3, snapshot_every=500,
                         seed=0)


def test_training_is_deterministic(ring_run):
    again = gan.train_gan(RING_DATA, steps=40, lr_g=5e-3, lr_d=5e-3, snapshot_every=20, seed=0)
    first = gan.train_gan(RING_DATA, steps=40, lr_g=5e-3, lr_d=5e-3, snapshot_every=20, seed=0)
    assert np.array_equal(again.snapshots, first.snapshots)
    assert np.array_equal(again.d_loss, first.d_loss)
    assert list(ring_run.snapshot_steps) == [0, 500, 1000, 1500]
    assert ring_run.snapshots.shape == (4, 512, 2) and ring_run.d_loss.shape == (1500,)


def test_discriminator_warm_up_makes_the_saturating_gradient_vanish():
    """d_warmup trains D alone first; then the saturating loss gives G a tiny gradient."""
    runs = {kind: gan.train_gan(RING_DATA, steps=2, d_warmup=100, lr_d=5e-3, lr_g=0.02,
                                g_optimizer="sgd", kind=kind, snapshot_every=1, seed=0)
            for kind in ("saturating", "non_saturating")}
    sat, ns = runs["saturating"], runs["non_saturating"]
    assert sat.g_grad_norm.shape == (2,) and sat.d_fake.shape == (3,)
    assert sat.config["d_warmup"] == 100 and sat.config["g_optimizer"] == "sgd"
    # measured (seed 0): D(G(z)) 0.0007 after the warm-up; |grad G| 5.7e-3 vs 4.6
    assert sat.d_fake[0] == ns.d_fake[0] < 0.01          # the same warm-up for both
    assert ns.g_grad_norm[0] > 100 * sat.g_grad_norm[0], (ns.g_grad_norm, sat.g_grad_norm)
    plain = gan.train_gan(RING_DATA, steps=2, snapshot_every=1, seed=0)
    assert plain.d_fake[0] > 0.3 and np.all(plain.g_grad_norm > 0)
    with pytest.raises(ValueError, match="g_optimizer"):
        gan.train_gan(RING_DATA, steps=1, g_optimizer="rmsprop")
    with pytest.raises(ValueError, match="d_warmup"):
        gan.train_gan(RING_DATA, steps=1, d_warmup=-1)


def test_ring_gan_covers_all_modes_with_small_mmd(ring_run):
    report = mode_report(ring_run.final, RING)
    untrained = mode_report(ring_run.snapshots[0], RING)
    # measured (seed 0): 8/8 modes, 84 % high quality, MMD² 0.006; untrained MMD² 1.04
    assert report["modes_covered"] == 8, report
    assert report["high_quality"] >= 0.7, report
    assert report["mmd"] < 0.02 and untrained["mmd"] > 10 * report["mmd"], (report, untrained)


def test_grid_gan_covers_most_modes():
    grid = grid_target(5, 1.0, 0.1)
    history = gan.train_gan(grid.sample(10000, seed=0), steps=1500, lr_g=5e-3, lr_d=5e-3,
                            snapshot_every=1500, seed=0)
    report = mode_report(history.final, grid)
    # The 25-mode grid is much harder than the ring: in 1500 steps a plain GAN reaches
    # measured (seed 0) 10/25 modes, 30 % high quality, MMD² 0.031.
    assert report["modes_covered"] >= 8, report
    assert report["mmd"] < 0.06, report
    assert mode_report(history.snapshots[0], grid)["mmd"] > 3 * report["mmd"]


def test_mode_collapse_and_packing_remedy():
    """G learning 10x faster than D collapses; packing pairs of samples for D (PacGAN) fixes it."""
    collapse = dict(steps=1000, lr_g=5e-3, lr_d=5e-4, snapshot_every=1000, seed=0)
    collapsed_run = gan.train_gan(RING_DATA, **collapse)
    packed_run = gan.train_gan(RING_DATA, pack=2, **collapse)
    collapsed, packed = mode_report(collapsed_run.final, RING), mode_report(packed_run.final, RING)
    collapsed_std = collapsed_run.final.std(axis=0).mean()
    packed_std = packed_run.final.std(axis=0).mean()
    # measured (seed 0), as in the chapter: collapsed 1/8 modes, 20 % high quality, sample std
    # 0.21 (target 1.42), MMD² 0.72; packed 6/8 modes, 32 % high quality, std 1.32, MMD² 0.029
    assert collapsed_std < 0.5 * packed_std
    assert collapsed["modes_covered"] <= 2, collapsed
    assert packed["modes_covered"] >= collapsed["modes_covered"] + 4, (collapsed, packed)
    assert packed["mmd"] < collapsed["mmd"] / 5, (collapsed, packed)


def test_digit_gan_makes_digit_like_images():
    X, _ = load_digits_data(value_range=(-1.0, 1.0))
    assert X.shape == (1797, 64) and X.min() == -1 and X.max() == 1
    history = gan.train_digit_gan(steps=500, n_snapshot=256, snapshot_every=500)
    final = history.final
    assert final.shape == (256, 64) and np.abs(final).max() <= 1
    # measured (seed 0): MMD² 0.85 untrained -> ≈ 0.23 after 500 steps (0.06 after 1000)
    assert mmd_rbf(final, X[:256], 4.0) < mmd_rbf(history.snapshots[0], X[:256], 4.0) / 2


def test_scrubber_widget_runs_headless_on_points_and_images():
    import matplotlib

    matplotlib.use("Agg")
    from dlcourse.widgets.gan import _image_grid, gan_scrubber

    xs = np.linspace(-3, 3, 11)
    grid = np.stack(np.meshgrid(xs, xs), axis=-1).reshape(-1, 2)
    points = gan.train_gan(RING_DATA, steps=20, snapshot_every=10, grid=grid, n_snapshot=64)
    assert points.d_grid.shape == (3, 121)
    widget = gan_scrubber(points, target=RING)
    assert widget.children[0].max == 2  # three snapshots: steps 0, 10, 20
    images = gan.train_digit_gan(steps=10, snapshot_every=10, n_snapshot=16)
    gan_scrubber(images, n_images=16)
    assert _image_grid(images.final, n_cols=8).shape == (20, 80)
    bad = gan.train_gan(np.zeros((50, 3), np.float32), steps=2, snapshot_every=2)
    with pytest.raises(ValueError, match="d=3"):
        gan_scrubber(bad)
