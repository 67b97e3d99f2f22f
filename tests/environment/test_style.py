import shutil
import subprocess
import sys
from pathlib import Path

from ..nbtools import ROOT


def test_ruff_is_clean():
    beside_python = Path(sys.executable).parent / "ruff"
    ruff = str(beside_python) if beside_python.exists() else shutil.which("ruff")
    assert ruff, "ruff is not installed: pip install -c constraints.txt -e '.[test]'"
    result = subprocess.run([ruff, "check", "dlcourse", "tests", "benchmarks"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_package_metadata_declares_the_cli():
    from importlib.metadata import entry_points

    names = {ep.name for ep in entry_points(group="console_scripts")}
    assert "dlcourse" in names, f"installed with {sys.executable}, but no dlcourse script"
