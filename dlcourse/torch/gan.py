"""Generative adversarial networks in PyTorch: small MLPs, the losses, a training loop.

A GAN (Goodfellow et al., 2014) trains two networks against each other. The generator
G maps noise z ~ N(0, I) to a sample G(z); the discriminator D maps a sample to a logit
(D's probability "this is real" is sigmoid(logit)). They play the minimax game

    min_G max_D  E_x[log D(x)] + E_z[log(1 - D(G(z)))].

D's side is ordinary binary cross-entropy (real -> 1, fake -> 0). For G, minimising
log(1 - D(G(z))) gives almost no gradient when D confidently rejects the fakes, so in
practice G minimises -log D(G(z)) instead: the *non-saturating* loss.

Everything works on logits (never on probabilities), using log sigmoid(l) = -softplus(-l)
and log(1 - sigmoid(l)) = -softplus(l), which is what ``binary_cross_entropy_with_logits``
computes internally. This module imports torch; ``import dlcourse`` never imports it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from dlcourse.data.datasets import load_digits_data

GENERATOR_LOSSES = ("non_saturating", "saturating")


def set_determinism(seed: int = 0, threads: int = 1) -> None:
    """Seed torch, fix the thread count and use deterministic kernels (results repeat).

    One thread by default: these networks are tiny, and on a shared 2-core machine two torch
    threads waiting for each other made a training step 30-50x slower (measured: 7 ms vs
    210-360 ms per step under load), while one thread is never slower.
    """
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)


# --------------------------------------------------------------------------- networks


def _mlp(sizes, activation, spectral: bool = False) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        linear = nn.Linear(n_in, n_out)
        layers.append(nn.utils.parametrizations.spectral_norm(linear) if spectral else linear)
        if i < len(sizes) - 2:
            layers.append(activation())
    return layers


class Generator(nn.Module):
    """Noise to samples: an MLP ``latent_dim -> hidden × n_hidden -> out_dim``.

    z (n, latent_dim) -> samples (n, out_dim). ReLU hidden units; the output is linear
    (2-D points) or ``tanh`` (images scaled to [-1, 1]) when ``out_activation="tanh"``.
    """

    def __init__(self, latent_dim: int = 2, out_dim: int = 2, hidden: int = 64,
                 n_hidden: int = 2, out_activation: str | None = None):
        super().__init__()
        if out_activation not in (None, "tanh"):
            raise ValueError(f"out_activation must be None or 'tanh', got {out_activation!r}")
        self.latent_dim, self.out_dim = latent_dim, out_dim
        layers = _mlp([latent_dim] + [hidden] * n_hidden + [out_dim], nn.ReLU)
        if out_activation == "tanh":
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` fresh samples (no gradient), shape ``(n, out_dim)``."""
        with torch.no_grad():
            return self(torch.randn(n, self.latent_dim, generator=generator))


class Discriminator(nn.Module):
    """Samples to logits: an MLP ``in_dim · pack -> hidden × n_hidden -> 1``.

    x (n, in_dim) -> logits (n // pack,). LeakyReLU(0.2) hidden units. Two optional
    remedies against mode collapse:

    - ``pack`` > 1 (PacGAN, Lin et al. 2018): D judges ``pack`` samples at once,
      concatenated, so it can see that a batch of fakes lacks variety;
    - ``spectral_norm=True`` (Miyato et al. 2018): every weight matrix is divided by its
      largest singular value, which keeps D smooth.
    """

    def __init__(self, in_dim: int = 2, hidden: int = 64, n_hidden: int = 2, pack: int = 1,
                 spectral_norm: bool = False):
        super().__init__()
        if pack < 1:
            raise ValueError(f"pack must be >= 1, got {pack}")
        self.in_dim, self.pack = in_dim, pack
        sizes = [in_dim * pack] + [hidden] * n_hidden + [1]
        self.net = nn.Sequential(*_mlp(sizes, lambda: nn.LeakyReLU(0.2), spectral_norm))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2 or x.shape[1] != self.in_dim or x.shape[0] % self.pack:
            raise ValueError(f"Discriminator expects x of shape (n, {self.in_dim}) with n a "
                             f"multiple of pack={self.pack}, got {tuple(x.shape)}")
        return self.net(x.reshape(-1, self.in_dim * self.pack)).squeeze(1)


# --------------------------------------------------------------------------- losses


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """D's loss, the negated value of the game:
    -mean log D(x) - mean log(1 - D(G(z))) = softplus(-real).mean() + softplus(fake).mean().

    Equal to BCE-with-logits(real, 1) + BCE-with-logits(fake, 0).
    """
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits: torch.Tensor, kind: str = "non_saturating") -> torch.Tensor:
    """G's loss on D's logits for fakes.

    - ``"saturating"`` (the minimax game as written): mean log(1 - D(G(z))) = -softplus(l).mean()
    - ``"non_saturating"`` (what everyone trains with): -mean log D(G(z)) = softplus(-l).mean()
    """
    if kind == "non_saturating":
        return F.softplus(-fake_logits).mean()
    if kind == "saturating":
        return -F.softplus(fake_logits).mean()
    raise ValueError(f"kind must be one of {GENERATOR_LOSSES}, got {kind!r}")


