"""Handcrafted features (dlcourse.shallow.features) against the reference libraries, same run.

Each row times the course's implementation and a reference on the same input (medians after
warm-up, BLAS threads settled in between) and prints their ratio (course / reference):

- the O(n^2) matrix DFT vs numpy's FFT (expected: much slower — the point of the FFT);
- the matrix DCT-II vs scipy.fft.dct on MFCC-sized input (26 mel bands per frame);
- batched Levinson-Durbin vs a batched dense solve of the Toeplitz normal equations;
- the whole MFCC front end vs the same pipeline built on scipy.signal.stft.

Targets (informal): DCT and MFCC within ~3x of the references; Levinson-Durbin faster than
the dense solve.

    python benchmarks/features.py [--repeats 9]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import scipy.fft
import scipy.signal

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import median_time, report, settle  # noqa: E402

from dlcourse.data import make_vowel_dataset  # noqa: E402
from dlcourse.shallow import features as F  # noqa: E402

RATE = 8000.0


def mfcc_via_scipy(X):
    """The same front end with scipy's STFT (periodic Hann, no padding) and scipy's DCT."""
    _, _, Z = scipy.signal.stft(X, window="hann", nperseg=256, noverlap=128, boundary=None,
                                padded=False, scaling="spectrum", axis=-1)
    window_sum = scipy.signal.get_window("hann", 256).sum()   # "spectrum" scaling divides by it
    power = np.abs(Z.swapaxes(-1, -2)) ** 2 * window_sum ** 2 / 256
    bank = F.mel_filterbank(26, 256, RATE)
    return scipy.fft.dct(np.log(power @ bank.T + 1e-10), norm="ortho")[..., :13]


def main(repeats: int) -> None:
    X, _ = make_vowel_dataset(160, seed=0, dtype=np.float64)            # (800, 1024)
    log_mel = F.log_mel_spectrogram(X, RATE)                             # (800, 7, 26)
    r = F.autocorrelation(X * F.get_window("hamming", X.shape[1]), 10)   # (800, 11)
    R = r[:, np.abs(np.arange(10)[:, None] - np.arange(10)[None, :])]    # (800, 10, 10)

    assert np.allclose(F.dft(X[:300]), np.fft.fft(X[:300]), atol=1e-6)
    assert np.allclose(F.dct(log_mel), scipy.fft.dct(log_mel, norm="ortho"))
    assert np.allclose(F.levinson_durbin(r, 10)[0],
                       np.linalg.solve(R, r[:, 1:, None])[..., 0], atol=1e-8)
    assert np.allclose(F.mfcc(X, RATE), mfcc_via_scipy(X), atol=1e-6)

    rows = []
    for name, ours, reference in [
        ("DFT 300x1024: matrix vs numpy.fft", lambda: F.dft(X[:300]),
         lambda: np.fft.fft(X[:300])),
        ("DCT-II 800x7x26: matrix vs scipy.fft.dct", lambda: F.dct(log_mel),
         lambda: scipy.fft.dct(log_mel, norm="ortho")),
        ("LPC order 10, 800 clips: Levinson vs dense solve",
         lambda: F.levinson_durbin(r, 10), lambda: np.linalg.solve(R, r[:, 1:, None])),
        ("MFCC 800 clips: dlcourse vs scipy.signal.stft", lambda: F.mfcc(X, RATE),
         lambda: mfcc_via_scipy(X)),
    ]:
        settle()
        a = median_time(ours, repeats=repeats)
        settle()
        b = median_time(reference, repeats=repeats)
        rows.append((name, a, b))
    report(rows, left="dlcourse", right="reference")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    main(parser.parse_args().repeats)
