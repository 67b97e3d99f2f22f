"""dlcourse.data: splits, scalers, augmentation, mini-batches and the bundled data sets."""

import numpy as np
import pytest

from dlcourse.data import (
    MinMaxScaler,
    Standardizer,
    add_noise,
    augment_images,
    image_augmenter,
    iterate_minibatches,
    load_digits_data,
    make_circles,
    make_moons,
    make_noisy_regression,
    make_spirals,
    rotate_images,
    shift_images,
    train_val_test_split,
)


@pytest.fixture(scope="module")
def digits():
    return load_digits_data()


# ----------------------------------------------------------------------------- data sets

def test_digits_are_bundled_scaled_and_float32(digits):
    X, y = digits
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert X.min() == 0.0 and X.max() == 1.0
    assert y.shape == (1797,) and set(np.unique(y)) == set(range(10))
    assert load_digits_data(dtype=np.float64)[0].dtype == np.float64


@pytest.mark.parametrize("make, kwargs, n_classes", [
    (make_moons, {"n": 120, "noise": 0.1}, 2),
    (make_circles, {"n": 120, "noise": 0.05, "factor": 0.5}, 2),
    (make_spirals, {"n": 120, "n_classes": 3, "noise": 0.2}, 3),
])
def test_toy_classification_sets_are_deterministic(make, kwargs, n_classes):
    X1, y1 = make(**kwargs, seed=3)
    X2, y2 = make(**kwargs, seed=3)
    X3, _ = make(**kwargs, seed=4)
    assert X1.shape == (120, 2) and y1.shape == (120,)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
    assert not np.allclose(X1, X3), "a different seed must give different data"
    counts = np.bincount(y1)
    assert len(counts) == n_classes and counts.min() >= 120 // n_classes - 1


def test_circles_have_two_radii():
    X, y = make_circles(n=400, noise=0.0, factor=0.3, seed=0)
    r = np.linalg.norm(X, axis=1)
    assert np.allclose(r[y == 0], 1.0) and np.allclose(r[y == 1], 0.3)


def test_noisy_regression_follows_its_formula():
    X, y = make_noisy_regression(n=500, noise=0.1, seed=0)
    assert X.shape == (500, 1) and y.shape == (500,)
    residual = y - (np.sin(1.5 * X[:, 0]) + 0.3 * X[:, 0])
    assert abs(residual.std() - 0.1) < 0.02


# ----------------------------------------------------------------------------- splits

def test_split_is_disjoint_complete_stratified_and_deterministic(digits):
    X, y = digits
    ids = np.arange(len(y))
    parts = train_val_test_split(ids, y, val_size=0.15, test_size=0.15, seed=0)
    i_train, i_val, i_test, y_train, y_val, y_test = parts
    assert len(set(i_train) & set(i_val)) == 0 and len(set(i_train) & set(i_test)) == 0
    assert len(set(i_val) & set(i_test)) == 0
    assert sorted(np.concatenate([i_train, i_val, i_test])) == list(ids)
    assert abs(len(i_test) - 0.15 * len(y)) <= 1 and abs(len(i_val) - 0.15 * len(y)) <= 1
    assert np.array_equal(y_train, y[i_train]) and np.array_equal(y_test, y[i_test])
    overall = np.bincount(y) / len(y)
    for part in (y_train, y_val, y_test):
        assert np.abs(np.bincount(part, minlength=10) / len(part) - overall).max() < 0.01
    again = train_val_test_split(ids, y, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(parts, again, strict=True))
    other = train_val_test_split(ids, y, seed=1)
    assert not np.array_equal(other[2], i_test)


def test_split_rejects_bad_sizes():
    X, y = np.zeros((10, 2)), np.arange(10) % 2
    with pytest.raises(ValueError, match="val_size"):
        train_val_test_split(X, y, val_size=0.0)
    with pytest.raises(ValueError, match="< 1"):
        train_val_test_split(X, y, val_size=0.5, test_size=0.5)
    with pytest.raises(ValueError, match="same number"):
        train_val_test_split(X, y[:5])


# ----------------------------------------------------------------------------- scalers

def test_standardizer_centres_scales_and_inverts(rng):
    X = rng.normal([3.0, -2.0, 10.0], [0.5, 4.0, 0.0], size=(200, 3)).astype(np.float32)
    scaler = Standardizer().fit(X)
    Z = scaler.transform(X)
    assert Z.dtype == np.float32
    assert np.allclose(Z.mean(axis=0), 0, atol=1e-5)
    assert np.allclose(Z.std(axis=0), [1, 1, 0], atol=1e-5), "a constant feature stays 0"
    assert np.allclose(scaler.inverse_transform(Z), X, atol=1e-5)
    assert np.allclose(Standardizer().fit_transform(X), Z)


