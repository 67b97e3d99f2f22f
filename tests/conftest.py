import os

# Headless: matplotlib must never try to open a window in the tests.
os.environ.setdefault("MPLBACKEND", "Agg")

# Under pytest-xdist two workers share the cores, each starting kernels (and nbgrader
# subprocesses) that inherit this environment. With every BLAS on all cores the machine is
# oversubscribed and small matrix ops get orders of magnitude slower (seen here), so each
# process keeps to one BLAS / OpenMP thread.
if os.environ.get("PYTEST_XDIST_WORKER"):
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402 — after the thread settings, which BLAS reads at import
import pytest  # noqa: E402


@pytest.fixture
def rng():
    """A seeded generator: every test is deterministic."""
    return np.random.default_rng(1234)
