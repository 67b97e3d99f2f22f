"""Handcrafted ("shallow") features: the signal-processing pipeline before deep learning.

Everything a classic speech or image system computed by hand before a shallow learner (SVM,
naive Bayes, GMM) saw the data:

- the discrete Fourier transform :func:`dft` (plain O(n^2) matrix form, for teaching; the
  fast :mod:`numpy.fft` gives the same numbers) and the orthonormal DCT-II :func:`dct`,
  :func:`idct`, :func:`dct2`, :func:`idct2`;
- framing and windowing (:func:`frame_signal`, :func:`get_window`), the power spectrogram,
  the mel filterbank, log-mel spectrograms and MFCCs (log, then DCT);
- linear prediction (LPC): autocorrelation + Levinson-Durbin recursion;
- the DCT as image compression and as a compact feature vector for small images.

Shapes: signals are ``(..., n_samples)``; every function works on one signal or a batch
(leading axes), without a Python loop over signals.
"""

from __future__ import annotations

import numpy as np

from dlcourse.core.checks import as_float_array, check_positive

__all__ = [
    "dft_matrix", "dft", "idft", "dct_matrix", "dct", "idct", "dct2", "idct2",
    "get_window", "frame_signal", "power_spectrogram", "hz_to_mel", "mel_to_hz",
    "mel_filterbank", "log_mel_spectrogram", "mfcc", "autocorrelation", "levinson_durbin",
    "lpc", "zigzag_indices", "dct_compress", "dct_features", "summarize_frames",
]


def _signal(x, name="x") -> np.ndarray:
    x = as_float_array(x, name)
    if x.ndim == 0:
        raise ValueError(f"{name} must have shape (..., n_samples), got a scalar")
    if x.shape[-1] == 0:
        raise ValueError(f"{name} must have at least one sample along its last axis, "
                         f"got shape {x.shape}")
    return x


# --------------------------------------------------------------------------- transforms
def dft_matrix(n: int) -> np.ndarray:
    """The (n, n) DFT matrix ``W[k, t] = exp(-2j*pi*k*t/n)`` (complex128)."""
    check_positive(n, "n", integer=True)
    k = np.arange(n)
    # k*t mod n keeps the angle small, so the matrix is accurate even for large n.
    return np.exp(-2j * np.pi * (np.outer(k, k) % n) / n)


def dft(x) -> np.ndarray:
    """Discrete Fourier transform along the last axis, as one matrix product.

    ``X[..., k] = sum_t x[..., t] exp(-2j pi k t / n)``: O(n^2) work instead of the FFT's
    O(n log n), but the same numbers as ``numpy.fft.fft(x)``.

    x: (..., n) real or complex -> X: (..., n) complex128.
    """
    x = np.asarray(x)
    if not np.iscomplexobj(x):
        x = _signal(x)
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ValueError(f"x must have shape (..., n_samples), got {x.shape}")
    return x @ dft_matrix(x.shape[-1]).T


def idft(X) -> np.ndarray:
    """Inverse of :func:`dft`: ``x[..., t] = (1/n) sum_k X[..., k] exp(+2j pi k t / n)``."""
    X = np.asarray(X, dtype=complex)
    if X.ndim == 0 or X.shape[-1] == 0:
        raise ValueError(f"X must have shape (..., n), got {X.shape}")
    n = X.shape[-1]
    return X @ dft_matrix(n).conj().T / n


