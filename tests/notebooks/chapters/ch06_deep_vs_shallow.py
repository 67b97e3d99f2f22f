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


def _conv1d(*, taps="W[:, :, j]", window="x[:, :, j:j + span:stride]",
            t_out="(x.shape[2] - k) // stride + 1", dtype="np.result_type(x, W, b)",
            bias="out + b[None, :, None]"):
    """The model answer of Exercise 5 with one piece changed."""
    return f'''
def my_conv1d(x, W, b, stride=1):
    x, W, b = np.asarray(x), np.asarray(W), np.asarray(b)
    k = W.shape[2]
    T_out = {t_out}
    span = stride * (T_out - 1) + 1
    out = np.zeros((x.shape[0], W.shape[0], T_out), dtype={dtype})
    for j in range(k):
        out += np.einsum("oc,nct->not", {taps}, {window})
    return {bias}
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
    Variant("ex_conv1d", "the library's im2col convolution", kind="bypass", source='''
from dlcourse.models.conv1d import conv1d as _conv1d

def my_conv1d(x, W, b, stride=1):
    return _conv1d(x, W, b, stride=stride)
'''),
    Variant("ex_conv1d", "the library's layer with the given weights", kind="bypass", source='''
from dlcourse.models.conv1d import Conv1D as _Conv1D

def my_conv1d(x, W, b, stride=1):
    W = np.asarray(W)
    layer = _Conv1D(W.shape[1], W.shape[0], W.shape[2], stride=stride, dtype=W.dtype)
    layer.params["W"][...] = W
    layer.params["b"][...] = b
    return layer.forward(x)[0]
'''),
    Variant("ex_conv1d", "torch's conv1d", kind="bypass", source='''
import torch as _torch

def my_conv1d(x, W, b, stride=1):
    t = lambda a: _torch.as_tensor(np.asarray(a))
    return _torch.nn.functional.conv1d(t(x), t(W), t(b), stride=stride).numpy()
'''),
    Variant("ex_conv1d", "np.correlate per signal, channel and filter", kind="bypass", source='''
def my_conv1d(x, W, b, stride=1):
    x, W, b = np.asarray(x), np.asarray(W), np.asarray(b)
    out = [[sum(np.correlate(x[n, c], W[o, c], mode="valid")
                for c in range(x.shape[1]))[::stride] + b[o]
            for o in range(W.shape[0])] for n in range(x.shape[0])]
    return np.asarray(out, dtype=np.result_type(x, W, b))
'''),
    Variant("ex_conv1d", "scipy.signal.correlate on the whole batch", kind="bypass", source='''
import scipy.signal as _signal

