"""A small Transformer encoder in torch, a synthetic sequence task, and its training loop.

This module imports torch at the top; ``import dlcourse`` never imports it. The model is
the encoder of "Attention Is All You Need" at toy size: token embedding + sinusoidal
positional encoding (:func:`dlcourse.models.attention.positional_encoding`), ``n_layers`` blocks of
multi-head self-attention and a position-wise feed-forward network (each with a residual
connection and layer normalisation), and a linear read-out at every position. Every block
keeps its attention weights on request, so a notebook can look at what the model attends to.

The task (:func:`dlcourse.data.sequences.make_sequence_task`): map a sequence of digits to
the same digits sorted (or reversed) — one output token per input position, so an encoder
alone suffices.

The torch twins of the numpy Transformer (:mod:`dlcourse.models.transformer`) are registered
here for :func:`dlcourse.torch.to_torch`: ``LayerNorm`` → ``nn.LayerNorm``,
``TransformerBlock`` → ``nn.TransformerEncoderLayer`` (dropout 0, ReLU, ``batch_first``, the
block's ``norm_first``; a causal block becomes :class:`CausalEncoderLayer`, which applies the
causal mask itself), ``CausalTransformer`` → :class:`CausalTransformerLM`; and back with
:func:`dlcourse.torch.from_torch` for ``nn.LayerNorm`` and ``nn.TransformerEncoderLayer``.

Last, an encoder-decoder with cross-attention, :class:`Seq2SeqTransformer` (its decoder made
of :class:`DecoderBlock` s, which return their cross-attention weights) and
:func:`train_seq2seq`, for the toy translation
:func:`dlcourse.data.sequences.make_number_translation` (number words -> digits).
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn

from dlcourse.core.layers import LayerNorm
from dlcourse.data.sequences import make_sequence_task
from dlcourse.models.attention import positional_encoding
from dlcourse.models.transformer import CausalTransformer, TransformerBlock

from .convert import copy_into, from_torch, to_torch, torch_dtype


class EncoderBlock(nn.Module):
    """x + SelfAttention(x) -> LayerNorm -> + FeedForward -> LayerNorm (post-norm, as in 2017)."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(d_model, n_heads, dropout=dropout, batch_first=True)
        self.ff = nn.Sequential(nn.Linear(d_model, d_ff), nn.ReLU(), nn.Linear(d_ff, d_model))
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, need_weights: bool = False):
        """x (N, L, d_model) -> (out (N, L, d_model), weights (N, n_heads, L, L) or None)."""
        a, weights = self.attn(x, x, x, need_weights=need_weights,
                               average_attn_weights=False)
        x = self.norm1(x + self.drop(a))
        x = self.norm2(x + self.drop(self.ff(x)))
        return x, weights


class TransformerEncoderModel(nn.Module):
    """Embedding (× sqrt(d_model)) + positional encoding + encoder blocks + per-position
    classifier.

    ``forward(tokens (N, L) int64) -> logits (N, L, vocab)``; with
    ``return_attention=True`` also the attention weights (N, n_layers, n_heads, L, L).
    """

    def __init__(self, vocab: int = 10, length: int = 8, d_model: int = 32, n_heads: int = 4,
                 n_layers: int = 2, d_ff: int = 64, dropout: float = 0.0) -> None:
        super().__init__()
        self.vocab, self.length, self.d_model = vocab, length, d_model
        self.n_heads, self.n_layers = n_heads, n_layers
        self.embed = nn.Embedding(vocab, d_model)
        # As in the paper: embeddings start small (std d_model^-1/2) and forward() multiplies
        # them by sqrt(d_model), so a token's vector has entries of order 1, the scale of the
        # positional encoding. torch's default (std 1) times sqrt(d_model) would drown it.
        nn.init.normal_(self.embed.weight, std=d_model ** -0.5)
        pe = torch.from_numpy(positional_encoding(length, d_model, dtype=np.float32))
        self.register_buffer("pe", pe)
        self.blocks = nn.ModuleList(EncoderBlock(d_model, n_heads, d_ff, dropout)
                                    for _ in range(n_layers))
        self.head = nn.Linear(d_model, vocab)

    def forward(self, tokens: torch.Tensor, return_attention: bool = False):
        if tokens.ndim != 2 or tokens.shape[1] > self.length:
            raise ValueError(f"tokens must have shape (batch, length <= {self.length}), got "
                             f"{tuple(tokens.shape)}")
        x = self.embed(tokens) * self.d_model ** 0.5 + self.pe[: tokens.shape[1]]
        weights = []
        for block in self.blocks:
            x, w = block(x, need_weights=return_attention)
            weights.append(w)
        logits = self.head(x)
        return (logits, torch.stack(weights, dim=1)) if return_attention else logits


