"""The numpy Transformer (dlcourse.models.transformer): block and causal model against finite
differences and torch, causality, training and generation helpers."""

import numpy as np
import pytest
import torch

from dlcourse.core.gradcheck import (
    FLOAT64_TOLERANCE,
    check_module_gradients,
    numerical_gradient_of_output,
    relative_error,
)
from dlcourse.models.language_model import generate, train_language_model, window_perplexity
from dlcourse.models.sequence_models import SequenceModel
from dlcourse.models.transformer import (
    CausalTransformer,
    TransformerBlock,
    causal_transformer_step,
)
from dlcourse.torch import from_torch, to_torch
from dlcourse.torch.transformer import CausalEncoderLayer, CausalTransformerLM

#: The key bias adds the same q·b_k to every score of a query, which softmax ignores: its
#: true gradient is 0, so a relative error there compares two round-off values.
KEY_BIAS = "attn.in_proj_bias"


def _block(rng, norm_first, causal, dtype=np.float64, E=8, h=2, F=12):
    block = TransformerBlock(E, h, F, norm_first=norm_first, causal=causal, seed=3, dtype=dtype)
    for _, param, _ in block.named_parameters():     # non-trivial biases, gammas and betas
        param[...] += (0.2 * rng.standard_normal(param.shape)).astype(dtype)
    return block


def _torch_grads(twin):
    return {name: p.grad.numpy() for name, p in twin.named_parameters()}


BLOCK_VARIANTS = [(True, False), (True, True), (False, False), (False, True)]


@pytest.mark.parametrize("norm_first, causal", BLOCK_VARIANTS)
def test_block_gradients_match_finite_differences(norm_first, causal, rng):
    block = _block(rng, norm_first, causal)
    errors = check_module_gradients(block, rng.standard_normal((2, 5, 8)), h=1e-5)
    errors.pop(KEY_BIAS)
    assert max(errors.values()) < FLOAT64_TOLERANCE, errors
    out, cache = block.forward(rng.standard_normal((2, 5, 8)))
    block.backward(rng.standard_normal(out.shape), cache)
    assert np.allclose(block.attn.grads["in_proj_bias"][8:16], 0, atol=1e-12)


@pytest.mark.parametrize("norm_first, causal", BLOCK_VARIANTS)
def test_block_matches_torch_encoder_layer(norm_first, causal, rng):
    block = _block(rng, norm_first, causal)
    twin = to_torch(block)
    assert isinstance(twin, torch.nn.TransformerEncoderLayer)
    assert isinstance(twin, CausalEncoderLayer) == causal and twin.norm_first == norm_first
    assert twin.dropout.p == 0 and block.n_parameters() == sum(p.numel() for p in
                                                               twin.parameters())
    x, dout = rng.standard_normal((3, 6, 8)), rng.standard_normal((3, 6, 8))
    out, cache = block.forward(x)
    dx = block.backward(dout, cache)
    xt = torch.tensor(x, requires_grad=True)
    ref = twin(xt)
    ref.backward(torch.tensor(dout))
    assert np.abs(out - ref.detach().numpy()).max() < 1e-12
    assert np.abs(dx - xt.grad.numpy()).max() < 1e-12
    ref_grads = _torch_grads(twin)
    names = {"attn.in_proj_weight": "self_attn.in_proj_weight",
             "attn.out_proj_weight": "self_attn.out_proj.weight", "ff1.W": "linear1.weight",
             "ff2.b": "linear2.bias", "norm1.gamma": "norm1.weight", "norm2.beta": "norm2.bias"}
    grads = {name: g for name, _, g in block.named_parameters()}
    for ours, theirs in names.items():
        expected = ref_grads[theirs].T if ours.endswith(".W") else ref_grads[theirs]
        assert np.abs(grads[ours] - expected).max() < 1e-12, ours
    back = from_torch(twin)
    assert back.causal == causal and back.norm_first == norm_first
    assert np.abs(back.forward(x)[0] - out).max() < 1e-12