def my_conv1d(x, W, b, stride=1):
    x, W, b = np.asarray(x), np.asarray(W), np.asarray(b)
    full = np.stack([_signal.correlate(x, W[o][None], mode="valid")[:, 0]
                     for o in range(len(W))], axis=1)
    return full[:, :, ::stride] + b[None, :, None]
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
    # Exercise 5: the 1-D convolution
    Variant("ex_conv1d", "the filter flipped (np.convolve's convolution)",
            expect="flipped the filter", source=_conv1d(taps="W[:, :, k - 1 - j]")),
    Variant("ex_conv1d", "bias forgotten", expect="bias is missing", source=_conv1d(bias="out")),
    Variant("ex_conv1d", "stride ignored", expect="stride was ignored",
            source=_conv1d(t_out="x.shape[2] - k + 1", window="x[:, :, j:j + T_out]")),
    Variant("ex_conv1d", "one output too few", expect="T_out = \\(T - k\\) // stride \\+ 1",
            source=_conv1d(t_out="(x.shape[2] - k) // stride")),
    Variant("ex_conv1d", "channels averaged instead of summed", expect="ALL C_in input channels",
            source=_conv1d(bias="out / x.shape[1] + b[None, :, None]")),
    Variant("ex_conv1d", "only the first input channel", expect="ALL C_in input channels",
            source=_conv1d(taps="W[:, :1, j]", window="x[:, :1, j:j + span:stride]")),
    Variant("ex_conv1d", "float64 output buffer", expect="float32 in must give float32 out",
            source=_conv1d(dtype="np.float64")),
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
    # the 1-D CNN (§9.2, §9.3)
    Claim("the grid and the training budget the prose states: filters of 16, 32, 64 samples "
          "(2, 4, 8 ms; about f_s/k = 500, 250, 125 Hz), three learning rates, 20 epochs for the "
          "CNN and 30 for the MLP, at every size",
          "assert KERNELS == (16, 32, 64) and RATES == (3e-3, 1e-2, 3e-2) and CNN_EPOCHS == 20\n"
          "assert [RATE / k for k in KERNELS] == [500, 250, 125]\n"
          "assert [k / RATE * 1000 for k in KERNELS] == [2, 4, 8]\n"
          "assert deep_mlp().epochs == 30\n"
          "net = waveform_cnn(32)\n"
          "assert [type(m).__name__ for m in net] == ['Conv1D', 'ReLU', 'Conv1D', 'ReLU', "
          "'GlobalAvgPool1D', 'Dense']\n"
          "assert (net[0].out_channels, net[0].stride, net[2].out_channels, net[2].kernel_size, "
          "net[2].stride) == (16, 4, 32, 8, 2)"),
    Claim("the CNN's setting is the best validation accuracy of the nine, each trained on the "
          "same 400 clips",
          "assert len(cnn_val) == 9\n"
          "assert cnn_val[CNN_KERNEL, CNN_LR] == max(cnn_val.values()), cnn_val"),
    Claim("the CNN trains on the same nested subsets as the other learning curves",
          "from dlcourse.studies.learning_curves import stratified_order as _order\n"
          "assert np.array_equal(order, _order(y_audio, 0)) and len(audio_curves['accuracy'][CNN]) "
          "== len(AUDIO_SIZES)"),
    Claim("from 50 to 200 clips the best MFCC pipeline is ahead of every learned model: several "
          "points above the spectrogram MLP and the CNN, far above the raw-waveform MLP",
          "acc = audio_curves['accuracy']\n"
          "mfcc = [m for m in SHALLOW if m.startswith('MFCC')]\n"
          "for n in (50, 100, 200):\n"
          "    i = AUDIO_SIZES.index(n)\n"
          "    best = max(acc[m][i] for m in mfcc)\n"
          "    assert best > max(acc['log spectrogram + MLP'][i], acc[CNN][i]) + 0.02, (n, acc)\n"
          "    assert best > acc['raw waveform + MLP'][i] + 0.25, (n, acc)"),
    Claim("with 25 clips every model stays below 80 %",
          "acc = audio_curves['accuracy']\n"
          "assert max(acc[m][AUDIO_SIZES.index(25)] for m in acc) < 0.8, acc"),
    Claim("the CNN on the raw waveform is far above the MLP on the same waveform at every size",
          "acc = audio_curves['accuracy']\n"
          "for i in range(len(AUDIO_SIZES)):\n"
          "    assert acc[CNN][i] > acc['raw waveform + MLP'][i] + 0.3, (i, acc[CNN])"),
    Claim("the CNN keeps climbing: from 400 to 800 clips it gains several points",
          "acc = audio_curves['accuracy'][CNN]\n"
          "assert acc[AUDIO_SIZES.index(800)] > acc[AUDIO_SIZES.index(400)] + 0.03, acc"),
    Claim("at 800 clips the CNN is ahead of the best shallow pipeline, with each of three seeds",
          "acc = audio_curves['accuracy']; i = AUDIO_SIZES.index(800)\n"
          "assert cnn_seeds[0] == acc[CNN][i] and len(cnn_seeds) == 3\n"
          "assert min(cnn_seeds) > max(acc[m][i] for m in SHALLOW) + 0.01, cnn_seeds"),
    Claim("at 50 clips the best MFCC pipeline is far more accurate than both networks on raw audio",
          "acc = audio_curves['accuracy']; i = AUDIO_SIZES.index(50)\n"
          "best = max(acc[m][i] for m in SHALLOW)\n"
          "assert best > acc[CNN][i] + 0.08 and best > acc['raw waveform + MLP'][i] + 0.3, acc"),
    Claim("the shallow MFCC pipelines train in a fraction of the CNN's time",
          "fit = audio_curves['fit_seconds']\n"
          "for m in ('MFCC + naive Bayes', 'MFCC + GMM', 'MFCC + SVM'):\n"
          "    assert fit[m][-1] < 0.5 * fit[CNN][-1], (m, fit)"),
]
