"""Model files: every parameter (``state_dict()``) in one ``.npz`` file, and back."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def save_model(model, path) -> Path:
    """Save every parameter (``model.state_dict()``) to an ``.npz`` file; returns the path
    written (numpy appends ``.npz`` when missing)."""
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    np.savez(path, **model.state_dict())
    return path


def load_model(model, path):
    """Load parameters saved by :func:`save_model` into ``model`` (same architecture) in
    place; returns the model."""
    path = Path(path)
    if not path.exists() and path.with_name(path.name + ".npz").exists():
        path = path.with_name(path.name + ".npz")
    with np.load(path) as data:
        model.load_state_dict({name: data[name] for name in data.files})
    return model
