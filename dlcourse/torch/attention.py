"""Multi-head attention in torch: ``nn.MultiheadAttention`` with the numpy model's weights."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from dlcourse.models.attention import MultiHeadAttention

from .convert import copy_into, from_torch, to_torch, torch_dtype

_NAMES = ("in_proj_weight", "in_proj_bias", "out_proj_weight", "out_proj_bias")


def _torch_parameters(module: nn.MultiheadAttention):
    return (module.in_proj_weight, module.in_proj_bias, module.out_proj.weight,
            module.out_proj.bias)


@to_torch.register
def _(mha: MultiHeadAttention) -> nn.MultiheadAttention:
    """``nn.MultiheadAttention(E, h, batch_first=True)`` holding copies of the weights."""
    twin = nn.MultiheadAttention(mha.embed_dim, mha.num_heads, batch_first=True,
                                 dtype=torch_dtype(mha.params["in_proj_weight"]))
    for parameter, name in zip(_torch_parameters(twin), _NAMES, strict=True):
        copy_into(parameter, mha.params[name])
    return twin


@from_torch.register
def _(module: nn.MultiheadAttention, dtype=np.float64) -> MultiHeadAttention:
    """Copy the weights of an ``nn.MultiheadAttention`` with bias and kdim = vdim = embed_dim."""
    if module.kdim != module.embed_dim or module.vdim != module.embed_dim \
            or module.in_proj_bias is None:
        raise ValueError("only nn.MultiheadAttention with kdim = vdim = embed_dim and "
                         "bias=True can be copied")
    mha = MultiHeadAttention(module.embed_dim, module.num_heads, dtype=dtype)
    mha.load_state_dict({name: p.detach().cpu().numpy()
                         for name, p in zip(_NAMES, _torch_parameters(module), strict=True)})
    return mha


def torch_mha_mask(mask) -> torch.Tensor:
    """Convert a dlcourse boolean mask (True = may attend) to ``nn.MultiheadAttention``'s
    ``attn_mask`` convention (True = NOT allowed to attend)."""
    return torch.from_numpy(~np.asarray(mask, dtype=bool))
