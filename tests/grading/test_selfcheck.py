"""`dlcourse check`: what a self-study student sees."""

from __future__ import annotations

import nbformat
import pytest

from dlcourse.cli import main
from dlcourse.grading.selfcheck import run_check

from ..nbtools import CLASS_ROOT, course_notebook, fill_answers, read, solution_notebook

pytestmark = pytest.mark.notebooks
CHAPTER = "01_neuron"


@pytest.fixture
def notebooks(tmp_path):
    source = read(solution_notebook(CHAPTER, CLASS_ROOT))
    student = read(course_notebook(CHAPTER, CLASS_ROOT))
    paths = {}
    for name, nb in {"solved": fill_answers(student, source), "blank": student,
                     "half": fill_answers(student, source, leave_blank={"ex_train_neuron"})
                     }.items():
        paths[name] = tmp_path / f"{name}.ipynb"
        nbformat.write(nb, str(paths[name]))
    return paths


def test_solved_notebook_passes_and_exits_zero(notebooks, capsys):
    assert main(["check", str(notebooks["solved"])]) == 0
    out = capsys.readouterr().out
    assert "PASS  test_sigmoid" in out and "2/2 points" in out
    assert "Total: 8/8 points" in out
    assert "ex_xor_question" in out and "graded by the instructor" in out


def test_blank_notebook_fails_each_exercise_with_the_reason(notebooks, capsys):
    assert main(["check", str(notebooks["blank"])]) == 1
    out = capsys.readouterr().out
    for test_id in ("test_sigmoid", "test_sigmoid_grad", "test_neuron_forward",
                    "test_train_neuron"):
        assert f"FAIL  {test_id}" in out
    assert "NotImplementedError" in out
    assert "Total: 0/8 points" in out


def test_partial_notebook_reports_points_per_exercise(notebooks):
    report = run_check(notebooks["half"])
    by_id = {t.grade_id: t for t in report.tests}
    assert by_id["test_train_neuron"].points == 0 and not by_id["test_train_neuron"].passed
    assert by_id["test_train_neuron"].exercise == "train_neuron"
    assert by_id["test_sigmoid"].passed and by_id["test_neuron_forward"].passed
    assert (report.score, report.max_score) == (5.0, 8.0)


def test_edited_test_cell_is_flagged(notebooks, tmp_path):
    nb = read(notebooks["blank"])
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_sigmoid_grad":
            cell.source = "pass"
    path = tmp_path / "edited.ipynb"
    nbformat.write(nb, str(path))
    edited = {t.grade_id: t.edited for t in run_check(path).tests}
    assert edited["test_sigmoid_grad"] and not edited["test_sigmoid"]


def test_unreadable_notebook_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "broken.ipynb"
    bad.write_text("{not json")
    assert main(["check", str(bad)]) == 2
    assert "not a readable Jupyter notebook" in capsys.readouterr().err
    assert main(["check", str(tmp_path / "missing.ipynb")]) == 2
