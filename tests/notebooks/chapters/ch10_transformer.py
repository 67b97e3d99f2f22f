"""10 Transformer: bypasses, typical mistakes and claims.

Read by tests/notebooks/test_chapters.py.
"""

from dlcourse.grading.variants import Claim, Variant

_ATTENTION = '''
def attention(Q, K, V, mask=None):
    Q, K, V = (np.asarray(a, dtype=float) for a in (Q, K, V))
    scores = {scores}
    {mask}
    scores = scores - scores.max(axis={axis}, keepdims=True)
    weights = np.exp(scores)
    weights = weights / weights.sum(axis={axis}, keepdims=True)
    {after}
    return weights @ V, weights
'''


def _attention(scores="Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])",
               mask="scores = scores if mask is None else np.where(mask, scores, -np.inf)",
               axis="-1", after="pass"):
    return _ATTENTION.format(scores=scores, mask=mask, axis=axis, after=after)


_MHA = '''
def multi_head_self_attention(x, in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias,
                              num_heads):
    N, L, E = x.shape
    d = E // num_heads
    qkv = x @ in_proj_weight.T + {bias}
    q, k, v = np.split(qkv, 3, axis=-1)
    {order}
    q, k, v = ({split} for t in (q, k, v))
    heads, weights = {attend}
    concat = {merge}
    return concat @ out_proj_weight.T + {out_bias}, weights
'''


def _mha(bias="in_proj_bias", order="pass",
         split="t.reshape(N, L, num_heads, d).transpose(0, 2, 1, 3)",
         attend="scaled_dot_product_attention(q, k, v)",
         merge="heads.transpose(0, 2, 1, 3).reshape(N, L, E)", out_bias="out_proj_bias"):
    return _MHA.format(bias=bias, order=order, split=split, attend=attend, merge=merge,
                       out_bias=out_bias)


_SHIFT = '''
def shift_matrix(k, d_model):
    R = np.zeros((d_model, d_model))
    for i, omega in enumerate(10000.0 ** (-np.arange(0, d_model, 2) / d_model)):
        c, s = np.cos(k * omega), np.sin(k * omega)
        R[2 * i:2 * i + 2, 2 * i:2 * i + 2] = [[c, s], [-s, c]]
    return R
'''

_SINUSOIDAL = '''
def sinusoidal_encoding(length, d_model):
    angles = np.arange(length)[:, None] / 10000 ** (np.arange(0, d_model, 2)[None, :] / d_model)
    pe = np.zeros((length, d_model))
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles)
    return pe
'''


_MASK = '''
def additive_causal_mask(length):
    positions = np.arange(length)
    return {body}
'''


def _mask(body="np.where(positions[None, :] > positions[:, None], -np.inf, 0.0)"):
    return _MASK.format(body=body)


_DECODE = '''
def decode_step(model, ids, temperature, rng):
    ids = np.asarray(ids)
    window = {window}
    logits = np.asarray(model.forward(window[None])[0]{position}, dtype=float)
    if temperature == 0:
        token = int(np.argmax(logits))
        probs = np.zeros_like(logits)
        probs[token] = 1.0
    else:
        z = {scaled}
        probs = np.exp(z - z.max())
        probs /= probs.sum()
        token = int(rng.choice(len(probs), p=probs))
    return {result}, probs


def continue_text(model, prompt, n_new, temperature, rng):
    ids = np.asarray(prompt)
    for _ in range(n_new):
        {loop}
    return ids
'''


def _decode(window="ids[-model.context:]", position="[0, -1]", scaled="logits / temperature",
            result="np.append(ids, token)",
            loop="ids, _ = decode_step(model, ids, temperature, rng)"):
    return _DECODE.format(window=window, position=position, scaled=scaled, result=result,
                          loop=loop)

