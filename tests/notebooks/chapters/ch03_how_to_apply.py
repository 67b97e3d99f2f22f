"""03 How to apply: bypasses, typical mistakes and claims (read by test_chapters.py)."""

from dlcourse.grading.variants import Claim, Variant

BYPASSES = [
    Variant("ex_letter_frequencies", "call the library's encoding", kind="bypass", source='''
def letter_frequencies(words):
    from dlcourse.data import char_counts
    return char_counts(words, normalize=True)
'''),
    Variant("ex_letter_frequencies", "scikit-learn's character CountVectorizer", kind="bypass",
            source='''
def letter_frequencies(words):
    from sklearn.feature_extraction.text import CountVectorizer
    counts = CountVectorizer(analyzer="char", vocabulary=list("abcdefghijklmnopqrstuvwxyz")
                             ).fit_transform(words).toarray().astype(float)
    return counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
'''),
    Variant("ex_window_features", "call the library's window_features", kind="bypass", source='''
from dlcourse.data import window_features as library_windows

def my_window_features(ids, vocab_size, width=1):
    return library_windows(ids, vocab_size, width)
'''),
    Variant("ex_spectrum_features", "call the library's band_energies", kind="bypass", source='''
def my_band_energies(signals, edges):
    from dlcourse.data.domains import band_energies
    return band_energies(signals, edges)
'''),
    Variant("ex_spectrum_features", "hard-code the visible answers", kind="bypass", source='''
def my_band_energies(signals, edges):
    signals = np.asarray(signals)
    if signals.shape == (3, 10):
        return np.array([[1.0, 0.0]] * 3)
    return np.array([[1.0, 0.25, 0.0], [0.0, 0.0, 1.0]])
'''),
    Variant("ex_calibration_table", "scipy's binned_statistic", kind="bypass", source='''
def calibration_table(p_pred, outcome, n_bins=10):
    from scipy.stats import binned_statistic
    kw = dict(bins=n_bins, range=(0, 1))
    mean_pred = binned_statistic(p_pred, p_pred, "mean", **kw).statistic
    observed = binned_statistic(p_pred, outcome, "mean", **kw).statistic
    counts = binned_statistic(p_pred, p_pred, "count", **kw).statistic.astype(int)
    return mean_pred, observed, counts
'''),
    Variant("ex_calibration_table", "np.histogram with weights", kind="bypass", source='''
def calibration_table(p_pred, outcome, n_bins=10):
    p_pred, outcome = np.asarray(p_pred, float), np.asarray(outcome, float)
    counts, _ = np.histogram(p_pred, bins=n_bins, range=(0, 1))
    with np.errstate(invalid="ignore"):
        mean_pred = np.histogram(p_pred, bins=n_bins, range=(0, 1), weights=p_pred)[0] / counts
        observed = np.histogram(p_pred, bins=n_bins, range=(0, 1), weights=outcome)[0] / counts
    return mean_pred, observed, counts
'''),
]

