"""09 GAN: bypasses, typical mistakes and claims (read by test_chapters.py)."""

from dlcourse.grading.variants import Claim, Variant

BYPASSES = [
    Variant("ex_discriminator_loss", "call the library's discriminator loss", kind="bypass",
            source='''
def my_discriminator_loss(real_logits, fake_logits):
    return gan.discriminator_loss(real_logits, fake_logits)
'''),
    Variant("ex_discriminator_loss", "torch's binary cross-entropy with logits", kind="bypass",
            source='''
def my_discriminator_loss(real_logits, fake_logits):
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    return (bce(real_logits, torch.ones_like(real_logits))
            + bce(fake_logits, torch.zeros_like(fake_logits)))
'''),
    Variant("ex_generator_loss", "call the library's generator loss", kind="bypass", source='''
def my_generator_loss(fake_logits, kind="non_saturating"):
    return gan.generator_loss(fake_logits, kind)
'''),
    Variant("ex_generator_loss", "BCE module with flipped labels", kind="bypass", source='''
from torch import nn
_bce = nn.BCEWithLogitsLoss()
def my_generator_loss(fake_logits, kind="non_saturating"):
    if kind == "non_saturating":
        return _bce(fake_logits, torch.ones_like(fake_logits))
    if kind == "saturating":
        return -_bce(fake_logits, torch.zeros_like(fake_logits))
    raise ValueError(kind)
'''),
    Variant("ex_train_step", "call the library's training step", kind="bypass", source='''
from dlcourse.torch.gan import train_step as _step
def my_train_step(G, D, opt_g, opt_d, real, z):
    return _step(G, D, opt_g, opt_d, real, z)
'''),
]

