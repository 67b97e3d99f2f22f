"""A micro reverse-mode autograd (自动微分) on numpy arrays, in the spirit of micrograd.

A :class:`Tensor` wraps a numpy array ``data`` and, once :meth:`Tensor.backward` has run,
the gradient ``grad`` of a scalar result with respect to it. Every operation returns a new
Tensor that remembers its inputs (``_parents``) and a closure ``_backward`` that adds the
operation's local chain-rule contribution into its inputs' ``grad``. ``backward`` orders the
graph topologically and calls those closures from the output back to the leaves.

This is exactly what PyTorch's autograd does, minus devices, dtypes policy, in-place
checks and speed: a framework is "numpy + a recorded graph + one backward per operation".

>>> x = Tensor([1.0, 2.0]); w = Tensor([3.0, -1.0])
>>> y = (x * w).sum(); y.backward(); x.grad
array([ 3., -1.])
"""

from __future__ import annotations

import numpy as np


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` over the axes numpy broadcast, so it has ``shape`` again."""
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


class Tensor:
    """A numpy array that records the operations applied to it, for backpropagation."""

    def __init__(self, data, _parents: tuple = (), _op: str = "", name: str = "") -> None:
        arr = np.asarray(data)
        self.data = arr if np.issubdtype(arr.dtype, np.floating) else arr.astype(np.float64)
        self.grad = np.zeros_like(self.data)
        self._parents = _parents
        self._op = _op
        self._backward = lambda: None
        self.name = name

    @property
    def shape(self) -> tuple:
        return self.data.shape

    def __repr__(self) -> str:
        label = f"{self.name}, " if self.name else ""
        op = f", op={self._op!r}" if self._op else ""
        return f"Tensor({label}shape={self.shape}{op})"

    # ---- elementwise arithmetic (broadcasting like numpy) ----
    def __add__(self, other) -> Tensor:
        other = as_tensor(other)
        out = Tensor(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += unbroadcast(out.grad, self.shape)
            other.grad += unbroadcast(out.grad, other.shape)
        out._backward = _backward
        return out

    def __mul__(self, other) -> Tensor:
        other = as_tensor(other)
        out = Tensor(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += unbroadcast(other.data * out.grad, self.shape)
            other.grad += unbroadcast(self.data * out.grad, other.shape)
        out._backward = _backward
        return out

    def __pow__(self, exponent: float) -> Tensor:
        if not isinstance(exponent, (int, float)):
            raise TypeError(f"only constant exponents are supported, got {type(exponent)}")
        out = Tensor(self.data ** exponent, (self,), f"**{exponent}")

        def _backward():
            self.grad += exponent * self.data ** (exponent - 1) * out.grad
        out._backward = _backward
        return out

    def __neg__(self) -> Tensor:
        return self * -1.0

    def __sub__(self, other) -> Tensor:
        return self + (-as_tensor(other))

    def __truediv__(self, other) -> Tensor:
        return self * as_tensor(other) ** -1.0

    def __radd__(self, other) -> Tensor:
        return self + other

    def __rmul__(self, other) -> Tensor:
        return self * other

    def __rsub__(self, other) -> Tensor:
        return as_tensor(other) - self

    # ---- linear algebra and reductions ----
    def __matmul__(self, other) -> Tensor:
        """(n, k) @ (k, m) -> (n, m)."""
        other = as_tensor(other)
        out = Tensor(self.data @ other.data, (self, other), "@")

        def _backward():
            self.grad += out.grad @ other.data.T
            other.grad += self.data.T @ out.grad
        out._backward = _backward
        return out

    def sum(self) -> Tensor:
        out = Tensor(self.data.sum(), (self,), "sum")

        def _backward():
            self.grad += np.ones_like(self.data) * out.grad
        out._backward = _backward
        return out

    def mean(self) -> Tensor:
        return self.sum() * (1.0 / self.data.size)

    # ---- non-linearities ----
    def tanh(self) -> Tensor:
        t = np.tanh(self.data)
        out = Tensor(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t ** 2) * out.grad
        out._backward = _backward
        return out

    def relu(self) -> Tensor:
        out = Tensor(np.maximum(self.data, 0), (self,), "relu")

        def _backward():
            self.grad += (self.data > 0) * out.grad
        out._backward = _backward
        return out

    def exp(self) -> Tensor:
        e = np.exp(self.data)
        out = Tensor(e, (self,), "exp")

        def _backward():
            self.grad += e * out.grad
        out._backward = _backward
        return out

    def log(self) -> Tensor:
        out = Tensor(np.log(self.data), (self,), "log")

        def _backward():
            self.grad += out.grad / self.data
        out._backward = _backward
        return out

    def sigmoid(self) -> Tensor:
        s = 1 / (1 + np.exp(-self.data))
        out = Tensor(s, (self,), "sigmoid")

        def _backward():
            self.grad += s * (1 - s) * out.grad
        out._backward = _backward
        return out

    # ---- backpropagation ----
    def topological_order(self) -> list[Tensor]:
        """Every tensor this one depends on, each after all of its inputs."""
        order, seen = [], set()

        def visit(t):
            if id(t) not in seen:
                seen.add(id(t))
                for parent in t._parents:
                    visit(parent)
                order.append(t)
        visit(self)
        return order

    def backward(self) -> None:
        """Fill ``.grad`` of every tensor in the graph with d(self)/d(tensor); self is scalar."""
        if self.data.size != 1:
            raise ValueError(f"backward() needs a scalar output, got shape {self.shape}; "
                             "reduce it first, e.g. with .sum() or .mean()")
        order = self.topological_order()
        for t in order:
            t.grad = np.zeros_like(t.data)
        self.grad = np.ones_like(self.data)
        for t in reversed(order):
            t._backward()


def as_tensor(x) -> Tensor:
    """``x`` itself if it is a Tensor, else a constant leaf Tensor holding it."""
    return x if isinstance(x, Tensor) else Tensor(x)
