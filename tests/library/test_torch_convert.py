"""dlcourse.torch.to_torch / from_torch: dispatch by class, clear errors, reloaded modules."""

import subprocess
import sys

import numpy as np
import pytest

from dlcourse.core.layers import Dense
from dlcourse.torch import from_torch, to_torch


def test_unknown_objects_get_a_clear_error():
    with pytest.raises(TypeError, match="no torch twin for str; twins exist for .*Dense"):
        to_torch("a string")
    with pytest.raises(TypeError, match="no numpy model for int"):
        from_torch(3)


def test_a_reloaded_module_still_converts():
    """importlib.reload (and IPython's autoreload) make new class objects: the twins are
    found by module and name. In a fresh interpreter, so no other test sees the reload."""
    code = ("import importlib, numpy as np, dlcourse.models.cnn as cnn\n"
            "from dlcourse.torch import to_torch\n"
            "fresh = importlib.reload(cnn)\n"
            "layer = fresh.Conv2D(1, 2, 3, dtype=np.float64)\n"
            "twin = to_torch(layer)\n"
            "print(type(twin).__name__, bool((twin.weight.detach().numpy()"
            " == layer.params['W']).all()))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["Conv2d", "True"]


def test_dense_twin_holds_copies(rng):
    layer = Dense(3, 2, dtype=np.float64)
    twin = to_torch(layer)
    twin.weight.data.zero_()
    assert np.abs(layer.params["W"]).sum() > 0, "the twin copies, it does not share"