def dct_matrix(n: int, dtype=np.float64) -> np.ndarray:
    """Orthonormal DCT-II matrix C (n, n): ``C[k, t] = s_k cos(pi (2t+1) k / (2n))``.

    ``s_0 = sqrt(1/n)`` and ``s_k = sqrt(2/n)``, so ``C @ C.T = I`` and the inverse DCT
    (a DCT-III) is ``C.T``.
    """
    check_positive(n, "n", integer=True)
    k = np.arange(n)[:, None]
    t = np.arange(n)[None, :]
    C = np.cos(np.pi * (2 * t + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    C[0] /= np.sqrt(2.0)
    return C.astype(dtype)


def dct(x, axis: int = -1) -> np.ndarray:
    """Orthonormal DCT-II along ``axis``; equals ``scipy.fft.dct(x, type=2, norm="ortho")``.

    x: (..., n) -> (..., n), same floating dtype (float32 stays float32).
    """
    x = _signal(x)
    x = np.moveaxis(x, axis, -1)
    out = x @ dct_matrix(x.shape[-1], x.dtype).T
    return np.moveaxis(out, -1, axis)


def idct(X, axis: int = -1) -> np.ndarray:
    """Inverse of :func:`dct` (an orthonormal DCT-III): ``x = C.T @ X``."""
    X = _signal(X, "X")
    X = np.moveaxis(X, axis, -1)
    out = X @ dct_matrix(X.shape[-1], X.dtype)
    return np.moveaxis(out, -1, axis)


def dct2(images) -> np.ndarray:
    """2-D orthonormal DCT-II over the last two axes: (..., h, w) -> (..., h, w)."""
    images = as_float_array(images, "images")
    if images.ndim < 2:
        raise ValueError(f"images must have shape (..., h, w), got {images.shape}")
    return dct(dct(images, axis=-1), axis=-2)


def idct2(coefficients) -> np.ndarray:
    """Inverse of :func:`dct2`: (..., h, w) -> (..., h, w)."""
    coefficients = as_float_array(coefficients, "coefficients")
    if coefficients.ndim < 2:
        raise ValueError(f"coefficients must have shape (..., h, w), got {coefficients.shape}")
    return idct(idct(coefficients, axis=-2), axis=-1)


# ------------------------------------------------------------------ framing, spectrogram
def get_window(name: str, n: int, dtype=np.float64) -> np.ndarray:
    """A periodic analysis window of length n: "hann", "hamming" or "rectangular"."""
    check_positive(n, "n", integer=True)
    phase = 2 * np.pi * np.arange(n) / n
    if name == "hann":
        w = 0.5 - 0.5 * np.cos(phase)
    elif name == "hamming":
        w = 0.54 - 0.46 * np.cos(phase)
    elif name in ("rectangular", "boxcar", None):
        w = np.ones(n)
    else:
        raise ValueError(f"window must be 'hann', 'hamming' or 'rectangular', got {name!r}")
    return w.astype(dtype)


def frame_signal(x, frame_length: int, hop_length: int) -> np.ndarray:
    """Cut signals into overlapping frames (a strided view, no copy).

    x: (..., n_samples) -> (..., n_frames, frame_length) with
    ``n_frames = 1 + (n_samples - frame_length) // hop_length``; the tail that does not
    fill a whole frame is dropped.
    """
    x = _signal(x)
    check_positive(frame_length, "frame_length", integer=True)
    check_positive(hop_length, "hop_length", integer=True)
    if x.shape[-1] < frame_length:
        raise ValueError(f"signals have {x.shape[-1]} samples, fewer than one frame of "
                         f"frame_length={frame_length}")
    frames = np.lib.stride_tricks.sliding_window_view(x, frame_length, axis=-1)
    return frames[..., ::hop_length, :]


def power_spectrogram(x, frame_length: int = 256, hop_length: int = 128,
                      window: str = "hann", n_fft: int | None = None) -> np.ndarray:
    """Short-time power spectrum ``|FFT(window * frame)|^2 / n_fft``.

    x: (..., n_samples) -> (..., n_frames, n_fft // 2 + 1), non-negative, same float dtype.
    ``n_fft`` defaults to ``frame_length`` (a larger value zero-pads each frame).
    """
    x = _signal(x)
    n_fft = frame_length if n_fft is None else n_fft
    check_positive(n_fft, "n_fft", integer=True)
    if n_fft < frame_length:
        raise ValueError(f"n_fft must be >= frame_length={frame_length}, got {n_fft}")
    frames = frame_signal(x, frame_length, hop_length) * get_window(window, frame_length,
                                                                    x.dtype)
    spectrum = np.fft.rfft(frames, n=n_fft, axis=-1)
    return ((spectrum.real ** 2 + spectrum.imag ** 2) / n_fft).astype(x.dtype)


def hz_to_mel(f):
    """Hertz to mel (HTK formula): ``2595 log10(1 + f / 700)``."""
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=float) / 700.0)


def mel_to_hz(m):
    """Mel to hertz, the inverse of :func:`hz_to_mel`."""
    return 700.0 * (10.0 ** (np.asarray(m, dtype=float) / 2595.0) - 1.0)


