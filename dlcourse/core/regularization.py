"""Weight penalties (正则化): L2 (weight decay, 权重衰减) and L1.

Both return the penalty's value, to add to the data loss, AND add its gradient into the
gradients of the weights — parameters whose name ends in "W"; biases are never penalized.
Call them after ``backward`` (which overwrites the gradients), before the optimizer step.

- L2: penalty = λ/2 · Σ W²,  gradient λ W      (the same as torch's ``weight_decay=λ``)
- L1: penalty = λ · Σ |W|,   gradient λ sign(W) (drives weights to exactly zero)
"""

from __future__ import annotations

import numbers

import numpy as np


def _weights(model, lam):
    if isinstance(lam, bool) or not isinstance(lam, numbers.Real) or lam < 0:
        raise ValueError(f"lam must be a number >= 0, got {lam!r}")
    if not hasattr(model, "named_parameters"):
        raise TypeError(f"model must have named_parameters(), got {type(model).__name__}")
    return [(p, g) for name, p, g in model.named_parameters() if name.endswith("W")]


def l2_penalty(model, lam: float) -> float:
    """λ/2 Σ W² over every weight matrix; adds λ W to each weight gradient."""
    total = 0.0
    for p, g in _weights(model, lam):
        total += float(np.vdot(p, p))
        if lam:
            g += lam * p
    return 0.5 * lam * total


def l1_penalty(model, lam: float) -> float:
    """λ Σ |W| over every weight matrix; adds λ sign(W) to each weight gradient."""
    total = 0.0
    for p, g in _weights(model, lam):
        total += float(np.abs(p).sum())
        if lam:
            g += lam * np.sign(p)
    return lam * total