def test_minmax_scaler_maps_to_range_and_inverts(rng):
    X = rng.uniform(-5, 7, size=(100, 4))
    for low, high in [(0, 1), (-1, 1)]:
        scaler = MinMaxScaler(feature_range=(low, high)).fit(X)
        Z = scaler.transform(X)
        assert np.allclose(Z.min(axis=0), low) and np.allclose(Z.max(axis=0), high)
        assert np.allclose(scaler.inverse_transform(Z), X)
    assert np.allclose(scaler.data_min_, X.min(axis=0))


def test_scalers_use_training_statistics_only(rng):
    X_train, X_test = rng.normal(0, 1, (50, 2)), rng.normal(5, 1, (20, 2))
    scaler = Standardizer().fit(X_train)
    assert scaler.transform(X_test).mean() > 3, "the test set is scaled with train statistics"


def test_scalers_give_clear_errors():
    with pytest.raises(RuntimeError, match="not fitted"):
        Standardizer().transform(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"\(n_samples, 2\)"):
        MinMaxScaler().fit(np.zeros((3, 2))).transform(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="low < high"):
        MinMaxScaler(feature_range=(1, 0))


# ----------------------------------------------------------------------------- augmentation

def test_shift_moves_pixels_by_whole_steps(digits):
    images = digits[0][:200].reshape(-1, 8, 8)
    shifted = shift_images(images, 1, np.random.default_rng(0))
    assert shifted.shape == images.shape and shifted.dtype == images.dtype
    # Every output equals its input rolled by some (dy, dx) in {-1, 0, 1}², borders zero.
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    matches = np.zeros(len(images), dtype=bool)
    n_moved = 0
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            candidate = padded[:, 1 - dy:9 - dy, 1 - dx:9 - dx]
            hit = np.all(candidate == shifted, axis=(1, 2))
            matches |= hit
            n_moved += int(hit.sum()) if (dy, dx) != (0, 0) else 0
    assert matches.all(), "each image must be a pure shift of its original"
    assert n_moved > 150, "about 8/9 of the images should move"
    assert np.array_equal(shift_images(images, 0, 0), images)


def test_rotation_keeps_shape_and_small_angle_is_identity(digits):
    images = digits[0][:50].reshape(-1, 8, 8)
    rotated = rotate_images(images, 15, np.random.default_rng(0))
    assert rotated.shape == images.shape and rotated.dtype == np.float32
    assert np.abs(rotated - images).mean() > 0.02, "15° rotations should change the pixels"
    tiny = rotate_images(images, 1e-4, np.random.default_rng(0))
    assert np.allclose(tiny, images, atol=1e-4)


def test_rotation_by_90_degrees_is_exact():
    image = np.arange(16, dtype=np.float64).reshape(1, 4, 4)

    class Fixed(np.random.Generator):  # uniform(-90, 90) always returns +90
        def uniform(self, low, high, size=None):
            return np.full(size, 90.0)

    rotated = rotate_images(image, 90, Fixed(np.random.PCG64(0)))
    assert np.allclose(rotated[0], np.rot90(image[0], k=1)) or np.allclose(
        rotated[0], np.rot90(image[0], k=-1))


def test_noise_has_requested_std_and_clip(digits):
    X = digits[0][:500]
    noisy = add_noise(X, 0.1, np.random.default_rng(0))
    assert noisy.shape == X.shape and noisy.dtype == np.float32
    assert abs((noisy - X).std() - 0.1) < 0.005
    clipped = add_noise(X, 0.5, np.random.default_rng(0), clip=(0, 1))
    assert clipped.min() >= 0 and clipped.max() <= 1


def test_augment_images_is_seeded_and_accepts_flat_images(digits):
    X = digits[0][:100]
    a = augment_images(X, np.random.default_rng(5), noise_std=0.05, image_shape=(8, 8))
    b = augment_images(X, np.random.default_rng(5), noise_std=0.05, image_shape=(8, 8))
    assert a.shape == X.shape and a.dtype == X.dtype and np.array_equal(a, b)
    assert not np.allclose(a, X)
    augment = image_augmenter((8, 8), max_shift=1, max_degrees=10)
    assert augment(X, np.random.default_rng(1)).shape == X.shape
    with pytest.raises(ValueError, match=r"\(n, h, w\)"):
        shift_images(X, 1, 0)


