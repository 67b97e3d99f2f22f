"""Handcrafted features (dlcourse.shallow.features), synthetic audio, the GMM classifier and the
learning-curve helper: checked against numpy.fft, scipy.fft and direct linear solves."""

import numpy as np
import pytest
import scipy.fft
from scipy.linalg import solve_toeplitz
from scipy.signal import lfilter

from dlcourse.data import (
    VOWEL_FORMANTS,
    make_chirp,
    make_noise,
    make_tone,
    make_vowel,
    make_vowel_dataset,
)
from dlcourse.shallow import features as F
from dlcourse.shallow.gmm import GaussianMixtureClassifier
from dlcourse.studies.learning_curves import learning_curve, stratified_order

RATE = 8000.0


# ------------------------------------------------------------------------- DFT / DCT
@pytest.mark.parametrize("n", [1, 2, 7, 64, 100])
def test_dft_matches_numpy_fft(rng, n):
    x = rng.standard_normal((3, n))
    assert np.allclose(F.dft(x), np.fft.fft(x), atol=1e-9)
    assert np.allclose(F.idft(F.dft(x)), x, atol=1e-9)


def test_dft_complex_input_and_single_signal(rng):
    z = rng.standard_normal(16) + 1j * rng.standard_normal(16)
    assert np.allclose(F.dft(z), np.fft.fft(z), atol=1e-9)
    assert np.allclose(F.idft(np.fft.fft(z)), z, atol=1e-9)


def test_dft_matrix_is_unitary_up_to_n():
    W = F.dft_matrix(12)
    assert np.allclose(W @ W.conj().T, 12 * np.eye(12))


def test_dft_of_a_tone_peaks_at_its_bin():
    x = make_tone(1000.0, duration=256 / RATE, sample_rate=RATE)
    spectrum = np.abs(F.dft(x))[:129]
    assert spectrum.argmax() == 32          # 1000 Hz / (8000 Hz / 256 bins)


@pytest.mark.parametrize("n", [1, 8, 13, 64])
def test_dct_matches_scipy_and_inverts(rng, n):
    x = rng.standard_normal((4, n))
    assert np.allclose(F.dct(x), scipy.fft.dct(x, type=2, norm="ortho"), atol=1e-10)
    assert np.allclose(F.idct(x), scipy.fft.idct(x, type=2, norm="ortho"), atol=1e-10)
    assert np.allclose(F.idct(F.dct(x)), x, atol=1e-10)


def test_dct_along_other_axis_and_keeps_float32(rng):
    x = rng.standard_normal((5, 6, 7)).astype(np.float32)
    out = F.dct(x, axis=1)
    assert out.dtype == np.float32
    assert np.allclose(out, scipy.fft.dct(x.astype(np.float64), axis=1, norm="ortho"),
                       atol=1e-5)


def test_dct_matrix_orthonormal():
    C = F.dct_matrix(8)
    assert np.allclose(C @ C.T, np.eye(8), atol=1e-12)


def test_dct2_matches_scipy_dctn(rng):
    images = rng.random((3, 8, 8))
    assert np.allclose(F.dct2(images), scipy.fft.dctn(images, axes=(1, 2), norm="ortho"))
    assert np.allclose(F.idct2(F.dct2(images)), images)


def test_transforms_reject_bad_input():
    with pytest.raises(ValueError, match="n_samples"):
        F.dft(np.float64(3.0))
    with pytest.raises(TypeError, match="numbers"):
        F.dct(np.array(["a", "b"]))
    with pytest.raises(ValueError, match="positive integer"):
        F.dct_matrix(0)
    with pytest.raises(ValueError, match=r"\(\.\.\., h, w\)"):
        F.dct2(np.ones(5))


# -------------------------------------------------------------- framing, mel, MFCC
def test_frame_signal_shapes_and_content():
    x = np.arange(10.0)
    frames = F.frame_signal(x, 4, 3)
    assert frames.shape == (3, 4)
    assert np.array_equal(frames[1], [3, 4, 5, 6])
    batch = F.frame_signal(np.stack([x, -x]), 4, 2)
    assert batch.shape == (2, 4, 4)
    with pytest.raises(ValueError, match="fewer than one frame"):
        F.frame_signal(x, 20, 5)


def test_windows():
    assert np.allclose(F.get_window("hann", 8), np.hanning(9)[:-1])
    assert np.allclose(F.get_window("rectangular", 5), 1.0)
    with pytest.raises(ValueError, match="window"):
        F.get_window("kaiser", 8)


