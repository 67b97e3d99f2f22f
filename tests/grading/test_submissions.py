"""Finding each student's notebook in a class folder (dlcourse.grading.submissions)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from dlcourse.grading.authoring import build_notebook, markdown, write_notebook
from dlcourse.grading.conventions import GRADED, MISSING
from dlcourse.grading.submissions import Submission, collect, student_id

CHAPTER = "01_neuron"
NAME = "01_neuron.ipynb"


def _notebook(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_notebook(build_notebook([markdown(f"# {path.name}")]), path)
    return path


def _zip(path: Path, members: dict[str, str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return path


def _collect(folder: Path, tmp_path: Path, roster=None) -> dict[str, Submission]:
    subs = collect(folder, CHAPTER, NAME, tmp_path / "scratch", roster)
    assert [s.student for s in subs] == sorted(s.student for s in subs)
    assert len({s.student for s in subs}) == len(subs), "one entry per student"
    return {s.student: s for s in subs}


NOTEBOOK_TEXT = (Path(__file__).resolve().parents[2] / "course" / CHAPTER / NAME).read_text()


@pytest.fixture
def folder(tmp_path) -> Path:
    path = tmp_path / "class"
    path.mkdir()
    return path


def test_one_folder_per_student_at_any_depth(folder, tmp_path):
    alice = _notebook(folder / "alice" / NAME)
    bob = _notebook(folder / "bob" / "week 1" / CHAPTER / NAME)
    subs = _collect(folder, tmp_path)
    assert subs == {"alice": Submission("alice", alice), "bob": Submission("bob", bob)}
    assert subs["alice"].status == GRADED and subs["alice"].note == ""


def test_lms_flat_export_names_the_student_before_the_first_underscore(folder, tmp_path):
    carol = _notebook(folder / "carol_12345_attempt_2024-10-01_01_neuron.ipynb")
    dave = _notebook(folder / "dave_01_neuron.ipynb")
    assert _collect(folder, tmp_path) == {"carol": Submission("carol", carol),
                                          "dave": Submission("dave", dave)}


def test_student_zip_is_unpacked_into_scratch(folder, tmp_path):
    _zip(folder / "erin.zip", {NAME: NOTEBOOK_TEXT})
    _zip(folder / "frank_upload_3.zip", {f"work/{NAME}": NOTEBOOK_TEXT})
    subs = _collect(folder, tmp_path)
    assert set(subs) == {"erin", "frank"}
    for sub in subs.values():
        assert sub.status == GRADED and sub.path.name == NAME
        assert sub.path.is_relative_to(tmp_path / "scratch")
        assert sub.path.read_text() == NOTEBOOK_TEXT


def test_zip_inside_a_student_folder_counts_for_that_student(folder, tmp_path):
    _zip(folder / "gina" / "submission.zip", {NAME: NOTEBOOK_TEXT})
    subs = _collect(folder, tmp_path)
    assert list(subs) == ["gina"] and subs["gina"].path.name == NAME
    assert subs["gina"].path.is_relative_to(tmp_path / "scratch")


@pytest.mark.parametrize("wrapper", ["", "export/"], ids=["bare", "wrapped in a folder"])
def test_a_zip_holding_a_whole_class(folder, tmp_path, wrapper):
    _zip(folder / "section_b.zip", {f"{wrapper}sec_a/{NAME}": NOTEBOOK_TEXT,
                                    f"{wrapper}sec_b/deeper/{NAME}": NOTEBOOK_TEXT,
                                    f"{wrapper}sec_c/readme.txt": "nothing here",
                                    "__MACOSX/._x": ""})
    subs = _collect(folder, tmp_path)
    assert set(subs) == {"sec_a", "sec_b", "sec_c"}, "the zip's name is not a student"
    assert subs["sec_a"].path.name == subs["sec_b"].path.name == NAME
    assert subs["sec_c"] == Submission("sec_c", None, MISSING, "the folder holds no .ipynb file")


def test_a_zip_of_flat_lms_files_is_a_class(folder, tmp_path):
    _zip(folder / "export.zip", {f"hana_1_{NAME}": NOTEBOOK_TEXT,
                                 f"ivan_2_{NAME}": NOTEBOOK_TEXT})
    subs = _collect(folder, tmp_path)
    assert set(subs) == {"hana", "ivan"}


def test_mixed_layouts_in_one_folder(folder, tmp_path):
    _notebook(folder / "alice" / NAME)
    _notebook(folder / "carol_999_01_neuron.ipynb")
    _zip(folder / "erin.zip", {NAME: NOTEBOOK_TEXT})
    _zip(folder / "whole_class.zip", {f"kim/{NAME}": NOTEBOOK_TEXT,
                                      f"lee/{NAME}": NOTEBOOK_TEXT})
    (folder / "empty").mkdir()
    _notebook(folder / ".hidden" / NAME)                     # dot entries are skipped
    _notebook(folder / "__MACOSX" / NAME)
    subs = _collect(folder, tmp_path)
    assert set(subs) == {"alice", "carol", "erin", "kim", "lee", "empty"}
    assert all(s.status == GRADED for name, s in subs.items() if name != "empty")
    assert subs["empty"].status == MISSING


def test_checkpoints_and_resource_forks_are_not_notebooks(folder, tmp_path):
    real = _notebook(folder / "alice" / NAME)
    _notebook(folder / "alice" / ".ipynb_checkpoints" / "01_neuron-checkpoint.ipynb")
    _notebook(folder / "alice" / f"._{NAME}")
    assert _collect(folder, tmp_path)["alice"] == Submission("alice", real)


@pytest.mark.parametrize(("names", "graded"), [
    (["scratch.ipynb", NAME, "zzz.ipynb"], NAME),                        # the exact name wins
    (["notes.ipynb", "my 01_neuron v2.ipynb"], "my 01_neuron v2.ipynb"),  # then the chapter
    (["b.ipynb", "a.ipynb"], "a.ipynb"),                                 # else the first
])
def test_several_notebooks_grade_one_and_say_which(folder, tmp_path, names, graded):
    for name in names:
        _notebook(folder / "mo" / name)
    sub = _collect(folder, tmp_path)["mo"]
    assert sub.status == GRADED and sub.path == folder / "mo" / graded
    assert sub.note == f"{len(names)} notebooks handed in; graded {graded}"


def test_several_flat_files_of_one_student(folder, tmp_path):
    _notebook(folder / "nia_1_scratch.ipynb")
    _notebook(folder / f"nia_2_{NAME}")
    sub = _collect(folder, tmp_path)["nia"]
    assert sub.path.name == f"nia_2_{NAME}"
    assert sub.note == f"2 notebooks handed in; graded nia_2_{NAME}"


def test_empty_folder_is_missing_with_its_reason(folder, tmp_path):
    (folder / "olga").mkdir()
    (folder / "pat").mkdir()
    (folder / "pat" / "answers.txt").write_text("I did it on paper")
    assert _collect(folder, tmp_path) == {
        "olga": Submission("olga", None, MISSING, "the folder holds no .ipynb file"),
        "pat": Submission("pat", None, MISSING, "the folder holds no .ipynb file")}


def test_zip_without_a_notebook_is_missing(folder, tmp_path):
    _zip(folder / "quinn.zip", {"readme.txt": "oops"})
    assert _collect(folder, tmp_path)["quinn"] == Submission(
        "quinn", None, MISSING, "quinn.zip holds no .ipynb file")


def test_unreadable_zip_is_missing_with_its_reason(folder, tmp_path):
    (folder / "rosa.zip").write_bytes(b"PK\x03\x04 this is not really a zip archive")
    assert _collect(folder, tmp_path)["rosa"] == Submission(
        "rosa", None, MISSING, "rosa.zip is not a readable zip archive")


@pytest.mark.parametrize("member", ["../../escaped.ipynb", "{tmp}/escaped.ipynb",
                                    "ok/../../../escaped.ipynb"])
def test_zip_with_a_path_outside_its_folder_is_refused(folder, tmp_path, member):
    """Zip slip: a member that would land outside the student's folder refuses the archive."""
    member = member.format(tmp=tmp_path)
    _zip(folder / "sam.zip", {NAME: NOTEBOOK_TEXT, member: NOTEBOOK_TEXT})
    subs = _collect(folder, tmp_path)
    assert subs["sam"] == Submission("sam", None, MISSING, "sam.zip is not a readable zip archive")
    assert not list(tmp_path.rglob("escaped.ipynb")), "nothing of the archive is extracted"
    assert not list((tmp_path / "scratch").rglob("*.ipynb"))


