"""The torch Transformer encoder learns to sort digit sequences (seeded), and its helpers."""

import numpy as np
import pytest
import torch

from dlcourse.data import make_sequence_task
from dlcourse.torch.transformer import (
    TransformerEncoderModel,
    attention_maps,
    sequence_accuracy,
    train_transformer,
)


def test_sequence_task_targets():
    X, Y = make_sequence_task(5, length=6, vocab=10, task="sort", seed=1)
    assert X.shape == Y.shape == (5, 6) and X.dtype == np.int64
    assert np.array_equal(Y, np.sort(X, axis=1))
    X2, Y2 = make_sequence_task(5, length=6, task="reverse", seed=1)
    assert np.array_equal(X2, X) and np.array_equal(Y2, X[:, ::-1])
    with pytest.raises(ValueError, match="task"):
        make_sequence_task(2, task="shuffle")


def test_model_shapes_and_attention_rows():
    torch.manual_seed(0)
    model = TransformerEncoderModel(vocab=10, length=8, d_model=16, n_heads=2, n_layers=2,
                                    d_ff=32)
    X, _ = make_sequence_task(3, length=8, seed=0)
    logits = model(torch.from_numpy(X))
    assert logits.shape == (3, 8, 10)
    pred, weights = attention_maps(model, X)
    assert pred.shape == (3, 8) and weights.shape == (3, 2, 2, 8, 8)
    assert np.allclose(weights.sum(-1), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="length"):
        model(torch.zeros(2, 9, dtype=torch.long))


def test_embedding_times_sqrt_d_model_has_the_scale_of_the_positional_encoding():
    """As in the paper: embeddings start with std d_model^-1/2, forward() scales by sqrt(d)."""
    torch.manual_seed(0)
    model = TransformerEncoderModel(vocab=1000, length=8, d_model=64)
    scaled = model.embed.weight.detach() * 64 ** 0.5
    assert abs(scaled.std().item() - 1.0) < 0.05
    assert 0.5 < scaled.pow(2).mean().sqrt().item() / model.pe.pow(2).mean().sqrt().item() < 2


def test_transformer_learns_to_sort():
    """The chapter's configuration reaches >= 95% whole-sequence accuracy on held-out data."""
    torch.set_num_threads(1)
    torch.manual_seed(0)
    X_val, Y_val = make_sequence_task(2000, length=8, task="sort", seed=12345)
    model = TransformerEncoderModel()
    before = sequence_accuracy(model, X_val, Y_val)["sequence_accuracy"]
    history = train_transformer(model, task="sort", seed=0)
    acc = sequence_accuracy(model, X_val, Y_val)
    assert before < 0.01
    assert acc["sequence_accuracy"] >= 0.95, acc
    assert acc["token_accuracy"] >= 0.99, acc
    assert history["loss"][-1] < history["loss"][0] / 10


# ------------------------------------------- number words -> digits, and the encoder-decoder

def test_number_words_and_their_alignment():
    from dlcourse.data.sequences import number_to_words

    assert number_to_words(3042) == (["three", "thousand", "forty", "two"], [0, -1, 2, 3])
    assert number_to_words(0) == (["zero"], [0])
    assert number_to_words(12) == (["twelve"], [0, 0])
    assert number_to_words(1200) == (["one", "thousand", "two", "hundred"], [0, 2, -1, -1])
    assert number_to_words(9999)[0] == ["nine", "thousand", "nine", "hundred", "ninety", "nine"]
    for k in range(0, 10000, 7):                     # one alignment entry per digit, in range
        words, align = number_to_words(k)
        assert len(align) == len(str(k)) and all(-1 <= a < len(words) for a in align), k
    with pytest.raises(ValueError, match="0..9999"):
        number_to_words(10000)


def test_number_translation_arrays():
    from dlcourse.data.sequences import DIGIT_EOS, DIGIT_PAD, NUMBER_WORDS, make_number_translation

    d = make_number_translation([3042, 7, 1200])
    assert d["source"].shape == (3, 6) and d["target"].shape == (3, 5)
    assert [NUMBER_WORDS[i] for i in d["source"][0] if i] == ["three", "thousand", "forty", "two"]
    assert d["target"][1].tolist() == [7, DIGIT_EOS, DIGIT_PAD, DIGIT_PAD, DIGIT_PAD]
    assert d["alignment"][2].tolist() == [0, 2, -1, -1]
    a, b = make_number_translation(n=50, seed=3), make_number_translation(n=50, seed=3)
    assert np.array_equal(a["source"], b["source"]) and a["numbers"].max() < 10000
    with pytest.raises(ValueError, match="integers"):
        make_number_translation([1.5])


def _translator(**kwargs):
    from dlcourse.data.sequences import DIGIT_BOS, DIGIT_TOKENS, NUMBER_WORDS
    from dlcourse.torch.transformer import Seq2SeqTransformer

    torch.manual_seed(0)
    return Seq2SeqTransformer(len(NUMBER_WORDS), len(DIGIT_TOKENS), 6, 5, bos=DIGIT_BOS,
                              **kwargs)


def test_seq2seq_is_causal_and_ignores_source_padding():
    from dlcourse.data.sequences import make_number_translation

    model = _translator(n_layers=2).eval()
    d = make_number_translation([3042, 12])
    src, tgt = torch.from_numpy(d["source"]), torch.from_numpy(d["target"])
    with torch.no_grad():
        out = model(src, tgt)
        changed = tgt.clone()
        changed[:, 3] = 5
        assert torch.allclose(model(src, changed)[:, :3], out[:, :3], atol=1e-6)   # causal
        assert not torch.allclose(model(src, changed)[:, 3:], out[:, 3:], atol=1e-3)
        memory, padding = model.encode(src)
        assert padding[1, 1:].all() and padding[0].tolist() == [False] * 4 + [True] * 2
        longer = torch.cat([src, torch.zeros(2, 3, dtype=torch.long)], dim=1)      # more padding
        model.pe = torch.cat([model.pe, model.pe[:3]])                            # room for it
        assert torch.allclose(model(longer, tgt), out, atol=1e-5)
    ids, weights = model.greedy_decode(d["source"], steps=5)
    assert ids.shape == (2, 5) and weights.shape == (2, 2, 2, 5, 6)
    assert np.allclose(weights.sum(-1), 1, atol=1e-5) and np.all(weights[1, ..., 1:] == 0)


def test_seq2seq_learns_number_words_to_digits():
    from dlcourse.data.sequences import DIGIT_PAD, make_number_translation
    from dlcourse.torch.transformer import train_seq2seq

    torch.set_num_threads(1)
    order = np.random.default_rng(0).permutation(10000)
    test_numbers, train_numbers = order[:300], order[300:]

    def batch(size, rng):
        pairs = make_number_translation(rng.choice(train_numbers, size))
        return pairs["source"], pairs["target"]

    model = _translator()
    history = train_seq2seq(model, batch, steps=300, batch_size=64, lr=3e-3, pad=DIGIT_PAD)
    d = make_number_translation(test_numbers)
    ids, _ = model.greedy_decode(d["source"])
    exact = np.mean(np.all((ids == d["target"]) | (d["target"] == DIGIT_PAD), axis=1))
    assert exact > 0.8 and history["loss"][-1] < history["loss"][0] / 10, exact
