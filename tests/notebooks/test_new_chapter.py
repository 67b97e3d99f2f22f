"""``dlcourse new-chapter`` writes a chapter that already passes the suite.

The scaffold runs in a copy of the course (solutions, course, the tests, README, GLOSSARY,
the configuration), and that copy's own tests for the new chapter run there: the notebook
executes, its bypass scores zero and its mistakes are caught, the nbgrader round trip gives
full marks and zero, the released copy is in sync, and the glossary and the README tables
know it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from ..nbtools import ROOT

pytestmark = [pytest.mark.nbgrader, pytest.mark.xdist_group("new_chapter")]

COPIED = ("solutions", "course", "tests", "README.md", "GLOSSARY.md", "CONTRIBUTING.md",
          "nbgrader_config.py", "pyproject.toml")


def test_new_chapter_passes_the_suite(tmp_path):
    course = tmp_path / "course-copy"
    course.mkdir()
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, course / name,
                            ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
        else:
            shutil.copy2(source, course / name)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    made = subprocess.run([sys.executable, "-m", "dlcourse", "new-chapter", "99_example"],
                          cwd=course, capture_output=True, text=True, env=env)
    assert made.returncode == 0, made.stderr
    assert (course / "solutions" / "99_example" / "99_example.ipynb").is_file()
    assert (course / "course" / "99_example" / "99_example.ipynb").is_file()

    again = subprocess.run([sys.executable, "-m", "dlcourse", "new-chapter", "99_other"],
                           cwd=course, capture_output=True, text=True, env=env)
    assert again.returncode != 0 and "99 is taken by 99_example" in again.stderr

    suite = subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider",
         "tests/notebooks", "-k", "99_example or library_map or glossary"],
        cwd=course, capture_output=True, text=True, env=env, timeout=900)
    assert suite.returncode == 0, suite.stdout[-4000:] + suite.stderr[-2000:]
    ran = [line for line in suite.stdout.splitlines() if "99_example" in line]
    assert ran and all("PASSED" in line for line in ran), "\n".join(ran)
    assert any("round_trip" in line for line in ran) and any("bypasses" in line for line in ran)
