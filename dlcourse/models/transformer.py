"""The Transformer block and a causal (decoder-only) language model, in numpy.

- :class:`TransformerBlock` — one encoder layer: multi-head self-attention
  (:class:`~dlcourse.models.attention.MultiHeadAttention`) and a position-wise feed-forward
  network (前馈网络), each wrapped in a residual connection (残差连接) and layer normalization
  (层归一化, :class:`~dlcourse.core.layers.LayerNorm`). ``norm_first=True`` (pre-norm,
  GPT-2 and most models since) or ``False`` (post-norm, the 2017 paper and torch's default);
  ``causal=True`` applies the causal mask, which makes it the block of a decoder-only model.
  Its twin is ``torch.nn.TransformerEncoderLayer`` (``dlcourse.torch.to_torch``).
- :class:`CausalTransformer` — token embedding (× √d_model) + sinusoidal positional
  encoding, causal blocks, a final LayerNorm (pre-norm) and a linear read-out: ids (N, T) ->
  next-symbol logits (N, T, V) at every position.
- Training and held-out perplexity on windows of a long id sequence, for any model that
  maps windows to logits, are :func:`dlcourse.models.language_model.train_language_model`
  and :func:`~dlcourse.models.language_model.window_perplexity`.
- :func:`causal_transformer_step` — the ``step`` for
  :func:`dlcourse.models.language_model.generate`.

Every module follows :class:`dlcourse.core.module.Module` (forward -> (out, cache),
backward(dout, cache) -> dx, overwriting ``self.grads``) and keeps the dtype of its
parameters (float32 by default, float64 for gradient checks).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from dlcourse.core.checks import as_float_array, check_positive
from dlcourse.core.layers import Activation, Dense, LayerNorm
from dlcourse.core.module import Module

from .attention import MultiHeadAttention, causal_mask, positional_encoding

__all__ = ["CausalTransformer", "TransformerBlock", "causal_transformer_step"]


def _seeds(seed, n):
    return np.random.default_rng(seed).spawn(n)


def _seed_int(rng) -> int:
    return int(rng.integers(2**31))


class TransformerBlock(Module):
    """One Transformer layer (self-attention + feed-forward, residuals, LayerNorm), numpy.

    Pre-norm (``norm_first=True``, the default)::

        x = x + MHA(LN1(x));   x = x + FFN(LN2(x))

    post-norm (``norm_first=False``, "Attention Is All You Need")::

        x = LN1(x + MHA(x));   x = LN2(x + FFN(x))

    with FFN(x) = ReLU(x W1 + b1) W2 + b2 applied at every position separately. In the
    pre-norm block the residual path from input to output is the identity, so gradients
    reach the first layers unchanged and training needs no learning-rate warm-up; in the
    post-norm block every gradient passes through the LayerNorms on its way down.

    Parameters
    ----------
    d_model, n_heads, d_ff : int
        Width, number of heads (dividing d_model) and hidden width of the feed-forward net.
    norm_first : bool
    causal : bool
        If True, position i attends to positions <= i only (a decoder's self-attention).
    eps : LayerNorm's epsilon.  seed, dtype : as for the core layers.

    Shapes: x (N, L, d_model) -> out (N, L, d_model). Parameters, named as torch's
    ``nn.TransformerEncoderLayer`` groups them: ``attn.in_proj_weight`` (3E, E),
    ``attn.in_proj_bias``, ``attn.out_proj_weight`` (E, E), ``attn.out_proj_bias``,
    ``ff1.W`` (E, d_ff), ``ff1.b``, ``ff2.W`` (d_ff, E), ``ff2.b``, ``norm1.gamma``,
    ``norm1.beta``, ``norm2.gamma``, ``norm2.beta``. ``cache["attn"]["weights"]`` holds the
    attention weights (N, n_heads, L, L).
    """

    def __init__(self, d_model: int, n_heads: int, d_ff: int, norm_first: bool = True,
                 causal: bool = False, eps: float = 1e-5, seed=0, dtype=np.float32) -> None:
        super().__init__()
        for value, name in ((d_model, "d_model"), (n_heads, "n_heads"), (d_ff, "d_ff")):
            check_positive(value, name, integer=True)
        self.d_model, self.n_heads, self.d_ff = d_model, n_heads, d_ff
        self.norm_first, self.causal = bool(norm_first), bool(causal)
        s = _seeds(seed, 3)
        self.attn = MultiHeadAttention(d_model, n_heads, seed=_seed_int(s[0]), dtype=dtype)
        self.ff1 = Dense(d_model, d_ff, init="he", seed=s[1], dtype=dtype)
        self.relu = Activation("relu")
        self.ff2 = Dense(d_ff, d_model, init="xavier", seed=s[2], dtype=dtype)
        self.norm1 = LayerNorm(d_model, eps, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps, dtype=dtype)
        self.dtype = np.dtype(dtype)

    def __repr__(self) -> str:
        return (f"TransformerBlock(d_model={self.d_model}, n_heads={self.n_heads}, "
                f"d_ff={self.d_ff}, norm_first={self.norm_first}, causal={self.causal})")

    def named_parameters(self):
        for prefix in ("attn", "ff1", "ff2", "norm1", "norm2"):
            for name, param, grad in getattr(self, prefix).named_parameters():
                yield f"{prefix}.{name}", param, grad

    def _ffn_forward(self, x):
        N, L, E = x.shape
        h, c1 = self.ff1.forward(x.reshape(N * L, E))
        h, c_relu = self.relu.forward(h)
        out, c2 = self.ff2.forward(h)
        return out.reshape(N, L, E), (c1, c_relu, c2)

    def _ffn_backward(self, dout, cache):
        N, L, E = dout.shape
        c1, c_relu, c2 = cache
        dh = self.relu.backward(self.ff2.backward(dout.reshape(N * L, E), c2), c_relu)
        return self.ff1.backward(dh, c1).reshape(N, L, E)

    def forward(self, x, training: bool = False, mask=None):
        """x (N, L, d_model) -> (out (N, L, d_model), cache).

        ``mask``: None (the causal mask if ``causal``, else none) or a boolean array
        broadcastable to (N, n_heads, L, L), True where a query may attend.
        """
        if not (type(x) is np.ndarray and x.dtype == self.dtype and x.ndim == 3):
            x = as_float_array(x, "x", ndim=3, shape_hint=f"(batch, length, {self.d_model})")
            x = x.astype(self.dtype, copy=False)
        if x.shape[-1] != self.d_model:
            raise ValueError(f"x must have shape (batch, length, {self.d_model}), got {x.shape}")
        if mask is None and self.causal:
            mask = causal_mask(x.shape[1])
        if self.norm_first:
            h1, c_n1 = self.norm1.forward(x)
            a, c_attn = self.attn.forward(h1, mask=mask)
            x1 = x + a
            h2, c_n2 = self.norm2.forward(x1)
            f, c_ff = self._ffn_forward(h2)
            out = x1 + f
        else:
            a, c_attn = self.attn.forward(x, mask=mask)
            x1, c_n1 = self.norm1.forward(x + a)
            f, c_ff = self._ffn_forward(x1)
            out, c_n2 = self.norm2.forward(x1 + f)
        return out, {"attn": c_attn, "ff": c_ff, "norm1": c_n1, "norm2": c_n2,
                     "shape": x.shape}

    def backward(self, dout, cache):
        """dout (N, L, d_model) -> dx (N, L, d_model); overwrites every gradient."""
        shape = cache["shape"]
        dout = as_float_array(dout, "dout", ndim=3, shape_hint=str(shape))
        if dout.shape != shape:
            raise ValueError(f"dout must have the output's shape {shape}, got {dout.shape}")
        dout = dout.astype(self.dtype, copy=False)
        for grad in self.attn.grads.values():      # MultiHeadAttention.backward adds
            grad[...] = 0
        if self.norm_first:
            dx1 = dout + self.norm2.backward(self._ffn_backward(dout, cache["ff"]),
                                             cache["norm2"])
            return dx1 + self.norm1.backward(self.attn.backward(dx1, cache["attn"]),
                                             cache["norm1"])
        ds2 = self.norm2.backward(dout, cache["norm2"])          # through LN2(x1 + f)
        dx1 = ds2 + self._ffn_backward(ds2, cache["ff"])
        ds1 = self.norm1.backward(dx1, cache["norm1"])           # through LN1(x + a)
        return ds1 + self.attn.backward(ds1, cache["attn"])


class CausalTransformer(Module):
    """A decoder-only Transformer (解码器) over symbol ids: next-symbol logits at every position.

    ``x = E[ids] · √d_model + PE[:T]``, then ``n_layers`` causal :class:`TransformerBlock` s,
    a final LayerNorm (pre-norm only: the blocks' residual stream is never normalised
    otherwise) and a linear read-out ``head`` to the V symbols. Position t's logits depend on
    ids[:, :t + 1] only, so one forward pass on a window trains T next-symbol predictions at
    once. The embedding starts with standard deviation d_model^-1/2, so after the factor
    √d_model a token's vector has entries of order 1, like the positional encoding.

    Parameters
    ----------
    vocab_size : int — V symbols.  context : int — the longest window (T <= context).
    d_model, n_heads, n_layers, d_ff : sizes (d_ff defaults to 4 · d_model).
    norm_first : bool — pre-norm (default) or post-norm blocks.  seed, dtype.

    Shapes: ids (N, T) integers in 0..V-1, T <= context -> logits (N, T, V). ``backward``
    returns None (there is no gradient with respect to integer ids); the embedding's
    gradient is ``grads["embed"]``. Parameters: ``embed`` (V, d_model), ``blocks.<i>.…``,
    ``norm.gamma``, ``norm.beta``, ``head.W`` (d_model, V), ``head.b``.
    """

    def __init__(self, vocab_size: int, context: int, d_model: int = 32, n_heads: int = 4,
                 n_layers: int = 2, d_ff: int | None = None, norm_first: bool = True,
                 seed=0, dtype=np.float32) -> None:
        super().__init__()
        d_ff = 4 * d_model if d_ff is None else d_ff
        for value, name in ((vocab_size, "vocab_size"), (context, "context"),
                            (d_model, "d_model"), (n_layers, "n_layers"), (d_ff, "d_ff")):
            check_positive(value, name, integer=True)
        if d_model % 2:
            raise ValueError(f"d_model must be even (sine/cosine pairs), got {d_model}")
        self.vocab_size, self.context, self.d_model = vocab_size, context, d_model
        self.n_heads, self.n_layers, self.d_ff = n_heads, n_layers, d_ff
        self.norm_first, self.dtype = bool(norm_first), np.dtype(dtype)
        s = _seeds(seed, n_layers + 2)
        self.params["embed"] = (s[0].standard_normal((vocab_size, d_model))
                                * d_model ** -0.5).astype(dtype)
        self.grads["embed"] = np.zeros_like(self.params["embed"])
        self.pe = positional_encoding(context, d_model, dtype=dtype)
        self.blocks = [TransformerBlock(d_model, n_heads, d_ff, norm_first=norm_first,
                                        causal=True, seed=s[1 + i], dtype=dtype)
                       for i in range(n_layers)]
        self.norm = LayerNorm(d_model, dtype=dtype) if norm_first else None
        self.head = Dense(d_model, vocab_size, init="xavier", seed=s[-1], dtype=dtype)

    def __repr__(self) -> str:
        return (f"CausalTransformer(vocab_size={self.vocab_size}, context={self.context}, "
                f"d_model={self.d_model}, n_heads={self.n_heads}, n_layers={self.n_layers}, "
                f"d_ff={self.d_ff}, norm_first={self.norm_first})")

    def named_parameters(self):
        yield "embed", self.params["embed"], self.grads["embed"]
        for i, block in enumerate(self.blocks):
            for name, param, grad in block.named_parameters():
                yield f"blocks.{i}.{name}", param, grad
        parts = (("norm", self.norm), ("head", self.head)) if self.norm else (("head", self.head),)
        for prefix, part in parts:
            for name, param, grad in part.named_parameters():
                yield f"{prefix}.{name}", param, grad

    def check_ids(self, ids) -> np.ndarray:
        """Validate a batch of windows: integer ids (N, T), 1 <= T <= context, in 0..V-1."""
        a = np.asarray(ids)
        if a.dtype == np.bool_ or not np.issubdtype(a.dtype, np.integer):
            raise TypeError(f"ids must be integer symbol ids 0..{self.vocab_size - 1}, got "
                            f"dtype {a.dtype}")
        if a.ndim != 2 or a.shape[1] == 0:
            raise ValueError(f"ids must have shape (batch, T) with 1 <= T <= {self.context}, "
                             f"got {a.shape} (one sequence s: pass s[None])")
        if a.shape[1] > self.context:
            raise ValueError(f"ids holds T = {a.shape[1]} positions but the model reads at "
                             f"most context = {self.context}: keep the last {self.context} ids")
        if a.min() < 0 or a.max() >= self.vocab_size:
            raise ValueError(f"ids must lie in 0..{self.vocab_size - 1}, got ids from "
                             f"{a.min()} to {a.max()}")
        return a

    def forward(self, ids, training: bool = False):
        """ids (N, T) -> (logits (N, T, V), cache)."""
        ids = self.check_ids(ids)
        N, T = ids.shape
        x = self.params["embed"][ids] * self.dtype.type(math.sqrt(self.d_model)) + self.pe[:T]
        mask = causal_mask(T)
        caches = []
        for block in self.blocks:
            x, c = block.forward(x, training, mask=mask)
            caches.append(c)
        c_norm = None
        if self.norm is not None:
            x, c_norm = self.norm.forward(x)
        logits, c_head = self.head.forward(x.reshape(N * T, self.d_model))
        return logits.reshape(N, T, self.vocab_size), (ids, caches, c_norm, c_head)

    def backward(self, dout, cache):
        """dlogits (N, T, V) -> None; fills every gradient (overwriting)."""
        ids, caches, c_norm, c_head = cache
        N, T = ids.shape
        dout = as_float_array(dout, "dout", ndim=3, shape_hint=f"({N}, {T}, {self.vocab_size})")
        if dout.shape != (N, T, self.vocab_size):
            raise ValueError(f"dout must have shape ({N}, {T}, {self.vocab_size}), got "
                             f"{dout.shape}")
        dx = self.head.backward(dout.reshape(N * T, -1).astype(self.dtype, copy=False), c_head)
        dx = dx.reshape(N, T, self.d_model)
        if self.norm is not None:
            dx = self.norm.backward(dx, c_norm)
        for block, c in zip(reversed(self.blocks), reversed(caches), strict=True):
            dx = block.backward(dx, c)
        g = self.grads["embed"]
        g[...] = 0
        np.add.at(g, ids.reshape(-1), dx.reshape(-1, self.d_model))
        g *= math.sqrt(self.d_model)
        return None

    def attention_weights(self, ids) -> np.ndarray:
        """Attention weights of every layer and head: (N, n_layers, n_heads, T, T)."""
        _, (_, caches, _, _) = self.forward(ids)
        return np.stack([c["attn"]["weights"] for c in caches], axis=1)


def causal_transformer_step(model: CausalTransformer):
    """A :func:`dlcourse.models.language_model.generate` step for a :class:`CausalTransformer`.

    ``step(symbol, state) -> (logits (V,), state)``: ``state`` is the list of ids read so far
    (None at the start); each call appends ``symbol`` and reruns the model on the last
    ``context`` ids, reading the logits at the last position (no key/value cache: simple,
    and cheap at this size).
    """
    if not isinstance(model, CausalTransformer):
        raise TypeError(f"model must be a CausalTransformer, got {type(model).__name__}")

    def step(symbol, state):
        if isinstance(symbol, bool) or not isinstance(symbol, numbers.Integral):
            raise TypeError(f"symbol must be an integer id, got {symbol!r}")
        state = [] if state is None else state
        state = state + [int(symbol)]
        window = np.asarray(state[-model.context:], dtype=np.int64)[None]
        logits, _ = model.forward(window)
        return logits[0, -1], state

    return step
