"""Every chapter notebook runs, and course/ is an exact, solution-free release of solutions/."""

from __future__ import annotations

import json
import re

import pytest

from dlcourse.grading import conventions
from dlcourse.grading.release import release
from dlcourse.grading.scaffold import glossary_rows, table_rows

from ..nbtools import CHAPTERS, ROOT, course_notebook, read, solution_notebook

ALL_NOTEBOOKS = sorted((ROOT / "solutions").glob("*/*.ipynb")) + sorted(
    (ROOT / "course").glob("*/*.ipynb"))


def test_there_are_chapters():
    assert "01_neuron" in CHAPTERS
    for chapter in CHAPTERS:
        assert course_notebook(chapter).is_file(), f"{chapter} was never released"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_committed_without_outputs(path):
    nb = read(path)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {i} of {path.name} has outputs; clear them"
            assert cell.execution_count is None, f"cell {i} of {path.name} has a count"
    assert nb.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_grade_ids_unique_and_conventional(chapter):
    nb = read(solution_notebook(chapter))
    ids = [conventions.grade_id(c) for c in nb.cells if conventions.grade_id(c)]
    assert len(ids) == len(set(ids)), "grade_ids must be unique within a notebook"
    answers = conventions.answer_names(nb)
    assert all(conventions.grade_id(c).startswith(conventions.EXERCISE_PREFIX)
               for c in nb.cells if conventions.is_answer(c))
    tests = [c for c in nb.cells if conventions.is_autograded_test(c)]
    assert len(tests) >= 3, "each chapter has at least 3 graded exercises"
    for cell in tests:
        gid = conventions.grade_id(cell)
        assert conventions.exercise_for_test(gid, answers), f"{gid} names no exercise ex_<name>"
        assert conventions.points(cell) > 0, f"{gid} has no points"
        assert conventions.hidden_test_regions(cell.source), f"{gid} has no hidden tests"
        visible = conventions.remove_hidden_tests(cell.source)
        code_lines = [ln for ln in visible.splitlines() if ln.strip()
                      and not ln.strip().startswith("#")]
        assert code_lines, (f"{gid} holds only hidden tests: students would see an empty "
                            "cell (nbgrader issue 1471); add a visible check")


def test_no_solution_or_hidden_test_in_course():
    for path in sorted((ROOT / "course").rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS",
                       "END HIDDEN TESTS"):
            assert marker not in text, f"{path.relative_to(ROOT)} contains '{marker}'"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_solution_code_does_not_leak_into_course(chapter):
    source, student = read(solution_notebook(chapter)), read(course_notebook(chapter))
    student_text = "\n".join(c.source for c in student.cells)
    hidden, visible = set(), set()
    for cell in source.cells:
        regions = conventions.solution_regions(cell.source) + conventions.hidden_test_regions(
            cell.source)
        if conventions.is_manually_graded(cell):  # the whole model answer is replaced
            regions.append(cell.source)
        lines = {line.strip() for region in regions for line in region.splitlines()}
        hidden |= lines
        outside = re.sub(r"### BEGIN (SOLUTION|HIDDEN TESTS).*?### END (SOLUTION|HIDDEN TESTS)",
                         "", cell.source, flags=re.S)
        visible |= {line.strip() for line in outside.splitlines()}
    # Lines that also appear outside the regions (a shared `with ...:`) are not secrets.
    secret = {line for line in hidden - visible if len(line) > 20 and not line.startswith("#")}
    assert secret, "the solutions notebook should have solution and hidden-test lines"
    leaked = sorted(line for line in secret if line in student_text)
    assert not leaked, f"hidden lines leaked into course/: {leaked}"


def _comparable(path):
    return json.loads(path.read_text())


@pytest.mark.nbgrader
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_course_is_in_sync_with_solutions(chapter, tmp_path):
    release([chapter], root=ROOT, release_dir=tmp_path)
    fresh = tmp_path / chapter / course_notebook(chapter).name
    assert _comparable(fresh) == _comparable(course_notebook(chapter)), (
        f"course/{chapter} is out of date: run `dlcourse release {chapter}` and commit")
    committed = {p.name for p in (ROOT / "course" / chapter).iterdir()}
    assert committed == {p.name for p in (tmp_path / chapter).iterdir()}


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_glossary_is_in_the_course_glossary(chapter):
    nb = read(solution_notebook(chapter))
    glossary_cells = [c.source for c in nb.cells
                      if c.cell_type == "markdown" and "Glossary (术语表)" in c.source]
    assert glossary_cells, f"{chapter} needs a '### Glossary (术语表)' table"
    chapter_rows = set(glossary_rows(glossary_cells[-1]))
    assert chapter_rows, f"{chapter}'s glossary table is empty"
    course_rows = set(table_rows((ROOT / "GLOSSARY.md").read_text()))
    missing = sorted(chapter_rows - course_rows)
    assert not missing, (f"add these rows to GLOSSARY.md: {missing} (or run "
                         "`python -c \"from pathlib import Path; from dlcourse.grading.scaffold "
                         "import sync_glossary; print(sync_glossary(Path('.')))\"`)")
