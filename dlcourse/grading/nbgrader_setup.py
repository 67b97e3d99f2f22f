"""The one place that touches nbgrader's internals: its commands, preprocessors, gradebook
and grading rules (a test cell's points, an edited cell's checksum).

``nbgrader_config.py`` (plain ``nbgrader autograde`` / ``generate_feedback`` from the
repository root) and ``dlcourse grade`` (one private nbgrader course per student) both take
their preprocessor lists from here, so the two can never drift apart.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def autograde_preprocessors(single_kernel: bool = False) -> list[type]:
    """nbgrader's autograde steps, with the two-process sandboxed execution in place of
    ``Execute`` and a cap on characters per output (nbgrader's LimitOutput counts lines).

    ``single_kernel`` puts back nbgrader's own one-kernel execution, where student code can
    rewrite its tests: only ``benchmarks/grading.py`` uses it, as the baseline it measures.
    """
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        IgnorePattern,
        LimitOutput,
        SaveAutoGrades,
    )

    from .kernel import RobustExecute
    from .preprocessors import TruncateLongOutput
    from .two_process import TwoProcessExecute

    execute = RobustExecute if single_kernel else TwoProcessExecute
    return [execute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
            TruncateLongOutput, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]


def feedback_preprocessors() -> list[type]:
    """Feedback without hidden tests (nbgrader issues 917, 1363)."""
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import GetGrades

    from .preprocessors import RedactHiddenTests

    return [GetGrades, RedactHiddenTests, CSSHTMLHeaderPreprocessor]


def configure(c, *, timeout: int = 60, single_kernel: bool = False) -> None:
    """Apply the course's nbgrader settings to a traitlets config object ``c``."""
    # nbgrader honours Execute.timeout (not ExecutePreprocessor.timeout; nbgrader issue 1463).
    c.Execute.timeout = timeout
    c.Autograde.autograde_preprocessors = autograde_preprocessors(single_kernel)
    c.GenerateFeedback.preprocessors = feedback_preprocessors()


def run(args: list[str], cwd: Path, db_url: str | None = None,
        timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m nbgrader ARGS`` in ``cwd`` (which holds nbgrader_config.py)."""
    cmd = [sys.executable, "-m", "nbgrader", *args]
    if db_url:
        cmd.append(f"--CourseDirectory.db_url={db_url}")
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=environment_with_venv())


def environment_with_venv() -> dict[str, str]:
    """os.environ with this interpreter's bin/ first on PATH.

    nbgrader shells out to ``alembic`` by name; when the course's venv is not activated
    (``.venv/bin/dlcourse ...``) that lookup would fail without this.
    """
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def read_scores(db: Path, assignment: str, notebook_id: str, student: str) -> dict[str, float]:
    """``{test grade_id: points}`` of one student's notebook; {} when there is none."""
    from nbgrader.api import Gradebook

    try:
        with Gradebook(f"sqlite:///{db}") as gb:
            sub = gb.find_submission_notebook(notebook_id, assignment, student)
            return {g.name: float(g.score or 0.0) for g in sub.grades}
    except Exception:  # a missing entry or a broken gradebook both mean: no scores
        return {}


def grade_of_executed_cell(cell) -> tuple[float | None, float]:
    """``(earned, max points)`` of an executed autograded test cell, by nbgrader's own rule
    (:func:`nbgrader.utils.determine_grade`: full points when the cell raised nothing)."""
    from nbgrader.utils import determine_grade

    return determine_grade(cell)


def cell_was_edited(cell) -> bool:
    """Whether a cell's source or metadata differ from what nbgrader released (its stored
    checksum); False when the cell carries no checksum."""
    from nbgrader.utils import compute_checksum

    from .conventions import nbgrader_meta

    stored = nbgrader_meta(cell).get("checksum")
    return bool(stored) and stored != compute_checksum(cell)
