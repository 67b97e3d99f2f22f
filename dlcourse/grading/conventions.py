"""The course's notebook conventions, in one place.

What CONTRIBUTING.md ("Exercises (nbgrader cells)") asks of a chapter notebook, as code:

- nbgrader's cell metadata: which cells are answers, which are tests, their points;
- naming: an exercise's answer cell is ``ex_<name>`` (:data:`EXERCISE_PREFIX`), its test
  cells ``test_<name>`` or ``test_<name>_<suffix>`` (:data:`TEST_PREFIX`);
- markers: ``### BEGIN/END SOLUTION`` around the model answer, ``### BEGIN/END HIDDEN
  TESTS`` around the tests only the grader runs (:data:`HIDDEN_TESTS`);
- the statuses ``dlcourse grade`` gives a student (:data:`GRADED` … :data:`ERROR`).

Everything else parses names and markers through these functions.
"""

from __future__ import annotations

import re

from nbformat import NotebookNode

# --- markers -------------------------------------------------------------------------------

SOLUTION_BEGIN = "### BEGIN SOLUTION"
SOLUTION_END = "### END SOLUTION"
HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"
_MARKER_LINE = re.compile(r"^\s*### (BEGIN|END) (SOLUTION|HIDDEN TESTS)\s*$")
_SOLUTION_REGION = re.compile(r"### BEGIN SOLUTION[^\n]*\n(.*?)^\s*### END SOLUTION",
                              flags=re.S | re.M)

#: One hidden-test region: from the line that starts with ``### BEGIN HIDDEN TESTS`` to the
#: end of the line that starts with ``### END HIDDEN TESTS`` (both marker lines included);
#: group ``body`` is the tests between the marker lines.
HIDDEN_TESTS = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS[^\n]*\n(?P<body>.*?)"
                          r"^[ \t]*### END HIDDEN TESTS[^\n]*\n?", flags=re.S | re.M)
_TRAILING_BLANK_LINES = re.compile(r"^\s*\Z", flags=re.M)

# --- names ---------------------------------------------------------------------------------

EXERCISE_PREFIX = "ex_"   # the grade_id of an answer cell: ex_<name>
TEST_PREFIX = "test_"     # the grade_id of a test cell: test_<name> or test_<name>_<suffix>

# --- statuses of a student's row in grades.csv ----------------------------------------------

GRADED = "graded"                 # the notebook ran and every test was scored
TIMED_OUT = "timed out"           # a cell, or the whole notebook, ran too long and was stopped
KERNEL_DIED = "kernel died"       # the student's kernel died (os._exit, a crash, a limit)
LIMIT_HIT = "limit hit"           # a cell ran out of memory; the rest was graded
UNREADABLE = "could not be read"  # empty, not a notebook, or another chapter's notebook
MISSING = "missing"               # no notebook handed in (or on the roster only)
ERROR = "error"                   # nbgrader or the grader itself failed on this notebook


# --- cell metadata -------------------------------------------------------------------------

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


# --- exercise and test names ---------------------------------------------------------------

def answer_id(name: str) -> str:
    """The grade_id of exercise ``name``'s answer cell: ``ex_<name>``."""
    return EXERCISE_PREFIX + name


def _name_of(gid: str) -> str:
    return gid.removeprefix(EXERCISE_PREFIX)


def exercise_name(cell: NotebookNode) -> str | None:
    """The exercise an autograded answer cell holds (its grade_id without ``ex_``).

    None for every other cell, manually graded answers included.
    """
    gid = grade_id(cell)
    if gid is None or not is_answer(cell) or is_manually_graded(cell):
        return None
    return _name_of(gid)


def exercise_names(nb: NotebookNode) -> list[str]:
    """The autograded exercises of ``nb`` (not the manually graded ones), in notebook order."""
    return [name for name in map(exercise_name, nb.cells) if name is not None]


def answer_names(nb: NotebookNode) -> list[str]:
    """Like :func:`exercise_names`, with the manually graded answers too: every cell with a
    grade_id that the student writes in, without ``ex_``, in notebook order."""
    return [_name_of(grade_id(c)) for c in nb.cells if is_answer(c) and grade_id(c)]


def exercise_for_test(test_id: str, exercise_names) -> str | None:
    """The exercise a test cell checks, by the course's naming convention.

    An answer cell ``ex_<name>`` is checked by test cells ``test_<name>`` or
    ``test_<name>_<suffix>`` (CONTRIBUTING.md). The longest matching name wins, so
    ``test_neuron_forward`` belongs to ``neuron_forward`` rather than ``neuron``.
    """
    matches = [name for name in exercise_names
               if test_id == TEST_PREFIX + name or test_id.startswith(f"{TEST_PREFIX}{name}_")]
    return max(matches, key=len) if matches else None


# --- markers in a cell's source ------------------------------------------------------------

def strip_markers(source: str) -> str:
    """The instructor's source with the nbgrader marker lines removed.

    For an answer cell this is what a student who solved the exercise perfectly would have
    written; for a test cell it is the visible *and* hidden tests.
    """
    return "\n".join(line for line in source.splitlines() if not _MARKER_LINE.match(line))


def solution_regions(source: str) -> list[str]:
    """The text between each ``### BEGIN SOLUTION`` / ``### END SOLUTION`` pair."""
    return _SOLUTION_REGION.findall(source)


def hidden_test_regions(source: str) -> list[str]:
    """The tests between each ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS`` pair
    (without the blank lines just before the end marker)."""
    return [_TRAILING_BLANK_LINES.sub("", m["body"], count=1)
            for m in HIDDEN_TESTS.finditer(source)]


def remove_hidden_tests(source: str, note: str = "") -> str:
    """The visible part of a test cell: each hidden-test region, marker lines included,
    replaced by ``note`` (nothing by default, as in the released notebook)."""
    return HIDDEN_TESTS.sub(lambda _region: note, source)
