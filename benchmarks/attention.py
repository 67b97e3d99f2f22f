"""numpy multi-head self-attention vs torch.nn.MultiheadAttention on the CPU (float32).

Batch 32, length 32, embedding 64, 4 heads (the size of the Transformer chapter's model,
times two). Forward alone, and forward + backward of sum(out * dout) for dx and every
weight gradient; also scaled dot-product attention alone. Ratios numpy / torch in one run.

    python benchmarks/attention.py
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from harness import median_time, report, settle

from dlcourse.models.attention import MultiHeadAttention, causal_mask, scaled_dot_product_attention
from dlcourse.torch import to_torch

N, L, E, H = 32, 32, 64, 4


def main() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, L, E)).astype(np.float32)
    dout = rng.standard_normal((N, L, E)).astype(np.float32)
    mask = causal_mask(L)
    mha = MultiHeadAttention(E, H, seed=0, dtype=np.float32)
    twin = to_torch(mha)
    xt = torch.from_numpy(x).requires_grad_(True)
    dt, mt = torch.from_numpy(dout), torch.from_numpy(~mask)

    def np_forward():
        return mha.forward(x, mask=mask)

    def np_step():
        out, cache = mha.forward(x, mask=mask)
        mha.backward(dout, cache)

    def torch_forward():
        with torch.no_grad():
            return twin(xt, xt, xt, attn_mask=mt)

    def torch_step():
        xt.grad = None
        twin.zero_grad(set_to_none=True)
        out, _ = twin(xt, xt, xt, attn_mask=mt)
        out.backward(dt)

    q, k, v = (rng.standard_normal((N, H, L, E // H)).astype(np.float32) for _ in range(3))
    qt, kt, vt = (torch.from_numpy(a) for a in (q, k, v))
    rows = []
    for name, a, b in [
        (f"sdpa forward ({N}x{H} heads, L={L}, d={E // H})",
         lambda: scaled_dot_product_attention(q, k, v, mask),
         lambda: F.scaled_dot_product_attention(qt, kt, vt, attn_mask=torch.from_numpy(mask))),
        (f"MHA forward (N={N}, L={L}, E={E}, h={H})", np_forward, torch_forward),
        (f"MHA forward+backward (N={N}, L={L}, E={E}, h={H})", np_step, torch_step),
    ]:
        t_np = median_time(a)
        settle()
        rows.append((name, t_np, median_time(b)))
        settle()
    print(f"threads: torch {torch.get_num_threads()}")
    report(rows)


if __name__ == "__main__":
    main()
