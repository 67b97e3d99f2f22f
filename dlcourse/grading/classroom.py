"""``dlcourse class``: the instructor's side of a class on JupyterHub (deploy/README.md).

The course folder is a private clone of this repository in the grader account's home:
nbgrader's course root (``nbgrader_config.py``, ``solutions/``, ``course/``) plus nbgrader's
working state (``gradebook.db``, ``submitted/``, ``autograded/``, ``feedback/``). nbgrader's
filesystem exchange moves the files between the grader and the students; the grading itself
is ``dlcourse grade``'s (bubblewrap sandbox, tests in a trusted process, ``--jobs N``), never
nbgrader's one-kernel autograde and never inside a student's server.

    dlcourse class release 01_neuron      # course/, gradebook, then the exchange
    dlcourse class collect 01_neuron      # each student's newest submission -> submitted/
    dlcourse class grade 01_neuron        # sandboxed grading; scores into gradebook.db, feedback/
    dlcourse class feedback 01_neuron     # release the feedback to the students
    dlcourse class export --to grades.csv # nbgrader's export of the gradebook

This module also holds :class:`PrivateSubmit`, the exchange's submit step used on the hub
(``deploy/jupyter/nbgrader_config.py``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from nbgrader.exchange.default.submit import ExchangeSubmit

from .conventions import GRADED
from .course import chapter_notebooks, find_course_root, list_chapters
from .submissions import student_id

#: Files nbgrader's exchange keeps beside a submission and needs again for its feedback.
SUBMISSION_FILES = ("timestamp.txt", "submission_secret.txt")


class ClassError(RuntimeError):
    """A step of ``dlcourse class`` failed; the message says which and why."""


class PrivateSubmit(ExchangeSubmit):
    """nbgrader's submit, with the submission's folder closed to everyone but the grader.

    nbgrader leaves a submission world-readable (folder 0777, files 0644), hidden only by
    a random name in the unlistable inbound folder. The inbound folder is set-group-ID
    (nbgrader makes it so), so the submission's folder belongs to the grader's group: here
    it becomes 0770, and other students get "permission denied" even with its exact path,
    while the grader still collects and deletes it. (Where the folder did not get the
    grader's group, nbgrader's own permissions stay, or the grader could not collect it.)
    """

    def copy_files(self):
        super().copy_files()
        dest = Path(self.inbound_path) / self.assignment_filename
        if dest.stat().st_gid != Path(self.inbound_path).stat().st_gid:
            self.log.warning("%s is not in the inbound folder's group: left as nbgrader "
                             "leaves it", dest)
            return
        for folder, dirs, _ in os.walk(dest):
            for name in dirs:
                os.chmod(Path(folder) / name, 0o770)
        os.chmod(dest, 0o770)


def course_root(course: str | Path | None = None) -> Path:
    """The course folder: ``course`` or the one found from the working directory."""
    return find_course_root(course) if course else find_course_root()


def _check_chapter(root: Path, chapter: str) -> str:
    known = list_chapters(root)
    if chapter not in known:
        raise ClassError(f"unknown chapter {chapter!r}; the chapters in {root / 'solutions'} "
                         f"are {known}")
    return chapter


def _config(root: Path):
    """nbgrader's configuration for the course, read the way nbgrader reads it: the course
    folder's nbgrader_config.py over the ones on the Jupyter config path."""
    from nbgrader.apps.baseapp import NbGrader

    with _working_directory(root):
        app = NbGrader()
        app.load_config_file()
    config = app.config
    config.CourseDirectory.root = str(root)
    config.ExchangeReleaseAssignment.force = True   # a re-release replaces the last one
    return config


def course_id(root: Path) -> str:
    """nbgrader's course_id for the course folder ``root``."""
    from nbgrader.coursedir import CourseDirectory

    return CourseDirectory(config=_config(root)).course_id


def _api(root: Path):
    """nbgrader's own Python API (the formgrader's), in this process."""
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    from .nbgrader_setup import environment_with_venv

    # nbgrader runs `alembic` by name to set up the gradebook: it must be on PATH
    os.environ["PATH"] = environment_with_venv()["PATH"]
    config = _config(root)
    return NbGraderAPI(CourseDirectory(config=config), config=config)


