"""The torch twins of :mod:`dlcourse.models.rnn` and :mod:`dlcourse.models.sequence_models`.

The numpy recurrent layers use torch's parameter names, shapes and gate order (i, f, g, o),
so ``nn.RNN``/``nn.LSTM`` get their weights by a one-to-one ``load_state_dict``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from dlcourse.models.rnn import LSTM, RNN
from dlcourse.models.sequence_models import SequenceModel

from .convert import copy_into, to_torch, torch_dtype


def _recurrent(module) -> nn.Module:
    kwargs = dict(input_size=module.input_size, hidden_size=module.hidden_size,
                  num_layers=module.num_layers, batch_first=module.batch_first)
    if module.kind == "LSTM":
        twin = nn.LSTM(**kwargs)
    else:
        twin = nn.RNN(nonlinearity=module.nonlinearity, **kwargs)
    twin = twin.to(torch.float64 if module.dtype == np.float64 else torch.float32)
    twin.load_state_dict({name: torch.from_numpy(np.array(p, copy=True))
                          for name, p in module.params.items()})
    return twin


to_torch.register(RNN, _recurrent)
to_torch.register(LSTM, _recurrent)


def copy_from_torch(module, twin: nn.Module) -> None:
    """Copy a trained torch twin's weights back into the numpy layer, in place."""
    module.load_state_dict({name: t.detach().cpu().numpy()
                            for name, t in twin.state_dict().items()})


class TorchSequenceModel(nn.Module):
    """``nn.LSTM``/``nn.RNN`` (batch-first) + ``nn.Linear`` on the last step or every step."""

    def __init__(self, rnn: nn.Module, head: nn.Linear, readout: str = "last") -> None:
        super().__init__()
        self.rnn, self.head, self.readout = rnn, head, readout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hs, _ = self.rnn(x)
        return self.head(hs[:, -1] if self.readout == "last" else hs)


@to_torch.register
def _(model: SequenceModel) -> TorchSequenceModel:
    rnn = _recurrent(model.rnn)
    W = model.head.params["W"]
    head = nn.Linear(W.shape[0], W.shape[1]).to(torch_dtype(W))
    copy_into(head.weight, W.T)
    copy_into(head.bias, model.head.params["b"])
    return TorchSequenceModel(rnn, head, model.readout)
