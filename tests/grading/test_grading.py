"""`dlcourse grade` on a class of 32 fake submissions: every grade exact, whatever they did.

Chapter 01_neuron has three autograded exercises: sigmoid (3 points: test_sigmoid 2 +
test_sigmoid_grad 1), neuron_forward (2) and train_neuron (3), 8 in all, plus a written
question graded by hand.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import re
import shutil
import zipfile
from pathlib import Path

import nbformat
import pytest

from dlcourse.grading import conventions
from dlcourse.grading.autograde import grade_class
from dlcourse.grading.conventions import answer_id
from dlcourse.grading.selfcheck import run_check

from ..nbtools import (
    CLASS_ROOT,
    ROOT,
    course_notebook,
    fill_answers,
    read,
    sandbox_or_skip,
    solution_notebook,
)

# One worker grades the whole class (the module fixture is expensive).
pytestmark = [pytest.mark.nbgrader, pytest.mark.xdist_group("class_grading")]

CHAPTER = "01_neuron"
NAME = "01_neuron.ipynb"
FULL = {"sigmoid": 3.0, "neuron_forward": 2.0, "train_neuron": 3.0}
TIMEOUT = 15  # seconds per cell in this test; every honest cell of the chapter takes < 2 s

SOLVED_SIGMOID = """
def my_sigmoid(z):
    z = np.asarray(z)
    if not np.issubdtype(z.dtype, np.floating):
        z = z.astype(np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype)

def my_sigmoid_grad(z):
    s = my_sigmoid(z)
    return s * (1 - s)
"""


def scores(sigmoid=3.0, neuron_forward=2.0, train_neuron=3.0):
    return {"sigmoid": sigmoid, "neuron_forward": neuron_forward,
            "train_neuron": train_neuron}


def _tree_hash(*paths: Path) -> str:
    h = hashlib.sha256()
    for base in paths:
        for p in sorted(base.rglob("*")) if base.is_dir() else [base]:
            if p.is_file():
                h.update(str(p.relative_to(ROOT)).encode())
                h.update(p.read_bytes())
    return h.hexdigest()


def _write(path: Path, nb) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


def build_class(folder: Path) -> dict[str, tuple[str, dict]]:
    """Write the fake class; return {student: (expected status, expected scores)}."""
    source = read(solution_notebook(CHAPTER, CLASS_ROOT))
    student = read(course_notebook(CHAPTER, CLASS_ROOT))
    solved = fill_answers(student, source)

    def answers(**replace):
        return fill_answers(student, source,
                            replace={answer_id(k): v for k, v in replace.items()})

    def blank(*names):
        return fill_answers(student, source, leave_blank={answer_id(n) for n in names})

    expected: dict[str, tuple[str, dict]] = {}

    def add(name, nb, status="graded", points=None, path=None):
        _write(path or folder / name / NAME, nb)
        expected[name] = (status, points if points is not None else scores())

    # Correct, partial and blank work in every accepted layout.
    add("solved_folder", solved)
    add("solved_nested", solved, path=folder / "solved_nested" / CHAPTER / NAME)
    add("renamed", solved, path=folder / "renamed" / "01_neuron (1).ipynb")
    _write(folder / "flatstudent_12345_attempt_01_neuron.ipynb", solved)
    expected["flatstudent"] = ("graded", scores())
    zipped = folder.parent / "zipstudent_src"
    _write(zipped / NAME, solved)
    with zipfile.ZipFile(folder / "zipstudent_upload.zip", "w") as zf:
        zf.write(zipped / NAME, NAME)
    expected["zipstudent"] = ("graded", scores())
    section = folder.parent / "section_src"
    _write(section / "sec_a" / NAME, solved)
    _write(section / "sec_b" / NAME, student)
    with zipfile.ZipFile(folder / "section_b.zip", "w") as zf:
        for p in section.rglob("*.ipynb"):
            zf.write(p, str(p.relative_to(section)))
    expected["sec_a"] = ("graded", scores())
    expected["sec_b"] = ("graded", scores(0, 0, 0))
    add("blank", student, points=scores(0, 0, 0))
    add("only_sigmoid", blank("neuron_forward", "train_neuron"), points=scores(3, 0, 0))
    add("no_sigmoid", blank("sigmoid"), points=scores(sigmoid=0))
    add("no_forward", blank("neuron_forward"), points=scores(neuron_forward=0))
    add("no_train", blank("train_neuron"), points=scores(train_neuron=0))
    add("multiple_notebooks", solved)
    _write(folder / "multiple_notebooks" / "scratch.ipynb", student)
    add("Zoë Müller", solved)  # becomes a path-safe id
    expected["Zo_M_ller"] = expected.pop("Zoë Müller")

    # Wrong answers and broken code.
    add("wrong_sign", answers(sigmoid="def my_sigmoid(z):\n    return 1 / (1 + np.exp(z))\n\n"
                                      "def my_sigmoid_grad(z):\n"
                                      "    s = 1 / (1 + np.exp(-np.asarray(z, float)))\n"
                                      "    return s * (1 - s)\n"),
        points=scores(sigmoid=1))
    add("syntax_error", answers(neuron_forward="def neuron_forward(X, w, b, activation=:\n"),
        points=scores(neuron_forward=0))
    add("raises", answers(train_neuron="def train_neuron(X, y, lr=0.5, epochs=200):\n"
                                       "    raise ValueError('not today')\n"),
        points=scores(train_neuron=0))
    add("infinite_loop", answers(sigmoid="while True:\n    pass\n"), "timed out",
        scores(sigmoid=0))
    add("prints_megabytes", answers(neuron_forward="print('x' * 3_000_000)\n"
                                    "for i in range(20_000):\n    print(i)\n" + conventions
                                    .strip_markers(_answer(source, "ex_neuron_forward"))))
    add("sys_exit", answers(sigmoid="import sys\nsys.exit(3)\n"), points=scores(sigmoid=0))
    add("os_exit", answers(sigmoid="import os\nos._exit(1)\n"), "kernel died", scores(0, 0, 0))

    # Tampering with the notebook's structure gains nothing and loses nothing.
    nb = copy.deepcopy(solved)
    nb.cells = [c for c in nb.cells if conventions.grade_id(c) != "test_train_neuron"]
    add("deleted_test", nb)
    nb = blank("train_neuron")
    for cell in nb.cells:
        if conventions.grade_id(cell) == "test_train_neuron":
            cell.source = "print('all tests pass!')"
    add("edited_test", nb, points=scores(train_neuron=0))
    nb = copy.deepcopy(solved)
    for cell in nb.cells:
        if conventions.grade_id(cell) == "test_sigmoid":
            cell.metadata["nbgrader"].update(grade=False, points=100)
    add("edited_metadata", nb)
    nb = copy.deepcopy(solved)
    for i, cell in enumerate(nb.cells):
        cell.id = f"my-cell-{i}"
    add("changed_ids", nb)

    # Files that are not notebooks of this chapter.
    (folder / "bad_json").mkdir()
    (folder / "bad_json" / NAME).write_text('{"cells": [')
    expected["bad_json"] = ("could not be read", scores(0, 0, 0))
    (folder / "empty_file").mkdir()
    (folder / "empty_file" / NAME).write_text("")
    expected["empty_file"] = ("could not be read", scores(0, 0, 0))
    other = copy.deepcopy(solved)
    for cell in other.cells:
        if conventions.grade_id(cell):
            cell.metadata["nbgrader"]["grade_id"] = "other_" + conventions.grade_id(cell)
    add("wrong_chapter", other, "could not be read", scores(0, 0, 0))
    (folder / "empty_folder").mkdir()
    expected["empty_folder"] = ("missing", scores(0, 0, 0))

    # Code that reaches outside its folder.
    add("writes_outside", answers(sigmoid=SOLVED_SIGMOID + """
