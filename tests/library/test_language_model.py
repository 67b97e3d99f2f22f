"""dlcourse.models.language_model: temperature, sampling, perplexity, n-gram baselines."""

import numpy as np
import pytest

from dlcourse.core.losses import softmax_cross_entropy
from dlcourse.models.language_model import (
    NGramModel,
    generate,
    log_softmax,
    perplexity,
    perplexity_from_logits,
    sample_with_temperature,
    sequence_model_step,
    softmax_with_temperature,
)
from dlcourse.models.sequence_models import SequenceModel

# ----------------------------------------------------------------------------- temperature


def test_temperature_one_is_the_softmax_and_powers_the_probabilities(rng):
    z = rng.standard_normal((4, 7))
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    assert np.allclose(softmax_with_temperature(z, 1.0), p)
    q = p ** 2 / (p ** 2).sum(axis=1, keepdims=True)            # T = 1/2: p^(1/T), renormalised
    assert np.allclose(softmax_with_temperature(z, 0.5), q)


def test_temperature_sharpens_and_flattens(rng):
    z = rng.standard_normal(10) * 3
    def entropy(p):
        return float(-(p * np.log(p)).sum())

    h = [entropy(softmax_with_temperature(z, T)) for T in (0.25, 0.5, 1.0, 2.0, 8.0, 100.0)]
    assert all(a < b for a, b in zip(h, h[1:], strict=False)), h
    assert h[-1] < np.log(10) and np.log(10) - h[-1] < 0.1, "high T approaches uniform"
    top = softmax_with_temperature(z, 0)
    assert top[np.argmax(z)] == 1.0 and top.sum() == 1.0


def test_temperature_keeps_float32_and_survives_huge_logits():
    z = np.array([[1000.0, 0.0, -1000.0]], dtype=np.float32)
    p = softmax_with_temperature(z, 0.1)
    assert p.dtype == np.float32 and np.all(np.isfinite(p)) and np.isclose(p.sum(), 1.0)


@pytest.mark.parametrize("T", [-1.0, np.nan, np.inf, "1", None, True])
def test_temperature_must_be_a_number_at_least_zero(T):
    with pytest.raises(ValueError, match="temperature"):
        softmax_with_temperature(np.zeros(3), T)


# ----------------------------------------------------------------------------- sampling


def test_sampling_follows_the_tempered_distribution():
    z = np.log(np.array([0.5, 0.3, 0.2]))
    for T in (1.0, 0.5, 2.0):
        draws = sample_with_temperature(np.tile(z, (40000, 1)), T, np.random.default_rng(0))
        assert draws.shape == (40000,) and draws.dtype == np.int64
        freq = np.bincount(draws, minlength=3) / draws.size
        assert np.abs(freq - softmax_with_temperature(z, T)).max() < 0.01, (T, freq)


def test_sampling_is_seeded_and_single_rows_give_ints():
    z = np.random.default_rng(3).standard_normal(20)
    first = [sample_with_temperature(z, 1.0, np.random.default_rng(7)) for _ in range(3)]
    assert len(set(first)) == 1 and isinstance(first[0], int)
    gen_a, gen_b = np.random.default_rng(7), np.random.default_rng(7)
    run_a = [sample_with_temperature(z, 1.0, gen_a) for _ in range(50)]
    run_b = [sample_with_temperature(z, 1.0, gen_b) for _ in range(50)]
    assert run_a == run_b and run_a[0] == first[0] and len(set(run_a)) > 5
    assert sample_with_temperature(z, 1.0, 7) == first[0], "an int seed is a fresh generator"


def test_sampling_never_draws_a_symbol_of_probability_zero():
    z = np.array([-np.inf, 0.0, -np.inf, 0.0])
    draws = sample_with_temperature(np.tile(z, (5000, 1)), 1.0, np.random.default_rng(1))
    assert set(np.unique(draws)) == {1, 3}


def test_temperature_zero_is_greedy_and_needs_no_generator():
    z = np.array([[0.1, 2.0, -1.0], [3.0, 0.0, 0.0]])
    assert sample_with_temperature(z, 0, None).tolist() == [1, 0]


def test_sampling_refuses_unseeded_or_misshapen_input():
    with pytest.raises(TypeError, match="seed"):
        sample_with_temperature(np.zeros(3), 1.0, None)
    with pytest.raises(ValueError, match=r"\(V,\) or \(N, V\)"):
        sample_with_temperature(np.zeros((2, 2, 3)), 1.0, 0)
    with pytest.raises(ValueError, match="NaN"):
        sample_with_temperature(np.array([0.0, np.nan]), 1.0, 0)


