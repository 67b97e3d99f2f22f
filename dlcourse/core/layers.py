"""Layers (层) of a multilayer network, in the forward/backward/cache protocol of
:class:`dlcourse.core.module.Module`, and the containers :class:`Sequential` and :class:`MLP`.

Shapes use n for the batch size. Every layer keeps the dtype of its parameters (float32 by
default, float64 for gradient checks) and is vectorized over the batch: the work is a few
matrix products (BLAS) and elementwise passes, never a Python loop over samples.

``backward`` *overwrites* ``self.grads`` (it does not accumulate), so a training step is
forward, backward, optimizer step; ``zero_grad`` is only needed when you add to the grads
yourself (regularization penalties add after ``backward``).
"""

from __future__ import annotations

import numpy as np

from .activations import get_activation, sigmoid
from .checks import as_float_array, check_positive
from .init import get_initializer
from .module import Module, accepts_need_dx


def _same_dtype(x, dtype, name, shape_hint, n_cols=None):
    """Validate a 2-D float batch and cast it to ``dtype`` (fast path: already fine)."""
    if not (type(x) is np.ndarray and x.ndim == 2 and x.dtype == dtype):
        x = as_float_array(x, name, ndim=2, shape_hint=shape_hint)
        x = x.astype(dtype, copy=False)
    if n_cols is not None and x.shape[1] != n_cols:
        raise ValueError(f"{name} must have shape {shape_hint}, got {x.shape}")
    return x


class Dense(Module):
    """Fully connected (linear) layer (全连接层): ``out = x @ W + b``.

    Parameters
    ----------
    n_in, n_out : int
        Input features and output units.
    init : str or callable
        ``"he"`` (default, for ReLU), ``"xavier"`` (for tanh/sigmoid), ``"normal"`` (std 0.01),
        or a function ``(n_in, n_out, rng, dtype) -> W`` (see :mod:`dlcourse.core.init`).
    seed : int, SeedSequence or Generator
        Seed of the initial weights; biases start at zero.
    dtype : numpy float dtype, default float32

    Shapes: x (n, n_in) -> out (n, n_out); params W (n_in, n_out), b (n_out,).
    """

    def __init__(self, n_in: int, n_out: int, init="he", seed=0, dtype=np.float32) -> None:
        super().__init__()
        check_positive(n_in, "n_in", integer=True)
        check_positive(n_out, "n_out", integer=True)
        rng = np.random.default_rng(seed)
        self.init = init if isinstance(init, str) else getattr(init, "__name__", "custom")
        W = get_initializer(init)(n_in, n_out, rng, dtype)
        self.params["W"] = np.ascontiguousarray(W, dtype=dtype)
        self.params["b"] = np.zeros(n_out, dtype=dtype)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self._ones = np.ones(0, dtype=dtype)

    @property
    def n_in(self) -> int:
        return self.params["W"].shape[0]

    @property
    def n_out(self) -> int:
        return self.params["W"].shape[1]

    def __repr__(self) -> str:
        return f"Dense({self.n_in}, {self.n_out})"

    def forward(self, x, training: bool = False):
        """x (n, n_in) -> out (n, n_out); cache = x."""
        W = self.params["W"]
        x = _same_dtype(x, W.dtype, "x", f"(n_samples, {self.n_in})", self.n_in)
        out = x @ W
        out += self.params["b"]
        return out, x

    def backward(self, dout, cache, *, need_dx: bool = True):
        """dout (n, n_out) -> dx (n, n_in); grads W = x.T @ dout, b = column sums of dout.

        ``need_dx=False`` skips the input gradient (the first layer of a network does not
        need it; torch skips it too). The bias gradient is ``ones @ dout``, a matrix-vector
        product, which BLAS does about 3x faster than ``dout.sum(axis=0)``.
        """
        x = cache
        W = self.params["W"]
        dout = _same_dtype(dout, W.dtype, "dout", f"({x.shape[0]}, {self.n_out})")
        if dout.shape != (x.shape[0], self.n_out):
            raise ValueError(f"dout must have shape ({x.shape[0]}, {self.n_out}), "
                             f"got {dout.shape}")
        np.matmul(x.T, dout, out=self.grads["W"])
        if self._ones.shape[0] != x.shape[0]:
            self._ones = np.ones(x.shape[0], dtype=W.dtype)
        np.matmul(self._ones, dout, out=self.grads["b"])
        return dout @ W.T if need_dx else None


