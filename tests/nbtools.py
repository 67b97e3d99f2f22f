"""Notebook helpers shared by the tests: execution, errors, and fake student answers."""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat

from dlcourse.grading import conventions
from dlcourse.grading.course import chapter_notebooks, list_chapters
from dlcourse.grading.kernel import RobustNotebookClient

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = list_chapters(ROOT)
#: The frozen one-chapter course the grading machinery's tests grade (its nbgrader_config.py
#: says why).
CLASS_ROOT = ROOT / "tests" / "grading" / "grading_course"


def solution_notebook(chapter: str, root: Path = ROOT) -> Path:
    return chapter_notebooks(root / "solutions" / chapter)[0]


def course_notebook(chapter: str, root: Path = ROOT) -> Path:
    return root / "course" / chapter / solution_notebook(chapter, root).name


def read(path) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=4)


def execute(nb, cwd: Path, timeout: int = 90) -> nbformat.NotebookNode:
    """Run a copy of ``nb`` top to bottom in a fresh python3 kernel, keeping errors."""
    nb = copy.deepcopy(nb)
    RobustNotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def errors(nb) -> list[tuple[int, nbformat.NotebookNode, dict]]:
    """``(index, cell, error output)`` for every cell whose execution raised."""
    found = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found.append((i, cell, out))
    return found


def answer_ids(nb) -> list[str]:
    return [conventions.grade_id(c) for c in nb.cells
            if conventions.is_answer(c) and not conventions.is_manually_graded(c)]


def fill_answers(student_nb, source_nb, leave_blank=(), replace=None):
    """A student's notebook with the model answers typed in.

    Answer cells listed in ``leave_blank`` keep the released stub; ``replace`` maps a
    grade_id to source code to type instead (a wrong answer). Everything else the student
    did not touch stays as released, as in a real submission.
    """
    replace = replace or {}
    model = {conventions.grade_id(c): c.source for c in source_nb.cells if conventions.is_answer(c)}
    nb = copy.deepcopy(student_nb)
    for cell in nb.cells:
        gid = conventions.grade_id(cell)
        if not conventions.is_answer(cell) or gid in leave_blank:
            continue
        if gid in replace:
            cell.source = replace[gid]
        else:
            cell.source = conventions.strip_markers(model[gid])
    return nb


def graded_cells_by_exercise(nb) -> dict[str, list]:
    """Autograded test cells grouped by the exercise (answer id) they check."""
    names = conventions.exercise_names(nb)
    groups: dict[str, list] = {}
    for cell in nb.cells:
        if conventions.is_autograded_test(cell):
            name = conventions.exercise_for_test(conventions.grade_id(cell), names)
            groups.setdefault(name, []).append(cell)
    return groups


def sandbox_or_skip() -> bool:
    """True when grading can use the sandbox here; skip (or, in CI, fail) when it cannot.

    CI sets DLCOURSE_REQUIRE_SANDBOX=1 (``.ci/run`` installs bubblewrap). Elsewhere, tests of
    the sandbox itself skip with the reason, and the other grading tests run without it.
    """
    import os

    from dlcourse.grading.sandbox import SandboxUnavailable, check_sandbox

    try:
        check_sandbox()
    except SandboxUnavailable:
        if os.environ.get("DLCOURSE_REQUIRE_SANDBOX") == "1":
            raise
        return False
    return True
