"""06 deep vs shallow: bypasses, typical mistakes and claims (read by test_chapters.py)."""

from dlcourse.grading.variants import Claim, Variant


def _dft(*, sign="-", norm="", product="x @ W.T", cast="np.asarray(x)"):
    """The model answer of Exercise 1 with one piece changed."""
    return f'''
def my_dft(x):
    x = {cast}
    n = x.shape[-1]
    k = np.arange(n)
    W = np.exp({sign}2j * np.pi * (np.outer(k, k) % n) / n)
    return {product}{norm}
'''


def _dct(*, scale="np.sqrt(2.0 / n)", first="C[0] /= np.sqrt(2.0)", product="x @ C.T",
         argument="np.pi * (2 * t + 1) * k / (2 * n)"):
    """The model answer of Exercise 2 with one piece changed."""
    return f'''
def my_dct(x):
    x = np.asarray(x, dtype=float)
    n = x.shape[-1]
    k = np.arange(n)[:, None]
    t = np.arange(n)[None, :]
    C = np.cos({argument}) * {scale}
    {first}
    return {product}
'''


def _mfcc(*, log="np.log", eps="eps", dct="scipy.fft.dct(log_mel, type=2, norm='ortho', axis=-1)",
          check=True):
    """The model answer of Exercise 3 with one piece changed."""
    guard = ("    if n_mfcc > n_mels:\n        raise ValueError('too many coefficients')\n"
             if check else "")
    return f'''
def my_mfcc(x, sample_rate, n_mfcc=13, n_mels=26, eps=1e-10):
{guard}    power = F.power_spectrogram(x, frame_length=256, hop_length=128)
    filterbank = F.mel_filterbank(n_mels, 256, sample_rate)
    log_mel = {log}(power @ filterbank.T + {eps})
    return {dct}[..., :n_mfcc]
'''


def _gmm(*, prior="np.log(count / len(y_train))", rows="X_train[y_train == c]",
         result="classes[np.argmax(np.stack(scores, axis=1), axis=1)]"):
    """The model answer of Exercise 4 with one piece changed."""
    return f'''
def gmm_predict(X_train, y_train, X_test, n_components=2, seed=0):
    X_train, y_train = np.asarray(X_train), np.asarray(y_train)
    classes, counts = np.unique(y_train, return_counts=True)
    scores = []
    for c, count in zip(classes, counts):
        gmm = GaussianMixture(n_components, covariance_type="diag", reg_covar=1e-3,
                              random_state=seed).fit({rows})
        scores.append(gmm.score_samples(X_test) + {prior})
    return {result}
'''


BYPASSES = [
    Variant("ex_dft", "numpy's FFT", kind="bypass", source='''
def my_dft(x):
    return np.fft.fft(x)
'''),
    Variant("ex_dft", "scipy's FFT", kind="bypass", source='''
def my_dft(x):
    return scipy.fft.fft(x)
'''),
    Variant("ex_dft", "the library's matrix DFT", kind="bypass", source='''
def my_dft(x):
    return F.dft(x)
'''),
    Variant("ex_dft", "scipy's DFT matrix", kind="bypass", source='''
from scipy.linalg import dft as _dft_matrix

def my_dft(x):
    x = np.asarray(x)
    return x @ _dft_matrix(x.shape[-1]).T
'''),
    Variant("ex_dft", "torch's FFT", kind="bypass", source='''
import torch as _torch

def my_dft(x):
    return _torch.fft.fft(_torch.as_tensor(np.asarray(x))).numpy()
'''),
    Variant("ex_dct", "scipy's orthonormal DCT", kind="bypass", source='''
def my_dct(x):
    return scipy.fft.dct(x, type=2, norm="ortho")
'''),
    Variant("ex_dct", "the library's DCT matrix", kind="bypass", source='''
def my_dct(x):
    x = np.asarray(x, dtype=float)
    return x @ F.dct_matrix(x.shape[-1]).T
'''),
    Variant("ex_dct", "scipy.fftpack's DCT", kind="bypass", source='''
from scipy.fftpack import dct as _dct

def my_dct(x):
    return _dct(np.asarray(x, dtype=float), norm="ortho")
'''),
    Variant("ex_mfcc", "the library's MFCC", kind="bypass", source='''
def my_mfcc(x, sample_rate, n_mfcc=13, n_mels=26, eps=1e-10):
    return F.mfcc(x, sample_rate, n_mfcc=n_mfcc, n_mels=n_mels, eps=eps)
'''),
    Variant("ex_mfcc", "the library's log-mel spectrogram, then the DCT", kind="bypass", source='''
def my_mfcc(x, sample_rate, n_mfcc=13, n_mels=26, eps=1e-10):
    if n_mfcc > n_mels:
        raise ValueError("too many")
    log_mel = F.log_mel_spectrogram(x, sample_rate, n_mels=n_mels, eps=eps)
    return scipy.fft.dct(log_mel, norm="ortho")[..., :n_mfcc]
'''),
    Variant("ex_gmm", "the library's GMM classifier", kind="bypass", source='''
def gmm_predict(X_train, y_train, X_test, n_components=2, seed=0):
    model = GaussianMixtureClassifier(n_components, random_state=seed)
    return model.fit(X_train, y_train).predict(X_test)
'''),
]