def sequence_accuracy(model: nn.Module, X, Y, batch_size: int = 1024) -> dict[str, float]:
    """Fraction of tokens and of whole sequences predicted exactly right."""
    model.eval()
    X, Y = torch.as_tensor(np.asarray(X)), torch.as_tensor(np.asarray(Y))
    with torch.no_grad():
        pred = torch.cat([model(X[i:i + batch_size]).argmax(-1)
                          for i in range(0, len(X), batch_size)])
    correct = pred == Y
    return {"token_accuracy": correct.float().mean().item(),
            "sequence_accuracy": correct.all(dim=1).float().mean().item()}


def attention_maps(model: TransformerEncoderModel, X) -> tuple[np.ndarray, np.ndarray]:
    """Predictions (n, L) and attention weights (n, n_layers, n_heads, L, L) as numpy."""
    model.eval()
    with torch.no_grad():
        logits, weights = model(torch.as_tensor(np.asarray(X)), return_attention=True)
    return logits.argmax(-1).numpy(), weights.numpy()



def warmup_cosine(optimizer, steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """The learning rate warms up linearly over the first 10 % of ``steps``, then decays to 0
    along a half cosine (call ``step()`` once per training step)."""
    warmup = max(1, steps // 10)

    def lr_at(step):
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + np.cos(np.pi * (step - warmup) / max(1, steps - warmup)))
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_at)


