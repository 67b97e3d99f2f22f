"""Synthetic audio with a seed: tones, chirps, noise and vowel-like formant signals.

Nothing is recorded or downloaded. The vowels follow the source-filter model of speech: a
glottal impulse train at the pitch f0 (the source) passes through resonators at the
formant frequencies F1, F2, F3 (the vocal tract, the filter). Which vowel it is depends on
the formants, not on the pitch — which is what MFCC and LPC features are designed to see.

Signals are float arrays of shape ``(n_samples,)`` or, for data sets, ``(n_clips,
n_samples)``; the default sample rate is 8 kHz (telephone band).
"""

from __future__ import annotations

import numpy as np

from dlcourse.core.checks import as_float_array, check_positive

__all__ = ["VOWEL_FORMANTS", "make_tone", "make_chirp", "make_noise", "make_vowel",
           "make_vowel_dataset"]

#: Average adult formants F1, F2, F3 in Hz (after Peterson & Barney, 1952).
VOWEL_FORMANTS = {
    "a": (730.0, 1090.0, 2440.0),   # as in "father"
    "e": (530.0, 1840.0, 2480.0),   # as in "bed"
    "i": (270.0, 2290.0, 3010.0),   # as in "beet"
    "o": (570.0, 840.0, 2410.0),    # as in "bought"
    "u": (300.0, 870.0, 2240.0),    # as in "boot"
}

_BANDWIDTHS = (90.0, 110.0, 170.0)


def _n_samples(duration, sample_rate) -> int:
    check_positive(duration, "duration")
    check_positive(sample_rate, "sample_rate")
    n = int(round(duration * sample_rate))
    if n < 1:
        raise ValueError(f"duration * sample_rate must give at least one sample, got "
                         f"{duration} s at {sample_rate} Hz")
    return n


def _time(duration, sample_rate):
    return np.arange(_n_samples(duration, sample_rate)) / sample_rate


def make_tone(frequency: float, duration: float = 0.128, sample_rate: float = 8000.0,
              amplitude: float = 1.0, phase: float = 0.0, dtype=np.float64) -> np.ndarray:
    """A pure tone ``amplitude * sin(2 pi f t + phase)``; shape (round(duration*rate),)."""
    check_positive(frequency, "frequency")
    t = _time(duration, sample_rate)
    if frequency >= sample_rate / 2:
        raise ValueError(f"frequency {frequency} Hz must be below the Nyquist frequency "
                         f"{sample_rate / 2} Hz")
    return (amplitude * np.sin(2 * np.pi * frequency * t + phase)).astype(dtype)


def make_chirp(f_start: float, f_end: float, duration: float = 0.128,
               sample_rate: float = 8000.0, amplitude: float = 1.0,
               dtype=np.float64) -> np.ndarray:
    """A linear chirp sweeping from ``f_start`` to ``f_end`` Hz over the clip."""
    check_positive(f_start, "f_start")
    check_positive(f_end, "f_end")
    if max(f_start, f_end) >= sample_rate / 2:
        raise ValueError(f"chirp frequencies must stay below Nyquist ({sample_rate / 2} Hz)")
    t = _time(duration, sample_rate)
    rate = (f_end - f_start) / duration
    return (amplitude * np.sin(2 * np.pi * (f_start * t + 0.5 * rate * t ** 2))).astype(dtype)


def make_noise(n_samples: int, std: float = 1.0, seed: int = 0,
               dtype=np.float64) -> np.ndarray:
    """White Gaussian noise, deterministic per seed; shape (n_samples,)."""
    check_positive(n_samples, "n_samples", integer=True)
    if std < 0:
        raise ValueError(f"std must be >= 0, got {std}")
    return (std * np.random.default_rng(seed).standard_normal(n_samples)).astype(dtype)


def _formant_filter(n_fft, sample_rate, formants, bandwidths, tilt=0.9):
    """Frequency responses (batch, n_fft//2+1) of cascaded two-pole resonators.

    formants, bandwidths: (batch, n_formants) in Hz. Each resonator is
    ``1 / (1 - 2 r cos(theta) z^-1 + r^2 z^-2)`` with ``theta = 2 pi F / rate`` and
    ``r = exp(-pi B / rate)``, scaled to unit gain at 0 Hz; a one-pole low-pass
    ``1 / (1 - tilt z^-1)`` gives the glottal source its falling spectrum.
    """
    z1 = np.exp(-2j * np.pi * np.fft.rfftfreq(n_fft))          # z^-1 on the unit circle
    theta = 2 * np.pi * formants / sample_rate
    r = np.exp(-np.pi * bandwidths / sample_rate)
    b1, b2 = (-2 * r * np.cos(theta))[..., None], (r ** 2)[..., None]
    response = (1 + b1 + b2) / (1 + b1 * z1 + b2 * z1 ** 2)     # (batch, n_formants, bins)
    return np.prod(response, axis=-2) * (1 - tilt) / (1 - tilt * z1)