def test_scaling_zooms_about_the_centre_and_leaves_other_draws_alone(digits):
    from dlcourse.data.augment import scale_images

    image = np.zeros((1, 9, 9))
    image[0, 4, 4], image[0, 4, 6] = 1.0, 1.0          # the centre and a dot 2 px to its right

    class Fixed(np.random.Generator):  # uniform(low, high) always returns high: zoom by 1.5
        def uniform(self, low, high, size=None):
            return np.full(size, high)

    zoomed = scale_images(image, 0.5, Fixed(np.random.PCG64(0)))
    assert zoomed[0, 4, 4] == 1.0, "the centre stays where it is"
    assert zoomed[0, 4, 7] == 1.0 and zoomed[0, 4, 6] < 1.0, "2 px from the centre -> 3 px"
    X = digits[0][:100]
    mild = scale_images(X, 0.1, np.random.default_rng(0), image_shape=(8, 8))
    assert mild.shape == X.shape and mild.dtype == X.dtype and not np.allclose(mild, X)
    assert np.array_equal(scale_images(X, 0.0, 0, image_shape=(8, 8)), X)
    with pytest.raises(ValueError, match="max_scale"):
        scale_images(X, 1.0, 0, image_shape=(8, 8))
    plain = augment_images(X, np.random.default_rng(5), image_shape=(8, 8))
    assert np.array_equal(plain, augment_images(X, np.random.default_rng(5), max_scale=0.0,
                                                image_shape=(8, 8)))
    scaled = image_augmenter((8, 8), max_scale=0.1)(X, np.random.default_rng(5))
    assert scaled.shape == X.shape and not np.allclose(scaled, plain)


# ----------------------------------------------------------------------------- mini-batches

def test_minibatches_cover_every_sample_once_per_epoch():
    X, y = np.arange(103)[:, None] * 1.0, np.arange(103)
    rng = np.random.default_rng(0)
    orders = []
    for _ in range(2):  # two epochs from one Generator
        batches = list(iterate_minibatches(X, y, 10, shuffle=True, seed=rng))
        assert [len(b[1]) for b in batches] == [10] * 10 + [3]
        seen = np.concatenate([b[1] for b in batches])
        assert sorted(seen) == list(range(103)), "every sample exactly once"
        assert all(np.array_equal(xb[:, 0], yb) for xb, yb in batches), "X and y stay paired"
        orders.append(seen)
    assert not np.array_equal(orders[0], orders[1]), "each epoch is reshuffled"
    assert not np.array_equal(orders[0], np.arange(103))
    fixed = np.concatenate([b[1] for b in iterate_minibatches(X, y, 10, shuffle=False)])
    assert np.array_equal(fixed, np.arange(103))
    same = [np.concatenate([b[1] for b in iterate_minibatches(X, y, 7, seed=4)])
            for _ in range(2)]
    assert np.array_equal(*same), "an int seed gives the same order every time"


def test_minibatches_validate_arguments():
    with pytest.raises(ValueError, match="batch_size"):
        next(iterate_minibatches(np.zeros((4, 1)), np.zeros(4), 0))
    with pytest.raises(ValueError, match="same number"):
        next(iterate_minibatches(np.zeros((4, 1)), np.zeros(3), 2))


# ----------------------------------------------------------------------------- domains

def test_words_and_character_counts():
    from dlcourse.data import char_counts, make_words

    words, y = make_words(200, seed=0)
    assert len(words) == 200 and y.shape == (200,) and set(y) == {0, 1}
    assert make_words(200, seed=0)[0] == words
    counts = char_counts(["abca", "Zz-é"])
    assert counts.shape == (2, 26)
    assert counts[0, :3].tolist() == [2, 1, 1] and counts[1, 25] == 2 and counts[1].sum() == 2
    assert char_counts(["İa", "b"])[:, :2].tolist() == [[1, 0], [0, 1]], "rows stay aligned"
    assert char_counts([]).shape == (0, 26)
    freq = char_counts(words, normalize=True)
    assert np.allclose(freq.sum(axis=1), 1)


def test_tagged_sentences_and_window_features():
    from dlcourse.data import build_vocabulary, make_tagged_sentences, window_features

    sentences, tags = make_tagged_sentences(50, seed=1)
    assert all(len(s) == len(t) for s, t in zip(sentences, tags, strict=True))
    assert all(t[0] == "DET" and "VERB" in t for t in tags)
    vocab = build_vocabulary(sentences)
    ids = [vocab[w] for w in sentences[0]]
    V = len(vocab)
    F = window_features(ids, V, width=1)
    assert F.shape == (len(ids), 3 * (V + 1)) and np.all(F.sum(axis=1) == 3)
    assert F[0, V] == 1, "the first word's left neighbour is the padding id"
    assert F[1, ids[0]] == 1 and F[1, (V + 1) + ids[1]] == 1 and F[1, 2 * (V + 1) + ids[2]] == 1
    assert window_features(ids, V, width=0).shape == (len(ids), V + 1)


