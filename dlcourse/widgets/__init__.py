"""Interactive plots for the chapters (ipywidgets + matplotlib), one module per concept.

Each function returns an ``ipywidgets`` object; a notebook shows it by leaving it as the
last expression of a cell. ipywidgets and pyplot are imported inside the functions so
``import dlcourse`` stays light. Executed headless (nbclient, CI) a widget renders once with
its initial values and raises nothing.
"""

from .attention import attention_explorer
from .cnn import feature_map_explorer
from .conv_backward import conv_gradient_explorer
from .domains import signal_explorer
from .frameworks import backprop_explorer
from .gan import gan_scrubber
from .generalization import capacity_explorer
from .language import temperature_explorer
from .networks import gradient_flow_explorer
from .neuron import activation_explorer, neuron_explorer
from .optimization import optimizer_race
from .process import augmentation_explorer
from .sequences import lstm_gate_explorer
from .signals import dct_compression_explorer, spectrogram_explorer
from .stacking import stacking_explorer

__all__ = ["activation_explorer", "attention_explorer", "backprop_explorer",
           "augmentation_explorer", "capacity_explorer", "conv_gradient_explorer",
           "feature_map_explorer", "gan_scrubber",
           "gradient_flow_explorer", "lstm_gate_explorer", "neuron_explorer", "optimizer_race",
           "signal_explorer", "stacking_explorer", "temperature_explorer",
           "dct_compression_explorer", "spectrogram_explorer"]