def make_vowel(vowel="a", f0: float = 120.0, duration: float = 0.128,
               sample_rate: float = 8000.0, noise_std: float = 0.0, seed: int = 0,
               dtype=np.float64) -> np.ndarray:
    """One vowel-like clip: an impulse train at pitch ``f0`` through formant resonators.

    ``vowel`` is a key of :data:`VOWEL_FORMANTS` or a tuple of formant frequencies in Hz.
    The clip is scaled to unit RMS, then white noise of std ``noise_std`` is added
    (seeded). Shape (round(duration*rate),).
    """
    formants = VOWEL_FORMANTS[vowel] if isinstance(vowel, str) and vowel in VOWEL_FORMANTS \
        else vowel
    if isinstance(formants, str):
        raise ValueError(f"vowel must be one of {sorted(VOWEL_FORMANTS)} or a tuple of "
                         f"formant frequencies in Hz, got {vowel!r}")
    formants = as_float_array(formants, "formants", ndim=1, shape_hint="(n_formants,)")
    clip = _vowel_batch(formants[None], np.array([f0]), np.zeros(1),
                        _n_samples(duration, sample_rate), sample_rate)[0]
    clip = clip + noise_std * np.random.default_rng(seed).standard_normal(clip.shape)
    return clip.astype(dtype)


def _vowel_batch(formants, f0, onset, n_samples, sample_rate, bandwidths=None):
    """Vectorized vowel synthesis: formants (batch, k), f0 (batch,), onset (batch,) in
    seconds (the phase of the glottal pulses) -> unit-RMS clips (batch, n_samples)."""
    check_positive(sample_rate, "sample_rate")
    if np.any(f0 <= 0) or np.any(formants <= 0) or np.any(formants >= sample_rate / 2):
        raise ValueError("f0 must be positive and formants must lie in (0, Nyquist)")
    if bandwidths is None:
        bandwidths = np.broadcast_to(np.array(_BANDWIDTHS[: formants.shape[1]] +
                                              (200.0,) * max(0, formants.shape[1] - 3)),
                                     formants.shape)
    warmup = 512                       # filter transients and FFT wrap-around are cut off
    total = n_samples + warmup
    n_fft = 1 << int(np.ceil(np.log2(total)))
    t = (np.arange(n_fft) - warmup) / sample_rate
    # Impulse at every glottal period: where the cycle count floor(f0 (t - onset)) steps up.
    cycles = np.floor(f0[:, None] * (t[None, :] - onset[:, None]))
    source = np.diff(cycles, axis=1, prepend=cycles[:, :1] - 1).astype(float)
    spectrum = np.fft.rfft(source, axis=1) * _formant_filter(n_fft, sample_rate, formants,
                                                             bandwidths)
    clips = np.fft.irfft(spectrum, n=n_fft, axis=1)[:, warmup: warmup + n_samples]
    rms = np.sqrt(np.mean(clips ** 2, axis=1, keepdims=True))
    return clips / np.maximum(rms, 1e-12)


def make_vowel_dataset(n_per_class: int = 60, vowels=("a", "e", "i", "o", "u"),
                       duration: float = 0.128, sample_rate: float = 8000.0,
                       f0_range=(80.0, 260.0), speaker_scale=(0.88, 1.18),
                       formant_jitter: float = 0.06, snr_db=(5.0, 25.0), seed: int = 0,
                       dtype=np.float32):
    """A labelled set of synthetic vowels, shuffled, deterministic per seed.

    Each clip draws its own pitch from ``f0_range`` (Hz), a speaker scale (a shorter vocal
    tract raises every formant by the same factor), an independent jitter of each formant
    (relative std ``formant_jitter``), a random pulse phase and white noise at a signal-to-
    noise ratio drawn from ``snr_db``. Returns ``X`` (n_per_class * len(vowels),
    n_samples) unit-RMS clips plus noise and ``y`` (n,) integer labels indexing ``vowels``.
    """
    check_positive(n_per_class, "n_per_class", integer=True)
    unknown = [v for v in vowels if v not in VOWEL_FORMANTS]
    if unknown or len(vowels) < 2:
        raise ValueError(f"vowels must be at least two of {sorted(VOWEL_FORMANTS)}, "
                         f"got {vowels!r}")
    n_samples = _n_samples(duration, sample_rate)
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(len(vowels)), n_per_class)
    rng.shuffle(y)
    n = len(y)
    base = np.array([VOWEL_FORMANTS[v] for v in vowels])[y]               # (n, 3)
    scale = rng.uniform(*speaker_scale, size=(n, 1))
    formants = base * scale * np.exp(formant_jitter * rng.standard_normal((n, 3)))
    formants = np.clip(formants, 150.0, 0.45 * sample_rate)
    f0 = rng.uniform(*f0_range, size=n)
    onset = rng.uniform(0, 1, size=n) / f0
    clips = _vowel_batch(formants, f0, onset, n_samples, sample_rate)
    snr = rng.uniform(*snr_db, size=(n, 1))
    noise = rng.standard_normal((n, n_samples)) * 10.0 ** (-snr / 20.0)
    return (clips + noise).astype(dtype), y