def test_unsafe_zip_inside_a_student_folder_is_skipped(folder, tmp_path):
    _zip(folder / "tom" / "upload.zip", {"../../../escaped.ipynb": NOTEBOOK_TEXT})
    assert _collect(folder, tmp_path)["tom"] == Submission(
        "tom", None, MISSING, "the folder holds no .ipynb file")
    assert not list(tmp_path.rglob("escaped.ipynb"))


def test_roster_students_without_a_submission_are_missing(folder, tmp_path):
    alice = _notebook(folder / "alice" / NAME)
    (folder / "olga").mkdir()
    subs = _collect(folder, tmp_path, roster=["alice", "olga", "Uma Thurman", "zed"])
    assert subs == {
        "alice": Submission("alice", alice),
        "olga": Submission("olga", None, MISSING, "the folder holds no .ipynb file"),
        "Uma_Thurman": Submission("Uma_Thurman", None, MISSING,
                                  "on the roster, nothing handed in"),
        "zed": Submission("zed", None, MISSING, "on the roster, nothing handed in")}


def test_student_folder_names_become_safe_ids(folder, tmp_path):
    _notebook(folder / "Zoë Müller" / NAME)
    _notebook(folder / "O'Brien, Pat" / NAME)
    assert set(_collect(folder, tmp_path)) == {"Zo_M_ller", "O_Brien_Pat"}


def test_student_zip_with_two_notebooks_is_one_student(folder, tmp_path):
    _zip(folder / "alice.zip", {NAME: NOTEBOOK_TEXT, "my_scratch.ipynb": NOTEBOOK_TEXT})
    sub = _collect(folder, tmp_path)["alice"]
    assert sub.path.name == NAME and sub.note == f"2 notebooks handed in; graded {NAME}"


def test_empty_class_folder_gives_nobody(folder, tmp_path):
    assert collect(folder, CHAPTER, NAME, tmp_path / "scratch") == []


@pytest.mark.parametrize(("name", "sid"), [
    ("Zoë Müller", "Zo_M_ller"),
    ("alice", "alice"),
    ("  bob  ", "bob"),
    ("carol.smith-2", "carol.smith-2"),
    ("../../etc", "etc"),
    ("a/b\\c", "a_b_c"),
    ("..", "unnamed"),
    ("", "unnamed"),
    ("李雷", "unnamed"),
])
def test_student_id(name, sid):
    assert student_id(name) == sid