MISTAKES = [
    # Exercise 1: letter frequencies
    Variant("ex_letter_frequencies", "counts instead of fractions", expect="fractions", source='''
def letter_frequencies(words):
    out = np.zeros((len(words), 26))
    for i, word in enumerate(words):
        for ch in word.lower():
            if "a" <= ch <= "z":
                out[i, ord(ch) - ord("a")] += 1
    return out
'''),
    Variant("ex_letter_frequencies", "upper case not lowered", expect="upper-case Z", source='''
def letter_frequencies(words):
    out = np.zeros((len(words), 26))
    for i, word in enumerate(words):
        for ch in word:
            if "a" <= ch <= "z":
                out[i, ord(ch) - ord("a")] += 1
    return out / np.maximum(out.sum(axis=1, keepdims=True), 1)
'''),
    Variant("ex_letter_frequencies", "divides by the word's length, '!' included",
            expect="neither counted nor part of the total", source='''
def letter_frequencies(words):
    out = np.zeros((len(words), 26))
    for i, word in enumerate(words):
        for ch in word.lower():
            if "a" <= ch <= "z":
                out[i, ord(ch) - ord("a")] += 1
    return out / np.maximum(np.array([[len(w)] for w in words]), 1)
'''),
    Variant("ex_letter_frequencies", "0/0 for a word without letters", expect="do not divide by 0",
            source='''
def letter_frequencies(words):
    out = np.zeros((len(words), 26))
    for i, word in enumerate(words):
        for ch in word.lower():
            if "a" <= ch <= "z":
                out[i, ord(ch) - ord("a")] += 1
    with np.errstate(invalid="ignore"):
        return out / out.sum(axis=1, keepdims=True)
'''),
    # Exercise 2: context windows
    Variant("ex_window_features", "pads with word id 0", expect="padding id", source='''
def my_window_features(ids, vocab_size, width=1):
    ids = np.asarray(ids, dtype=int)
    T, V = len(ids), vocab_size + 1
    padded = np.concatenate([np.zeros(width, int), ids, np.zeros(width, int)])
    out = np.zeros((T, (2 * width + 1) * V))
    for k in range(2 * width + 1):
        out[np.arange(T), k * V + padded[k:k + T]] = 1.0
    return out
'''),
    Variant("ex_window_features", "slots in reverse order", expect="slots are ordered", source='''
def my_window_features(ids, vocab_size, width=1):
    ids = np.asarray(ids, dtype=int)
    T, V = len(ids), vocab_size + 1
    padded = np.concatenate([np.full(width, vocab_size), ids, np.full(width, vocab_size)])
    out = np.zeros((T, (2 * width + 1) * V))
    for k in range(2 * width + 1):
        out[np.arange(T), (2 * width - k) * V + padded[k:k + T]] = 1.0
    return out
'''),
    Variant("ex_window_features", "one-hot vectors without the padding entry",
            expect="padding id 3", source='''
def my_window_features(ids, vocab_size, width=1):
    ids = np.asarray(ids, dtype=int)
    T, V = len(ids), vocab_size
    out = np.zeros((T, (2 * width + 1) * V))
    for k in range(-width, width + 1):
        for t in range(T):
            if 0 <= t + k < T:
                out[t, (k + width) * V + ids[t + k]] = 1.0
    return out
'''),
    Variant("ex_window_features", "np.roll wraps around the sentence", expect="padding id",
            source='''
def my_window_features(ids, vocab_size, width=1):
    ids = np.asarray(ids, dtype=int)
    V = vocab_size + 1
    eye = np.eye(V)
    return np.hstack([eye[np.roll(ids, -k)] for k in range(-width, width + 1)])
'''),
    # Exercise 3: band energies
    Variant("ex_spectrum_features", "sums amplitudes, not their squares", expect="SQUARES",
            source='''
def my_band_energies(signals, edges):
    signals = np.asarray(signals, dtype=float)
    A = np.abs(np.fft.rfft(signals, axis=1)) / signals.shape[1]
    return np.stack([A[:, a:b].sum(axis=1) for a, b in zip(edges[:-1], edges[1:])], axis=1)
'''),
    Variant("ex_spectrum_features", "forgets / L", expect="divide .*by L", source='''
def my_band_energies(signals, edges):
    power = np.abs(np.fft.rfft(np.asarray(signals, float), axis=1)) ** 2
    return np.stack([power[:, a:b].sum(axis=1) for a, b in zip(edges[:-1], edges[1:])], axis=1)
'''),
    Variant("ex_spectrum_features", "upper edge included", expect="upper edge is excluded",
            source='''
def my_band_energies(signals, edges):
    signals = np.asarray(signals, dtype=float)
    power = (np.abs(np.fft.rfft(signals, axis=1)) / signals.shape[1]) ** 2
    return np.stack([power[:, a:b + 1].sum(axis=1) for a, b in zip(edges[:-1], edges[1:])],
                    axis=1)
'''),
    Variant("ex_spectrum_features", "mean over the band", expect="not their mean", source='''
def my_band_energies(signals, edges):
    signals = np.asarray(signals, dtype=float)
    power = (np.abs(np.fft.rfft(signals, axis=1)) / signals.shape[1]) ** 2
    return np.stack([power[:, a:b].mean(axis=1) for a, b in zip(edges[:-1], edges[1:])], axis=1)
'''),
    Variant("ex_spectrum_features", "transform along the wrong axis", expect="ROW", source='''
def my_band_energies(signals, edges):
    signals = np.asarray(signals, dtype=float)
    power = (np.abs(np.fft.rfft(signals, axis=0)) / signals.shape[1]) ** 2
    return np.stack([power[:, a:b].sum(axis=1) for a, b in zip(edges[:-1], edges[1:])], axis=1)
'''),
    # Exercise 4: calibration table
    Variant("ex_calibration_table", "1.0 falls into a bin n_bins", expect="1.0", source='''
def calibration_table(p_pred, outcome, n_bins=10):
    p_pred, outcome = np.asarray(p_pred, float), np.asarray(outcome, float)
    bins = (p_pred * n_bins).astype(int)
    counts = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore"):
        mean_pred = np.bincount(bins, weights=p_pred, minlength=n_bins) / counts
        observed = np.bincount(bins, weights=outcome, minlength=n_bins) / counts
    return mean_pred, observed, counts
'''),
    Variant("ex_calibration_table", "rounds instead of floor", expect="floor", source='''
def calibration_table(p_pred, outcome, n_bins=10):
    p_pred, outcome = np.asarray(p_pred, float), np.asarray(outcome, float)
    bins = np.minimum(np.round(p_pred * n_bins).astype(int), n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore"):
        mean_pred = np.bincount(bins, weights=p_pred, minlength=n_bins) / counts
        observed = np.bincount(bins, weights=outcome, minlength=n_bins) / counts
    return mean_pred, observed, counts
'''),
    Variant("ex_calibration_table", "observed averages the predictions", expect="OUTCOMES",
            source='''
def calibration_table(p_pred, outcome, n_bins=10):
    p_pred = np.asarray(p_pred, float)
    bins = np.minimum((p_pred * n_bins).astype(int), n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore"):
        mean_pred = np.bincount(bins, weights=p_pred, minlength=n_bins) / counts
    return mean_pred, mean_pred.copy(), counts
'''),
    Variant("ex_calibration_table", "empty bins get 0", expect="nan", source='''
def calibration_table(p_pred, outcome, n_bins=10):
    p_pred, outcome = np.asarray(p_pred, float), np.asarray(outcome, float)
    bins = np.minimum((p_pred * n_bins).astype(int), n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins)
    safe = np.maximum(counts, 1)
    mean_pred = np.bincount(bins, weights=p_pred, minlength=n_bins) / safe
    observed = np.bincount(bins, weights=outcome, minlength=n_bins) / safe
    return mean_pred, observed, counts
'''),
]