import os
for up in range(1, 8):
    target = os.path.join(*([".."] * up), "solutions", "01_neuron")
    if os.path.isdir(target):
        open(os.path.join(target, "01_neuron.ipynb"), "w").write("{}")
    try:
        open(os.path.join(*([".."] * up), "ESCAPED.txt"), "w").write("student was here")
    except OSError:
        pass
"""))
    add("reads_hidden_tests", answers(sigmoid=SOLVED_SIGMOID + """
import os
found = []
for up in range(0, 8):
    base = os.path.abspath(os.path.join(*([".."] * up))) if up else os.getcwd()
    for name in ("solutions", "source", "release"):
        for dirpath, _, files in os.walk(os.path.join(base, name)):
            for f in files:
                if f.endswith(".ipynb") and "BEGIN HIDDEN" in open(os.path.join(dirpath, f)).read():
                    found.append(os.path.join(dirpath, f))
print("HIDDEN TEST FILES FOUND:", found)
"""))
    return expected


def _answer(source, grade_id):
    return next(c.source for c in source.cells if conventions.grade_id(c) == grade_id)


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    base = tmp_path_factory.mktemp("class")
    folder = base / "submissions"
    folder.mkdir()
    expected = build_class(folder)
    roster = base / "roster.txt"
    roster.write_text("\n".join([*expected, "never_submitted"]) + "\n")
    expected["never_submitted"] = ("missing", scores(0, 0, 0))
    instructor_files = (CLASS_ROOT / "solutions" / CHAPTER, CLASS_ROOT / "course" / CHAPTER,
                        CLASS_ROOT / "nbgrader_config.py")
    before = _tree_hash(*instructor_files)
    report = grade_class(CHAPTER, folder, base / "out", root=CLASS_ROOT, timeout=TIMEOUT, jobs=2,
                         roster=[line for line in roster.read_text().splitlines() if line],
                         sandbox=sandbox_or_skip())
    after = _tree_hash(*instructor_files)
    return dict(report=report, expected=expected, base=base, folder=folder,
                instructor_files_unchanged=before == after)


def test_class_is_large_enough(graded_class):
    assert len(graded_class["expected"]) >= 30


def test_every_student_gets_exact_status_and_points(graded_class):
    report, expected = graded_class["report"], graded_class["expected"]
    got = {r.student: (r.status, r.scores) for r in report.results}
    assert set(got) == set(expected), "every student appears exactly once"
    wrong = {s: (got[s], expected[s]) for s in expected if got[s] != expected[s]}
    notes = {r.student: r.note for r in report.results if r.student in wrong}
    assert not wrong, f"(got, expected) per student: {wrong}\nnotes: {notes}"


def test_csv_has_one_row_per_student_with_totals(graded_class):
    report, expected = graded_class["report"], graded_class["expected"]
    rows = list(csv.DictReader(report.csv_path.open(encoding="utf-8")))
    assert len(rows) == len(expected)
    assert [r["student"] for r in rows] == sorted(expected)
    by_student = {r["student"]: r for r in rows}
    assert by_student["solved_folder"]["total (/8)"] == "8"
    assert by_student["wrong_sign"]["sigmoid (/3)"] == "1"
    assert by_student["os_exit"]["status"] == "kernel died"
    assert "kernel died" in by_student["os_exit"]["note"]
    assert "not valid notebook JSON" in by_student["bad_json"]["note"]
    assert "empty" in by_student["empty_file"]["note"]
    assert "not the expected chapter" in by_student["wrong_chapter"]["note"]
    assert "put back the deleted test cell" in by_student["deleted_test"]["note"]
    assert "ran longer than" in by_student["infinite_loop"]["note"]
    assert "graded 01_neuron.ipynb" in by_student["multiple_notebooks"]["note"]
    assert by_student["blank"]["manual points pending"] == "2"  # the written question


def test_instructor_files_are_untouched(graded_class):
    assert graded_class["instructor_files_unchanged"], "solutions/ or course/ changed"
    base = graded_class["base"]
    assert not list(base.rglob("ESCAPED.txt")), "a student wrote outside its temporary folder"


def test_feedback_shows_results_but_never_hidden_tests(graded_class):
    report = graded_class["report"]
    source = read(solution_notebook(CHAPTER, CLASS_ROOT))
    secret = set()
    for cell in source.cells:
        for region in conventions.hidden_test_regions(cell.source):
            secret |= {ln.strip() for ln in region.splitlines() if len(ln.strip()) > 25}
    assert secret
    pages = {r.student: r.feedback for r in report.results}
    for student, page in pages.items():
        status = graded_class["expected"][student][0]
        if status in ("graded", "timed out"):
            assert page and page.exists(), f"{student} has no feedback page"
            html = page.read_text()
            leaked = [line for line in secret if line in html or line.replace('"', "&quot;")
                      in html]
            assert not leaked, f"{student}'s feedback shows hidden tests: {leaked[:2]}"
            assert "BEGIN HIDDEN TESTS" not in html
            assert page.stat().st_size < 2_000_000, f"{student}'s feedback is too large"
    solved = pages["solved_folder"].read_text()
    assert "data:image/png;base64" in solved, "plots must appear in the feedback"
    failed = pages["no_train"].read_text()
    assert "NotImplementedError" in failed and "hidden tests ran here" in failed
    big = pages["prints_megabytes"].read_text()
    assert "output cut" in big or "Output truncated" in big


def test_reading_hidden_tests_from_disk_finds_none_nearby(graded_class):
    page = next(r.feedback for r in graded_class["report"].results
                if r.student == "reads_hidden_tests")
    match = re.search(r"HIDDEN TEST FILES FOUND: (\[.*?\])", page.read_text())
    assert match and match.group(1) == "[]"


def test_self_check_agrees_with_the_instructor(graded_class):
    """`dlcourse check` gives the points the grader gives (model or missing answers)."""
    report = {r.student: r.scores for r in graded_class["report"].results}
    folder = graded_class["folder"]
    for student in ("solved_folder", "no_train", "wrong_sign", "blank"):
        check = run_check(folder / student / NAME, timeout=TIMEOUT)
        per_exercise = dict.fromkeys(FULL, 0.0)
        for test in check.tests:
            per_exercise[test.exercise] += test.points
        assert per_exercise == report[student], student


def test_regrading_gives_the_same_csv(graded_class, tmp_path):
    small = tmp_path / "small"
    for student in ("solved_folder", "no_train", "bad_json"):
        shutil.copytree(graded_class["folder"] / student, small / student)
    out = tmp_path / "out"
    sandbox = sandbox_or_skip()
    first = grade_class(CHAPTER, small, out, root=CLASS_ROOT, timeout=TIMEOUT, sandbox=sandbox)
    text = first.csv_path.read_text()
    second = grade_class(CHAPTER, small, out, root=CLASS_ROOT, timeout=TIMEOUT, sandbox=sandbox)
    assert second.csv_path.read_text() == text
    assert len(text.strip().splitlines()) == 1 + 3
    assert sorted(p.name for p in (out / "feedback").iterdir()) == [
        "no_train.html", "solved_folder.html"]


def test_bad_arguments_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown chapter"):
        grade_class("99_nothing", tmp_path, root=CLASS_ROOT)
    with pytest.raises(FileNotFoundError, match="no submissions folder"):
        grade_class(CHAPTER, tmp_path / "nope", root=CLASS_ROOT)

