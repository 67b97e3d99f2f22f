"""Reading nbgrader's cell metadata: which cells are answers, which are tests, points."""

from __future__ import annotations

import re

from nbformat import NotebookNode

SOLUTION_BEGIN = "### BEGIN SOLUTION"
SOLUTION_END = "### END SOLUTION"
HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"
_MARKER_LINE = re.compile(r"^\s*### (BEGIN|END) (SOLUTION|HIDDEN TESTS)\s*$")


def nbgrader_meta(cell: NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def grade_id(cell: NotebookNode) -> str | None:
    return nbgrader_meta(cell).get("grade_id")


def is_autograded_test(cell: NotebookNode) -> bool:
    """A locked code cell of tests that carries points."""
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def is_answer(cell: NotebookNode) -> bool:
    """A cell the student writes in (autograded answer or manually graded answer)."""
    return bool(nbgrader_meta(cell).get("solution"))


def is_manually_graded(cell: NotebookNode) -> bool:
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and bool(meta.get("solution"))


def points(cell: NotebookNode) -> float:
    return float(nbgrader_meta(cell).get("points", 0) or 0)


def strip_markers(source: str) -> str:
    """The instructor's source with the nbgrader marker lines removed.

    For an answer cell this is what a student who solved the exercise perfectly would have
    written; for a test cell it is the visible *and* hidden tests.
    """
    return "\n".join(line for line in source.splitlines() if not _MARKER_LINE.match(line))


def solution_regions(source: str) -> list[str]:
    """The text between each ``### BEGIN SOLUTION`` / ``### END SOLUTION`` pair."""
    return re.findall(r"### BEGIN SOLUTION[^\n]*\n(.*?)^\s*### END SOLUTION", source,
                      flags=re.S | re.M)


def hidden_test_regions(source: str) -> list[str]:
    return re.findall(r"### BEGIN HIDDEN TESTS[^\n]*\n(.*?)^\s*### END HIDDEN TESTS", source,
                      flags=re.S | re.M)


def exercise_for_test(test_id: str, exercise_names) -> str | None:
    """The exercise a test cell checks, by the course's naming convention.

    An answer cell ``ex_<name>`` is checked by test cells ``test_<name>`` or
    ``test_<name>_<suffix>`` (CONTRIBUTING.md). The longest matching name wins, so
    ``test_neuron_forward`` belongs to ``neuron_forward`` rather than ``neuron``.
    """
    matches = [name for name in exercise_names
               if test_id == f"test_{name}" or test_id.startswith(f"test_{name}_")]
    return max(matches, key=len) if matches else None
