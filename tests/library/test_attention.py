"""numpy attention against torch (float64): sdpa, nn.MultiheadAttention, gradients."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlcourse.core.gradcheck import FLOAT64_TOLERANCE, check_module_gradients, relative_error
from dlcourse.models.attention import (
    MultiHeadAttention,
    causal_mask,
    positional_encoding,
    scaled_dot_product_attention,
    softmax,
)
from dlcourse.torch import from_torch, to_torch
from dlcourse.torch.attention import torch_mha_mask


def _t(a):
    return torch.from_numpy(np.asarray(a))


@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 6, 4), (2, 7, 8)])
def test_sdpa_matches_torch(shape, rng):
    Q = rng.standard_normal(shape)
    K = rng.standard_normal(shape[:-2] + (9, shape[-1]))
    V = rng.standard_normal(shape[:-2] + (9, 3))
    out, weights = scaled_dot_product_attention(Q, K, V)
    assert out.shape == shape[:-1] + (3,) and weights.shape == shape[:-1] + (9,)
    assert np.allclose(weights.sum(-1), 1.0)
    ref = F.scaled_dot_product_attention(_t(Q), _t(K), _t(V)).numpy()
    assert np.allclose(out, ref, atol=1e-12)


def test_sdpa_boolean_and_float_masks_match_torch(rng):
    Q, K, V = (rng.standard_normal((2, 3, 6, 4)) for _ in range(3))
    mask = causal_mask(6)
    out, weights = scaled_dot_product_attention(Q, K, V, mask)
    ref = F.scaled_dot_product_attention(_t(Q), _t(K), _t(V), attn_mask=_t(mask)).numpy()
    assert np.allclose(out, ref, atol=1e-12)
    assert np.all(weights[..., ~mask] == 0), "blocked positions must get zero weight"
    ref_causal = F.scaled_dot_product_attention(_t(Q), _t(K), _t(V), is_causal=True).numpy()
    assert np.allclose(out, ref_causal, atol=1e-12)
    bias = rng.standard_normal((6, 6))
    out_f, _ = scaled_dot_product_attention(Q, K, V, bias)
    ref_f = F.scaled_dot_product_attention(_t(Q), _t(K), _t(V), attn_mask=_t(bias)).numpy()
    assert np.allclose(out_f, ref_f, atol=1e-12)
    padding = rng.random((2, 1, 1, 6)) > 0.3
    padding[..., 0] = True                              # every query keeps one key
    out_p, _ = scaled_dot_product_attention(Q, K, V, padding)
    ref_p = F.scaled_dot_product_attention(_t(Q), _t(K), _t(V), attn_mask=_t(padding)).numpy()
    assert np.allclose(out_p, ref_p, atol=1e-12)


def test_sdpa_rejects_bad_shapes():
    with pytest.raises(ValueError, match="d_k"):
        scaled_dot_product_attention(np.ones((3, 4)), np.ones((3, 5)), np.ones((3, 2)))
    with pytest.raises(ValueError):
        scaled_dot_product_attention(np.ones(3), np.ones(3), np.ones(3))


def test_softmax_is_stable():
    s = softmax(np.array([[1000.0, 1000.0, -1000.0]]))
    assert np.allclose(s, [[0.5, 0.5, 0.0]])


def test_positional_encoding_formula_and_properties():
    pe = positional_encoding(50, 16)
    assert pe.shape == (50, 16)
    p, i = 7, 3
    assert np.isclose(pe[p, 2 * i], np.sin(p / 10000 ** (2 * i / 16)))
    assert np.isclose(pe[p, 2 * i + 1], np.cos(p / 10000 ** (2 * i / 16)))
    assert np.allclose(pe[0, 0::2], 0) and np.allclose(pe[0, 1::2], 1)
    assert np.all(np.abs(pe) <= 1)
    # the encoding of p + k is a fixed linear (rotation) map of the encoding of p
    k, w = 5, 10000 ** (-2 * i / 16)
    rot = np.array([[np.cos(k * w), -np.sin(k * w)], [np.sin(k * w), np.cos(k * w)]])
    assert np.allclose(pe[p + k, 2 * i:2 * i + 2], pe[p, 2 * i:2 * i + 2] @ rot)
    assert positional_encoding(4, 5).shape == (4, 5)                   # odd d_model
    assert positional_encoding(3, 8, dtype=np.float32).dtype == np.float32


def _mha_pair(E=8, h=2, seed=3):
    torch.manual_seed(seed)
    twin = torch.nn.MultiheadAttention(E, h, batch_first=True, dtype=torch.float64)
    with torch.no_grad():                           # non-zero biases, to test them too
        twin.in_proj_bias.normal_()
        twin.out_proj.bias.normal_()
    return from_torch(twin), twin


@pytest.mark.parametrize("use_mask", [False, True])
def test_mha_forward_matches_torch(use_mask, rng):
    mha, twin = _mha_pair()
    x = rng.standard_normal((3, 5, 8))
    mask = causal_mask(5) if use_mask else None
    out, cache = mha.forward(x, mask=mask)
    ref, ref_w = twin(_t(x), _t(x), _t(x), attn_mask=None if mask is None else
                      torch_mha_mask(mask), average_attn_weights=False)
    assert np.allclose(out, ref.detach().numpy(), atol=1e-12)
    assert cache["weights"].shape == (3, 2, 5, 5)
    assert np.allclose(cache["weights"], ref_w.detach().numpy(), atol=1e-12)


def test_mha_cross_attention_and_round_trip(rng):
    mha = MultiHeadAttention(8, 4, seed=1, dtype=np.float64)
    twin = to_torch(mha)
    assert twin.in_proj_weight.dtype == torch.float64
    q, kv = rng.standard_normal((2, 3, 8)), rng.standard_normal((2, 6, 8))
    out, weights = mha.attend(q, kv, kv)
    ref, ref_w = twin(_t(q), _t(kv), _t(kv), average_attn_weights=False)
    assert np.allclose(out, ref.detach().numpy(), atol=1e-12)
    assert np.allclose(weights, ref_w.detach().numpy(), atol=1e-12)
    back = from_torch(twin)
    for name in mha.params:
        assert np.array_equal(back.params[name], mha.params[name])


@pytest.mark.parametrize("use_mask", [False, True])
def test_mha_backward_finite_differences(use_mask, rng):
    mha, _ = _mha_pair(E=6, h=3)
    x = rng.standard_normal((2, 4, 6))
    mask = causal_mask(4) if use_mask else None

    class Masked:          # gradcheck calls forward(x, training=False)
        params, grads = mha.params, mha.grads
        named_parameters, zero_grad = mha.named_parameters, mha.zero_grad

        def forward(self, x, training=False):
            return mha.forward(x, mask=mask)

        def backward(self, dout, cache):
            return mha.backward(dout, cache)

    errors = check_module_gradients(Masked(), x, h=1e-5)
    # The key bias adds the same q·b_k to every score of a query, which softmax ignores:
    # its true gradient is 0, so a relative error there compares two round-off values.
    bias_error = errors.pop("in_proj_bias")
    assert max(errors.values()) < FLOAT64_TOLERANCE, errors
    out, cache = mha.forward(x, mask=mask)
    mha.zero_grad()
    mha.backward(np.ones_like(out), cache)
    assert np.allclose(mha.grads["in_proj_bias"][6:12], 0, atol=1e-12), bias_error


def test_mha_backward_matches_torch(rng):
    mha, twin = _mha_pair()
    x = rng.standard_normal((2, 5, 8))
    dout = rng.standard_normal((2, 5, 8))
    out, cache = mha.forward(x, mask=causal_mask(5))
    mha.zero_grad()
    dx = mha.backward(dout, cache)
    xt = _t(x).requires_grad_()
    ref, _ = twin(xt, xt, xt, attn_mask=torch_mha_mask(causal_mask(5)))
    ref.backward(_t(dout))
    assert relative_error(dx, xt.grad.numpy()) < 1e-9
    assert relative_error(mha.grads["in_proj_weight"], twin.in_proj_weight.grad.numpy()) < 1e-9
    assert relative_error(mha.grads["out_proj_weight"],
                          twin.out_proj.weight.grad.numpy()) < 1e-9
    qv = np.r_[0:8, 16:24]                        # the key bias's gradient is exactly 0
    assert relative_error(mha.grads["in_proj_bias"][qv], twin.in_proj_bias.grad.numpy()[qv]) \
        < 1e-9
    assert np.allclose(mha.grads["in_proj_bias"], twin.in_proj_bias.grad.numpy(), atol=1e-12)


def test_mha_validates_input_and_config():
    with pytest.raises(ValueError, match="divisible"):
        MultiHeadAttention(10, 3)
    mha = MultiHeadAttention(8, 2)
    with pytest.raises(ValueError, match="embed_dim|8"):
        mha.forward(np.ones((2, 3, 5)))
    assert "num_heads=2" in repr(mha)
    out, _ = mha.forward(np.ones((1, 3, 8), dtype=np.float32))
    assert out.dtype == np.float32


def test_attention_explorer_runs_headless():
    from dlcourse.widgets.attention import attention_explorer

    weights = np.random.default_rng(0).dirichlet(np.ones(6), size=(3, 2, 4, 6))
    tokens = np.arange(18).reshape(3, 6) % 10
    widget = attention_explorer(weights, tokens, predictions=tokens, targets=tokens)
    assert widget.children, "the widget should have controls"
    with pytest.raises(ValueError, match="n_layers"):
        attention_explorer(weights[0], tokens)