def generator_loss_gradient(d_prob, kind: str = "non_saturating"):
    """d(loss)/d(logit) of one fake sample, as a function of D's probability p = D(G(z)).

    saturating: d/dl log(1 - sigmoid(l)) = -p; non-saturating: d/dl -log sigmoid(l) = p - 1.
    When D confidently rejects a fake (p -> 0) the first vanishes and the second is ≈ -1.
    numpy in, numpy out.
    """
    p = np.asarray(d_prob, dtype=float)
    if kind == "saturating":
        return -p
    if kind == "non_saturating":
        return p - 1.0
    raise ValueError(f"kind must be one of {GENERATOR_LOSSES}, got {kind!r}")


def generator_gradient_norm(G: Generator, D: Discriminator, z: torch.Tensor,
                            kind: str = "non_saturating") -> float:
    """‖∂L_G/∂θ_G‖: the norm of the generator loss's gradient over all of G's parameters.

    ``L_G = generator_loss(D(G(z)), kind)`` on the noise batch z (n, latent_dim), at the
    current weights of both networks. Computed with ``torch.autograd.grad``, so neither
    network's ``.grad`` is touched and nothing is updated: a measurement, not a step.
    """
    if kind not in GENERATOR_LOSSES:
        raise ValueError(f"kind must be one of {GENERATOR_LOSSES}, got {kind!r}")
    if z.ndim != 2 or z.shape[1] != G.latent_dim:
        raise ValueError(f"z must have shape (n, {G.latent_dim}), got {tuple(z.shape)}")
    params = [p for p in G.parameters() if p.requires_grad]
    grads = torch.autograd.grad(generator_loss(D(G(z)), kind), params)
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g)
                                                 for g in grads])).item()


# --------------------------------------------------------------------------- training


def train_step(G: Generator, D: Discriminator, opt_g, opt_d, real: torch.Tensor,
               z: torch.Tensor, kind: str = "non_saturating") -> tuple[float, float]:
    """One alternating GAN update on a batch; returns ``(d_loss, g_loss)`` as floats.

    1. D step: fakes = G(z), detached; minimise ``discriminator_loss(D(real), D(fakes))``.
    2. G step: with the *updated* D, minimise ``generator_loss(D(G(z)), kind)``
       (the same z), stepping only G's optimizer.

    real (n, d), z (n, latent_dim).
    """
    fake = G(z)
    opt_d.zero_grad()
    d_loss = discriminator_loss(D(real), D(fake.detach()))
    d_loss.backward()
    opt_d.step()

    opt_g.zero_grad()
    g_loss = generator_loss(D(fake), kind)
    g_loss.backward()
    opt_g.step()
    return d_loss.item(), g_loss.item()


@dataclass
class GANHistory:
    """What ``train_gan`` recorded.

    ``snapshots`` (S, n_snapshot, d): G(z_fixed) at the steps in ``snapshot_steps`` (S,);
    ``d_fake`` (S,) D's mean probability "real" on those snapshot samples; ``d_grid``
    (S, n_grid) D's probability on ``grid`` points at the same steps (2-D only, when a grid
    was given); ``d_loss``/``g_loss`` one value per step; ``g_grad_norm`` (steps,) the norm
    of the generator's gradient (all its parameters) in each step; ``seconds`` wall time.
    """

    snapshot_steps: np.ndarray
    snapshots: np.ndarray
    d_loss: np.ndarray
    g_loss: np.ndarray
    seconds: float
    config: dict = field(default_factory=dict)
    grid: np.ndarray | None = None
    d_grid: np.ndarray | None = None
    d_fake: np.ndarray | None = None
    g_grad_norm: np.ndarray | None = None

    @property
    def final(self) -> np.ndarray:
        """The last snapshot: samples of the trained generator, (n_snapshot, d)."""
        return self.snapshots[-1]


