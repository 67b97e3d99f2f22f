"""Attention (注意力机制) in numpy: scaled dot-product, multi-head, positional encodings.

Shapes follow ``torch.nn.functional.scaled_dot_product_attention`` and, with
``batch_first=True``, ``torch.nn.MultiheadAttention``; :class:`MultiHeadAttention` stores
its weights in torch's layout (``in_proj_weight`` (3E, E) holding W_q, W_k, W_v stacked,
``out_proj.weight`` (E, E)), so they copy to and from torch unchanged.

**Masks.** Here a boolean mask is ``True`` where a query MAY attend to a key — the
convention of ``F.scaled_dot_product_attention``. ``nn.MultiheadAttention`` uses the
opposite one (``True`` = blocked); :func:`dlcourse.torch.attention.torch_mha_mask` converts.
A float mask is added to the scores (``-inf`` blocks). A query whose keys are all blocked
gets NaN weights, as in torch.
"""

from __future__ import annotations

import math

import numpy as np

from dlcourse.core.activations import softmax
from dlcourse.core.checks import as_float_array
from dlcourse.core.module import Module


def _apply_mask(scores: np.ndarray, mask) -> np.ndarray:
    if mask is None:
        return scores
    mask = np.asarray(mask)
    if mask.dtype == np.bool_:
        return np.where(mask, scores, -np.inf)
    return scores + mask


def causal_mask(length: int) -> np.ndarray:
    """Boolean (length, length) mask: position i may attend to positions j <= i."""
    return np.tril(np.ones((length, length), dtype=bool))


def scaled_dot_product_attention(Q, K, V, mask=None):
    """softmax(Q Kᵀ / √d_k + mask) V, for any leading batch/head dimensions.

    Parameters
    ----------
    Q : (..., L_q, d_k) queries.  K : (..., L_k, d_k) keys.  V : (..., L_k, d_v) values.
    mask : None, a boolean array broadcastable to (..., L_q, L_k) with True = may attend,
        or a float array of the same shape added to the scores.

    Returns
    -------
    out : (..., L_q, d_v), and weights : (..., L_q, L_k), each row summing to 1.
    """
    Q = as_float_array(Q, "Q")
    K = as_float_array(K, "K")
    V = as_float_array(V, "V")
    if Q.ndim < 2 or K.ndim < 2 or V.ndim < 2:
        raise ValueError(f"Q, K, V must have shape (..., L, d), got {Q.shape}, {K.shape}, "
                         f"{V.shape}")
    if Q.shape[-1] != K.shape[-1] or K.shape[-2] != V.shape[-2]:
        raise ValueError(f"need Q (..., L_q, d_k), K (..., L_k, d_k), V (..., L_k, d_v); "
                         f"got Q {Q.shape}, K {K.shape}, V {V.shape}")
    scores = Q @ np.swapaxes(K, -1, -2) / math.sqrt(Q.shape[-1])
    weights = softmax(_apply_mask(scores, mask))
    return weights @ V, weights


