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


#: What each folder of tests/ tests; its name is also a marker, applied here, so
#: ``-m library`` runs the library's unit tests and ``-m "not environment"`` skips the slow
#: environment checks. Finer markers (nbgrader, notebooks, binder, browser, hub) stay on the
#: tests themselves.
FOLDERS = ("library", "grading", "notebooks", "environment")


def pytest_collection_modifyitems(config, items):
    for item in items:
        parts = item.path.relative_to(config.rootpath).parts
        if len(parts) > 2 and parts[0] == "tests" and parts[1] in FOLDERS:
            item.add_marker(parts[1])
        elif parts[:1] == ("tests",) and len(parts) == 2:
            raise pytest.UsageError(f"tests/{parts[1]}: put it in one of the folders "
                                    f"tests/{{{','.join(FOLDERS)}}}/")