CLAIMS = [
    Claim("without context roughly one in three ambiguous occurrences is tagged wrong",
          "assert 0.55 < tag_val[0][1] < 0.78, tag_val"),
    Claim("one neighbour on each side fixes almost all ambiguous words",
          "assert tag_val[1][1] > 0.9 and tag_val[1][1] > tag_val[0][1] + 0.2, tag_val"),
    Claim("the spectrum is phase-invariant for a whole number of cycles without noise",
          "assert leak[5.0, 0.0] < 1e-12, leak"),
    Claim("leakage (4.5 cycles) and noise break the phase invariance",
          "assert leak[4.5, 0.0] > 0.01 and leak[5.0, 0.3] > 0.01, leak"),
    Claim("the Hann window shrinks the half-cycle tone's phase dependence many times over",
          "assert leak['Hann'] < leak[4.5, 0.0] / 10, leak"),
    Claim("over tones of 3-6 cycles the band energy varies far less than the largest bin, and "
          "the band holds most of every tone's energy",
          "assert relative_spread['band 2-8'] < relative_spread['largest bin'] / 2, "
          "relative_spread\nassert low_share > 0.85, low_share"),
    Claim("with 60 clips the spectrum beats the raw samples and the band energies beat the "
          "spectrum, clearly",
          "assert signal_val['magnitude spectrum', 60] > signal_val['raw waveform', 60] + 0.05\n"
          "assert signal_val['band energies', 60] > signal_val['magnitude spectrum', 60] + 0.05"),
    Claim("with all clips the spread between the encodings shrinks (to a few points)",
          "assert gap[n_all] < gap[60] / 2 and gap[n_all] < 0.08, gap"),
    Claim("observed click rates are within a few points of the mean prediction in every bin",
          "assert largest_gap < 0.06, largest_gap"),
    Claim("the three models are within a few points of each other on the validation words",
          "assert max(model_val.values()) - min(model_val.values()) < 0.06, model_val"),
]
