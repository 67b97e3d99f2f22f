"""Optimizers (优化器): SGD (with momentum), RMSprop and Adam, updating parameters in place.

An optimizer is bound to a model — any object whose ``named_parameters()`` yields
``(name, param, grad)`` — and reads the gradients that ``backward`` left in ``grad``.
The update rules are exactly ``torch.optim``'s (tested step by step):

- SGD:      v <- μ v + g;           p <- p - lr v          (plain SGD when μ = 0)
- RMSprop:  s <- α s + (1-α) g²;    p <- p - lr g / (√s + ε)
- Adam:     m <- β1 m + (1-β1) g;   v <- β2 v + (1-β2) g²;
            p <- p - lr m̂ / (√v̂ + ε)  with the bias corrections m̂ = m/(1-β1^t), v̂ = v/(1-β2^t)

``lr`` is a plain attribute, so a schedule can set it every epoch. State (velocities,
moments) lives in preallocated arrays, one per parameter; each step does no large allocation.
"""

from __future__ import annotations

import numpy as np

from .checks import check_positive


class Optimizer:
    """Base class: collects the (name, param, grad) triples once; ``step`` updates them."""

    def __init__(self, model, lr: float) -> None:
        if not hasattr(model, "named_parameters"):
            raise TypeError(f"an optimizer needs a model with named_parameters(), got "
                            f"{type(model).__name__}")
        check_positive(lr, "lr")
        self.model = model
        self.lr = float(lr)
        self.params = list(model.named_parameters())
        if not self.params:
            raise ValueError(f"{type(model).__name__} has no parameters to optimize")
        for name, p, g in self.params:
            if p.shape != g.shape:
                raise ValueError(f"parameter {name!r} has shape {p.shape} but its gradient "
                                 f"has shape {g.shape}")
        self.t = 0
        self._scratch = [np.empty_like(p) for _, p, _ in self.params]

    def zero_grad(self) -> None:
        """Set every gradient to zero (in place)."""
        for _, _, g in self.params:
            g[...] = 0

    def step(self) -> None:
        """Apply one update to every parameter, in place."""
        self.t += 1
        for i, (_, p, g) in enumerate(self.params):
            self._update(i, p, g, self._scratch[i])

    def _update(self, i, p, g, buf):
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr})"


class SGD(Optimizer):
    """Stochastic gradient descent (随机梯度下降), optionally with momentum (动量)."""

    def __init__(self, model, lr: float = 0.1, momentum: float = 0.0) -> None:
        super().__init__(model, lr)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        self.momentum = float(momentum)
        self.velocity = [np.zeros_like(p) for _, p, _ in self.params] if momentum else None

    def _update(self, i, p, g, buf):
        if self.momentum:
            v = self.velocity[i]
            v *= self.momentum
            v += g
            g = v
        np.multiply(g, self.lr, out=buf)
        p -= buf

    def __repr__(self) -> str:
        return f"SGD(lr={self.lr}, momentum={self.momentum})"


class RMSprop(Optimizer):
    """RMSprop: divide the step by a running root-mean-square of the gradient."""

    def __init__(self, model, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8) -> None:
        super().__init__(model, lr)
        if not 0.0 <= alpha < 1.0:
            raise ValueError(f"alpha must be in [0, 1), got {alpha!r}")
        check_positive(eps, "eps")
        self.alpha, self.eps = float(alpha), float(eps)
        self.square_avg = [np.zeros_like(p) for _, p, _ in self.params]

    def _update(self, i, p, g, buf):
        s = self.square_avg[i]
        s *= self.alpha
        np.multiply(g, g, out=buf)
        buf *= 1.0 - self.alpha
        s += buf
        np.sqrt(s, out=buf)
        buf += self.eps
        np.divide(g, buf, out=buf)
        buf *= self.lr
        p -= buf

    def __repr__(self) -> str:
        return f"RMSprop(lr={self.lr}, alpha={self.alpha}, eps={self.eps})"


class Adam(Optimizer):
    """Adam: momentum on the gradient and RMSprop scaling, both bias-corrected."""

    def __init__(self, model, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8) -> None:
        super().__init__(model, lr)
        b1, b2 = betas
        if not (0.0 <= b1 < 1.0 and 0.0 <= b2 < 1.0):
            raise ValueError(f"betas must both be in [0, 1), got {betas!r}")
        check_positive(eps, "eps")
        self.betas, self.eps = (float(b1), float(b2)), float(eps)
        self.m = [np.zeros_like(p) for _, p, _ in self.params]
        self.v = [np.zeros_like(p) for _, p, _ in self.params]

    def _update(self, i, p, g, buf):
        b1, b2 = self.betas
        m, v = self.m[i], self.v[i]
        m *= b1
        np.multiply(g, 1.0 - b1, out=buf)
        m += buf
        v *= b2
        np.multiply(g, g, out=buf)
        buf *= 1.0 - b2
        v += buf
        bias1, bias2 = 1.0 - b1 ** self.t, 1.0 - b2 ** self.t
        np.sqrt(v, out=buf)
        buf *= 1.0 / np.sqrt(bias2)
        buf += self.eps
        np.divide(m, buf, out=buf)
        buf *= self.lr / bias1
        p -= buf

    def __repr__(self) -> str:
        return f"Adam(lr={self.lr}, betas={self.betas}, eps={self.eps})"


def clip_gradients(module, max_norm: float) -> float:
    """Gradient clipping (梯度裁剪) by global norm, like ``torch.nn.utils.clip_grad_norm_``.

    If the L2 norm of all gradients together exceeds ``max_norm``, scale every gradient in
    place by max_norm / norm. Works on anything with ``named_parameters()`` yielding
    (name, param, grad). Returns the norm *before* clipping.
    """
    check_positive(max_norm, "max_norm")
    grads = [grad for _, _, grad in module.named_parameters()]
    norm = float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads)))
    if norm > max_norm:
        scale = max_norm / (norm + 1e-6)
        for grad in grads:
            grad *= scale
    return norm
