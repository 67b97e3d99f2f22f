"""torch twins of the numpy recurrent layers: ``nn.RNN``/``nn.LSTM`` with copied weights.

The numpy layers in :mod:`dlcourse.models.rnn` use torch's parameter names, shapes and gate order
(i, f, g, o), so the copy is a one-to-one ``load_state_dict``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def recurrent_to_torch(module) -> nn.Module:
    """Build ``nn.RNN``/``nn.LSTM`` with the same sizes, layout, dtype and weights as ``module``."""
    kwargs = dict(input_size=module.input_size, hidden_size=module.hidden_size,
                  num_layers=module.num_layers, batch_first=module.batch_first)
    if module.kind == "LSTM":
        twin = nn.LSTM(**kwargs)
    else:
        twin = nn.RNN(nonlinearity=module.nonlinearity, **kwargs)
    dtype = torch.float64 if module.dtype == np.float64 else torch.float32
    twin = twin.to(dtype)
    state = {name: torch.from_numpy(np.array(p, copy=True)) for name, p in module.params.items()}
    twin.load_state_dict(state)
    return twin


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


def sequence_model_to_torch(model) -> TorchSequenceModel:
    """Twin of :class:`dlcourse.models.sequence_models.SequenceModel` with copied weights."""
    rnn = recurrent_to_torch(model.rnn)
    W = model.head.params["W"]
    head = nn.Linear(W.shape[0], W.shape[1]).to(next(rnn.parameters()).dtype)
    with torch.no_grad():
        head.weight.copy_(torch.from_numpy(W.T.copy()))
        head.bias.copy_(torch.from_numpy(model.head.params["b"].copy()))
    return TorchSequenceModel(rnn, head, model.readout)