def train_gan(data, *, steps: int = 2000, batch_size: int = 128, latent_dim: int = 2,
              hidden: int = 64, n_hidden: int = 2, lr_g: float = 1e-3, lr_d: float = 1e-3,
              betas=(0.5, 0.999), kind: str = "non_saturating", pack: int = 1,
              spectral_norm: bool = False, out_activation: str | None = None,
              snapshot_every: int = 100, n_snapshot: int = 512, grid=None, seed: int = 0,
              d_hidden: int | None = None, d_warmup: int = 0, g_optimizer: str = "adam",
              return_models: bool = False):
    """Train a GAN on the rows of ``data`` (N, d); record samples as it learns.

    Every ``snapshot_every`` steps (and at step 0) the generator's output on one fixed noise
    batch of ``n_snapshot`` is stored, so the samples can be scrubbed through afterwards.
    With ``grid`` (g, d) also D's probability on those points. ``hidden`` is the width of
    both networks unless ``d_hidden`` sets the discriminator's. D trains with Adam; G with
    Adam or, ``g_optimizer="sgd"``, plain gradient steps (a step proportional to the
    gradient, so a vanishing gradient shows). ``d_warmup`` > 0 first trains D alone for that
    many steps against the untrained G, so D starts out ahead (confident); the step-0
    snapshot is taken after the warm-up. Deterministic for a seed.
    Returns a ``GANHistory`` (and ``(G, D)`` too when ``return_models``).
    """
    if kind not in GENERATOR_LOSSES:
        raise ValueError(f"kind must be one of {GENERATOR_LOSSES}, got {kind!r}")
    if g_optimizer not in ("adam", "sgd"):
        raise ValueError(f"g_optimizer must be 'adam' or 'sgd', got {g_optimizer!r}")
    if d_warmup < 0:
        raise ValueError(f"d_warmup must be >= 0, got {d_warmup}")
    if batch_size % pack:
        raise ValueError(f"batch_size={batch_size} must be a multiple of pack={pack}")
    set_determinism(seed)
    data_t = torch.as_tensor(np.asarray(data, dtype=np.float32))
    if data_t.ndim != 2:
        raise ValueError(f"data must have shape (n_samples, d), got {tuple(data_t.shape)}")
    dim = data_t.shape[1]
    G = Generator(latent_dim, dim, hidden, n_hidden, out_activation)
    d_hidden = hidden if d_hidden is None else d_hidden
    D = Discriminator(dim, d_hidden, n_hidden, pack, spectral_norm)
    # fused Adam: one kernel per step instead of a loop over tensors, ≈ 20 % faster here.
    opt_g = (torch.optim.Adam(G.parameters(), lr=lr_g, betas=betas, fused=True)
             if g_optimizer == "adam" else torch.optim.SGD(G.parameters(), lr=lr_g))
    opt_d = torch.optim.Adam(D.parameters(), lr=lr_d, betas=betas, fused=True)
    gen = torch.Generator().manual_seed(seed)
    z_fixed = torch.randn(n_snapshot, latent_dim, generator=gen)
    grid_t = None if grid is None else torch.as_tensor(np.asarray(grid, dtype=np.float32))
    if grid_t is not None and pack != 1:
        raise ValueError("a discriminator grid is only recorded for pack=1")

    steps_seen, snaps, d_grid, d_fake = [], [], [], []
    d_losses, g_losses, g_norms = np.zeros(steps), np.zeros(steps), np.zeros(steps)

    def snapshot(step):
        with torch.no_grad():
            steps_seen.append(step)
            fakes = G(z_fixed)
            snaps.append(fakes.numpy().copy())
            if n_snapshot % pack == 0:
                d_fake.append(torch.sigmoid(D(fakes)).mean().item())
            if grid_t is not None:
                d_grid.append(torch.sigmoid(D(grid_t)).numpy().copy())

    def batch():
        real = data_t[torch.randint(0, len(data_t), (batch_size,), generator=gen)]
        return real, torch.randn(batch_size, latent_dim, generator=gen)

    start = time.perf_counter()
    for _ in range(d_warmup):              # D alone, against the untrained G
        real, z = batch()
        opt_d.zero_grad()
        discriminator_loss(D(real), D(G(z).detach())).backward()
        opt_d.step()
    snapshot(0)
    g_params = list(G.parameters())
    for step in range(1, steps + 1):
        real, z = batch()
        d_losses[step - 1], g_losses[step - 1] = train_step(G, D, opt_g, opt_d, real, z, kind)
        g_norms[step - 1] = torch.linalg.vector_norm(
            torch.stack([torch.linalg.vector_norm(p.grad) for p in g_params])).item()
        if step % snapshot_every == 0 or step == steps:
            snapshot(step)
    seconds = time.perf_counter() - start
    config = dict(steps=steps, batch_size=batch_size, latent_dim=latent_dim, hidden=hidden,
                  d_hidden=d_hidden,
                  n_hidden=n_hidden, lr_g=lr_g, lr_d=lr_d, kind=kind, pack=pack,
                  spectral_norm=spectral_norm, seed=seed, d_warmup=d_warmup,
                  g_optimizer=g_optimizer)
    history = GANHistory(np.array(steps_seen), np.stack(snaps), d_losses, g_losses, seconds,
                         config, None if grid is None else np.asarray(grid),
                         np.stack(d_grid) if d_grid else None,
                         np.array(d_fake) if d_fake else None, g_norms)
    return (history, G, D) if return_models else history


# --------------------------------------------------------------------------- digits


def train_digit_gan(steps: int = 1000, batch_size: int = 64, latent_dim: int = 16,
                    hidden: int = 128, seed: int = 0, **kwargs):
    """A small GAN on the 8×8 digits: tanh generator, defaults that train in seconds."""
    X, _ = load_digits_data(value_range=(-1.0, 1.0))
    kwargs.setdefault("lr_g", 2e-3)
    kwargs.setdefault("lr_d", 2e-3)
    kwargs.setdefault("n_snapshot", 64)
    kwargs.setdefault("snapshot_every", 100)
    return train_gan(X, steps=steps, batch_size=batch_size, latent_dim=latent_dim,
                     hidden=hidden, out_activation="tanh", seed=seed, **kwargs)