# --- activation layers -------------------------------------------------------------------

class Activation(Module):
    """An elementwise activation as a layer, by name from :mod:`dlcourse.core.activations`.

    ``Activation("relu")`` behaves like ``ReLU()``; names: relu, leaky_relu, sigmoid, tanh,
    identity. Shapes: x (n, ...) -> out of the same shape; no parameters. The cache holds what
    the derivative needs: the output for sigmoid/tanh (f' = s(1-s), 1-t²), a mask for ReLU.
    """

    def __init__(self, name: str, alpha: float = 0.01) -> None:
        super().__init__()
        self.name = get_activation(name).name
        self.alpha = float(alpha)

    def __repr__(self) -> str:
        if self.name == "leaky_relu":
            return f"LeakyReLU(alpha={self.alpha})"
        return {"relu": "ReLU()", "sigmoid": "Sigmoid()", "tanh": "Tanh()",
                "identity": "Identity()"}[self.name]

    def forward(self, x, training: bool = False):
        """x (n, ...) -> f(x), same shape and dtype."""
        if not (type(x) is np.ndarray and x.dtype.kind == "f"):
            x = as_float_array(x, "x")
        name = self.name
        if name == "relu":
            out = np.maximum(x, 0)
            return out, out
        if name == "sigmoid":
            out = sigmoid(x)
            return out, out
        if name == "tanh":
            out = np.tanh(x)
            return out, out
        if name == "leaky_relu":
            scale = (x > 0).astype(x.dtype)        # 1 where x > 0, else alpha
            scale *= 1.0 - self.alpha
            scale += self.alpha
            return x * scale, scale
        return x, None                              # identity

    def backward(self, dout, cache):
        """dout (same shape as the output) -> dx = dout * f'(x)."""
        if not (type(dout) is np.ndarray and dout.dtype.kind == "f"):
            dout = as_float_array(dout, "dout")
        name = self.name
        if name != "identity" and dout.shape != cache.shape:
            raise ValueError(f"dout must have the output's shape {cache.shape}, "
                             f"got {dout.shape}")
        if name == "relu":
            return dout * (cache > 0)               # boolean mask: fastest in numpy
        if name == "sigmoid":
            return dout * cache * (1 - cache)
        if name == "tanh":
            return dout * (1 - cache * cache)
        if name == "leaky_relu":
            return dout * cache
        return dout


class ReLU(Activation):
    """max(x, 0) elementwise; gradient 1 where x > 0, else 0."""

    def __init__(self) -> None:
        super().__init__("relu")


class LeakyReLU(Activation):
    """x where x > 0, else alpha * x."""

    def __init__(self, alpha: float = 0.01) -> None:
        super().__init__("leaky_relu", alpha)


class Sigmoid(Activation):
    """1 / (1 + e^-x), numerically stable."""

    def __init__(self) -> None:
        super().__init__("sigmoid")


class Tanh(Activation):
    """tanh(x)."""

    def __init__(self) -> None:
        super().__init__("tanh")


class Identity(Activation):
    """f(x) = x (a linear output)."""

    def __init__(self) -> None:
        super().__init__("identity")


