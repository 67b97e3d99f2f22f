"""What happened during training: :class:`History`, its curves, and their live redraw."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np


@dataclass
class History:
    """What happened during training, one entry per epoch (``grad_norm``: one per step)."""

    train_loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    train_accuracy: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)   # per step, when training clips
    best_epoch: int | None = None
    stopped_epoch: int | None = None

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def plot(self, fig=None):
        """Loss and accuracy curves (train and validation); marks the early-stopping epoch.
        Returns the matplotlib figure (draws into ``fig`` when given)."""
        import matplotlib.pyplot as plt

        if fig is None:
            fig = plt.figure(figsize=(9, 3.2))
        fig.clear()
        ax_loss, ax_acc = fig.subplots(1, 2)
        epochs = np.arange(len(self.train_loss))
        ax_loss.plot(epochs, self.train_loss, label="train")
        if self.val_loss:
            ax_loss.plot(epochs, self.val_loss, label="validation")
        ax_loss.set_xlabel("epoch")
        ax_loss.set_ylabel("loss")
        if self.train_accuracy and not np.all(np.isnan(self.train_accuracy)):
            ax_acc.plot(epochs, self.train_accuracy, label="train")
            if self.val_accuracy:
                ax_acc.plot(epochs, self.val_accuracy, label="validation")
        ax_acc.set_xlabel("epoch")
        ax_acc.set_ylabel("accuracy")
        if self.best_epoch is not None:
            for ax in (ax_loss, ax_acc):
                ax.axvline(self.best_epoch, color="gray", ls=":", label="best epoch")
        for ax in (ax_loss, ax_acc):
            ax.grid(alpha=0.3)
            if ax.lines:
                ax.legend(loc="best", fontsize=8)
        fig.tight_layout()
        return fig

    def __repr__(self) -> str:
        last = (f", last train_loss={self.train_loss[-1]:.4f}" if self.train_loss else "")
        best = f", best_epoch={self.best_epoch}" if self.best_epoch is not None else ""
        return f"History(epochs={self.epochs}{last}{best})"


class LivePlot:
    """Redraws ``History.plot`` in place in a notebook; does nothing outside IPython."""

    def __init__(self, min_interval: float = 1.0):
        self.handle, self.fig, self.min_interval, self.last = None, None, min_interval, 0.0
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover - IPython ships with Jupyter
            return
        shell = get_ipython()
        if shell is None or "Terminal" in type(shell).__name__:
            return
        import matplotlib.pyplot as plt
        from IPython.display import display

        self.fig = plt.figure(figsize=(9, 3.2), dpi=72)
        plt.close(self.fig)  # we display it ourselves; inline must not show it a second time
        self.handle = display(self.fig, display_id=True)

    def update(self, history: History, final: bool = False) -> None:
        if self.handle is None:
            return
        now = time.perf_counter()
        if final or now - self.last >= self.min_interval:
            history.plot(self.fig)
            self.handle.update(self.fig)
            self.last = time.perf_counter()
