"""``dlcourse check``: the self-study student's self-check of one notebook.

Runs the notebook top to bottom in a fresh kernel (as the instructor's autograder does),
then reads every autograded test cell: a test passes when its cell raised nothing. While
a test cell runs, the functions its exercise forbids are switched off for the student's
code (:mod:`dlcourse.grading.tripwire`), as they are for the instructor's grader. Points
are counted with nbgrader's own rule (``determine_grade``, reached through
:mod:`dlcourse.grading.nbgrader_setup`), so the total equals what the instructor's grader
gives for the visible tests. Hidden tests are not in the student's notebook and cannot be
run here; the report says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from . import conventions, tripwire
from .kernel import RobustNotebookClient
from .nbgrader_setup import cell_was_edited, grade_of_executed_cell

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class TestResult:
    """One autograded test cell after execution."""

    grade_id: str
    exercise: str | None
    points: float
    max_points: float
    message: str = ""
    edited: bool = False

    @property
    def passed(self) -> bool:
        return self.points >= self.max_points


@dataclass
class CheckReport:
    notebook: Path
    tests: list[TestResult] = field(default_factory=list)
    manual: list[tuple[str, float]] = field(default_factory=list)
    kernel_error: str = ""

    @property
    def score(self) -> float:
        return sum(t.points for t in self.tests)

    @property
    def max_score(self) -> float:
        return sum(t.max_points for t in self.tests)

    @property
    def all_passed(self) -> bool:
        return bool(self.tests) and not self.kernel_error and all(t.passed for t in self.tests)


def _error_message(cell) -> str:
    """``ename: evalue`` of the cell's error output, ANSI colours removed."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            text = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".strip()
            return _ANSI.sub("", text).rstrip(": ")
    return ""


def _report(nb, path: Path, kernel_error: str = "") -> CheckReport:
    report = CheckReport(notebook=path, kernel_error=kernel_error)
    exercises = conventions.answer_names(nb)
    for cell in nb.cells:
        gid = conventions.grade_id(cell)
        if conventions.is_manually_graded(cell):
            report.manual.append((gid, conventions.points(cell)))
        if not conventions.is_autograded_test(cell):
            continue
        earned, max_points = grade_of_executed_cell(cell)
        report.tests.append(TestResult(
            grade_id=gid,
            exercise=conventions.exercise_for_test(gid, exercises),
            points=float(earned or 0.0),
            max_points=float(max_points),
            message=_error_message(cell),
            edited=cell_was_edited(cell),
        ))
    return report


def run_check(notebook: str | Path, timeout: int = 60) -> CheckReport:
    """Execute ``notebook`` in a fresh kernel (in its own folder) and grade its test cells.

    ``timeout`` is per cell, in seconds, as for the instructor's autograder; a cell that
    runs longer is stopped and its test counts as failed.
    """
    path = Path(notebook)
    if not path.is_file():
        raise FileNotFoundError(f"no notebook at {path}")
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # any unreadable file: the student needs the reason, not a trace
        raise ValueError(f"{path} is not a readable Jupyter notebook: {exc}") from None
    client = RobustNotebookClient(nb, timeout=timeout, allow_errors=True, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent.resolve())}},
                            interrupt_on_timeout=True)
    client.guards = tripwire.guards_of(_released_copy(path) or nb, names_from=nb)
    kernel_error = ""
    try:
        client.execute()
    except CellTimeoutError as exc:
        kernel_error = f"a cell ran longer than {timeout} s and was stopped: {exc}"
    except DeadKernelError as exc:
        kernel_error = f"the kernel died (sys.exit, os._exit or a crash?): {exc}"
    return _report(nb, path, kernel_error)


def _released_copy(path: Path):
    """The course's own release of this notebook (``course/<chapter>/<name>``), if found.

    Its forbid lists are used rather than the student's copy, whose metadata may have been
    edited.
    """
    from .course import find_course_root

    try:
        root = find_course_root(path.parent)
    except FileNotFoundError:
        return None
    released = root / "course" / path.parent.name / path.name
    if not released.is_file() or released.resolve() == path.resolve():
        return None
    try:
        return nbformat.read(released, as_version=4)
    except Exception:  # noqa: BLE001 — fall back to the student's own copy
        return None


def format_report(report: CheckReport) -> str:
    """The table ``dlcourse check`` prints."""
    lines = [f"Self-check of {report.notebook}", ""]
    width = max([len(t.grade_id) for t in report.tests] + [10])
    for t in report.tests:
        status = "PASS" if t.passed else "FAIL"
        line = f"  {status}  {t.grade_id:<{width}}  {t.points:g}/{t.max_points:g} points"
        if t.message:
            line += f"  — {t.message}"
        lines.append(line)
        if t.edited:
            lines.append("        note: this test cell was edited; the instructor's grader "
                         "restores the original test, so edits cannot change the grade")
    if not report.tests:
        lines.append("  (no autograded test cells found: is this a course notebook?)")
    for gid, pts in report.manual:
        lines.append(f"  ----  {gid:<{width}}  {pts:g} points, graded by the instructor")
    if report.kernel_error:
        lines.append(f"\n  Problem while running the notebook: {report.kernel_error}")
    lines.append("")
    lines.append(f"Total: {report.score:g}/{report.max_score:g} points from the visible tests.")
    if report.all_passed:
        lines.append("All visible tests pass. Hidden tests (run only by the instructor's "
                     "grader) may check more cases.")
    else:
        lines.append("Open the notebook, read the failing test's message, fix the answer cell "
                     "it checks and run the check again.")
    return "\n".join(lines)