def mel_filterbank(n_mels: int, n_fft: int, sample_rate: float, fmin: float = 0.0,
                   fmax: float | None = None, dtype=np.float64) -> np.ndarray:
    """Triangular filters equally spaced on the mel scale: (n_mels, n_fft // 2 + 1).

    Filter m rises linearly from centre m-1 to its peak 1 at centre m and falls to 0 at
    centre m+1 (centres equally spaced in mel between ``fmin`` and ``fmax``, which defaults
    to the Nyquist frequency ``sample_rate / 2``). Low filters are narrow, high ones wide,
    like the ear's frequency resolution.
    """
    check_positive(n_mels, "n_mels", integer=True)
    check_positive(n_fft, "n_fft", integer=True)
    check_positive(sample_rate, "sample_rate")
    fmax = sample_rate / 2 if fmax is None else fmax
    if not 0 <= fmin < fmax <= sample_rate / 2:
        raise ValueError(f"need 0 <= fmin < fmax <= sample_rate/2 = {sample_rate / 2}, "
                         f"got fmin={fmin}, fmax={fmax}")
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    freqs = np.fft.rfftfreq(n_fft, d=1.0 / sample_rate)
    low, centre, high = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs - low) / (centre - low)
    falling = (high - freqs) / (high - centre)
    return np.maximum(0.0, np.minimum(rising, falling)).astype(dtype)


def log_mel_spectrogram(x, sample_rate: float, n_mels: int = 26, frame_length: int = 256,
                        hop_length: int = 128, window: str = "hann", fmin: float = 0.0,
                        fmax: float | None = None, eps: float = 1e-10) -> np.ndarray:
    """``log(power_spectrogram @ mel_filterbank.T + eps)``: (..., n_frames, n_mels)."""
    power = power_spectrogram(x, frame_length, hop_length, window)
    bank = mel_filterbank(n_mels, frame_length, sample_rate, fmin, fmax, dtype=power.dtype)
    return np.log(power @ bank.T + eps)


def mfcc(x, sample_rate: float, n_mfcc: int = 13, n_mels: int = 26, frame_length: int = 256,
         hop_length: int = 128, window: str = "hann", fmin: float = 0.0,
         fmax: float | None = None, eps: float = 1e-10) -> np.ndarray:
    """Mel-frequency cepstral coefficients: the DCT of the log-mel spectrum, first n_mfcc.

    x: (..., n_samples) -> (..., n_frames, n_mfcc). The log turns the product
    "source x vocal-tract filter" into a sum; the DCT decorrelates neighbouring mel bands
    and packs the smooth spectral envelope (the formants) into the first coefficients.
    """
    check_positive(n_mfcc, "n_mfcc", integer=True)
    if n_mfcc > n_mels:
        raise ValueError(f"n_mfcc ({n_mfcc}) cannot exceed n_mels ({n_mels})")
    log_mel = log_mel_spectrogram(x, sample_rate, n_mels, frame_length, hop_length, window,
                                  fmin, fmax, eps)
    return dct(log_mel)[..., :n_mfcc]


def summarize_frames(frames) -> np.ndarray:
    """One fixed-length vector per clip: the mean and standard deviation over frames.

    frames: (..., n_frames, d) -> (..., 2 d). The usual way to feed frame-level features
    (MFCC, log-mel) to a classifier that expects one vector per example.
    """
    frames = as_float_array(frames, "frames")
    if frames.ndim < 2:
        raise ValueError(f"frames must have shape (..., n_frames, d), got {frames.shape}")
    return np.concatenate([frames.mean(axis=-2), frames.std(axis=-2)], axis=-1)


# ------------------------------------------------------------------- linear prediction
def autocorrelation(x, max_lag: int) -> np.ndarray:
    """Biased autocorrelation ``r[k] = sum_t x[t] x[t+k]`` for k = 0..max_lag.

    x: (..., n_samples) -> (..., max_lag + 1). Computed with a zero-padded FFT.
    """
    x = _signal(x)
    if isinstance(max_lag, bool) or not isinstance(max_lag, (int, np.integer)) or max_lag < 0:
        raise ValueError(f"max_lag must be a non-negative integer, got {max_lag!r}")
    n = x.shape[-1]
    if max_lag >= n:
        raise ValueError(f"max_lag ({max_lag}) must be smaller than n_samples ({n})")
    n_fft = 1 << int(np.ceil(np.log2(2 * n)))
    spectrum = np.fft.rfft(x, n=n_fft, axis=-1)
    r = np.fft.irfft(spectrum.real ** 2 + spectrum.imag ** 2, n=n_fft, axis=-1)
    return r[..., : max_lag + 1].astype(x.dtype)