MISTAKES = [
    # ---- Exercise 1
    Variant("ex_discriminator_loss", "labels swapped", expect="swapped the labels", source='''
def my_discriminator_loss(real_logits, fake_logits):
    return F.softplus(real_logits).mean() + F.softplus(-fake_logits).mean()
'''),
    Variant("ex_discriminator_loss", "sum instead of mean", expect="summed.*mean", source='''
def my_discriminator_loss(real_logits, fake_logits):
    return F.softplus(-real_logits).sum() + F.softplus(fake_logits).sum()
'''),
    Variant("ex_discriminator_loss", "one mean over both batches",
            expect="mean of each batch separately", source='''
def my_discriminator_loss(real_logits, fake_logits):
    return torch.cat([F.softplus(-real_logits), F.softplus(fake_logits)]).mean()
'''),
    Variant("ex_discriminator_loss", "log of sigmoid (unstable)", expect="softplus", source='''
def my_discriminator_loss(real_logits, fake_logits):
    return -(torch.log(torch.sigmoid(real_logits)).mean()
             + torch.log(1 - torch.sigmoid(fake_logits)).mean())
'''),
    Variant("ex_discriminator_loss", "returns a float", expect="scalar tensor", source='''
def my_discriminator_loss(real_logits, fake_logits):
    return (F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()).item()
'''),
    # ---- Exercise 2
    Variant("ex_generator_loss", "the two kinds swapped", expect="kinds are swapped", source='''
def my_generator_loss(fake_logits, kind="non_saturating"):
    if kind == "saturating":
        return F.softplus(-fake_logits).mean()
    if kind == "non_saturating":
        return -F.softplus(fake_logits).mean()
    raise ValueError(kind)
'''),
    Variant("ex_generator_loss", "non-saturating: what G maximises, not its loss",
            expect="non-saturating.*sign", source='''
def my_generator_loss(fake_logits, kind="non_saturating"):
    if kind == "non_saturating":
        return -F.softplus(-fake_logits).mean()
    if kind == "saturating":
        return -F.softplus(fake_logits).mean()
    raise ValueError(kind)
'''),
    Variant("ex_generator_loss", "saturating: D's loss on fakes", expect="saturating.*sign",
            source='''
def my_generator_loss(fake_logits, kind="non_saturating"):
    if kind == "non_saturating":
        return F.softplus(-fake_logits).mean()
    if kind == "saturating":
        return F.softplus(fake_logits).mean()
    raise ValueError(kind)
'''),
    Variant("ex_generator_loss", "log of sigmoid (unstable)", expect="softplus", source='''
def my_generator_loss(fake_logits, kind="non_saturating"):
    d = torch.sigmoid(fake_logits)
    if kind == "non_saturating":
        return -torch.log(d).mean()
    if kind == "saturating":
        return torch.log(1 - d).mean()
    raise ValueError(kind)
'''),
    Variant("ex_generator_loss", "no error for an unknown kind", expect="ValueError", source='''
def my_generator_loss(fake_logits, kind="non_saturating"):
    if kind == "saturating":
        return -F.softplus(fake_logits).mean()
    return F.softplus(-fake_logits).mean()
'''),
    # ---- Exercise 3
    Variant("ex_train_step", "fakes not detached in the D step (graph freed)",
            expect="detach the fakes", source='''
def my_train_step(G, D, opt_g, opt_d, real, z):
    fake = G(z)
    opt_d.zero_grad()
    d_loss = gan.discriminator_loss(D(real), D(fake))
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad()
    g_loss = gan.generator_loss(D(fake))
    g_loss.backward()
    opt_g.step()
    return d_loss.item(), g_loss.item()
'''),
    Variant("ex_train_step", "fakes not detached, gradients zeroed only at the start",
            expect="detach the fakes", source='''
def my_train_step(G, D, opt_g, opt_d, real, z):
    opt_d.zero_grad()
    opt_g.zero_grad()
    d_loss = gan.discriminator_loss(D(real), D(G(z)))
    d_loss.backward()
    opt_d.step()
    g_loss = gan.generator_loss(D(G(z)))
    g_loss.backward()
    opt_g.step()
    return d_loss.item(), g_loss.item()
'''),
    Variant("ex_train_step", "real and fake swapped in the D loss", expect="swapped real and fake",
            source='''
def my_train_step(G, D, opt_g, opt_d, real, z):
    fake = G(z)
    opt_d.zero_grad()
    d_loss = gan.discriminator_loss(D(fake.detach()), D(real))
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad()
    g_loss = gan.generator_loss(D(fake))
    g_loss.backward()
    opt_g.step()
    return d_loss.item(), g_loss.item()
'''),
    Variant("ex_train_step", "saturating generator loss", expect="saturating loss", source='''
def my_train_step(G, D, opt_g, opt_d, real, z):
    fake = G(z)
    opt_d.zero_grad()
    d_loss = gan.discriminator_loss(D(real), D(fake.detach()))
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad()
    g_loss = gan.generator_loss(D(fake), "saturating")
    g_loss.backward()
    opt_g.step()
    return d_loss.item(), g_loss.item()
'''),
    Variant("ex_train_step", "generator scored by D before its update", expect="updated D",
            source='''
def my_train_step(G, D, opt_g, opt_d, real, z):
    fake = G(z)
    opt_d.zero_grad()
    opt_g.zero_grad()
    d_loss = gan.discriminator_loss(D(real), D(fake.detach()))
    g_loss = gan.generator_loss(D(fake))
    d_loss.backward()
    opt_d.step()
    g_loss.backward()
    opt_g.step()
    return d_loss.item(), g_loss.item()
'''),
    Variant("ex_train_step", "generator step first", expect="D step first", source='''
def my_train_step(G, D, opt_g, opt_d, real, z):
    opt_g.zero_grad()
    g_loss = gan.generator_loss(D(G(z)))
    g_loss.backward()
    opt_g.step()
    opt_d.zero_grad()
    d_loss = gan.discriminator_loss(D(real), D(G(z).detach()))
    d_loss.backward()
    opt_d.step()
    return d_loss.item(), g_loss.item()
'''),
    Variant("ex_train_step", "opt_d's gradients never zeroed", expect="zero opt_d",
            source='''
def my_train_step(G, D, opt_g, opt_d, real, z):
    fake = G(z)
    d_loss = gan.discriminator_loss(D(real), D(fake.detach()))
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad()
    g_loss = gan.generator_loss(D(fake))
    g_loss.backward()
    opt_g.step()
    return d_loss.item(), g_loss.item()
'''),
]