# ----------------------------------------------------------------------------- perplexity


def test_uniform_guess_has_perplexity_V_and_a_sure_one_1():
    V = 53
    targets = np.random.default_rng(0).integers(0, V, (4, 9))
    assert np.isclose(perplexity(np.full((4, 9, V), 1 / V), targets), V)
    sure = np.eye(V)[targets]
    assert perplexity(sure, targets) == 1.0


def test_perplexity_is_exp_of_the_cross_entropy(rng):
    z = rng.standard_normal((30, 6)).astype(np.float32)
    y = rng.integers(0, 6, 30)
    loss, _ = softmax_cross_entropy(z, y)
    assert np.isclose(perplexity_from_logits(z, y), np.exp(loss), rtol=1e-5)
    assert np.isclose(perplexity(softmax_with_temperature(z, 1.0), y), np.exp(loss), rtol=1e-5)
    assert np.isclose(np.exp(-log_softmax(z)[np.arange(30), y].mean()), np.exp(loss), rtol=1e-5)


def test_perplexity_from_logits_does_not_underflow():
    z = np.array([[0.0, -200.0]])
    assert np.isclose(np.log(perplexity_from_logits(z, [1])), 200.0)
    assert perplexity(np.array([[1.0, 0.0]]), [1]) == np.inf


def test_perplexity_validates_its_input():
    p = np.full((3, 4), 0.25)
    with pytest.raises(ValueError, match="sum to 1"):
        perplexity(np.ones((3, 4)), [0, 1, 2])
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        perplexity(p, [0, 1])
    with pytest.raises(ValueError, match="0..3"):
        perplexity(p, [0, 1, 4])
    with pytest.raises(TypeError, match="integer"):
        perplexity(p, [0.5, 1, 2])
    with pytest.raises(ValueError, match="negative"):
        perplexity(np.array([[1.5, -0.5]]), [0])


# ----------------------------------------------------------------------------- n-grams


def test_bigram_counts_and_add_one_smoothing():
    ids = np.array([0, 1, 0, 1, 0, 2])
    m = NGramModel(2, 3, k=1.0).fit(ids)
    assert m.counts_.tolist() == [[0, 2, 1], [2, 0, 0], [0, 0, 0]]
    assert np.allclose(m.next_probs([[0], [2]]), [[1 / 6, 3 / 6, 2 / 6], [1 / 3] * 3])
    p = m.predict_proba(ids)
    assert p.shape == (5, 3)
    assert np.allclose(p[0], m.next_probs([[0]])[0])


def test_unigram_is_the_smoothed_frequency_and_start_aligns_targets():
    ids = np.array([0, 0, 0, 1])
    m = NGramModel(1, 3, k=0.5).fit(ids)
    no_context = np.zeros((1, 0), dtype=int)
    assert np.allclose(m.next_probs(no_context), [[3.5 / 5.5, 1.5 / 5.5, 0.5 / 5.5]])
    assert m.predict_proba(ids).shape == (4, 3)
    assert m.predict_proba(ids, start=1).shape == (3, 3)
    expected = np.exp(-np.mean(np.log(np.array([3.5, 3.5, 1.5]) / 5.5)))
    assert np.isclose(m.perplexity(ids, start=1), expected)


def test_ngram_on_batches_of_rows_never_crosses_rows():
    rows = np.array([[0, 1, 2], [2, 1, 0]])
    m = NGramModel(2, 3).fit(rows)
    assert m.counts_.sum() == 4 and m.counts_[2, 2] == 0, "no window from 2 (end) to 2 (start)"
    p = m.predict_proba(rows)
    assert p.shape == (2, 2, 3)
    assert np.allclose(p[1], m.predict_proba(rows[1]))


def test_a_bigram_beats_a_unigram_on_text_with_structure():
    rng = np.random.default_rng(0)
    # a Markov chain: each symbol is usually followed by the next one
    ids = [0]
    for _ in range(5000):
        ids.append((ids[-1] + 1) % 5 if rng.random() < 0.9 else int(rng.integers(5)))
    ids = np.array(ids)
    train, test = ids[:4000], ids[4000:]
    uni = NGramModel(1, 5).fit(train).perplexity(test, start=1)
    bi = NGramModel(2, 5).fit(train).perplexity(test, start=1)
    tri = NGramModel(3, 5).fit(train).perplexity(test, start=2)
    assert 4.5 < uni < 5.1 and bi < 2.0 and tri < 2.1, (uni, bi, tri)


