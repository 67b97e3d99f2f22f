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