MISTAKES = [
    # Exercise 1: the DFT
    Variant("ex_dft", "+ sign in the exponent", expect="sign convention", source=_dft(sign="")),
    Variant("ex_dft", "normalised by 1/n", expect="no 1/n", source=_dft(norm=" / n")),
    Variant("ex_dft", "normalised by 1/sqrt(n)", expect="no 1/n",
            source=_dft(norm=" / np.sqrt(n)")),
    Variant("ex_dft", "W @ x (wrong axis for a batch)", expect="last axis",
            source=_dft(product="W @ x")),
    Variant("ex_dft", "input cast to float", expect="complex",
            source=_dft(cast="np.asarray(x, dtype=float)")),
    # Exercise 2: the DCT
    Variant("ex_dct", "no normalisation at all", expect="without normalisation",
            source=_dct(scale="1.0", first="pass")),
    Variant("ex_dct", "scipy's unnormalised convention (factor 2)", expect="unnormalised",
            source=_dct(scale="2.0", first="pass")),
    Variant("ex_dct", "s_0 not divided by sqrt(2)", expect="s_0", source=_dct(first="pass")),
    Variant("ex_dct", "transposed matrix", expect="transposed matrix",
            source=_dct(product="x @ C")),
    Variant("ex_dct", "cosine argument without the 2 in 2n", expect="cosine argument",
            source=_dct(argument="np.pi * (2 * t + 1) * k / n")),
    # Exercise 3: MFCC
    Variant("ex_mfcc", "log10 instead of the natural log", expect="natural logarithm",
            source=_mfcc(log="np.log10")),
    Variant("ex_mfcc", "DCT without norm='ortho'", expect="ortho",
            source=_mfcc(dct="scipy.fft.dct(log_mel, type=2, axis=-1)")),
    Variant("ex_mfcc", "DCT over the frames", expect="mel axis",
            source=_mfcc(dct="scipy.fft.dct(log_mel, type=2, norm='ortho', axis=-2)")),
    Variant("ex_mfcc", "eps forgotten", expect="eps", source=_mfcc(eps="0")),
    Variant("ex_mfcc", "no check of n_mfcc", expect="n_mfcc=30", source=_mfcc(check=False)),
    # Exercise 4: the GMM classifier
    Variant("ex_gmm", "log prior missing", expect="log prior", source=_gmm(prior="0")),
    Variant("ex_gmm", "prior added without the log", expect="not p\\(c\\)",
            source=_gmm(prior="count / len(y_train)")),
    Variant("ex_gmm", "class indices instead of labels", expect="original labels",
            source=_gmm(result="np.argmax(np.stack(scores, axis=1), axis=1)")),
    Variant("ex_gmm", "every mixture fitted on all rows", expect="rows of that class",
            source=_gmm(rows="X_train")),
]