def levinson_durbin(r, order: int):
    """Solve the Toeplitz normal equations ``R a = r[1:]`` in O(order^2).

    r: (..., >= order + 1) autocorrelations. Returns ``(a, error, reflection)``:
    ``a`` (..., order) the predictor coefficients, so that
    ``x[t] ~ a[0] x[t-1] + ... + a[order-1] x[t-order]``; ``error`` (...) the final
    prediction-error power; ``reflection`` (..., order) the reflection (PARCOR)
    coefficients, all of magnitude < 1 for a valid autocorrelation. The loop runs over the
    order, vectorized over leading axes.
    """
    r = as_float_array(r, "r").astype(np.float64)
    check_positive(order, "order", integer=True)
    if r.ndim == 0 or r.shape[-1] < order + 1:
        raise ValueError(f"r must have shape (..., >= order + 1 = {order + 1}), got {r.shape}")
    if np.any(r[..., 0] <= 0):
        raise ValueError("r[..., 0] (the signal energy) must be positive; "
                         "is a signal all zeros?")
    batch = r.shape[:-1]
    a = np.zeros(batch + (order,))
    reflection = np.zeros(batch + (order,))
    error = r[..., 0].copy()
    for i in range(order):
        # k_i = (r[i+1] - sum_j a_j r[i-j]) / E_{i}
        acc = r[..., i + 1] - np.einsum("...j,...j->...", a[..., :i], r[..., i:0:-1])
        k = acc / error
        reflection[..., i] = k
        previous = a[..., :i].copy()
        a[..., :i] = previous - k[..., None] * previous[..., ::-1]
        a[..., i] = k
        error = error * (1.0 - k ** 2)
    return a, error, reflection


def lpc(x, order: int, window: str | None = "hamming") -> np.ndarray:
    """Linear-prediction coefficients of each signal (autocorrelation method).

    x: (..., n_samples) -> a: (..., order), with ``x[t] ~ sum_k a[k] x[t-k-1]``. The signal
    is windowed first (``window=None`` skips it), then :func:`levinson_durbin` solves
    the normal equations built from :func:`autocorrelation`.
    """
    x = _signal(x)
    check_positive(order, "order", integer=True)
    if window is not None:
        x = x * get_window(window, x.shape[-1], x.dtype)
    a, _, _ = levinson_durbin(autocorrelation(x, order), order)
    return a


# -------------------------------------------------------------- DCT on small images
def zigzag_indices(n: int) -> np.ndarray:
    """The JPEG zig-zag order of an n x n block: (n*n, 2) row/column pairs, low frequency
    first (sorted by anti-diagonal, alternating direction)."""
    check_positive(n, "n", integer=True)
    rows, cols = np.indices((n, n)).reshape(2, -1)
    diagonal = rows + cols
    along = np.where(diagonal % 2 == 0, cols, rows)
    order = np.lexsort((along, diagonal))
    return np.stack([rows[order], cols[order]], axis=1)


def _images(images, name="images") -> np.ndarray:
    images = as_float_array(images, name)
    if images.ndim == 2 and images.shape[1] == 64:  # the digits as flat (n, 64) vectors
        images = images.reshape(-1, 8, 8)
    if images.ndim != 3 or images.shape[1] != images.shape[2]:
        raise ValueError(f"{name} must have shape (n, h, h) (square images) or (n, 64), "
                         f"got {images.shape}")
    return images


def dct_compress(images, k: int) -> np.ndarray:
    """Keep the k largest-magnitude 2-D DCT coefficients of each image, zero the rest,
    and transform back. images: (n, h, h) or (n, 64) -> (n, h, h) reconstructions."""
    images = _images(images)
    size = images.shape[1] * images.shape[2]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= size:
        raise ValueError(f"k must be an integer in [0, {size}], got {k!r}")
    coefficients = dct2(images).reshape(len(images), -1)
    if k < size:
        drop = np.argsort(np.abs(coefficients), axis=1)[:, : size - k]
        np.put_along_axis(coefficients, drop, 0.0, axis=1)
    return idct2(coefficients.reshape(images.shape))


def dct_features(images, k: int) -> np.ndarray:
    """The first k 2-D DCT coefficients of each image in zig-zag (low-frequency-first)
    order: a fixed, compact feature vector. images: (n, h, h) or (n, 64) -> (n, k)."""
    images = _images(images)
    size = images.shape[1] * images.shape[2]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= size:
        raise ValueError(f"k must be an integer in [1, {size}], got {k!r}")
    rows, cols = zigzag_indices(images.shape[1])[:k].T
    return dct2(images)[:, rows, cols]