def _ok(result: dict | None, what: str) -> str:
    """The log of one nbgrader step, or ClassError with its error and log."""
    result = result or {"success": False, "error": "nbgrader returned nothing"}
    log = result.get("log", "").strip()
    if not result.get("success"):
        raise ClassError(f"nbgrader {what} failed:\n{result.get('error', '')}\n{log[-2000:]}")
    return log


@contextlib.contextmanager
def _working_directory(path: Path):
    previous = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def release(chapter: str, course: str | Path | None = None) -> str:
    """Generate ``chapter`` into ``course/`` and the gradebook, then release it to the
    exchange (replacing an earlier release). Returns nbgrader's log."""
    root = course_root(course)
    _check_chapter(root, chapter)
    api = _api(root)
    log = _ok(api.generate_assignment(chapter, force=True), "generate_assignment")
    return log + "\n" + _ok(api.release_assignment(chapter), "release_assignment")


def collect(chapter: str, course: str | Path | None = None) -> list[str]:
    """Copy each student's newest submission into ``submitted/<student>/<chapter>/``;
    returns the students who have one."""
    root = course_root(course)
    _check_chapter(root, chapter)
    _ok(_api(root).collect(chapter, update=True), "collect")
    return _submitted_students(root, chapter)


def _submitted_students(root: Path, chapter: str) -> list[str]:
    folder = root / "submitted"
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if (p / chapter).is_dir())


@contextlib.contextmanager
def _temporary_files_in(folder: Path):
    """Make ``tempfile`` create its folders in ``folder`` (``dlcourse grade`` keeps its work
    folders there, with ``keep_work=True``, and we read the per-student gradebooks)."""
    previous = tempfile.tempdir
    tempfile.tempdir = str(folder)
    try:
        yield
    finally:
        tempfile.tempdir = previous


def _kept_grades(books: Path | None, sid: str, chapter: str, notebook_id: str) -> dict:
    """``{grade_id: (auto_score, needs_manual_grade)}`` from the gradebook ``dlcourse grade``
    kept for one student; {} when there is none (nothing ran: unreadable, missing)."""
    from nbgrader.api import Gradebook, MissingEntry

    db = books / f"{sid}.db" if books else None
    if db is None or not db.is_file():
        return {}
    with Gradebook(f"sqlite:///{db}") as gb:
        try:
            notebook = gb.find_submission_notebook(notebook_id, chapter, sid)
        except MissingEntry:
            return {}
        return {g.name: (g.auto_score, g.needs_manual_grade) for g in notebook.grades}


def _record(gb, chapter: str, notebook_id: str, sid: str, grades: dict,
            timestamp: str | None) -> None:
    """Put one student's scores into the course's gradebook, as ``nbgrader autograde`` would."""
    from nbgrader.api import MissingEntry
    from nbgrader.utils import parse_utc

    when = {"timestamp": parse_utc(timestamp)} if timestamp else {}
    gb.update_or_create_student(sid)
    try:
        submission = gb.find_submission(chapter, sid)
    except MissingEntry:
        submission = gb.add_submission(chapter, sid, **when)
    else:
        for key, value in when.items():
            setattr(submission, key, value)
    notebook = gb.find_submission_notebook(notebook_id, chapter, sid)
    for grade in notebook.grades:
        # An answer that never ran (no entry) scores nothing, like a failed test.
        auto, manual = grades.get(grade.name, (0.0, False))
        grade.auto_score = auto
        grade.needs_manual_grade = manual
    gb.db.commit()


def _read_timestamp(folder: Path) -> str | None:
    path = folder / "timestamp.txt"
    return path.read_text().strip() if path.is_file() else None