def test_power_spectrogram_of_a_tone():
    x = make_tone(500.0, duration=0.128, sample_rate=RATE)
    P = F.power_spectrogram(x, frame_length=256, hop_length=128)
    assert P.shape == (7, 129)
    assert np.all(P >= 0)
    assert np.all(P.argmax(axis=1) == 16)             # 500 Hz is bin 16 of 256 at 8 kHz
    # Parseval with a rectangular window: sum of the two-sided power = sum of x^2.
    frame = x[:256]
    P_rect = F.power_spectrogram(frame, 256, 256, window="rectangular")[0]
    two_sided = P_rect[0] + 2 * P_rect[1:-1].sum() + P_rect[-1]
    assert np.isclose(two_sided, np.sum(frame ** 2))


def test_mel_scale_round_trip_and_anchor():
    assert np.isclose(F.hz_to_mel(1000.0), 1000.0, atol=0.5)   # the mel scale's anchor
    f = np.array([0.0, 300.0, 3999.0])
    assert np.allclose(F.mel_to_hz(F.hz_to_mel(f)), f)


def test_mel_filterbank_triangles():
    bank = F.mel_filterbank(20, 256, RATE)
    assert bank.shape == (20, 129)
    assert np.all(bank >= 0) and np.all(bank <= 1 + 1e-12)
    peaks = bank.argmax(axis=1)
    assert np.all(np.diff(peaks) >= 0), "filters must be ordered by frequency"
    widths = (bank > 0).sum(axis=1)
    assert widths[-1] > widths[1], "high filters are wider than low ones"
    # Between the first and last centre, overlapping triangles sum to one.
    freqs = np.fft.rfftfreq(256, 1 / RATE)
    inner = (freqs >= F.mel_to_hz(np.linspace(0, F.hz_to_mel(4000), 22))[1]) & \
            (freqs <= F.mel_to_hz(np.linspace(0, F.hz_to_mel(4000), 22))[-2])
    assert np.allclose(bank[:, inner].sum(axis=0), 1.0)
    with pytest.raises(ValueError, match="fmax"):
        F.mel_filterbank(10, 256, RATE, fmax=5000.0)


@pytest.mark.parametrize("frequency", [300.0, 1000.0, 2500.0])
def test_tone_energy_lands_in_the_right_mel_band(frequency):
    x = make_tone(frequency, duration=0.128, sample_rate=RATE)
    log_mel = F.log_mel_spectrogram(x, RATE, n_mels=26)
    assert log_mel.shape == (7, 26)
    bank = F.mel_filterbank(26, 256, RATE)
    expected = bank[:, int(round(frequency / RATE * 256))].argmax()
    assert np.all(log_mel.argmax(axis=1) == expected)


def test_mfcc_shape_and_definition(rng):
    X = rng.standard_normal((4, 1024)).astype(np.float32)
    M = F.mfcc(X, RATE, n_mfcc=13, n_mels=26)
    assert M.shape == (4, 7, 13)
    assert M.dtype == np.float32
    log_mel = F.log_mel_spectrogram(X, RATE, n_mels=26)
    assert np.allclose(M, scipy.fft.dct(log_mel, norm="ortho")[..., :13], atol=1e-4)
    with pytest.raises(ValueError, match="n_mfcc"):
        F.mfcc(X, RATE, n_mfcc=30, n_mels=26)


def test_mfcc_ignores_loudness_except_c0():
    x = make_vowel("a", f0=120.0)
    a, b = F.mfcc(x, RATE), F.mfcc(10 * x, RATE)
    assert np.allclose(a[:, 1:], b[:, 1:], atol=1e-6), "a gain only shifts the log-mel level"
    assert np.all(b[:, 0] > a[:, 0])


def test_summarize_frames():
    frames = np.arange(12.0).reshape(2, 3, 2)
    out = F.summarize_frames(frames)
    assert out.shape == (2, 4)
    assert np.allclose(out[0], [2, 3, np.std([0, 2, 4]), np.std([1, 3, 5])])


# ---------------------------------------------------------------------------- LPC
def test_autocorrelation_matches_direct_sum(rng):
    x = rng.standard_normal((2, 50))
    r = F.autocorrelation(x, 5)
    direct = np.array([[np.sum(s[: 50 - k] * s[k:]) for k in range(6)] for s in x])
    assert np.allclose(r, direct)