def test_pre_and_post_norm_differ_and_post_norm_output_is_normalised(rng):
    x = rng.standard_normal((2, 4, 8))
    pre, post = (TransformerBlock(8, 2, 16, norm_first=nf, seed=0, dtype=np.float64)
                 for nf in (True, False))
    out_post = post.forward(x)[0]
    assert np.allclose(out_post.mean(-1), 0, atol=1e-12)         # ends in LayerNorm (beta 0)
    assert not np.allclose(pre.forward(x)[0].mean(-1), 0, atol=1e-3)   # residual stream


def test_block_float32_and_validation(rng):
    block = TransformerBlock(8, 2, 16, causal=True)
    out, cache = block.forward(rng.standard_normal((2, 5, 8)))
    dx = block.backward(rng.standard_normal((2, 5, 8)), cache)
    assert out.dtype == dx.dtype == np.float32
    assert all(g.dtype == np.float32 for _, _, g in block.named_parameters())
    with pytest.raises(ValueError, match=r"\(batch, length, 8\)"):
        block.forward(np.ones((5, 8)))
    with pytest.raises(ValueError, match="output's shape"):
        block.backward(np.ones((2, 4, 8)), cache)


def test_causal_block_and_model_do_not_look_ahead(rng):
    block = TransformerBlock(8, 2, 16, causal=True, seed=1, dtype=np.float64)
    x = rng.standard_normal((2, 6, 8))
    x2 = x.copy()
    x2[:, 3] += 1.0
    a, b = block.forward(x)[0], block.forward(x2)[0]
    assert np.allclose(a[:, :3], b[:, :3], atol=1e-12) and not np.allclose(a[:, 3:], b[:, 3:])
    model = CausalTransformer(9, 6, d_model=8, n_heads=2, n_layers=2, seed=0)
    ids = rng.integers(0, 9, (2, 6))
    ids2 = ids.copy()
    ids2[:, 4] = (ids2[:, 4] + 1) % 9
    a, b = model(ids), model(ids2)
    assert np.array_equal(a[:, :4], b[:, :4]) and not np.allclose(a[:, 4:], b[:, 4:])
    weights = model.attention_weights(ids)
    assert weights.shape == (2, 2, 2, 6, 6)
    assert np.all(weights[..., np.triu_indices(6, 1)[0], np.triu_indices(6, 1)[1]] == 0)


@pytest.mark.parametrize("norm_first", [True, False])
def test_model_gradients_match_finite_differences(norm_first, rng):
    model = CausalTransformer(7, 5, d_model=8, n_heads=2, n_layers=2, d_ff=12,
                              norm_first=norm_first, seed=0, dtype=np.float64)
    ids = rng.integers(0, 7, (3, 5))
    out, cache = model.forward(ids)
    dout = rng.standard_normal(out.shape)
    assert model.backward(dout, cache) is None
    for name, param, grad in model.named_parameters():
        numeric = numerical_gradient_of_output(lambda: model.forward(ids)[0], param, dout, 1e-5)
        if name.endswith(KEY_BIAS):
            assert np.allclose(grad[8:16], 0, atol=1e-12) and np.abs(numeric[8:16]).max() < 1e-7
            grad, numeric = grad[np.r_[0:8, 16:24]], numeric[np.r_[0:8, 16:24]]
        assert relative_error(grad, numeric) < FLOAT64_TOLERANCE, name


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-11), (np.float32, 2e-5)])
def test_model_matches_its_torch_twin(dtype, tol, rng):
    model = CausalTransformer(11, 8, d_model=16, n_heads=4, n_layers=2, seed=2, dtype=dtype)
    twin = to_torch(model)
    assert isinstance(twin, CausalTransformerLM)
    assert model.n_parameters() == sum(p.numel() for p in twin.parameters())
    ids = rng.integers(0, 11, (4, 7))
    out, cache = model.forward(ids)
    assert out.dtype == dtype
    dout = rng.standard_normal(out.shape).astype(dtype)
    model.backward(dout, cache)
    ref = twin(torch.from_numpy(ids))
    ref.backward(torch.from_numpy(dout))
    assert np.abs(out - ref.detach().numpy()).max() < tol
    grads = {name: g for name, _, g in model.named_parameters()}
    ref_grads = _torch_grads(twin)
    assert np.abs(grads["embed"] - ref_grads["embed.weight"]).max() < tol * 10
    assert np.abs(grads["head.W"] - ref_grads["head.weight"].T).max() < tol * 10
    assert np.abs(grads["blocks.0.ff1.W"] - ref_grads["layers.0.linear1.weight"].T).max() \
        < tol * 10
    assert np.abs(grads["norm.gamma"] - ref_grads["norm.weight"]).max() < tol * 10