def positional_encoding(length: int, d_model: int, base: float = 10000.0,
                        dtype=np.float64) -> np.ndarray:
    """Sinusoidal positional encodings (位置编码) of "Attention Is All You Need", (length, d_model).

    PE[p, 2i] = sin(p / base^(2i/d_model)), PE[p, 2i+1] = cos(p / base^(2i/d_model)).
    """
    if length < 0 or d_model <= 0:
        raise ValueError(f"need length >= 0 and d_model > 0, got {length}, {d_model}")
    positions = np.arange(length)[:, None]
    rates = base ** (-np.arange(0, d_model, 2) / d_model)
    angles = positions * rates                                   # (length, ceil(d/2))
    pe = np.empty((length, d_model))
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles[:, : d_model // 2])
    return pe.astype(dtype)


class MultiHeadAttention(Module):
    """Multi-head self-attention (多头注意力), numpy, weights laid out as in torch.

    ``forward(x (N, L, E), mask=None) -> (out (N, L, E), cache)``; the attention weights of
    every head are in ``cache["weights"]``, shape (N, num_heads, L, L). ``backward`` returns
    dx and fills ``self.grads``. :meth:`attend` does cross-attention (forward only).
    """

    def __init__(self, embed_dim: int, num_heads: int, seed: int = 0,
                 dtype=np.float32) -> None:
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim ({embed_dim}) must be divisible by num_heads "
                             f"({num_heads})")
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.head_dim = embed_dim // num_heads
        rng = np.random.default_rng(seed)
        E = embed_dim
        a_in, a_out = np.sqrt(6 / (E + 3 * E)), np.sqrt(6 / (2 * E))   # xavier uniform
        self.params = {
            "in_proj_weight": rng.uniform(-a_in, a_in, (3 * E, E)).astype(dtype),
            "in_proj_bias": np.zeros(3 * E, dtype),
            "out_proj_weight": rng.uniform(-a_out, a_out, (E, E)).astype(dtype),
            "out_proj_bias": np.zeros(E, dtype),
        }
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def __repr__(self) -> str:
        return f"MultiHeadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads})"

    def _split(self, x):          # (N, L, E) -> (N, h, L, d)
        N, L, _ = x.shape
        return x.reshape(N, L, self.num_heads, self.head_dim).transpose(0, 2, 1, 3)

    def _merge(self, x):          # (N, h, L, d) -> (N, L, E)
        N, _, L, _ = x.shape
        return x.transpose(0, 2, 1, 3).reshape(N, L, self.embed_dim)

    def _check(self, x, name):
        x = as_float_array(x, name, ndim=3, shape_hint="(batch, length, embed_dim)")
        if x.shape[-1] != self.embed_dim:
            raise ValueError(f"{name} must have shape (batch, length, {self.embed_dim}), "
                             f"got {x.shape}")
        return x

    def attend(self, query, key, value, mask=None):
        """Cross-attention: query (N, L, E), key/value (N, S, E) -> (out (N, L, E),
        weights (N, num_heads, L, S))."""
        query, key, value = (self._check(t, n) for t, n in
                             ((query, "query"), (key, "key"), (value, "value")))
        Wq, Wk, Wv = np.split(self.params["in_proj_weight"], 3)
        bq, bk, bv = np.split(self.params["in_proj_bias"], 3)
        q = self._split(query @ Wq.T + bq)
        k = self._split(key @ Wk.T + bk)
        v = self._split(value @ Wv.T + bv)
        heads, weights = scaled_dot_product_attention(q, k, v, mask)
        concat = self._merge(heads)
        out = concat @ self.params["out_proj_weight"].T + self.params["out_proj_bias"]
        return out, weights

    def forward(self, x, training: bool = False, mask=None):
        """Self-attention: x (N, L, E) -> out (N, L, E); cache holds q, k, v, weights."""
        x = self._check(x, "x")
        N, L, E = x.shape                          # 2-D products: one GEMM each, not N
        qkv = (x.reshape(-1, E) @ self.params["in_proj_weight"].T
               + self.params["in_proj_bias"]).reshape(N, L, 3 * E)
        q, k, v = (self._split(t) for t in np.split(qkv, 3, axis=-1))
        heads, weights = scaled_dot_product_attention(q, k, v, mask)
        concat = self._merge(heads)
        out = (concat.reshape(-1, E) @ self.params["out_proj_weight"].T
               + self.params["out_proj_bias"]).reshape(N, L, E)
        return out, {"x": x, "q": q, "k": k, "v": v, "weights": weights, "concat": concat}

    def backward(self, dout, cache):
        """dout (N, L, E) -> dx (N, L, E); accumulates parameter gradients in self.grads."""
        x, q, k, v, A = (cache[n] for n in ("x", "q", "k", "v", "weights"))
        E = self.embed_dim
        self.grads["out_proj_weight"] += dout.reshape(-1, E).T @ cache["concat"].reshape(-1, E)
        self.grads["out_proj_bias"] += dout.reshape(-1, E).sum(axis=0)
        N, L, _ = dout.shape
        dheads = self._split((dout.reshape(-1, E) @ self.params["out_proj_weight"])
                             .reshape(N, L, E))                           # (N, h, L, d)
        dA = dheads @ np.swapaxes(v, -1, -2)
        dv = np.swapaxes(A, -1, -2) @ dheads
        dA = np.nan_to_num(dA * A)                                        # softmax backward
        dS = (dA - A * dA.sum(axis=-1, keepdims=True)) / math.sqrt(self.head_dim)
        dS = np.nan_to_num(dS)
        dq = dS @ k
        dk = np.swapaxes(dS, -1, -2) @ q
        dqkv = np.concatenate([self._merge(t) for t in (dq, dk, dv)], axis=-1)  # (N, L, 3E)
        flat = dqkv.reshape(-1, 3 * E)
        self.grads["in_proj_weight"] += flat.T @ x.reshape(-1, E)
        self.grads["in_proj_bias"] += flat.sum(axis=0)
        return (flat @ self.params["in_proj_weight"]).reshape(N, L, E)