def test_levinson_durbin_matches_direct_solve(rng):
    x = rng.standard_normal((3, 400))
    r = F.autocorrelation(x, 8)
    a, error, reflection = F.levinson_durbin(r, 8)
    for i in range(3):
        assert np.allclose(a[i], solve_toeplitz(r[i, :8], r[i, 1:9]))
        R = np.array([[r[i, abs(j - k)] for k in range(8)] for j in range(8)])
        assert np.allclose(a[i], np.linalg.solve(R, r[i, 1:9]))
        assert np.isclose(error[i], r[i, 0] - a[i] @ r[i, 1:9])
    assert np.all(np.abs(reflection) < 1)


def test_lpc_recovers_known_ar_coefficients():
    a_true = np.array([1.3, -0.8, 0.2])       # a stable AR(3) process
    excitation = np.random.default_rng(0).standard_normal(20000)
    x = lfilter([1.0], np.r_[1.0, -a_true], excitation)
    assert np.allclose(F.lpc(x, 3, window=None), a_true, atol=0.03)
    assert np.allclose(F.lpc(x, 3), a_true, atol=0.03)


def test_lpc_errors():
    with pytest.raises(ValueError, match="energy"):
        F.lpc(np.zeros(100), 4)
    with pytest.raises(ValueError, match="order"):
        F.levinson_durbin(np.ones(3), 5)
    with pytest.raises(ValueError, match="max_lag"):
        F.autocorrelation(np.ones(4), 4)


# ------------------------------------------------------------- DCT on digit images
def test_zigzag_matches_jpeg_order():
    assert F.zigzag_indices(3).tolist() == [[0, 0], [0, 1], [1, 0], [2, 0], [1, 1], [0, 2],
                                            [1, 2], [2, 1], [2, 2]]
    assert len({tuple(p) for p in F.zigzag_indices(8)}) == 64


def test_dct_compression_error_decreases_with_k():
    from dlcourse.data import load_digits_data

    X, _ = load_digits_data(dtype=np.float64)
    images = X[:200].reshape(-1, 8, 8)
    errors = [np.mean((F.dct_compress(images, k) - images) ** 2) for k in (0, 1, 4, 8, 16,
                                                                          32, 64)]
    assert np.all(np.diff(errors) < 0), errors
    assert np.isclose(errors[-1], 0.0, atol=1e-20)
    assert np.isclose(errors[0], np.mean(images ** 2))
    # Keeping the largest coefficients is optimal (orthonormal DCT): at least as good as
    # keeping the k lowest-frequency ones.
    coeffs = F.dct2(images).reshape(200, -1)
    rows, cols = F.zigzag_indices(8)[:8].T
    low = np.zeros_like(coeffs.reshape(200, 8, 8))
    low[:, rows, cols] = coeffs.reshape(200, 8, 8)[:, rows, cols]
    assert errors[3] <= np.mean((F.idct2(low) - images) ** 2)


def test_dct_features_and_errors(rng):
    images = rng.random((5, 64))
    feats = F.dct_features(images, 10)
    assert feats.shape == (5, 10)
    assert np.allclose(feats[:, 0], images.reshape(5, 8, 8).sum(axis=(1, 2)) / 8)   # DC
    with pytest.raises(ValueError, match="k must be"):
        F.dct_features(images, 0)
    with pytest.raises(ValueError, match="k must be"):
        F.dct_compress(images, 65)
    with pytest.raises(ValueError, match="square"):
        F.dct_features(rng.random((5, 8, 6)), 3)


# ----------------------------------------------------------------- audio generators
def test_tone_chirp_noise_basics():
    tone = make_tone(440.0, duration=0.5, sample_rate=RATE)
    assert tone.shape == (4000,) and np.isclose(np.max(np.abs(tone)), 1.0, atol=1e-3)
    chirp = make_chirp(200.0, 2000.0, duration=0.256, sample_rate=RATE)
    P = F.power_spectrogram(chirp, 256, 256)
    assert np.all(np.diff(P.argmax(axis=1)) > 0), "a rising chirp's peak bin rises"
    assert np.array_equal(make_noise(100, seed=3), make_noise(100, seed=3))
    assert not np.array_equal(make_noise(100, seed=3), make_noise(100, seed=4))
    with pytest.raises(ValueError, match="Nyquist"):
        make_tone(5000.0, sample_rate=RATE)


