"""The nbgrader round trip for every chapter: release -> fake submissions -> autograde.

Autograding the model answers runs the chapter as the instructor's notebook in solutions/
(same cells, hidden tests included) up to its last test cell (the grader runs no further:
later cells cannot change a grade), and autograding the blank student notebook runs course/
as a student receives it. test_chapters.py runs every notebook to its end. Each run's
wall time is written to test-output/notebook-times.csv.
"""

from __future__ import annotations

import shutil
import time

import nbformat
import pytest
from nbgrader.api import Gradebook

from dlcourse.grading import conventions
from dlcourse.grading.nbgrader_setup import run as nbgrader

from ..nbtools import (
    CHAPTERS,
    ROOT,
    answer_ids,
    course_notebook,
    errors,
    fill_answers,
    graded_cells_by_exercise,
    read,
    sandbox_or_skip,
    solution_notebook,
)
from .test_chapters import chapter_module

pytestmark = pytest.mark.nbgrader
TIMES = ROOT / "test-output" / "notebook-times.csv"


def autograde(folder, chapter: str, submissions: dict) -> dict:
    """Set up a throw-away nbgrader course in ``folder`` and autograde ``{student: nb}``.

    Returns ``{student: (scores {test grade_id: points}, autograded notebook, seconds)}``.
    Each student is autograded by its own command, so the seconds are one notebook's run.
    """
    shutil.copy(ROOT / "nbgrader_config.py", folder)
    shutil.copytree(ROOT / "solutions" / chapter, folder / "solutions" / chapter)
    db_url = f"sqlite:///{folder / 'gradebook.db'}"
    result = nbgrader(["generate_assignment", chapter, "--force"], folder, db_url)
    assert result.returncode == 0, result.stderr
    name = solution_notebook(chapter).name
    out = {}
    for student, nb in submissions.items():
        target = folder / "submitted" / student / chapter
        target.mkdir(parents=True)
        nbformat.write(nb, str(target / name))
        start = time.perf_counter()
        args = ["autograde", chapter, "--force", f"--student={student}"]
        if not sandbox_or_skip():
            args.append("--TwoProcessExecute.sandbox=False")
        result = nbgrader(args, folder, db_url)
        seconds = time.perf_counter() - start
        assert result.returncode == 0, result.stderr[-3000:]
        with Gradebook(db_url) as gb:
            sub = gb.find_submission_notebook(name.removesuffix(".ipynb"), chapter, student)
            scores = {g.name: g.score for g in sub.grades
                      if g.name.startswith(conventions.TEST_PREFIX)}
        graded = read(folder / "autograded" / student / chapter / name)
        out[student] = (scores, graded, seconds)
    return out


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_round_trip(chapter, tmp_path):
    """Model answers: full marks and no error at all; blank: zero, failing only with
    NotImplementedError in answer and test cells; one exercise left blank and the next one
    answered with its bypass (tests/notebooks/chapters/): exactly their points lost. (One test per
    chapter, so chapters run in parallel under pytest-xdist.)"""
    source, student = read(solution_notebook(chapter)), read(course_notebook(chapter))
    # the first exercise left blank, the second (or, in a one-exercise chapter, the same)
    # answered with its bypass
    first, second = (answer_ids(student) * 2)[:2]
    bypass = next(v for v in chapter_module(chapter).BYPASSES if v.exercise == second)
    runs = autograde(tmp_path, chapter, {
        "solved": fill_answers(student, source),
        "blank": student,
        "one_missing": fill_answers(student, source, leave_blank={first} - {second},
                                    replace={second: bypass.source}),
    })
    TIMES.parent.mkdir(exist_ok=True)
    with TIMES.open("a") as f:
        for who in ("solved", "blank"):
            f.write(f"{chapter},{who},{runs[who][2]:.1f}\n")
    max_points = {conventions.grade_id(c): conventions.points(c) for c in source.cells
                  if conventions.is_autograded_test(c)}

    solved_scores, solved_nb, _ = runs["solved"]
    failures = [f"cell {i}: {out['ename']}: {out['evalue']}" for i, _, out in errors(solved_nb)]
    assert not failures, f"the model answers of {chapter} raised:\n" + "\n".join(failures)
    assert solved_scores == max_points, "the model answers must get full marks"

    blank_scores, blank_nb, _ = runs["blank"]
    assert blank_scores == dict.fromkeys(max_points, 0.0), "a blank notebook scores zero"
    found = errors(blank_nb)
    assert found, "a blank student notebook must fail its tests"
    for i, cell, out in found:
        where = "answer" if conventions.is_answer(cell) else (
            "test" if conventions.is_autograded_test(cell) else "ordinary")
        assert where in ("answer", "test") and out["ename"] == "NotImplementedError", (
            f"cell {i} ({where}) raised {out['ename']}: {out['evalue']}; only unanswered "
            "exercises may fail in a student notebook")

    groups = graded_cells_by_exercise(source)
    lost = {conventions.grade_id(c) for name in set(conventions.exercise_names(student)[:2])
            for c in groups[name]}
    expected = {gid: (0.0 if gid in lost else pts) for gid, pts in max_points.items()}
    assert runs["one_missing"][0] == expected, (
        f"leaving {first} blank and answering {second} with the bypass {bypass.name!r} "
        "must lose exactly their points")
