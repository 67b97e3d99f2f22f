"""The nbgrader round trip: release -> fake submissions -> autograde -> exact scores."""

from __future__ import annotations

import shutil

import nbformat
import pytest
from nbgrader.api import Gradebook

from dlcourse.grading import cells as nbcells
from dlcourse.grading.release import nbgrader

from .nbtools import (
    CHAPTERS,
    ROOT,
    answer_ids,
    course_notebook,
    fill_answers,
    graded_cells_by_exercise,
    read,
    solution_notebook,
)

pytestmark = pytest.mark.nbgrader


def autograde(tmp_path, chapter: str, submissions: dict) -> dict[str, dict[str, float]]:
    """Set up a throw-away nbgrader course, autograde ``{student: notebook}``.

    Returns ``{student: {test grade_id: points scored}}`` read from the gradebook.
    """
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    shutil.copytree(ROOT / "solutions" / chapter, tmp_path / "solutions" / chapter)
    db_url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    result = nbgrader(["generate_assignment", chapter, "--force"], tmp_path, db_url)
    assert result.returncode == 0, result.stderr
    name = solution_notebook(chapter).name
    for student, nb in submissions.items():
        folder = tmp_path / "submitted" / student / chapter
        folder.mkdir(parents=True)
        nbformat.write(nb, str(folder / name))
    result = nbgrader(["autograde", chapter, "--force"], tmp_path, db_url)
    assert result.returncode == 0, result.stderr
    scores = {}
    with Gradebook(db_url) as gb:
        for student in submissions:
            sub = gb.find_submission_notebook(name.removesuffix(".ipynb"), chapter, student)
            scores[student] = {g.name: g.score for g in sub.grades
                               if g.name.startswith("test_")}
    return scores


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_full_marks_zero_and_one_missing_exercise(tmp_path, chapter):
    source, student = read(solution_notebook(chapter)), read(course_notebook(chapter))
    groups = graded_cells_by_exercise(source)
    max_points = {nbcells.grade_id(c): nbcells.points(c) for c in source.cells
                  if nbcells.is_autograded_test(c)}
    first = answer_ids(student)[0]
    scores = autograde(tmp_path, chapter, {
        "solved": fill_answers(student, source),
        "blank": student,
        "one_missing": fill_answers(student, source, leave_blank={first}),
    })
    assert scores["solved"] == max_points, "the model answers must get full marks"
    assert scores["blank"] == dict.fromkeys(max_points, 0.0), "a blank notebook scores zero"
    lost = {nbcells.grade_id(c) for c in groups[first.removeprefix("ex_")]}
    expected = {gid: (0.0 if gid in lost else pts) for gid, pts in max_points.items()}
    assert scores["one_missing"] == expected, f"leaving {first} blank loses only its points"


def test_wrong_answer_and_edited_tests_in_the_neuron_chapter(tmp_path):
    chapter = "01_neuron"
    source, student = read(solution_notebook(chapter)), read(course_notebook(chapter))
    wrong_sigmoid = (
        "def my_sigmoid(z):\n    return 1 / (1 + np.exp(z))   # sign error\n\n"
        "def my_sigmoid_grad(z):\n    s = 1 / (1 + np.exp(-np.asarray(z, float)))\n"
        "    return s * (1 - s)\n")
    cheater = fill_answers(student, source, leave_blank={"ex_train_neuron"})
    for cell in cheater.cells:  # replace the failing test by one that always passes
        if nbcells.grade_id(cell) == "test_train_neuron":
            cell.source = "print('all good')"
    scores = autograde(tmp_path, chapter, {
        "wrong": fill_answers(student, source, replace={"ex_sigmoid": wrong_sigmoid}),
        "cheater": cheater,
    })
    assert scores["wrong"]["test_sigmoid"] == 0.0
    assert scores["wrong"]["test_sigmoid_grad"] == 1.0
    assert scores["wrong"]["test_train_neuron"] == 3.0
    assert scores["cheater"]["test_train_neuron"] == 0.0, "nbgrader must restore edited tests"