class Dropout(Module):
    """Inverted dropout (随机失活): while training, zero each unit with probability ``p`` and
    scale the survivors by 1 / (1 - p), so at test time (``training=False``) the layer is the
    identity and needs no rescaling.

    Shapes: x (n, ...) -> out of the same shape. The cache is the scaled mask (or None).
    """

    def __init__(self, p: float = 0.5, seed=0) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability p must be in [0, 1), got {p!r}")
        self.p = float(p)
        self.rng = np.random.default_rng(seed)

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"

    def forward(self, x, training: bool = False):
        if not (type(x) is np.ndarray and x.dtype.kind == "f"):
            x = as_float_array(x, "x")
        if not training or self.p == 0.0:
            return x, None
        dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float64
        mask = (self.rng.random(x.shape, dtype=dtype) >= self.p).astype(x.dtype)
        mask *= 1.0 / (1.0 - self.p)
        return x * mask, mask

    def backward(self, dout, cache):
        if not (type(dout) is np.ndarray and dout.dtype.kind == "f"):
            dout = as_float_array(dout, "dout")
        if cache is None:
            return dout
        if dout.shape != cache.shape:
            raise ValueError(f"dout must have the output's shape {cache.shape}, "
                             f"got {dout.shape}")
        return dout * cache


class LayerNorm(Module):
    """Layer normalization (层归一化) over the last axis, as ``torch.nn.LayerNorm(d)``.

    Each sample (each position of a sequence) is normalised over its own ``d`` features, then
    scaled and shifted by learned vectors::

        mean, var = x.mean(-1), x.var(-1)          (biased variance, as torch)
        out = (x - mean) / sqrt(var + eps) * gamma + beta

    Unlike batch normalisation nothing depends on the other samples of the batch, so
    training and inference compute the same thing. ``gamma`` starts at 1, ``beta`` at 0.

    Shapes: x (..., d) -> out (..., d), any leading axes (batch, positions); params
    gamma (d,), beta (d,). The cache holds the normalised x̂ and 1/sqrt(var + eps), shape
    (..., 1).
    """

    def __init__(self, d: int, eps: float = 1e-5, dtype=np.float32) -> None:
        super().__init__()
        check_positive(d, "d", integer=True)
        check_positive(eps, "eps")
        self.eps = float(eps)
        self.params["gamma"] = np.ones(d, dtype=dtype)
        self.params["beta"] = np.zeros(d, dtype=dtype)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    @property
    def d(self) -> int:
        return self.params["gamma"].shape[0]

    def __repr__(self) -> str:
        return f"LayerNorm({self.d}, eps={self.eps:g})"

    def forward(self, x, training: bool = False):
        """x (..., d) -> out (..., d); cache = (x̂, 1/std)."""
        dtype = self.params["gamma"].dtype
        if not (type(x) is np.ndarray and x.dtype == dtype):
            x = as_float_array(x, "x").astype(dtype, copy=False)
        if x.ndim == 0 or x.shape[-1] != self.d:
            raise ValueError(f"x must have shape (..., {self.d}) with the {self.d} features on "
                             f"the last axis, got {x.shape}")
        centred = x - x.mean(axis=-1, keepdims=True)
        inv_std = 1.0 / np.sqrt((centred * centred).mean(axis=-1, keepdims=True) + self.eps)
        x_hat = centred * inv_std
        return x_hat * self.params["gamma"] + self.params["beta"], (x_hat, inv_std)

    def backward(self, dout, cache):
        """dout (..., d) -> dx (..., d); grads gamma = Σ dout·x̂, beta = Σ dout (over all
        leading axes).

        With g = dout·gamma: dx = (g - mean(g) - x̂·mean(g·x̂)) / std, the means over the
        d features (the two subtractions are the gradients through the mean and the variance).
        """
        x_hat, inv_std = cache
        if not (type(dout) is np.ndarray and dout.dtype.kind == "f"):
            dout = as_float_array(dout, "dout")
        if dout.shape != x_hat.shape:
            raise ValueError(f"dout must have the output's shape {x_hat.shape}, "
                             f"got {dout.shape}")
        d = self.d
        flat_dout, flat_hat = dout.reshape(-1, d), x_hat.reshape(-1, d)
        self.grads["gamma"][...] = (flat_dout * flat_hat).sum(axis=0)
        self.grads["beta"][...] = flat_dout.sum(axis=0)
        g = dout * self.params["gamma"]
        return (g - g.mean(axis=-1, keepdims=True)
                - x_hat * (g * x_hat).mean(axis=-1, keepdims=True)) * inv_std