def grade(chapter: str, course: str | Path | None = None, *, jobs: int = 2,
          timeout: int | None = None, memory: str | None = None, sandbox: bool = True,
          progress=None):
    """Grade the collected submissions of ``chapter`` with ``dlcourse grade``.

    Writes ``grading-output/<chapter>/grades.csv`` and its feedback pages, records every
    student's scores in the course's ``gradebook.db`` (so ``nbgrader export`` and the
    formgrader see them; written answers stay pending for the formgrader), copies each
    autograded notebook to ``autograded/`` and each feedback page to
    ``feedback/<student>/<chapter>/`` where ``nbgrader release_feedback`` looks.
    Returns the :class:`~dlcourse.grading.autograde.ClassReport`.
    """
    from nbgrader.api import Gradebook

    from .autograde import grade_class

    root = course_root(course)
    _check_chapter(root, chapter)
    students = _submitted_students(root, chapter)
    if not students:
        raise ClassError(f"nothing to grade in {root / 'submitted'}: run "
                         f"`dlcourse class collect {chapter}` first")
    notebook_name = chapter_notebooks(root / "solutions" / chapter)[0].name
    notebook_id = notebook_name.removesuffix(".ipynb")
    out = root / "grading-output" / chapter
    ids = {student_id(s): s for s in students}
    # A short folder: the sandboxed kernels' sockets live in it (108-byte path limit).
    with tempfile.TemporaryDirectory(prefix="dlcc-", dir="/tmp") as tmp:
        tmp = Path(tmp)
        view = tmp / "submissions"    # one folder per student, this chapter's notebooks only
        for sid, student in ids.items():
            (view / sid).mkdir(parents=True)
            for nb in chapter_notebooks(root / "submitted" / student / chapter):
                shutil.copy(nb, view / sid / nb.name)
        work = tmp / "work"
        work.mkdir()
        with _temporary_files_in(work):
            report = grade_class(chapter, view, out, root=root, timeout=timeout, jobs=jobs,
                                 keep_work=True, progress=progress, sandbox=sandbox,
                                 memory=memory)
        books = next(work.glob("dlcourse-gradebooks-*"), None)
        graded = next(work.glob("dlcourse-grade-*"), None)
        scores = {r.student: _kept_grades(books, r.student, chapter, notebook_id)
                  for r in report.results}
        lost = [r.student for r in report.results if r.status == GRADED and not scores[r.student]]
        if lost:   # never record a zero that is really a missing score
            raise ClassError(f"graded, but the per-test scores of {lost} were not found in "
                             "the work folders dlcourse grade kept; nothing was recorded in "
                             f"the gradebook (grades.csv and feedback: {out})")
        with Gradebook(f"sqlite:///{root / 'gradebook.db'}", course_id(root)) as gb:
            for result in report.results:
                student = ids.get(result.student, result.student)
                submitted = root / "submitted" / student / chapter
                _record(gb, chapter, notebook_id, student, scores[result.student],
                        _read_timestamp(submitted))
                autograded = (graded / "students" / result.student / "autograded" /
                              result.student / chapter) if graded else None
                _place(autograded, root / "autograded" / student / chapter, submitted)
                feedback = root / "feedback" / student / chapter
                shutil.rmtree(feedback, ignore_errors=True)
                if result.feedback and result.feedback.is_file():
                    feedback.mkdir(parents=True)
                    shutil.copy(result.feedback, feedback / f"{notebook_id}.html")
                    _copy_submission_files(submitted, feedback)
    return report


def _place(source: Path | None, dest: Path, submitted: Path) -> None:
    """Copy a kept autograded folder to nbgrader's ``autograded/`` (for the formgrader)."""
    shutil.rmtree(dest, ignore_errors=True)
    if source is None or not source.is_dir():
        return
    shutil.copytree(source, dest)
    _copy_submission_files(submitted, dest)


def _copy_submission_files(submitted: Path, dest: Path) -> None:
    for name in SUBMISSION_FILES:
        if (submitted / name).is_file():
            shutil.copy(submitted / name, dest / name)


def release_feedback(chapter: str, course: str | Path | None = None) -> list[str]:
    """Release the feedback ``grade`` prepared; returns the students it was released to."""
    root = course_root(course)
    _check_chapter(root, chapter)
    folder = root / "feedback"
    students = sorted(p.name for p in folder.iterdir()
                      if (p / chapter).is_dir()) if folder.is_dir() else []
    if not students:
        raise ClassError(f"no feedback for {chapter} in {folder}: run "
                         f"`dlcourse class grade {chapter}` first")
    _ok(_api(root).release_feedback(chapter), "release_feedback")
    return students


def export(to: str | Path, course: str | Path | None = None) -> Path:
    """nbgrader's CSV export of the whole gradebook (one row per student and chapter)."""
    from nbgrader.api import Gradebook
    from nbgrader.plugins import CsvExportPlugin

    root = course_root(course)
    to = Path(to).resolve()
    config = _config(root)
    plugin = CsvExportPlugin(config=config)
    plugin.to = str(to)
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", course_id(root)) as gb:
        plugin.export(gb)
    return to
