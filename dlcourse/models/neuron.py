"""The single neuron (单个神经元): weighted sum, plus bias, through an activation.

    z = x · w + b        (net input, 净输入)
    a = f(z)             (output, 输出)

:class:`Neuron` follows the :class:`~dlcourse.core.module.Module` protocol (forward/backward with
an explicit cache) and can train itself by full-batch gradient descent with :meth:`fit`.
``dlcourse.torch.to_torch(neuron)`` builds the same neuron in torch, to compare outputs and
gradients.
"""

from __future__ import annotations

import numpy as np

from dlcourse.core.activations import get_activation
from dlcourse.core.checks import as_float_array, check_positive, check_same_length
from dlcourse.core.losses import binary_cross_entropy_with_logits, mse
from dlcourse.core.module import Module


class Neuron(Module):
    """One artificial neuron with ``n_inputs`` weights, a bias and an activation.

    Parameters
    ----------
    n_inputs : int
        Number of input features d.
    activation : {"sigmoid", "tanh", "relu", "leaky_relu", "identity"}
    seed : int
        Seed for the small random initial weights, so runs repeat exactly.
    dtype : numpy dtype, default float64

    Attributes
    ----------
    params : {"w": (d,), "b": ()}
    loss_history_ : list of float
        Training loss recorded by :meth:`fit` *before* each update: the first entry is the
        loss of the starting weights, the last one is measured before the final step.
    """

    def __init__(self, n_inputs: int, activation: str = "sigmoid", seed: int = 0,
                 dtype=np.float64) -> None:
        super().__init__()
        check_positive(n_inputs, "n_inputs", integer=True)
        self.activation = get_activation(activation)
        rng = np.random.default_rng(seed)
        self.params["w"] = (rng.standard_normal(n_inputs) / np.sqrt(n_inputs)).astype(dtype)
        self.params["b"] = np.zeros((), dtype=dtype)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    @property
    def n_inputs(self) -> int:
        return self.params["w"].shape[0]

    def __repr__(self) -> str:
        return f"Neuron(n_inputs={self.n_inputs}, activation={self.activation.name!r})"

    def _check_input(self, X) -> np.ndarray:
        X = as_float_array(X, "X", ndim=2, shape_hint=f"(n_samples, {self.n_inputs})")
        if X.shape[1] != self.n_inputs:
            raise ValueError(f"X must have shape (n_samples, {self.n_inputs}): this neuron has "
                             f"{self.n_inputs} weights, got {X.shape[1]} features")
        return X

    def net_input(self, X) -> np.ndarray:
        """Steps 1 and 2: the weighted sum plus the bias, z = X w + b, shape (n,)."""
        X = self._check_input(X)
        return X @ self.params["w"] + self.params["b"]

    def forward(self, X, training: bool = False):
        """X (n, d) -> activations a (n,); cache = (X, z)."""
        X = self._check_input(X)
        z = X @ self.params["w"] + self.params["b"]
        return self.activation.fn(z), (X, z)

    def backward(self, da, cache):
        """da = dLoss/da (n,) -> dLoss/dX (n, d); fills grads["w"] (d,), grads["b"] ()."""
        X, z = cache
        da = as_float_array(da, "da", ndim=1, shape_hint="(n_samples,)")
        if da.shape[0] != X.shape[0]:
            raise ValueError(f"da must have shape ({X.shape[0]},), got {da.shape}")
        dz = da * self.activation.grad(z)
        return self._backward_from_net_input(dz, X)

    def _backward_from_net_input(self, dz, X):
        self.grads["w"][...] = X.T @ dz
        self.grads["b"][...] = dz.sum()
        return np.outer(dz, self.params["w"])

    def loss_and_backward(self, X, y, loss: str = "auto"):
        """Forward, loss and backward in one call; returns the loss.

        ``loss="auto"`` picks binary cross-entropy for a sigmoid neuron (fused with the
        sigmoid, so dLoss/dz = (a - y)/n, which never vanishes on confident mistakes) and
        mean squared error otherwise.
        """
        X = self._check_input(X)
        y = as_float_array(y, "y", ndim=1, shape_hint="(n_samples,)")
        check_same_length(X, y, "X", "y")
        if loss == "auto":
            loss = ("binary_cross_entropy_with_logits" if self.activation.name == "sigmoid"
                    else "mse")
        z = X @ self.params["w"] + self.params["b"]
        if loss == "binary_cross_entropy_with_logits":
            if self.activation.name != "sigmoid":
                raise ValueError(f"loss={loss!r} needs a sigmoid neuron (outputs in (0, 1))")
            value, dz = binary_cross_entropy_with_logits(z, y)
            self._backward_from_net_input(dz, X)
        elif loss == "mse":
            value, da = mse(self.activation.fn(z), y)
            self._backward_from_net_input(da * self.activation.grad(z), X)
        else:
            raise ValueError(f"loss must be 'auto', 'binary_cross_entropy_with_logits' or 'mse' "
                             f"(the names of dlcourse.core.losses.LOSSES), got {loss!r}")
        return value

    def fit(self, X, y, lr: float = 0.5, epochs: int = 200, loss: str = "auto"):
        """Full-batch gradient descent (梯度下降): w <- w - lr * dLoss/dw, same for b.

        Each of the ``epochs`` updates first records the loss in ``loss_history_``, then steps.
        """
        check_positive(lr, "lr")
        check_positive(epochs, "epochs", integer=True)
        self.loss_history_ = []
        for _ in range(epochs):
            self.loss_history_.append(self.loss_and_backward(X, y, loss))
            for _, param, grad in self.named_parameters():
                param -= lr * grad
        return self

    def predict(self, X) -> np.ndarray:
        """Class labels in {0, 1}: 1 where the output is above the middle of its range."""
        low, high = self.activation.output_range
        threshold = 0.0 if not (np.isfinite(low) and np.isfinite(high)) else (low + high) / 2
        return (self(X) > threshold).astype(int)

    def score(self, X, y) -> float:
        """Accuracy of :meth:`predict` against labels y in {0, 1}."""
        y = as_float_array(y, "y", ndim=1, shape_hint="(n_samples,)")
        return float(np.mean(self.predict(X) == y))