def train_transformer(model: TransformerEncoderModel, *, task: str = "sort", steps: int = 800,
                      batch_size: int = 64, lr: float = 3e-3, seed: int = 0,
                      eval_every: int = 250, X_val=None, Y_val=None) -> dict:
    """Adam on cross-entropy over every position; a FRESH random batch at each step.

    With a fresh batch per step the model can never memorise: accuracy on held-out
    sequences (``X_val``, ``Y_val``) measures the algorithm it learned. The learning rate
    warms up linearly over the first 10 % of steps and then decays to 0 (cosine).
    Returns a history dict: ``step``, ``loss`` (every step), ``val_step``,
    ``val_sequence_accuracy``, ``seconds``.
    """
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = warmup_cosine(optimizer, steps)
    loss_fn = nn.CrossEntropyLoss()
    history = {"loss": [], "val_step": [], "val_sequence_accuracy": []}
    start = time.perf_counter()
    for step in range(steps):
        model.train()
        X, Y = make_sequence_task(batch_size, model.length, model.vocab, task,
                                  seed=int(rng.integers(2**31)))
        logits = model(torch.from_numpy(X))
        loss = loss_fn(logits.reshape(-1, model.vocab), torch.from_numpy(Y).reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        history["loss"].append(loss.item())
        if X_val is not None and ((step + 1) % eval_every == 0 or step + 1 == steps):
            history["val_step"].append(step + 1)
            history["val_sequence_accuracy"].append(
                sequence_accuracy(model, X_val, Y_val)["sequence_accuracy"])
    history["seconds"] = time.perf_counter() - start
    return history


# ------------------------------------------------- twins of dlcourse.models.transformer

@to_torch.register
def _(norm: LayerNorm) -> nn.LayerNorm:
    """``nn.LayerNorm(d, eps)`` with weight = gamma, bias = beta."""
    twin = nn.LayerNorm(norm.d, eps=norm.eps, dtype=torch_dtype(norm.params["gamma"]))
    copy_into(twin.weight, norm.params["gamma"])
    copy_into(twin.bias, norm.params["beta"])
    return twin


@from_torch.register
def _(module: nn.LayerNorm, dtype=np.float64) -> LayerNorm:
    """Copy a 1-D ``nn.LayerNorm`` with an affine weight and bias."""
    if len(module.normalized_shape) != 1 or module.weight is None or module.bias is None:
        raise ValueError("only nn.LayerNorm(d) over the last axis, with weight and bias, can "
                         "be copied")
    norm = LayerNorm(module.normalized_shape[0], eps=module.eps, dtype=dtype)
    norm.load_state_dict({"gamma": module.weight.detach().cpu().numpy(),
                          "beta": module.bias.detach().cpu().numpy()})
    return norm


class CausalEncoderLayer(nn.TransformerEncoderLayer):
    """``nn.TransformerEncoderLayer`` that applies the causal mask when given no other
    (the twin of a ``TransformerBlock(causal=True)``)."""

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        if src_mask is None:
            src_mask = nn.Transformer.generate_square_subsequent_mask(
                src.shape[1], device=src.device, dtype=src.dtype)
            is_causal = True
        return super().forward(src, src_mask, src_key_padding_mask, is_causal=is_causal)


_LAYER_NAMES = {"attn.in_proj_weight": "self_attn.in_proj_weight",
                "attn.in_proj_bias": "self_attn.in_proj_bias",
                "attn.out_proj_weight": "self_attn.out_proj.weight",
                "attn.out_proj_bias": "self_attn.out_proj.bias",
                "ff1.W": "linear1.weight", "ff1.b": "linear1.bias",
                "ff2.W": "linear2.weight", "ff2.b": "linear2.bias",
                "norm1.gamma": "norm1.weight", "norm1.beta": "norm1.bias",
                "norm2.gamma": "norm2.weight", "norm2.beta": "norm2.bias"}


def _copy_block(twin: nn.TransformerEncoderLayer, block: TransformerBlock) -> None:
    params = dict(twin.named_parameters())
    for name, array, _ in block.named_parameters():
        copy_into(params[_LAYER_NAMES[name]], array.T if name.endswith(".W") else array)


@to_torch.register
def _(block: TransformerBlock) -> nn.TransformerEncoderLayer:
    """``nn.TransformerEncoderLayer(d_model, n_heads, d_ff, dropout=0, activation="relu",
    batch_first=True, norm_first=block.norm_first)`` with copies of the weights
    (:class:`CausalEncoderLayer` for a causal block)."""
    cls = CausalEncoderLayer if block.causal else nn.TransformerEncoderLayer
    twin = cls(block.d_model, block.n_heads, block.d_ff, dropout=0.0, activation="relu",
               layer_norm_eps=block.norm1.eps, batch_first=True, norm_first=block.norm_first,
               dtype=torch_dtype(block.norm1.params["gamma"]))
    _copy_block(twin, block)
    return twin


@from_torch.register
def _(module: nn.TransformerEncoderLayer, dtype=np.float64) -> TransformerBlock:
    """Copy a batch-first, ReLU ``nn.TransformerEncoderLayer`` (dropout is ignored; a
    :class:`CausalEncoderLayer` gives a causal block)."""
    if not module.self_attn.batch_first or getattr(module, "activation_relu_or_gelu", 1) != 1:
        raise ValueError("only batch_first nn.TransformerEncoderLayer with activation='relu' "
                         "can be copied")
    block = TransformerBlock(module.self_attn.embed_dim, module.self_attn.num_heads,
                             module.linear1.out_features, norm_first=module.norm_first,
                             causal=isinstance(module, CausalEncoderLayer),
                             eps=module.norm1.eps, dtype=dtype)
    params = {name: p.detach().cpu().numpy() for name, p in module.named_parameters()}
    block.load_state_dict({name: params[torch_name].T if name.endswith(".W") else params[torch_name]
                           for name, torch_name in _LAYER_NAMES.items()})
    return block


class CausalTransformerLM(nn.Module):
    """The torch twin of :class:`dlcourse.models.transformer.CausalTransformer`.

    ``forward(tokens (N, T) int64) -> logits (N, T, V)``: embedding × sqrt(d_model) +
    sinusoidal encoding, :class:`CausalEncoderLayer` s, a final ``nn.LayerNorm`` (pre-norm
    only), ``nn.Linear`` read-out.
    """

    def __init__(self, vocab_size: int, context: int, d_model: int, n_heads: int,
                 n_layers: int, d_ff: int, norm_first: bool = True, dtype=torch.float32):
        super().__init__()
        self.context, self.d_model = context, d_model
        self.embed = nn.Embedding(vocab_size, d_model, dtype=dtype)
        pe = positional_encoding(context, d_model, dtype=np.float64)
        self.register_buffer("pe", torch.tensor(pe, dtype=dtype))
        self.layers = nn.ModuleList(
            CausalEncoderLayer(d_model, n_heads, d_ff, dropout=0.0, activation="relu",
                               batch_first=True, norm_first=norm_first, dtype=dtype)
            for _ in range(n_layers))
        self.norm = nn.LayerNorm(d_model, dtype=dtype) if norm_first else nn.Identity()
        self.head = nn.Linear(d_model, vocab_size, dtype=dtype)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        if tokens.ndim != 2 or tokens.shape[1] > self.context:
            raise ValueError(f"tokens must have shape (batch, T <= {self.context}), got "
                             f"{tuple(tokens.shape)}")
        x = self.embed(tokens) * self.d_model ** 0.5 + self.pe[: tokens.shape[1]]
        for layer in self.layers:
            x = layer(x)
        return self.head(self.norm(x))


@to_torch.register
def _(model: CausalTransformer) -> CausalTransformerLM:
    """:class:`CausalTransformerLM` with copies of every weight."""
    twin = CausalTransformerLM(model.vocab_size, model.context, model.d_model, model.n_heads,
                               model.n_layers, model.d_ff, model.norm_first,
                               dtype=torch_dtype(model.params["embed"]))
    copy_into(twin.embed.weight, model.params["embed"])
    for layer, block in zip(twin.layers, model.blocks, strict=True):
        _copy_block(layer, block)
    if model.norm is not None:
        copy_into(twin.norm.weight, model.norm.params["gamma"])
        copy_into(twin.norm.bias, model.norm.params["beta"])
    copy_into(twin.head.weight, model.head.params["W"].T)
    copy_into(twin.head.bias, model.head.params["b"])
    return twin


# ------------------------------------------- an encoder-decoder with cross-attention (torch)

class DecoderBlock(nn.Module):
    """Pre-norm decoder block: causal self-attention, cross-attention (交叉注意力) to the
    encoder's output, feed-forward; each ``y = y + sublayer(LayerNorm(y))``."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d_model, n_heads, batch_first=True)
        self.cross_attn = nn.MultiheadAttention(d_model, n_heads, batch_first=True)
        self.ff = nn.Sequential(nn.Linear(d_model, d_ff), nn.ReLU(), nn.Linear(d_ff, d_model))
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(d_model) for _ in range(3))

    def forward(self, y, memory, memory_padding=None, need_weights: bool = False):
        """y (N, T, d), memory (N, S, d), memory_padding (N, S) bool (True = padding) ->
        (y (N, T, d), cross-attention weights (N, n_heads, T, S) or None)."""
        T = y.shape[1]
        blocked = torch.ones(T, T, dtype=torch.bool, device=y.device).triu(1)  # True = blocked
        h = self.norm1(y)
        y = y + self.self_attn(h, h, h, attn_mask=blocked, need_weights=False)[0]
        h = self.norm2(y)
        c, weights = self.cross_attn(h, memory, memory, key_padding_mask=memory_padding,
                                     need_weights=need_weights, average_attn_weights=False)
        y = y + c
        return y + self.ff(self.norm3(y)), weights


class Seq2SeqTransformer(nn.Module):
    """A small encoder-decoder Transformer: source ids (N, S) -> target logits (N, T, V_tgt).

    Encoder: embedding (× sqrt(d)) + sinusoidal encoding, pre-norm
    ``nn.TransformerEncoderLayer`` s (padding masked), a final LayerNorm. Decoder: the same
    embedding scheme for the target read so far (starting with ``bos``), :class:`DecoderBlock`
    s, a final LayerNorm and a linear read-out. ``forward(src, tgt_in)`` is teacher forcing;
    :meth:`greedy_decode` generates. Source id 0 is padding.
    """

    def __init__(self, src_vocab: int, tgt_vocab: int, max_src: int, max_tgt: int,
                 d_model: int = 32, n_heads: int = 2, n_layers: int = 1, d_ff: int = 64,
                 bos: int = 0) -> None:
        super().__init__()
        self.d_model, self.bos, self.max_tgt = d_model, bos, max_tgt
        self.src_embed, self.tgt_embed = nn.Embedding(src_vocab, d_model), nn.Embedding(
            tgt_vocab, d_model)
        for embedding in (self.src_embed, self.tgt_embed):
            nn.init.normal_(embedding.weight, std=d_model ** -0.5)
        pe = positional_encoding(max(max_src, max_tgt), d_model, dtype=np.float32)
        self.register_buffer("pe", torch.from_numpy(pe))
        self.encoder = nn.ModuleList(
            nn.TransformerEncoderLayer(d_model, n_heads, d_ff, dropout=0.0, batch_first=True,
                                       norm_first=True) for _ in range(n_layers))
        self.decoder = nn.ModuleList(DecoderBlock(d_model, n_heads, d_ff)
                                     for _ in range(n_layers))
        self.enc_norm, self.dec_norm = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, tgt_vocab)

    def _embed(self, embedding, ids):
        return embedding(ids) * self.d_model ** 0.5 + self.pe[: ids.shape[1]]

    def encode(self, src):
        padding = src == 0
        x = self._embed(self.src_embed, src)
        for layer in self.encoder:
            x = layer(x, src_key_padding_mask=padding)
        return self.enc_norm(x), padding

    def decode(self, tgt_in, memory, padding, need_weights: bool = False):
        y = self._embed(self.tgt_embed, tgt_in)
        weights = []
        for block in self.decoder:
            y, w = block(y, memory, padding, need_weights)
            weights.append(w)
        logits = self.head(self.dec_norm(y))
        return logits, (torch.stack(weights, dim=1) if need_weights else None)

    def forward(self, src, tgt_in):
        """src (N, S), tgt_in (N, T) (``bos`` then the target shifted right) -> (N, T, V)."""
        memory, padding = self.encode(src)
        return self.decode(tgt_in, memory, padding)[0]

    @torch.no_grad()
    def greedy_decode(self, src, steps: int | None = None):
        """Greedy generation from ``bos``: (ids (N, steps), cross-attention weights
        (N, n_layers, n_heads, steps, S)) as numpy, from the last step's pass."""
        self.eval()
        src = torch.as_tensor(np.asarray(src))
        steps = self.max_tgt if steps is None else steps
        memory, padding = self.encode(src)
        out = torch.full((src.shape[0], 1), self.bos, dtype=torch.long)
        for _ in range(steps):
            logits, weights = self.decode(out, memory, padding, need_weights=True)
            out = torch.cat([out, logits[:, -1].argmax(-1, keepdim=True)], dim=1)
        return out[:, 1:].numpy(), weights.numpy()


def train_seq2seq(model: Seq2SeqTransformer, make_batch, *, steps: int = 600,
                  batch_size: int = 64, lr: float = 3e-3, pad: int = -100, seed: int = 0) -> dict:
    """Adam with teacher forcing on fresh batches ``make_batch(batch_size, rng) -> (src (N, S),
    tgt (N, T))`` of int64 arrays (``tgt`` ends with its end token, ``pad`` elsewhere, which the
    loss ignores). The learning rate warms up over the first 10 % of the steps, then decays to
    0 (cosine). Returns ``{"loss": [...], "seconds": float}``.
    """
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = warmup_cosine(optimizer, steps)
    loss_fn = nn.CrossEntropyLoss(ignore_index=pad)
    history = {"loss": []}
    start = time.perf_counter()
    model.train()
    for _ in range(steps):
        src, tgt = (torch.from_numpy(a) for a in make_batch(batch_size, rng))
        tgt_in = torch.cat([torch.full_like(tgt[:, :1], model.bos), tgt[:, :-1]], dim=1)
        logits = model(src, tgt_in)
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        history["loss"].append(loss.item())
    history["seconds"] = time.perf_counter() - start
    return history