BYPASSES = [
    Variant("ex_attention", "call the library's attention", kind="bypass", source='''
from dlcourse.models.attention import scaled_dot_product_attention as _sdpa
def attention(Q, K, V, mask=None):
    return _sdpa(Q, K, V, mask)
'''),
    Variant("ex_attention", "torch's softmax method on the scores", kind="bypass", source='''
def attention(Q, K, V, mask=None):
    Q, K, V = (torch.as_tensor(np.asarray(a, dtype=float)) for a in (Q, K, V))
    scores = Q @ K.transpose(-1, -2) / np.sqrt(Q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~torch.as_tensor(mask), float("-inf"))
    weights = scores.softmax(-1)
    return (weights @ V).numpy(), weights.numpy()
'''),
    Variant("ex_multi_head", "load the weights into the library's layer", kind="bypass",
            source='''
from dlcourse.models.attention import MultiHeadAttention as _MHA
def multi_head_self_attention(x, in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias,
                              num_heads):
    layer = _MHA(x.shape[-1], num_heads, dtype=np.float64)
    layer.load_state_dict({"in_proj_weight": in_proj_weight, "in_proj_bias": in_proj_bias,
                           "out_proj_weight": out_proj_weight, "out_proj_bias": out_proj_bias})
    out, cache = layer.forward(x)
    return out, cache["weights"]
'''),
    Variant("ex_multi_head", "load the weights into nn.MultiheadAttention", kind="bypass",
            source='''
def multi_head_self_attention(x, in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias,
                              num_heads):
    m = torch.nn.MultiheadAttention(x.shape[-1], num_heads, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        m.in_proj_weight.copy_(torch.tensor(in_proj_weight))
        m.in_proj_bias.copy_(torch.tensor(in_proj_bias))
        m.out_proj.weight.copy_(torch.tensor(out_proj_weight))
        m.out_proj.bias.copy_(torch.tensor(out_proj_bias))
    xt = torch.tensor(x)
    out, w = m(xt, xt, xt, average_attn_weights=False)
    return out.detach().numpy(), w.detach().numpy()
'''),
    Variant("ex_sinusoidal", "the library's encoding, and a least-squares fit of it",
            kind="bypass", source='''
from dlcourse.models.attention import positional_encoding as _pe
def sinusoidal_encoding(length, d_model):
    return _pe(length, d_model)
def shift_matrix(k, d_model):
    pe = _pe(k + 4 * d_model, d_model)
    return np.linalg.lstsq(pe[:len(pe) - k], pe[k:], rcond=None)[0].T
'''),
    Variant("ex_causal_mask", "np.triu of a matrix of -inf", kind="bypass", source='''
def additive_causal_mask(length):
    return np.triu(np.full((length, length), -np.inf), k=1)
'''),
    Variant("ex_causal_mask", "torch's square subsequent mask", kind="bypass", source='''
def additive_causal_mask(length):
    return torch.nn.Transformer.generate_square_subsequent_mask(length, dtype=torch.float64).numpy()
'''),
    Variant("ex_causal_mask", "the library's boolean mask turned additive", kind="bypass",
            source='''
from dlcourse.models.attention import causal_mask as _causal
def additive_causal_mask(length):
    return np.where(_causal(length), 0.0, -np.inf)
'''),
    Variant("ex_decode_step", "the library's generate and temperature softmax", kind="bypass",
            source='''
from dlcourse.models.language_model import generate as _generate, softmax_with_temperature as _swt
from dlcourse.models.transformer import causal_transformer_step as _step
def decode_step(model, ids, temperature, rng):
    ids = np.asarray(ids)
    probs = _swt(model.forward(ids[-model.context:][None])[0][0, -1].astype(float), temperature)
    token = _generate(_step(model), None, ids, 1, temperature=temperature, rng=rng)[0]
    return np.append(ids, token), probs
def continue_text(model, prompt, n_new, temperature, rng):
    return np.append(prompt, _generate(_step(model), None, prompt, n_new, temperature=temperature,
                                       rng=rng)).astype(int)
'''),
]

