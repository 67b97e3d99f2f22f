"""Multi-head attention in torch: ``nn.MultiheadAttention`` with the numpy model's weights."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def mha_to_torch(mha) -> nn.MultiheadAttention:
    """``nn.MultiheadAttention(E, h, batch_first=True)`` holding copies of ``mha``'s weights."""
    dtype = torch.float64 if mha.params["in_proj_weight"].dtype == np.float64 else torch.float32
    twin = nn.MultiheadAttention(mha.embed_dim, mha.num_heads, batch_first=True, dtype=dtype)
    with torch.no_grad():
        twin.in_proj_weight.copy_(torch.from_numpy(mha.params["in_proj_weight"]))
        twin.in_proj_bias.copy_(torch.from_numpy(mha.params["in_proj_bias"]))
        twin.out_proj.weight.copy_(torch.from_numpy(mha.params["out_proj_weight"]))
        twin.out_proj.bias.copy_(torch.from_numpy(mha.params["out_proj_bias"]))
    return twin


def torch_mha_mask(mask) -> torch.Tensor:
    """Convert a dlcourse boolean mask (True = may attend) to ``nn.MultiheadAttention``'s
    ``attn_mask`` convention (True = NOT allowed to attend)."""
    return torch.from_numpy(~np.asarray(mask, dtype=bool))