def test_model_validates_ids():
    model = CausalTransformer(5, 4, d_model=8, n_heads=2, n_layers=1)
    with pytest.raises(ValueError, match="keep the last 4 ids"):
        model.forward(np.zeros((1, 5), dtype=int))
    with pytest.raises(ValueError, match=r"s\[None\]"):
        model.forward(np.zeros(3, dtype=int))
    with pytest.raises(TypeError, match="integer"):
        model.forward(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="0..4"):
        model.forward(np.full((1, 3), 5))
    with pytest.raises(ValueError, match="even"):
        CausalTransformer(5, 4, d_model=7, n_heads=7)


def test_training_learns_a_periodic_text_and_the_lstm_trains_through_the_same_loop():
    ids = np.tile(np.array([0, 1, 2, 3, 2, 1]), 200)
    model = CausalTransformer(4, 8, d_model=16, n_heads=2, n_layers=1, seed=0)
    before = window_perplexity(model, ids, 8)
    history = train_language_model(model, ids, context=8, steps=150, batch_size=16, lr=1e-2,
                                   val_ids=ids[:200], eval_every=0.2)
    assert history["steps"] == 150 and len(history["loss"]) == 150
    assert history["val_steps"][0] == 0 and history["val_steps"][-1] == 150
    after = window_perplexity(model, ids, 8)
    assert before > 2 and after < 1.2, (before, after)
    assert np.isclose(history["val_perplexity"][-1], window_perplexity(model, ids[:200], 8))
    eye = np.eye(4, dtype=np.float32)
    lstm = SequenceModel("lstm", 4, 16, 4, readout="all", seed=0)
    h = train_language_model(lstm, ids, context=8, steps=150, batch_size=16, lr=1e-2,
                             encode=lambda w: eye[w])
    assert window_perplexity(lstm, ids, 8, encode=lambda w: eye[w]) < 1.5, h["loss"][-1]
    with pytest.raises(ValueError, match="seconds"):
        train_language_model(model, ids, context=8)


def test_generation_step_reads_the_last_position_of_the_cropped_window(rng):
    model = CausalTransformer(6, 5, d_model=8, n_heads=2, n_layers=1, seed=4)
    prompt = [1, 2, 3, 4, 5, 0, 1]                            # longer than the context
    new = generate(causal_transformer_step(model), None, prompt, 6, temperature=0)
    ids = list(prompt)
    for _ in range(6):                                        # greedy, recomputed by hand
        ids.append(int(np.argmax(model(np.array(ids[-5:])[None])[0, -1])))
    assert new == ids[len(prompt):]
    sampled = generate(causal_transformer_step(model), None, prompt, 20, temperature=1.0,
                       rng=0)
    assert sampled == generate(causal_transformer_step(model), None, prompt, 20,
                               temperature=1.0, rng=0)
    with pytest.raises(TypeError, match="CausalTransformer"):
        causal_transformer_step(TransformerBlock(8, 2, 8))