MISTAKES = [
    # ---- Exercise 1
    Variant("ex_attention", "no 1/sqrt(d_k) scaling", expect="not scaled",
            source=_attention(scores="Q @ np.swapaxes(K, -1, -2)")),
    Variant("ex_attention", "scaled by d_k, not its square root",
            expect="divided the scores by d_k",
            source=_attention(scores="Q @ np.swapaxes(K, -1, -2) / Q.shape[-1]")),
    Variant("ex_attention", "softmax over the queries axis", expect="axis=-1",
            source=_attention(axis="-2")),
    Variant("ex_attention", "mask applied after the softmax", expect="BEFORE the softmax",
            source=_attention(mask="pass",
                              after="weights = weights if mask is None else weights * mask")),
    Variant("ex_attention", "mask convention inverted", expect="MAY attend",
            source=_attention(mask="scores = scores if mask is None else "
                                   "np.where(mask, -np.inf, scores)")),
    Variant("ex_attention", "K.T on batched arrays", expect="swapaxes",
            source=_attention(scores="Q @ K.T / np.sqrt(Q.shape[-1])")),
    Variant("ex_attention", "softmax without subtracting the maximum", expect="maximum",
            source=_attention().replace(
                "    scores = scores - scores.max(axis=-1, keepdims=True)\n", "")),
    # ---- Exercise 2
    Variant("ex_multi_head", "heads split by a plain reshape", expect="head split",
            source=_mha(split="t.reshape(N, num_heads, L, d)")),
    Variant("ex_multi_head", "heads merged without moving the head axis back",
            expect="merge the heads", source=_mha(merge="heads.reshape(N, L, E)")),
    Variant("ex_multi_head", "q, k, v taken in the wrong order", expect="in that order",
            source=_mha(order="q, k, v = k, q, v")),
    Variant("ex_multi_head", "input projection bias forgotten", expect="in_proj_bias",
            source=_mha(bias="0")),
    Variant("ex_multi_head", "scores scaled by sqrt(E), not sqrt(E/h)", expect=r"sqrt\(E/h\)",
            source=_mha(attend="scaled_dot_product_attention(q * np.sqrt(d / E), k, v)")),
    Variant("ex_multi_head", "output projection bias forgotten", expect="out_proj_bias",
            source=_mha(out_bias="0")),
    # ---- Exercise 3
    Variant("ex_sinusoidal", "sin and cos swapped", expect="swapped",
            source=_SINUSOIDAL.replace("np.sin(angles)", "TMP").replace(
                "np.cos(angles)", "np.sin(angles)").replace("TMP", "np.cos(angles)") + _SHIFT),
    Variant("ex_sinusoidal", "exponent i/d instead of 2i/d", expect="exponent 1/8",
            source=_SINUSOIDAL.replace("np.arange(0, d_model, 2)[None, :]",
                                       "np.arange(d_model // 2)[None, :]") + _SHIFT),
    Variant("ex_sinusoidal", "exponent 2 * (2i)/d", expect="exponent 4/8",
            source=_SINUSOIDAL.replace("np.arange(0, d_model, 2)[None, :] / d_model",
                                       "2 * np.arange(0, d_model, 2)[None, :] / d_model") + _SHIFT),
    Variant("ex_sinusoidal", "sines and cosines as two halves", expect="interleaved",
            source='''
def sinusoidal_encoding(length, d_model):
    angles = np.arange(length)[:, None] / 10000 ** (np.arange(0, d_model, 2)[None, :] / d_model)
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)
''' + _SHIFT),
    Variant("ex_sinusoidal", "positions start at 1", expect="position p = 0",
            source=_SINUSOIDAL.replace("np.arange(length)", "np.arange(1, length + 1)") + _SHIFT),
    Variant("ex_sinusoidal", "rotation blocks transposed (shifts by -k)", expect="shifts by -k",
            source=_SINUSOIDAL + _SHIFT.replace("[[c, s], [-s, c]]", "[[c, -s], [s, c]]")),
    Variant("ex_sinusoidal", "rotation angle uses frequency 10000**(-i/d)", expect="angle k",
            source=_SINUSOIDAL + _SHIFT.replace("np.arange(0, d_model, 2) / d_model",
                                                "np.arange(d_model // 2) / d_model")),
    # ---- Exercise 4
    Variant("ex_causal_mask", "diagonal blocked (off by one)", expect="diagonal is blocked",
            source=_mask("np.where(positions[None, :] >= positions[:, None], -np.inf, 0.0)")),
    Variant("ex_causal_mask", "future allowed, past blocked (transposed)",
            expect="future is allowed",
            source=_mask("np.where(positions[None, :] < positions[:, None], -np.inf, 0.0)")),
    Variant("ex_causal_mask", "0 and -inf swapped", expect="swapped",
            source=_mask("np.where(positions[None, :] > positions[:, None], 0.0, -np.inf)")),
    Variant("ex_causal_mask", "boolean mask instead of the additive one", expect="float mask",
            source=_mask("positions[None, :] <= positions[:, None]")),
    Variant("ex_causal_mask", "a large negative number instead of -inf", expect="exactly -np.inf",
            source=_mask("np.where(positions[None, :] > positions[:, None], -1e9, 0.0)")),
    # ---- Exercise 5
    Variant("ex_decode_step", "the whole sequence's logits, not the last position",
            expect="ONE distribution", source=_decode(position="[0]")),
    Variant("ex_decode_step", "the first position's logits", expect="read position 0",
            source=_decode(position="[0, 0]")),
    Variant("ex_decode_step", "logits multiplied by the temperature", expect="divide the logits",
            source=_decode(scaled="logits * temperature")),
    Variant("ex_decode_step", "the picked token not appended", expect="append the picked token",
            source=_decode(result="ids")),
    Variant("ex_decode_step", "a text longer than the context not cropped",
            expect="model.context", source=_decode(window="ids")),
    Variant("ex_decode_step", "the new token not fed back", expect="feed the new token back",
            source=_decode(loop="ids = np.append(ids, decode_step(model, np.asarray(prompt), "
                                "temperature, rng)[0][-1])")),
    Variant("ex_decode_step", "a fresh generator at every step", expect="ONE generator",
            source=_decode(loop="ids, _ = decode_step(model, ids, temperature, "
                                "np.random.default_rng(3))")),
]

