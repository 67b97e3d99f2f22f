"""The protocol every layer in dlcourse follows (after CS231n's layers and micrograd's Module).

A :class:`Module` keeps its parameters in ``self.params`` and their gradients in
``self.grads`` under the same names. Its two methods are a pair:

- ``forward(x, training=False) -> (out, cache)``: compute the output and return, as an
  explicit ``cache``, everything ``backward`` will need;
- ``backward(dout, cache) -> dx``: given dLoss/dout, write dLoss/dparam into ``self.grads``
  and return dLoss/dx.

Passing the cache explicitly (instead of hiding it on ``self``) makes the data flow of
backpropagation visible, and lets one module be applied twice in one graph.
"""

from __future__ import annotations

import numpy as np


class Module:
    """Base class for layers and models: parameters, gradients, forward/backward."""

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}

    def forward(self, x, training: bool = False):
        """Return ``(out, cache)``. Subclasses document the shapes."""
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def backward(self, dout, cache):
        """Return dLoss/dx and store dLoss/dparam in ``self.grads``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement backward")

    def __call__(self, x):
        """Inference shortcut: the output of ``forward`` without the cache."""
        return self.forward(x, training=False)[0]

    def named_parameters(self):
        """Yield ``(name, param, grad)`` for every trainable array (containers override)."""
        for name, param in self.params.items():
            yield name, param, self.grads[name]

    def zero_grad(self) -> None:
        for _, _, grad in self.named_parameters():
            grad[...] = 0

    def n_parameters(self) -> int:
        """Number of trainable scalars."""
        return int(sum(p.size for _, p, _ in self.named_parameters()))

    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter, keyed by name (what ``np.savez`` stores)."""
        return {name: p.copy() for name, p, _ in self.named_parameters()}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Copy arrays into the parameters in place; names and shapes must match."""
        own = {name: p for name, p, _ in self.named_parameters()}
        missing, unexpected = own.keys() - state.keys(), state.keys() - own.keys()
        if missing or unexpected:
            raise KeyError(f"state does not match {type(self).__name__}: missing "
                           f"{sorted(missing)}, unexpected {sorted(unexpected)}")
        for name, p in own.items():
            value = np.asarray(state[name])
            if value.shape != p.shape:
                raise ValueError(f"parameter {name!r} has shape {p.shape}, "
                                 f"the state has shape {value.shape}")
            p[...] = value


def accepts_need_dx(module) -> bool:
    """Whether ``module.backward`` takes ``need_dx``: a layer that can skip dLoss/dinput
    (the first layer of a network never needs it, and training never needs it of the data)."""
    import inspect

    return "need_dx" in inspect.signature(module.backward).parameters