def test_signals_spectrum_peaks_at_the_tone():
    from dlcourse.data import magnitude_spectrum, make_signals

    X, y = make_signals(90, length=128, noise=0.0, seed=0)
    peak = magnitude_spectrum(X).argmax(axis=1)
    assert np.all(peak[y == 0] <= 6) and np.all(peak[y == 1] >= 14)
    t = np.arange(64) / 64
    a, b = np.sin(2 * np.pi * 5 * t), np.sin(2 * np.pi * 5 * t + 1.0)
    assert np.allclose(magnitude_spectrum(np.stack([a, b]))[0], magnitude_spectrum(b[None])[0])


def test_band_energies_sum_the_squared_spectrum_per_band():
    from dlcourse.data import magnitude_spectrum
    from dlcourse.data.domains import band_energies

    t = np.arange(64) / 64
    X = np.stack([1 + np.sin(2 * np.pi * 4 * t), 2 * np.sin(2 * np.pi * 20 * t + 0.7)])
    assert np.allclose(band_energies(X, [0, 4, 8, 33]), [[1, 0.25, 0], [0, 0, 1]])
    r = np.random.default_rng(0).standard_normal((3, 51))
    S = magnitude_spectrum(r) ** 2
    assert np.allclose(band_energies(r, [2, 5, 26]), np.stack(
        [S[:, 2:5].sum(axis=1), S[:, 5:26].sum(axis=1)], axis=1))
    for bad in ([3, 3, 5], [0, 27], [0.0, 2.0], [4]):
        with pytest.raises(ValueError, match="edges must be increasing integers"):
            band_energies(r, bad)


def test_click_log_and_one_hot():
    from dlcourse.data import make_click_log, one_hot

    log, clicked, p = make_click_log(5000, n_users=10, n_items=8, n_positions=4, seed=0)
    assert log.shape == (5000, 3) and clicked.shape == p.shape == (5000,)
    assert log[:, 0].max() < 10 and log[:, 1].max() < 8 and log[:, 2].max() < 4
    assert abs(clicked.mean() - p.mean()) < 0.02
    top, bottom = clicked[log[:, 2] == 0].mean(), clicked[log[:, 2] == 3].mean()
    assert top > bottom, "items shown higher are clicked more"
    assert np.array_equal(one_hot([2, 0], 3), [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(ValueError, match="0..2"):
        one_hot([3], 3)


# ----------------------------------------------------------------------------- text

def test_course_text_vocabulary_round_trips():
    from dlcourse.data import CharVocabulary, load_course_text

    text = load_course_text()
    vocab = CharVocabulary(text)
    assert len(text) == 131939 and len(vocab) == 53
    ids = vocab.encode(text)
    assert ids.dtype == np.int64 and ids.shape == (len(text),) and ids.max() == 52
    assert vocab.decode(ids) == text
    assert vocab.decode(ids[:12].reshape(3, 4)) == text[:12]
    assert vocab.symbols == "".join(sorted(set(text))) and " " in vocab.symbols
    with pytest.raises(ValueError, match="'Q'"):
        vocab.encode("Quiet")
    with pytest.raises(ValueError, match="0..52"):
        vocab.decode([0, 53])


def test_split_by_position_keeps_order_and_covers_everything():
    from dlcourse.data import split_by_position

    train, val, test = split_by_position("abcdefghij" * 10, val_size=0.1, test_size=0.2)
    assert (len(train), len(val), len(test)) == (70, 10, 20)
    assert train + val + test == "abcdefghij" * 10
    parts = split_by_position(np.arange(50))
    assert [len(p) for p in parts] == [40, 5, 5] and parts[1][0] == 40
    with pytest.raises(ValueError, match="< 1"):
        split_by_position("abc" * 10, 0.5, 0.5)
    with pytest.raises(ValueError, match="too short"):
        split_by_position("ab")


def test_next_symbol_windows_shift_by_one():
    from dlcourse.data import next_symbol_windows

    ids = np.arange(11)
    X, Y = next_symbol_windows(ids, 4)
    assert X.tolist() == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert Y.tolist() == [[1, 2, 3, 4], [5, 6, 7, 8]]
    X2, Y2 = next_symbol_windows(ids, 4, stride=3)
    assert X2[:, 0].tolist() == [0, 3, 6] and np.array_equal(Y2, X2 + 1)
    with pytest.raises(ValueError, match="too short"):
        next_symbol_windows(ids, 11)
    with pytest.raises(ValueError, match="integer"):
        next_symbol_windows(ids.astype(float), 3)