CLAIMS = [
    Claim("without scaling at d_k = 512 a query puts nearly all its weight on one key; with "
          "scaling the weights stay as spread out as at d_k = 4", check='''
assert scaling[512][1] > 0.9, scaling
assert all(0.2 < scaling[d][2] < 0.45 for d in scaling), scaling
assert abs(scaling[512][2] - scaling[4][2]) < 0.05, scaling
'''),
    Claim("the library's attention matches torch's to round-off, with and without a causal mask",
          check='''
assert np.abs(out - ref.numpy()).max() < 1e-12
'''),
    Claim("the numpy multi-head layer matches nn.MultiheadAttention forwards and backwards, "
          "with 4E² + 4E parameters", check='''
assert np.abs(out_np - out_t.detach().numpy()).max() < 1e-12
assert np.abs(cache["weights"] - w_t.detach().numpy()).max() < 1e-12
assert mha.n_parameters() == 4 * 16 ** 2 + 4 * 16 == sum(p.numel() for p in twin.parameters())
assert max(backward_errors.values()) < 1e-10, backward_errors
'''),
    Claim("attention is permutation equivariant", check='''
assert np.abs(out_shuffled - out_plain[:, perm]).max() < 1e-12
'''),
    Claim("nearby positions get similar encodings", check='''
assert sim[10, 10] > sim[10, 11] > sim[10, 15] > sim[10, 30], sim[10]
'''),
    Claim("with torch's default initialisation the token part would be several times the "
          "positional part; with the library's it is of order 1", check='''
assert embedding_rms["token, torch default init"] > 4 * embedding_rms["positional encoding"]
assert 0.5 < embedding_rms["token, library init"] < 2.0, embedding_rms
'''),
    Claim("a two-block encoder with under 20 thousand parameters learns to sort 8 digits",
          check='''
assert n_params < 20000
assert result["sequence_accuracy"] >= 0.95 and copy_baseline < 0.01
'''),
    Claim("the first layer spreads its weight almost evenly, the last is sharper and looks at "
          "the output digit well above chance", check='''
assert spread[0].min() > 0.85, spread
assert spread[-1].max() < spread[0].min() - 0.1, spread
assert output_mass[-1].min() > 1.5 * chance, (output_mass, chance)
'''),
    Claim("the numpy block, pre- and post-norm, matches finite differences and "
          "nn.TransformerEncoderLayer forwards and backwards", check='''
for errors in block_errors.values():
    assert errors["finite differences"] < 1e-6, block_errors
    assert max(errors["out"], errors["dx"], errors["parameters"]) < 1e-12, block_errors
'''),
    Claim("at learning rate 0.03 the post-norm decoder falls far behind the pre-norm one",
          check='''
assert norm_test["post-norm"] > 1.25 * norm_test["pre-norm"], norm_test
'''),
    Claim("longer n-gram contexts help, and the 4-gram is a strong baseline", check='''
val = [ngram[n]["val"] for n in ("unigram", "bigram", "trigram", "4-gram")]
assert all(a > b for a, b in zip(val, val[1:])), ngram
'''),
    Claim("the decoder and the LSTM have roughly equal parameters and the same CPU time",
          check='''
assert abs(decoder.n_parameters() - lstm.n_parameters()) < 0.05 * lstm.n_parameters()
cpu_seconds = (hist_decoder["seconds"], hist_lstm["seconds"])
assert abs(cpu_seconds[0] - cpu_seconds[1]) < 0.5, cpu_seconds
'''),
    Claim("in the same CPU time the LSTM makes well over twice as many steps", check='''
assert hist_lstm["steps"] > 2 * hist_decoder["steps"], (hist_lstm["steps"], hist_decoder["steps"])
'''),
    Claim("both networks are far below the bigram (and the unigram)", check='''
assert max(lm_test.values()) < 0.75 * ngram["bigram"]["test"], (lm_test, ngram)
'''),
    Claim("at equal parameters and equal time the decoder does not beat the LSTM, and the LSTM is "
          "ahead at the decoder's number of steps too", check='''
assert lm_test["decoder"] > 1.08 * lm_test["LSTM"], lm_test
decoder_val = hist_decoder["val_perplexity"][-1]
assert lstm_at_decoder_steps < decoder_val, (lstm_at_decoder_steps, decoder_val)
'''),
    Claim("the 4-gram count table beats the decoder", check='''
assert ngram["4-gram"]["test"] < lm_test["decoder"], (ngram, lm_test)
'''),
    Claim("greedy decoding loops, sampling at T = 1 does not; T = 0.6 writes more real words than "
          "T = 1", check='''
for name in ("decoder", "LSTM"):
    assert repeats[name, 0.0] > 0.8 and repeats[name, 1.0] < 0.1, repeats
    assert real_words[name, 0.6] > real_words[name, 1.0], real_words
'''),
    Claim("the encoder-decoder translates nearly all held-out numbers; each digit's "
          "cross-attention reads the word that names it, far above chance; unnamed zeros show no "
          "such pattern yet are written correctly", check='''
assert exact_match > 0.95, exact_match
assert aligned_share > 0.85 and aligned_share > 3 * align_chance, (aligned_share, align_chance)
assert abs(zeros_on_scale - zeros_on_scale_chance) < 0.15, (zeros_on_scale, zeros_on_scale_chance)
assert unnamed_zeros_right > 0.95, unnamed_zeros_right
'''),
]