CLAIMS = [
    Claim("a 1000 Hz tone's largest DFT bin is 128 = 1000 Hz (1024 samples at 8 kHz)",
          "assert spectrum.argmax() == 128"),
    Claim("the matrix DFT gives numpy.fft's numbers at a very different cost (10x or more)",
          "assert np.allclose(F.dft(X_audio[:50]), np.fft.fft(X_audio[:50]), atol=1e-6)\n"
          "assert t_matrix / t_fft > 10, t_matrix / t_fft"),
    Claim("the MFCCs of a vowel barely change with its pitch (less than between two vowels)",
          "m = lambda v, f0: F.mfcc(make_vowel(v, f0=f0, duration=0.128, sample_rate=RATE),\n"
          "                         RATE).mean(0)\n"
          "same_vowel = np.linalg.norm(m('a', 110) - m('a', 220))\n"
          "other_vowel = np.linalg.norm(m('a', 110) - m('i', 110))\n"
          "assert same_vowel < 0.5 * other_vowel, (same_vowel, other_vowel)"),
    Claim("the LPC envelope peaks are the formants of 'i' (within 60 Hz)",
          "assert len(lpc_peaks_hz) == 3, lpc_peaks_hz\n"
          "assert np.all(np.abs(lpc_peaks_hz - np.array(VOWEL_FORMANTS['i'])) < 60), lpc_peaks_hz"),
    Claim("each EM round does not lower the likelihood",
          "assert np.all(np.diff(em_trace) > -1e-6), em_trace"),
    Claim("the 2-D DCT concentrates the digits' energy in a few coefficients (16 of 64: > 85 %)",
          "assert share[:, 15].mean() > 0.85, share[:, 15].mean()"),
    Claim("extra hidden layers do not help the MLP (validation, one-standard-error rule)",
          "assert not depth_helps, best_hidden"),
    Claim("depth does not remove the raw-waveform MLP's handicap (every depth far below 90 %)",
          "assert max(val_accuracy['raw waveform', d] for d in (1, 2, 3)) < 0.7, val_accuracy"),
    Claim("with 50 clips the best shallow pipeline is several points above the spectrogram MLP "
          "and far above the raw-waveform MLP",
          "acc = audio_curves['accuracy']; i50 = AUDIO_SIZES.index(50)\n"
          "best = max(acc[m][i50] for m in SHALLOW)\n"
          "assert best > acc['log spectrogram + MLP'][i50] + 0.03, best\n"
          "assert best > acc['raw waveform + MLP'][i50] + 0.3, best"),
    Claim("the raw-waveform MLP stays far behind at every size",
          "acc = audio_curves['accuracy']\n"
          "for i in range(len(AUDIO_SIZES)):\n"
          "    assert max(acc[m][i] for m in SHALLOW) > acc['raw waveform + MLP'][i] + 0.25, i"),
    Claim("the spectrogram MLP catches up with the best shallow pipeline at a few hundred examples",
          "acc = audio_curves['accuracy']\n"
          "for n in (400, 800):\n"
          "    i = AUDIO_SIZES.index(n)\n"
          "    assert acc['log spectrogram + MLP'][i] > max(acc[m][i] for m in SHALLOW) - 0.02, n"),
    Claim("the MFCC curves flatten in the low 90s from about 200 clips on",
          "acc = audio_curves['accuracy']; i200 = AUDIO_SIZES.index(200)\n"
          "for m in ('MFCC + naive Bayes', 'MFCC + GMM', 'MFCC + SVM'):\n"
          "    assert 0.88 < acc[m][-1] < 0.97 and acc[m][-1] - acc[m][i200] < 0.05, (m, acc[m])"),
    Claim("the raw-waveform MLP is still climbing at 800 clips",
          "r = audio_curves['accuracy']['raw waveform + MLP']\n"
          "assert r[-1] > max(r[:-1]) + 0.02, r"),
    Claim("on the digits the MLP on raw pixels stays within a few points (5) of the best shallow "
          "pipeline at every size; naive Bayes flattens well below both",
          "acc = digit_curves['accuracy']\n"
          "nb, svm = f'DCT-{K_DCT} + naive Bayes', f'DCT-{K_DCT} + SVM'\n"
          "for i in range(len(DIGIT_SIZES)):\n"
          "    assert abs(acc['raw pixels + MLP'][i] - max(acc[nb][i], acc[svm][i])) < 0.05, acc\n"
          "assert acc[nb][-1] < min(acc[svm][-1], acc['raw pixels + MLP'][-1]) - 0.03, acc"),
    Claim("the shallow MFCC pipelines train in a fraction of the MLP's time",
          "fit = audio_curves['fit_seconds']\n"
          "for m in ('MFCC + naive Bayes', 'MFCC + GMM', 'MFCC + SVM'):\n"
          "    assert fit[m][-1] < 0.5 * fit['raw waveform + MLP'][-1], (m, fit)"),
    Claim("the MLP has tens of thousands of weights",
          "assert 1e4 <= params['raw waveform + MLP'] < 1e5, params"),
    Claim("trained first-layer weights emphasise the bands below 1 kHz over every band above",
          "above = max(v for low, v in band_ratio.items() if low >= 1000)\n"
          "assert min(band_ratio[0], band_ratio[500]) > above, band_ratio"),
]
