"""Everything torch in dlcourse, and the only place that imports it.

- :func:`to_torch` / :func:`from_torch` (:mod:`~dlcourse.torch.convert`): the twin of a
  numpy model, with copies of its weights, so a notebook shows both give the same outputs and
  gradients. One module per concept registers its twins: :mod:`~dlcourse.torch.neuron`,
  :mod:`~dlcourse.torch.mlp`, :mod:`~dlcourse.torch.cnn`, :mod:`~dlcourse.torch.conv1d`,
  :mod:`~dlcourse.torch.rnn`, :mod:`~dlcourse.torch.attention`,
  :mod:`~dlcourse.torch.transformer` (also the numpy Transformer's blocks).
- :func:`~dlcourse.torch.gradients.torch_gradients`: autograd's gradients of any function,
  the reference the gradient checks compare with.
- Models written in torch only: :mod:`~dlcourse.torch.gan`, :mod:`~dlcourse.torch.transformer`.

The numpy library never imports this package (a test walks every module to prove it), so
``import dlcourse`` never pays torch's ~1 s import.
"""

# each module registers its twins
from . import attention, cnn, conv1d, mlp, neuron, rnn, transformer  # noqa: F401
from .convert import from_torch, to_torch, torch_dtype
from .gradients import torch_gradients

__all__ = ["from_torch", "to_torch", "torch_dtype", "torch_gradients"]
