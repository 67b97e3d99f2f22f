"""Learning-rate schedules (学习率衰减): callables ``schedule(epoch) -> lr``, epoch from 0.

A training loop sets ``optimizer.lr = schedule(epoch)`` at the start of every epoch.

- ConstantLR:     lr = base
- StepLR:         lr = base · γ^⌊epoch / step_size⌋
- ExponentialLR:  lr = base · γ^epoch
- CosineLR:       lr = min + (base - min) · (1 + cos(π · epoch / total)) / 2, then min
"""

from __future__ import annotations

import math
import numbers

from .checks import check_positive


def _check_epoch(epoch) -> int:
    if isinstance(epoch, bool) or not isinstance(epoch, numbers.Integral) or epoch < 0:
        raise ValueError(f"epoch must be an integer >= 0 (counted from 0), got {epoch!r}")
    return int(epoch)


class ConstantLR:
    """The same learning rate every epoch."""

    def __init__(self, base_lr: float) -> None:
        check_positive(base_lr, "base_lr")
        self.base_lr = float(base_lr)

    def __call__(self, epoch: int) -> float:
        _check_epoch(epoch)
        return self.base_lr

    def __repr__(self) -> str:
        return f"ConstantLR({self.base_lr})"


class StepLR(ConstantLR):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs."""

    def __init__(self, base_lr: float, step_size: int, gamma: float = 0.1) -> None:
        super().__init__(base_lr)
        check_positive(step_size, "step_size", integer=True)
        check_positive(gamma, "gamma")
        self.step_size, self.gamma = int(step_size), float(gamma)

    def __call__(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (_check_epoch(epoch) // self.step_size)

    def __repr__(self) -> str:
        return f"StepLR({self.base_lr}, step_size={self.step_size}, gamma={self.gamma})"


class ExponentialLR(ConstantLR):
    """Multiply the rate by ``gamma`` every epoch."""

    def __init__(self, base_lr: float, gamma: float) -> None:
        super().__init__(base_lr)
        check_positive(gamma, "gamma")
        self.gamma = float(gamma)

    def __call__(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** _check_epoch(epoch)

    def __repr__(self) -> str:
        return f"ExponentialLR({self.base_lr}, gamma={self.gamma})"


class CosineLR(ConstantLR):
    """Half a cosine from ``base_lr`` at epoch 0 down to ``min_lr`` at ``total_epochs``."""

    def __init__(self, base_lr: float, total_epochs: int, min_lr: float = 0.0) -> None:
        super().__init__(base_lr)
        check_positive(total_epochs, "total_epochs", integer=True)
        if not 0.0 <= min_lr <= base_lr:
            raise ValueError(f"min_lr must be in [0, base_lr={base_lr}], got {min_lr!r}")
        self.total_epochs, self.min_lr = int(total_epochs), float(min_lr)

    def __call__(self, epoch: int) -> float:
        epoch = min(_check_epoch(epoch), self.total_epochs)
        cos = (1.0 + math.cos(math.pi * epoch / self.total_epochs)) / 2.0
        return self.min_lr + (self.base_lr - self.min_lr) * cos

    def __repr__(self) -> str:
        return f"CosineLR({self.base_lr}, total_epochs={self.total_epochs}, min_lr={self.min_lr})"
