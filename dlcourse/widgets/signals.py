"""Widgets for handcrafted audio features: a spectrogram / log-mel / MFCC explorer and a
DCT image-compression explorer."""

from __future__ import annotations

import numpy as np

from dlcourse.data.audio import VOWEL_FORMANTS, make_chirp, make_noise, make_tone, make_vowel
from dlcourse.shallow import features as F


def make_signal(kind: str, frequency: float, noise_std: float, duration: float = 0.256,
                sample_rate: float = 8000.0, seed: int = 0) -> np.ndarray:
    """The explorer's test signal: a "tone" at ``frequency``, a "chirp" from ``frequency``
    to twice it, or a vowel "a"…"u" with pitch ``frequency`` (clipped to 80–300 Hz), plus
    seeded white noise of std ``noise_std``."""
    if kind == "tone":
        x = make_tone(frequency, duration, sample_rate)
    elif kind == "chirp":
        x = make_chirp(frequency, min(2 * frequency, 0.49 * sample_rate), duration, sample_rate)
    elif kind in VOWEL_FORMANTS:
        x = make_vowel(kind, f0=float(np.clip(frequency, 80.0, 300.0)), duration=duration,
                       sample_rate=sample_rate)
    else:
        raise ValueError(f"kind must be 'tone', 'chirp' or one of {sorted(VOWEL_FORMANTS)}, "
                         f"got {kind!r}")
    return x + make_noise(len(x), noise_std, seed=seed)


def spectrogram_explorer(sample_rate: float = 8000.0, n_mels: int = 26, n_mfcc: int = 13):
    """Pick a signal (tone, chirp or vowel), its frequency (or pitch) and a noise level; see
    the waveform, the power spectrogram, the log-mel spectrogram and the MFCCs."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    frame, hop = 256, 64

    def draw(kind="tone", frequency=1000.0, noise_std=0.1):
        x = make_signal(kind, frequency, noise_std, sample_rate=sample_rate)
        power = F.power_spectrogram(x, frame, hop)
        log_mel = F.log_mel_spectrogram(x, sample_rate, n_mels, frame, hop)
        coefficients = F.mfcc(x, sample_rate, n_mfcc, n_mels, frame, hop)
        t = np.arange(len(x)) / sample_rate
        fig, axes = plt.subplots(1, 4, figsize=(14, 3.2))
        axes[0].plot(t[:400] * 1000, x[:400], lw=0.8)
        axes[0].set(title="waveform (first 50 ms)", xlabel="ms")
        extent = [0, len(x) / sample_rate * 1000, 0, sample_rate / 2]
        axes[1].imshow(10 * np.log10(power.T + 1e-10), origin="lower", aspect="auto",
                       extent=extent, cmap="magma")
        axes[1].set(title="power spectrogram (dB)", xlabel="ms", ylabel="Hz")
        axes[2].imshow(log_mel.T, origin="lower", aspect="auto", cmap="magma")
        band = int(np.mean(log_mel.argmax(axis=1)))
        axes[2].set(title=f"log-mel (loudest band ≈ {band})", xlabel="frame",
                    ylabel="mel band")
        axes[3].imshow(coefficients.T, origin="lower", aspect="auto", cmap="coolwarm")
        axes[3].set(title="MFCC (log, then DCT)", xlabel="frame", ylabel="coefficient")
        fig.tight_layout()
        plt.show()

    return widgets.interactive(
        draw,
        kind=widgets.Dropdown(options=["tone", "chirp", *VOWEL_FORMANTS], value="tone",
                              description="signal"),
        frequency=widgets.FloatSlider(value=1000.0, min=80.0, max=3500.0, step=10.0,
                                      description="freq / f0", continuous_update=False),
        noise_std=widgets.FloatSlider(value=0.1, min=0.0, max=2.0, step=0.05,
                                      description="noise std", continuous_update=False),
    )


def dct_compression_explorer(images, n_show: int = 6):
    """Slide k, the number of 2-D DCT coefficients kept per 8x8 image, and compare the
    reconstructions with the originals (mean squared error in the title)."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    images = F._images(images)[:n_show]

    def draw(k=8):
        rebuilt = F.dct_compress(images, k)
        mse = float(np.mean((rebuilt - images) ** 2))
        fig, axes = plt.subplots(2, len(images), figsize=(1.6 * len(images), 3.4))
        for j in range(len(images)):
            axes[0, j].imshow(images[j], cmap="gray_r")
            axes[1, j].imshow(rebuilt[j], cmap="gray_r")
            axes[0, j].axis("off")
            axes[1, j].axis("off")
        fig.suptitle(f"top: originals, bottom: {k} of {images[0].size} DCT coefficients "
                     f"kept (MSE {mse:.4f})")
        plt.show()

    return widgets.interactive(
        draw, k=widgets.IntSlider(value=8, min=0, max=images[0].size, step=1,
                                  description="k kept", continuous_update=False))
