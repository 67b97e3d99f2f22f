"""Autograd as the reference: the gradients the numpy backward passes are checked against."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch


def torch_gradients(fn: Callable, inputs: dict[str, np.ndarray], dout=None):
    """Run ``fn(**tensors)`` in torch autograd; return ``(out, {name: dLoss/dinput})``.

    Each numpy input becomes a leaf tensor of the same dtype with ``requires_grad``.
    Loss = sum(out * dout) (``dout`` defaults to ones), the same convention as
    :func:`dlcourse.core.gradcheck.numerical_gradient_of_output`.
    """
    tensors = {k: torch.tensor(np.asarray(v), requires_grad=True) for k, v in inputs.items()}
    out = fn(**tensors)
    upstream = torch.ones_like(out) if dout is None else torch.as_tensor(
        np.asarray(dout), dtype=out.dtype)
    out.backward(upstream)
    grads = {k: (t.grad.numpy() if t.grad is not None else np.zeros_like(inputs[k]))
             for k, t in tensors.items()}
    return out.detach().numpy(), grads
