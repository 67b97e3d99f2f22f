"""From numpy to torch and back: :func:`to_torch`, :func:`from_torch`, :func:`torch_dtype`.

Each twin module (``mlp``, ``cnn``, ``rnn``, ``neuron``, ``attention``) registers how its
numpy classes become torch modules, so the numpy side never imports torch and never knows
its twin: the dependency runs one way, from torch to numpy.
"""

from __future__ import annotations

from functools import singledispatch

import numpy as np
import torch
from torch import nn


def torch_dtype(array) -> torch.dtype:
    """The torch float dtype of a numpy float array (float64 stays float64, else float32)."""
    return torch.float64 if np.asarray(array).dtype == np.float64 else torch.float32


def activation_module(name: str, alpha: float = 0.01) -> nn.Module:
    """``nn.ReLU``/``nn.Sigmoid``/... for one of the numpy activation names."""
    factories = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
                 "identity": nn.Identity, "leaky_relu": lambda: nn.LeakyReLU(alpha)}
    if name not in factories:
        raise ValueError(f"no torch activation for {name!r}; expected one of {sorted(factories)}")
    return factories[name]()


def copy_into(parameter: torch.Tensor, array) -> None:
    """Copy a numpy array into a torch parameter of the same shape, without autograd."""
    with torch.no_grad():
        parameter.copy_(torch.from_numpy(np.ascontiguousarray(array)))


def _by_name(dispatcher, obj):
    """The registered function for ``obj``'s class found by module and qualified name, or
    None. A reloaded module (``importlib.reload``, IPython's autoreload) defines new class
    objects that the registry, keyed by the old ones, does not know."""
    for cls in type(obj).__mro__:
        for registered, fn in dispatcher.registry.items():
            if registered is not object and (registered.__module__, registered.__qualname__) \
                    == (cls.__module__, cls.__qualname__):
                return fn
    return None


@singledispatch
def to_torch(model) -> nn.Module:
    """The torch twin of a numpy model or layer, holding copies of its weights.

    Dense → ``nn.Linear`` (weight = W.T), Conv2D → ``nn.Conv2d``, LSTM → ``nn.LSTM``, a
    Sequential layer by layer (indices match: numpy "3.W" is the twin's "3.weight"), …;
    float64 parameters give a float64 twin.
    """
    fn = _by_name(to_torch, model)
    if fn is not None:
        return fn(model)
    known = sorted(cls.__name__ for cls in to_torch.registry if cls is not object)
    raise TypeError(f"no torch twin for {type(model).__name__}; twins exist for {known}")


@singledispatch
def from_torch(module, dtype=np.float64):
    """The numpy model holding copies of a torch module's weights (the reverse of
    :func:`to_torch`)."""
    fn = _by_name(from_torch, module)
    if fn is not None:
        return fn(module, dtype)
    known = sorted(cls.__name__ for cls in from_torch.registry if cls is not object)
    raise TypeError(f"no numpy model for {type(module).__name__}; known: {known}")