CLAIMS = [
    Claim("V(D*, G) = 2 JSD - log 4, and -log 4 when the distributions agree", check='''
assert abs(jsd[0]) < 1e-9
assert all(0 <= jsd[s] <= np.log(2) + 1e-9 for s in jsd)
'''),
    Claim("once the distributions barely overlap the JSD is stuck at log 2, 8 or 16 away",
          check='''
assert abs(jsd[8] - np.log(2)) < 1e-3 and abs(jsd[16] - np.log(2)) < 1e-6, jsd
assert jsd[1] < np.log(2) / 4, jsd
'''),
    Claim("the untrained D gives the untrained fakes probabilities near 1/2", check='''
assert 0.4 < p0.min() and p0.max() < 0.6, (p0.min(), p0.max())
'''),
    Claim("D's loss settles near 2 log 2 (D can no longer tell real from fake)", check='''
assert abs(d_loss_end - 2 * np.log(2)) < 0.15, d_loss_end
'''),
    Claim("the trained ring GAN covers all 8 modes with a small MMD", check='''
assert report["modes_covered"] == 8 and report["mmd"] < 0.02, report
assert untrained["mmd"] > 10 * report["mmd"], (untrained, report)
'''),
    Claim("the probe: D pre-trained for 0, 10, 30, 100 or 300 steps, five seeds, 512 noise "
          "vectors", check='''
assert WARMUPS == (0, 10, 30, 100, 300) and list(GAN_SEEDS) == [0, 1, 2, 3, 4]
assert tuple(z_probe.shape) == (512, 2) and d_bar.shape == (5, 5)
'''),
    Claim("from an untrained D both generator gradients are about equal (D(G(z)) near 1/2)",
          check='''
assert np.all(np.abs(d_bar[:, 0] - 0.5) < 0.1), d_bar[:, 0]
assert np.all((0.7 < ratio[:, 0]) & (ratio[:, 0] < 1.4)), ratio[:, 0]
'''),
    Claim("after 100 steps of pre-training D confidently rejects the fakes and the non-saturating "
          "gradient is hundreds of times larger than the saturating one, for every seed", check='''
i100 = WARMUPS.index(100)
assert len(GAN_SEEDS) == 5 and d_bar[:, i100].max() < 0.01, d_bar[:, i100]
assert ratio[:, i100].min() > 300, ratio[:, i100]      # measured 462-1237
'''),
    Claim("the saturating gradient is small: below 0.02 after 100 steps and several times below "
          "its size before D's training, while the non-saturating one grew tenfold or more",
          check='''
i100 = WARMUPS.index(100)
assert norm_sat[:, i100].max() < 0.02, norm_sat[:, i100]          # measured at most 9.7e-3
assert (norm_sat[:, 0] / norm_sat[:, i100]).min() > 5, norm_sat   # measured 9.7x or more
assert (norm_ns[:, i100] / norm_ns[:, 0]).min() > 10, norm_ns     # measured 30x or more
'''),
    Claim("the longer D trains, the larger the ratio, for every seed", check='''
assert np.all(np.diff(ratio, axis=1) > 0), ratio
'''),
    Claim("the measured ratio follows (1 - D)/D of the logit gradients: never above it, furthest "
          "below where D(G(z)) is most uneven", check='''
assert np.allclose(curve_ratio, (1 - p_curve) / p_curve)
assert follow.max() < 1.01 and follow.min() > 0.1, follow
assert follow.argmin() == (d_max / d_bar).argmax(), (follow, d_max / d_bar)
'''),
    Claim("after D's warm-up D confidently rejects the fakes; the saturating gradient is "
          "much smaller", check='''
assert ahead["SGD", "saturating"].d_fake[0] < 0.01, ahead["SGD", "saturating"].d_fake
assert grad_ratio > 100, grad_ratio
'''),
    Claim("with plain gradient steps the saturating G does not move (MMD² of the untrained G, "
          "D still rejects it); the non-saturating G moves towards the data", check='''
sat, ns = ahead_reports["SGD", "saturating"], ahead_reports["SGD", "non_saturating"]
assert ahead["SGD", "saturating"].d_fake[-1] < 0.01, ahead["SGD", "saturating"].d_fake
assert abs(sat["mmd"] - untrained["mmd"]) < 0.15, (sat, untrained)
assert ns["mmd"] < sat["mmd"] / 5, (ns, sat)
assert ahead["SGD", "non_saturating"].d_fake[-1] > 0.05, ahead["SGD", "non_saturating"].d_fake
'''),
    Claim("Adam rescues the saturating loss here", check='''
adam = ahead_reports["Adam", "saturating"]
assert adam["mmd"] < ahead_reports["SGD", "saturating"]["mmd"] / 5, adam
assert ahead["Adam", "saturating"].d_fake[-1] > 0.1, ahead["Adam", "saturating"].d_fake
'''),
    Claim("the collapsed samples' spread is a small fraction of the target's; at most two "
          "modes get their share", check='''
assert collapsed.final.std(axis=0).mean() < 0.3 * data.std(axis=0).mean()
assert collapse_reports["plain"]["modes_covered"] <= 2, collapse_reports
'''),
    Claim("packing restored the spread and more than half of the modes, with fewer high-quality "
          "samples than Section 5", check='''
assert packed.final.std(axis=0).mean() > 0.7 * data.std(axis=0).mean()
assert collapse_reports["packed"]["modes_covered"] >= 5, collapse_reports
assert collapse_reports["packed"]["high_quality"] < report["high_quality"] - 0.1
'''),
    Claim("the generated digits' MMD² is far below the untrained G's and noise's, yet above "
          "that between two halves of the real set", check='''
assert digit_mmd["generated"] < digit_mmd["untrained G"] / 5, digit_mmd
assert digit_mmd["generated"] < digit_mmd["uniform noise"] / 3, digit_mmd
assert digit_mmd["generated"] > 1.5 * digit_mmd["other real digits"], digit_mmd
'''),
    Claim("all ten digit classes are generated", check='''
assert (counts > 0).sum() == 10, counts
'''),
    Claim("a sampled token carries no gradient; the probability vector does but is not one-hot",
          check='''
assert not one_hot.requires_grad
assert vocab_scores.grad is not None and probs.max().item() < 0.9
'''),
    Claim("G's learning rate is 10x D's in the collapse runs", check='''
assert collapse_cfg["lr_g"] == 10 * collapse_cfg["lr_d"]
'''),
]
