"""The course's notebook conventions (dlcourse.grading.conventions) on small examples."""

from __future__ import annotations

import pytest

from dlcourse.grading import authoring, conventions
from dlcourse.grading.authoring import answer, build_notebook, code, markdown, written_answer
from dlcourse.grading.conventions import (
    answer_id,
    answer_names,
    exercise_for_test,
    exercise_name,
    exercise_names,
    hidden_test_regions,
    remove_hidden_tests,
    solution_regions,
    strip_markers,
)

from ..nbtools import course_notebook, read, solution_notebook

TEST_CELL = """\
assert f(1) == 2, "visible"
    ### BEGIN HIDDEN TESTS
assert f(2) == 4
assert f(3) == 6

### END HIDDEN TESTS
print("f OK")
### BEGIN HIDDEN TESTS   (more)
assert f(0) == 0
### END HIDDEN TESTS # trailing words go too
"""


# --- names ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("test_id", "exercise"), [
    ("test_neuron", "neuron"),
    ("test_neuron_shapes", "neuron"),
    ("test_neuron_forward", "neuron_forward"),          # the longest matching name wins
    ("test_neuron_forward_grad", "neuron_forward"),
    ("test_neuronal", None),                             # a whole name, not a prefix
    ("test_sigmoid", None),
    ("neuron_forward", None),                            # no test_ prefix
    ("ex_neuron", None),
])
def test_exercise_for_test_longest_match(test_id, exercise):
    assert exercise_for_test(test_id, ["neuron", "neuron_forward"]) == exercise
    assert exercise_for_test(test_id, ["neuron_forward", "neuron"]) == exercise, "any order"


def test_exercise_for_test_without_exercises():
    assert exercise_for_test("test_neuron", []) is None


def _notebook():
    return build_notebook([
        markdown("# intro", grade_id="intro"),
        markdown("task", grade_id="ex_b_task"),
        answer("ex_b", "b = 1"),
        authoring.tests("test_b", "assert b == 1", points=1),
        code("print(b)"),
        written_answer("ex_why", "YOUR ANSWER HERE", points=2),
        answer("ex_a", "a = 1"),
        authoring.tests("test_a", "assert a == 1", points=1),
        answer("legacy", "x = 1"),               # an answer id without the ex_ prefix
    ])


def test_exercise_names_are_the_autograded_answers_in_notebook_order():
    assert exercise_names(_notebook()) == ["b", "a", "legacy"]


def test_answer_names_include_the_manually_graded_answers():
    assert answer_names(_notebook()) == ["b", "why", "a", "legacy"]


def test_exercise_name_of_each_kind_of_cell():
    nb = _notebook()
    assert [exercise_name(c) for c in nb.cells] == [None, None, "b", None, None, None, "a",
                                                    None, "legacy"]


def test_answer_id_round_trips():
    assert answer_id("neuron_forward") == "ex_neuron_forward"
    assert exercise_name(answer(answer_id("neuron_forward"), "x = 1")) == "neuron_forward"
    assert conventions.EXERCISE_PREFIX == "ex_" and conventions.TEST_PREFIX == "test_"


def test_exercise_names_of_the_first_chapter():
    nb = read(course_notebook("01_neuron"))
    assert exercise_names(nb) == ["sigmoid", "neuron", "train_neuron"]
    assert answer_names(nb) == ["sigmoid", "neuron", "train_neuron", "xor_question"]


def test_the_statuses_are_the_words_in_grades_csv():
    assert (conventions.GRADED, conventions.TIMED_OUT, conventions.KERNEL_DIED,
            conventions.LIMIT_HIT, conventions.UNREADABLE, conventions.MISSING,
            conventions.ERROR) == ("graded", "timed out", "kernel died", "limit hit",
                                   "could not be read", "missing", "error")


# --- markers -------------------------------------------------------------------------------

def test_remove_hidden_tests_keeps_the_visible_lines():
    assert remove_hidden_tests(TEST_CELL) == 'assert f(1) == 2, "visible"\nprint("f OK")\n'


def test_remove_hidden_tests_with_a_note():
    assert remove_hidden_tests(TEST_CELL, "# hidden\n") == (
        'assert f(1) == 2, "visible"\n# hidden\nprint("f OK")\n# hidden\n')
    assert remove_hidden_tests("x\n### BEGIN HIDDEN TESTS\ny\n### END HIDDEN TESTS", r"\1") == (
        "x\n\\1"), "the note is text, not a regex replacement"


def test_remove_hidden_tests_without_hidden_tests():
    assert remove_hidden_tests("assert f(1) == 2\n") == "assert f(1) == 2\n"
    assert remove_hidden_tests("") == ""


def test_hidden_test_regions():
    assert hidden_test_regions(TEST_CELL) == ["assert f(2) == 4\nassert f(3) == 6\n",
                                              "assert f(0) == 0\n"]
    assert hidden_test_regions("### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS\n") == [""]
    assert hidden_test_regions("assert True\n") == []


def test_redaction_for_feedback_uses_the_same_regions():
    from dlcourse.grading.preprocessors import HIDDEN_NOTE, redact_test_source

    assert HIDDEN_NOTE == "# (hidden tests ran here: the grader does not show them)\n"
    assert redact_test_source(TEST_CELL) == remove_hidden_tests(TEST_CELL, HIDDEN_NOTE)


def test_strip_markers_removes_only_whole_marker_lines():
    source = ("def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"
              "### BEGIN HIDDEN TESTS\nassert f(1) == 2\n### END HIDDEN TESTS  \n"
              "y = 1  ### BEGIN SOLUTION is not a marker here\n")
    assert strip_markers(source) == ("def f(x):\n    return 2 * x\nassert f(1) == 2\n"
                                     "y = 1  ### BEGIN SOLUTION is not a marker here")


def test_solution_regions():
    source = ("def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n\n    ### END SOLUTION\n"
              "def g():\n    ### BEGIN SOLUTION (keep it short)\n    pass\n    ### END SOLUTION\n")
    assert solution_regions(source) == ["    return 2 * x\n", "    pass\n"]
    assert solution_regions("x = 1\n") == []


def test_visible_tests_are_what_nbgrader_releases():
    """remove_hidden_tests of the instructor's test cell is the student's test cell (nbgrader
    drops the final newline)."""
    source, student = read(solution_notebook("01_neuron")), read(course_notebook("01_neuron"))
    released = {conventions.grade_id(c): c.source for c in student.cells}
    test_cells = [c for c in source.cells if conventions.is_autograded_test(c)]
    assert test_cells
    for cell in test_cells:
        assert hidden_test_regions(cell.source)
        assert remove_hidden_tests(cell.source).rstrip("\n") == released[
            conventions.grade_id(cell)]
