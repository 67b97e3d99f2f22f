"""Reading a student's notebook and repairing its nbgrader structure (dlcourse.grading.repair)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat
import pytest

from dlcourse.grading import authoring, conventions
from dlcourse.grading.authoring import (
    answer,
    build_notebook,
    code,
    markdown,
    write_notebook,
    written_answer,
)
from dlcourse.grading.repair import read_submission, repair

REAL = Path(__file__).resolve().parents[2] / "course" / "01_neuron" / "01_neuron.ipynb"


def _released():
    """A tiny released chapter: two autograded exercises and a written question."""
    return build_notebook([
        markdown("# A tiny chapter", grade_id="intro"),
        markdown("Write `double(x)`.", grade_id="ex_double_task"),
        answer("ex_double", """
            def double(x):
                # YOUR CODE HERE
                raise NotImplementedError()
        """),
        authoring.tests("test_double", """
            assert double(2) == 4, "double(2) should be 4"
        """, points=2),
        code("print('an ordinary cell')"),
        markdown("Write `square(x)`.", grade_id="ex_square_task"),
        answer("ex_square", """
            def square(x):
                # YOUR CODE HERE
                raise NotImplementedError()
        """),
        authoring.tests("test_square", "assert square(3) == 9", points=1),
        authoring.tests("test_square_negative", "assert square(-3) == 9", points=1),
        written_answer("ex_why", "YOUR ANSWER HERE", points=2),
    ])


@pytest.fixture
def released():
    return _released()


@pytest.fixture
def handed_in(released):
    """What a student hands in: the released notebook with both answers and the question done."""
    nb = copy.deepcopy(released)
    typed = {"ex_double": "def double(x):\n    return x + x",
             "ex_square": "def square(x):\n    return x * x",
             "ex_why": "Because."}
    for cell in nb.cells:
        if conventions.grade_id(cell) in typed:
            cell.source = typed[conventions.grade_id(cell)]
    return nb


def _ids(nb) -> list[str | None]:
    return [conventions.grade_id(c) for c in nb.cells]


def _answers(nb) -> dict[str, str]:
    return {conventions.grade_id(c): c.source for c in nb.cells if conventions.is_answer(c)}


def _cell(nb, gid):
    return next(c for c in nb.cells if conventions.grade_id(c) == gid)


# --- read_submission -----------------------------------------------------------------------

@pytest.mark.parametrize(("content", "reason"), [
    (b"", "the notebook file is empty"),
    (b"  \n\t\n", "the notebook file is empty"),
    (b'{"cells": [', "not valid notebook JSON ("),
    (b"\xff\xfe{}", "not valid notebook JSON ("),
    (b'{"hello": "world"}', "not a valid Jupyter notebook (ValidationError: "),
    (b"[1, 2, 3]", "not a valid Jupyter notebook ("),
], ids=["empty", "blank", "bad JSON", "not UTF-8", "JSON, not a notebook", "a JSON list"])
def test_unreadable_files_say_why(tmp_path, released, content, reason):
    path = tmp_path / "submitted.ipynb"
    path.write_bytes(content)
    nb, why = read_submission(path, released)
    assert nb is None and why.startswith(reason), why


def test_another_chapters_notebook_is_refused(tmp_path, released):
    other = build_notebook([answer("ex_something_else", "x = 1"),
                            authoring.tests("test_something_else", "assert x == 1", points=1)])
    write_notebook(other, tmp_path / "other.ipynb")
    assert read_submission(tmp_path / "other.ipynb", released) == (
        None, "this is not the expected chapter's notebook: none of its exercise cells are in it")


def test_a_notebook_without_nbgrader_cells_is_refused(tmp_path, released):
    write_notebook(build_notebook([markdown("# my own notes"), code("x = 1")]),
                   tmp_path / "notes.ipynb")
    nb, why = read_submission(tmp_path / "notes.ipynb", released)
    assert nb is None and why.startswith("this is not the expected chapter's notebook")


def test_a_fine_notebook_is_read(tmp_path, released, handed_in):
    write_notebook(handed_in, tmp_path / "fine.ipynb")
    nb, why = read_submission(tmp_path / "fine.ipynb", released)
    assert why == ""
    assert _ids(nb) == _ids(released) and _answers(nb) == _answers(handed_in)


def test_one_matching_answer_cell_is_enough(tmp_path, released):
    """A student who deleted everything but one answer still gets that answer graded."""
    only = build_notebook([answer("ex_square", "def square(x):\n    return x * x")])
    write_notebook(only, tmp_path / "only.ipynb")
    nb, why = read_submission(tmp_path / "only.ipynb", released)
    assert why == "" and _ids(nb) == ["ex_square"]


# --- repair --------------------------------------------------------------------------------

def test_an_untouched_notebook_needs_no_repair(released, handed_in):
    repaired, notes = repair(handed_in, released)
    assert notes == []
    assert repaired == handed_in


def test_edited_test_metadata_is_restored(released, handed_in):
    _cell(handed_in, "test_double").metadata["nbgrader"].update(grade=False, points=100)
    _cell(handed_in, "intro").metadata["nbgrader"]["locked"] = False
    before = copy.deepcopy(handed_in)
    repaired, notes = repair(handed_in, released)
    assert notes == ["restored the nbgrader metadata of intro",
                     "restored the nbgrader metadata of test_double"]
    for gid in ("test_double", "intro"):
        assert _cell(repaired, gid).metadata["nbgrader"] == _cell(released, gid).metadata[
            "nbgrader"]
    assert handed_in == before, "repair works on a copy"


def test_a_metadata_key_outside_the_graded_ones_is_left_alone(released, handed_in):
    _cell(handed_in, "test_double").metadata["nbgrader"]["task"] = True
    repaired, notes = repair(handed_in, released)
    assert notes == [] and repaired == handed_in


def test_unknown_grade_id_is_neutralised(released, handed_in):
    extra = authoring.tests("test_free_points", "pass", points=50)
    handed_in.cells.insert(4, extra)
    repaired, notes = repair(handed_in, released)
    assert notes == ["ignored a cell with unknown or duplicate grade_id 'test_free_points'"]
    assert "nbgrader" not in repaired.cells[4].metadata
    assert repaired.cells[4].source == "pass", "the cell stays, as an ordinary cell"
    assert [g for g in _ids(repaired) if g] == [g for g in _ids(released) if g]


def test_duplicate_grade_id_is_neutralised(released, handed_in):
    handed_in.cells.append(copy.deepcopy(_cell(handed_in, "test_double")))
    handed_in.cells.append(copy.deepcopy(_cell(handed_in, "ex_square")))
    repaired, notes = repair(handed_in, released)
    assert notes == ["ignored a cell with unknown or duplicate grade_id 'test_double'",
                     "ignored a cell with unknown or duplicate grade_id 'ex_square'"]
    assert [g for g in _ids(repaired) if g] == [g for g in _ids(released) if g]
    assert "nbgrader" in _cell(repaired, "test_double").metadata, "the first one is kept"


@pytest.mark.parametrize("deleted", ["test_double", "test_square", "test_square_negative"])
def test_a_deleted_test_cell_is_put_back_at_its_place(released, handed_in, deleted):
    handed_in.cells = [c for c in handed_in.cells if conventions.grade_id(c) != deleted]
    repaired, notes = repair(handed_in, released)
    assert notes == [f"put back the deleted test cell {deleted}"]
    assert _ids(repaired) == _ids(released)
    assert _cell(repaired, deleted) == _cell(released, deleted)
    assert _answers(repaired) == _answers(handed_in)


def test_deleted_read_only_cells_come_back_without_a_note(released, handed_in):
    """Each comes back right after the released cell with a grade_id before it."""
    handed_in.cells = [c for c in handed_in.cells
                       if conventions.grade_id(c) not in ("intro", "ex_square_task")]
    repaired, notes = repair(handed_in, released)
    assert notes == []
    assert [g for g in _ids(repaired) if g] == [g for g in _ids(released) if g]
    assert _ids(repaired)[0] == "intro"
    assert _ids(repaired).index("ex_square_task") == _ids(repaired).index("test_double") + 1


def test_a_deleted_answer_is_reported_and_not_added_back(released, handed_in):
    handed_in.cells = [c for c in handed_in.cells if conventions.grade_id(c) != "ex_double"]
    repaired, notes = repair(handed_in, released)
    assert notes == ["answer cell ex_double is missing"]
    assert "ex_double" not in _ids(repaired)
    assert _ids(repaired) == [g for g in _ids(released) if g != "ex_double"]


def test_a_deleted_written_answer_is_reported_too(released, handed_in):
    handed_in.cells = [c for c in handed_in.cells if conventions.grade_id(c) != "ex_why"]
    repaired, notes = repair(handed_in, released)
    assert notes == ["answer cell ex_why is missing"] and "ex_why" not in _ids(repaired)


def test_answer_cells_are_never_changed(released, handed_in):
    """Whatever else is repaired, the student's answers reach the grader as written."""
    _cell(handed_in, "test_square").metadata["nbgrader"]["points"] = 99
    _cell(handed_in, "test_double").source = "print('all tests pass!')"
    handed_in.cells = [c for c in handed_in.cells
                       if conventions.grade_id(c) != "test_square_negative"]
    handed_in.cells.append(copy.deepcopy(_cell(handed_in, "ex_double")))
    answers = _answers(handed_in)
    repaired, notes = repair(handed_in, released)
    assert len(notes) == 3
    assert _answers(repaired) == answers
    for gid, source in answers.items():
        assert _cell(repaired, gid).source == source
    # The edited test's source is left for nbgrader, which overwrites it from the gradebook.
    assert _cell(repaired, "test_double").source == "print('all tests pass!')"


# --- the real released chapter -------------------------------------------------------------

def test_the_released_chapter_reads_and_repairs_cleanly(tmp_path):
    released = nbformat.read(str(REAL), as_version=4)
    path = tmp_path / REAL.name
    path.write_text(REAL.read_text())
    nb, why = read_submission(path, released)
    assert why == ""
    assert repair(nb, released) == (nb, [])

    tests_ids = [conventions.grade_id(c) for c in released.cells
                 if conventions.is_autograded_test(c)]
    tampered = copy.deepcopy(nb)
    tampered.cells = [c for c in tampered.cells if conventions.grade_id(c) != tests_ids[-1]]
    conventions.nbgrader_meta(next(c for c in tampered.cells if conventions.grade_id(c)
                                   == tests_ids[0]))["points"] = 1000
    repaired, notes = repair(tampered, released)
    assert notes == [f"restored the nbgrader metadata of {tests_ids[0]}",
                     f"put back the deleted test cell {tests_ids[-1]}"]
    assert _ids(repaired) == _ids(released)
    assert json.loads(nbformat.writes(repaired)) == json.loads(nbformat.writes(released))