# --- containers --------------------------------------------------------------------------

class Sequential(Module):
    """Layers applied one after another; the cache is the list of the layers' caches.

    ``named_parameters()`` yields ``("0.W", W, dW), ("0.b", b, db), ("2.W", …)`` with the
    layer's index as prefix, so optimizers, ``state_dict`` and the torch twin see one model.
    """

    def __init__(self, *layers: Module) -> None:
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"layer {i} must be a dlcourse Module, got "
                                f"{type(layer).__name__}")
        self.layers = list(layers)

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i):
        return self.layers[i]

    def __iter__(self):
        return iter(self.layers)

    def __repr__(self) -> str:
        inner = "\n".join(f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"{type(self).__name__}(\n{inner}\n)"

    def named_parameters(self):
        for i, layer in enumerate(self.layers):
            for name, param, grad in layer.named_parameters():
                yield f"{i}.{name}", param, grad

    def forward(self, x, training: bool = False):
        """x (n, d_in) -> (out (n, d_out), [cache of each layer])."""
        caches = []
        for layer in self.layers:
            x, cache = layer.forward(x, training)
            caches.append(cache)
        return x, caches

    def backward(self, dout, cache, *, need_dx: bool = True):
        """dout (n, d_out) -> dx (n, d_in), filling every layer's grads.

        With ``need_dx=False`` a first layer that supports it (Dense, Conv2D, a nested
        Sequential) skips its input gradient and None is returned (a training step never
        needs dLoss/dx of the data).
        """
        if len(cache) != len(self.layers):
            raise ValueError(f"cache must be the list returned by forward ({len(self.layers)} "
                             f"entries), got {len(cache)}")
        for i in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[i]
            if i == 0 and not need_dx and accepts_need_dx(layer):
                return layer.backward(dout, cache[i], need_dx=False)
            dout = layer.backward(dout, cache[i])
        return dout


class MLP(Sequential):
    """A multilayer perceptron (多层感知机): Dense, activation (, Dropout), …, Dense.

    Parameters
    ----------
    sizes : sequence of int
        ``[n_in, h1, …, n_out]``; at least two entries. The last Dense layer is linear: it
        outputs logits (classification) or values (regression).
    activation : str
        Hidden activation: relu, leaky_relu, tanh, sigmoid or identity.
    dropout : float
        If > 0, a Dropout(p=dropout) after every hidden activation.
    init, seed, dtype
        As for :class:`Dense`; each layer gets its own seed derived from ``seed``.
    """

    def __init__(self, sizes, activation: str = "relu", dropout: float = 0.0, init="he",
                 seed=0, dtype=np.float32) -> None:
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"sizes must list at least [n_in, n_out], got {sizes}")
        for s in sizes:
            check_positive(s, "every entry of sizes", integer=True)
        get_activation(activation)
        seeds = np.random.SeedSequence(seed).spawn(2 * len(sizes))
        layers: list[Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=False)):
            layers.append(Dense(n_in, n_out, init=init, seed=np.random.default_rng(seeds[i]),
                                dtype=dtype))
            if i < len(sizes) - 2:
                layers.append(Activation(activation))
                if dropout:
                    layers.append(Dropout(dropout, seed=np.random.default_rng(
                        seeds[len(sizes) + i])))
        super().__init__(*layers)
        self.sizes, self.activation, self.dropout = sizes, activation, dropout

    def __repr__(self) -> str:
        extra = f", dropout={self.dropout}" if self.dropout else ""
        return f"MLP({self.sizes}, activation={self.activation!r}{extra})"