def test_maximum_likelihood_limit_gives_unseen_pairs_probability_near_zero():
    m = NGramModel(2, 4, k=1e-9).fit([0, 1, 0, 1])
    assert m.next_probs([[0]])[0, 2] < 1e-8


def test_ngram_validates_its_input():
    with pytest.raises(ValueError, match="order"):
        NGramModel(0, 5)
    with pytest.raises(ValueError, match="k"):
        NGramModel(2, 5, k=0)
    with pytest.raises(ValueError, match="too large"):
        NGramModel(6, 100)
    m = NGramModel(2, 5)
    with pytest.raises(RuntimeError, match="fit"):
        m.next_probs([[0]])
    with pytest.raises(ValueError, match="0..4"):
        m.fit([0, 1, 5])
    with pytest.raises(TypeError, match="integer"):
        m.fit(np.array([0.0, 1.0]))
    m.fit([0, 1, 2])
    with pytest.raises(ValueError, match=r"\(N, 1\)"):
        m.next_probs([0, 1])
    with pytest.raises(ValueError, match="start"):
        m.predict_proba([0, 1, 2], start=0)


# ----------------------------------------------------------------------------- generation


def _counting_step(V):
    """A model that always predicts 'the next id after the last one read'."""
    def step(symbol, state):
        logits = np.full(V, -50.0)
        logits[(symbol + 1) % V] = 50.0
        return logits, (state or 0) + 1
    return step


def test_generate_feeds_back_its_draws():
    out = generate(_counting_step(5), None, [3], 6, temperature=1.0, rng=0)
    assert out == [4, 0, 1, 2, 3, 4]
    assert generate(_counting_step(5), None, [0, 1], 2, temperature=0) == [2, 3]


def test_generate_is_seeded_and_validates():
    def step(symbol, state):
        return np.zeros(7), state

    a = generate(step, None, [0], 30, temperature=1.0, rng=np.random.default_rng(4))
    b = generate(step, None, [0], 30, temperature=1.0, rng=np.random.default_rng(4))
    assert a == b and len(set(a)) > 3
    with pytest.raises(ValueError, match="prompt"):
        generate(step, None, [], 3)
    with pytest.raises(ValueError, match="length"):
        generate(step, None, [0], -1)


@pytest.mark.parametrize("cell", ["lstm", "rnn"])
def test_sequence_model_step_matches_the_whole_sequence(cell):
    V = 6
    model = SequenceModel(cell, V, 8, V, readout="all", seed=1, dtype=np.float64)
    ids = np.array([1, 4, 0, 5, 2])
    full, _ = model.forward(np.eye(V)[ids][None])          # (1, T, V)
    step, state = sequence_model_step(model), None
    for t, s in enumerate(ids):
        logits, state = step(s, state)
        assert logits.shape == (V,)
        assert np.allclose(logits, full[0, t]), t


# ----------------------------------------------------------------------------- widget


def test_temperature_explorer_draws_and_samples_reproducibly(capsys):
    import ipywidgets
    import matplotlib.pyplot as plt

    from dlcourse.data import CharVocabulary
    from dlcourse.widgets import temperature_explorer

    vocab = CharVocabulary("abc de")
    model = SequenceModel("lstm", len(vocab), 8, len(vocab), readout="all", seed=0)
    widget = temperature_explorer(model, vocab, prompt="ab", length=30, seed=3, top=4)
    assert isinstance(widget, ipywidgets.interactive)
    slider = next(c for c in widget.kwargs_widgets if c.description == "temperature T")
    texts = {}
    for value in (0.0, 1.5, 1.5):
        capsys.readouterr()
        slider.value = value
        widget.update()
        texts.setdefault(value, []).append(capsys.readouterr().out.splitlines()[-1])
    plt.close("all")
    greedy = generate(sequence_model_step(model), None, vocab.encode("ab"), 30, temperature=0)
    assert texts[0.0][0] == "ab" + vocab.decode(greedy), "T = 0 is greedy decoding"
    assert texts[1.5][0] == texts[1.5][1] != texts[0.0][0], "same T and seed, same text"
    # a plain step function works too (what a Transformer decoder would pass)
    step = sequence_model_step(model)
    assert isinstance(temperature_explorer(step, vocab, prompt="a", length=5),
                      ipywidgets.interactive)
    plt.close("all")
