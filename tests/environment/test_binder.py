"""Binder: the environment repo2docker would build from binder/, built here in a venv.

repo2docker needs Docker, which CI does not have. This test does what it would do: a fresh
virtual environment, ``pip install -r binder/requirements.txt`` (the same pins), then
``binder/postBuild`` from the repository root; then it imports everything and executes a
chapter's solution notebook with that environment's kernel.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib.metadata import requires

import pytest

from ..nbtools import ROOT

BINDER = ROOT / "binder"


def _pins(path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def test_binder_pins_are_the_project_pins():
    binder, project = _pins(BINDER / "requirements.txt"), _pins(ROOT / "constraints.txt")
    different = {n: (v, project.get(n)) for n, v in binder.items() if project.get(n) != v}
    assert not different, f"binder/requirements.txt differs from constraints.txt: {different}"
    runtime = [r for r in requires("dlcourse") if "extra ==" not in r]
    names = {re.sub(r"[-_.]+", "-", re.split(r"[<>=!~\[ ]", d)[0]).lower() for d in runtime}
    assert names <= binder.keys(), f"not installed on Binder: {sorted(names - binder.keys())}"
    assert binder["torch"].endswith("+cpu"), "Binder must get the CPU-only torch"
    for dev_only in ("pytest", "ruff", "playwright", "pip-tools"):
        assert dev_only not in binder


@pytest.mark.binder
def test_binder_environment_builds_and_runs_a_chapter(tmp_path):
    venv = tmp_path / "binder-env"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # PyTorch's CPU index is unreachable from CI; pip finds the same +cpu wheel locally.
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("\n".join(
        line for line in (BINDER / "requirements.txt").read_text().splitlines()
        if not line.startswith("--extra-index-url")))
    env = dict(os.environ, PATH=f"{venv / 'bin'}:{os.environ['PATH']}", HOME=str(tmp_path))
    env.pop("PYTHONPATH", None)
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", "-r",
                              str(requirements)], env=env, capture_output=True, text=True)
    assert install.returncode == 0, install.stderr[-3000:]
    post = subprocess.run(["bash", str(BINDER / "postBuild")], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    assert post.returncode == 0, post.stdout[-2000:] + post.stderr[-2000:]

    script = """
import json, sys
import dlcourse, numpy, matplotlib, ipywidgets, jupyterlab, nbgrader, sklearn, torch, tqdm
import nbclient, nbformat
assert dlcourse.__file__.startswith(sys.argv[2]), dlcourse.__file__
assert torch.__version__.endswith("+cpu"), torch.__version__
nb = nbformat.read(sys.argv[1], as_version=4)
nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                        resources={"metadata": {"path": sys.argv[3]}}).execute()
print(json.dumps({"torch": torch.__version__, "executed": len(nb.cells)}))
"""
    notebook = ROOT / "solutions" / "01_neuron" / "01_neuron.ipynb"
    run = subprocess.run([str(python), "-c", script, str(notebook), str(ROOT / "dlcourse"),
                          str(notebook.parent)], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    assert json.loads(run.stdout.strip().splitlines()[-1])["executed"] > 10

    listing = subprocess.run([str(venv / "bin" / "jupyter"), "labextension", "list"], env=env,
                             capture_output=True, text=True)
    text = listing.stdout + listing.stderr
    assert "@jupyter-widgets/jupyterlab-manager" in text, "ipywidgets must work on Binder"
    assert "@jupyter/nbgrader:formgrader" in text and "disabled" in text.lower()
    config = venv / "etc" / "jupyter" / "jupyter_server_config.d" / "dlcourse.json"
    assert json.loads(config.read_text())["ServerApp"]["default_url"] == "/lab/tree/course"
