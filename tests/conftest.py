import os

import numpy as np
import pytest

# Headless: matplotlib must never try to open a window in the tests.
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def rng():
    """A seeded generator: every test is deterministic."""
    return np.random.default_rng(1234)