def test_vowel_has_its_pitch_and_formants():
    x = make_vowel("i", f0=125.0, duration=0.512, sample_rate=RATE)
    assert np.isclose(np.sqrt(np.mean(x ** 2)), 1.0)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    freqs = np.fft.rfftfreq(len(x), 1 / RATE)
    # Harmonics of 125 Hz: the strongest peak sits on a multiple of f0 near F1 = 270 Hz.
    peak = freqs[spectrum.argmax()]
    assert abs(peak / 125.0 - round(peak / 125.0)) < 0.05
    assert abs(peak - 270.0) < 130.0
    # The vowel "i" has its second formant high (2290 Hz): much energy above 2 kHz.
    high = spectrum[(freqs > 2000) & (freqs < 2600)].max()
    assert high > 0.05 * spectrum.max()
    with pytest.raises(ValueError, match="vowel"):
        make_vowel("x")


def test_vowel_dataset_is_deterministic_and_balanced():
    X1, y1 = make_vowel_dataset(10, seed=5)
    X2, y2 = make_vowel_dataset(10, seed=5)
    X3, _ = make_vowel_dataset(10, seed=6)
    assert X1.shape == (50, 1024) and X1.dtype == np.float32
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
    assert not np.allclose(X1, X3)
    assert np.array_equal(np.bincount(y1), [10] * 5)
    assert set(VOWEL_FORMANTS) == {"a", "e", "i", "o", "u"}
    with pytest.raises(ValueError, match="vowels"):
        make_vowel_dataset(5, vowels=("a", "z"))


def test_mfcc_separates_vowels_better_than_chance():
    from sklearn.naive_bayes import GaussianNB

    X, y = make_vowel_dataset(40, seed=0)
    Xt, yt = make_vowel_dataset(20, seed=1)
    feats = F.summarize_frames(F.mfcc(X, RATE))
    clf = GaussianNB().fit(feats, y)
    assert clf.score(F.summarize_frames(F.mfcc(Xt, RATE)), yt) > 0.8


# -------------------------------------------------------- GMM classifier, learning curve
def test_gmm_classifier_fits_and_is_an_estimator():
    from sklearn.base import clone
    from sklearn.datasets import load_iris
    from sklearn.model_selection import cross_val_score

    X, y = load_iris(return_X_y=True)
    clf = GaussianMixtureClassifier(n_components=2)
    assert cross_val_score(clf, X, y, cv=3).mean() > 0.9
    fitted = clone(clf).fit(X, y)
    proba = fitted.predict_proba(X)
    assert proba.shape == (150, 3) and np.allclose(proba.sum(axis=1), 1.0)
    assert np.array_equal(fitted.predict(X), fitted.classes_[proba.argmax(axis=1)])


def test_gmm_classifier_errors():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        GaussianMixtureClassifier().predict(np.ones((2, 2)))
    with pytest.raises(ValueError, match="n_components"):
        GaussianMixtureClassifier(n_components=0).fit(np.ones((4, 2)), [0, 0, 1, 1])


def test_stratified_order_prefixes_are_balanced():
    y = np.repeat(np.arange(4), 25)
    order = stratified_order(y, seed=0)
    assert sorted(order.tolist()) == list(range(100))
    for n in (4, 8, 40):
        assert np.array_equal(np.bincount(y[order[:n]], minlength=4), [n // 4] * 4)


def test_learning_curve_records_accuracy_and_time():
    from sklearn.naive_bayes import GaussianNB

    rng = np.random.default_rng(0)
    y = np.tile([0, 1], 100)
    X = rng.standard_normal((200, 3)) + 3.0 * y[:, None]
    result = learning_curve({"nb": GaussianNB()}, X[:150], y[:150], X[150:], y[150:],
                            sizes=[4, 20, 150], return_models=True)
    assert result["models"]["nb"].class_count_.sum() == 150
    assert result["sizes"] == [4, 20, 150]
    assert len(result["accuracy"]["nb"]) == 3 and result["accuracy"]["nb"][-1] > 0.9
    assert all(t >= 0 for t in result["fit_seconds"]["nb"])
    with pytest.raises(ValueError, match="sizes"):
        learning_curve({"nb": GaussianNB()}, X, y, X, y, sizes=[500])


# ------------------------------------------------------------------------- widgets
def test_signal_widgets_render_headless():
    import matplotlib.pyplot as plt

    from dlcourse.widgets import dct_compression_explorer, spectrogram_explorer
    from dlcourse.widgets.signals import make_signal

    widget = spectrogram_explorer()
    for kind in ("chirp", "u"):
        widget.children[0].value = kind          # re-draws without error
    dct_compression_explorer(np.random.default_rng(0).random((3, 64))).children[0].value = 5
    plt.close("all")
    assert make_signal("a", 150.0, 0.0).shape == (2048,)
    with pytest.raises(ValueError, match="kind"):
        make_signal("square", 100.0, 0.0)
