"""``dlcourse grade``: grade a whole class folder with nbgrader, losing no grade.

The promise: put a class's submissions in a folder, run one command, get correct grades,
per-student feedback and a CSV, whatever the students did to their notebooks.

How it keeps that promise:

- **Isolation.** nbgrader's gradebook is prepared once, then every student is graded in a
  folder of their own with their own copy of it. A notebook that crashes the kernel, loops
  forever or corrupts its files can only affect its own grade. Kernels run with their working
  directory inside that student's temporary folder.
- **Repair before grading.** Edited or deleted test cells and edited nbgrader metadata are
  put back (:func:`dlcourse.grading.repair.repair`); nbgrader then overwrites every test
  cell with the instructor's version, so editing tests gains nothing.
- **Limits.** A per-cell timeout (``Execute.timeout``; nbgrader ignores
  ``ExecutePreprocessor.timeout``, nbgrader issue 1463), a time limit for the whole notebook,
  and a cap on output size.
- **Feedback without hidden tests** (nbgrader issues 917, 1363): see
  :mod:`dlcourse.grading.preprocessors`.
- **Atomic output.** ``grades.csv`` is written to a temporary file and renamed; re-running
  rebuilds everything from the submissions, so rows are never duplicated.

- **Tests out of the student's reach.** Each student's cells run in a sandboxed kernel
  (bubblewrap: no network, a private work folder, its own PID namespace, memory, process and
  file-size limits) while the tests run in a trusted process that never executes a line of
  student code (:mod:`dlcourse.grading.two_process`). Where the sandbox cannot start,
  grading stops and says how to fix it; ``sandbox=False`` (``--no-sandbox``) grades with two
  processes but no sandbox, and says so in every row of the CSV.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import conventions, tripwire
from .conventions import ERROR, GRADED, KERNEL_DIED, LIMIT_HIT, TIMED_OUT, UNREADABLE
from .course import chapter_notebooks, find_course_root, list_chapters
from .nbgrader_setup import read_scores
from .nbgrader_setup import run as nbgrader
from .repair import read_submission, repair
from .submissions import Submission, collect

DEFAULT_TIMEOUT = 60          # seconds per cell; the chapters' cells stay far below it
WHOLE_NOTEBOOK_FACTOR = 3     # the whole notebook may take this many cell timeouts in total

NO_SANDBOX_NOTE = "graded WITHOUT the sandbox (--no-sandbox): student code ran unconfined"

EXTRA_CONFIG = '''
# --- added by `dlcourse grade` for this student's isolated grading folder ---
from dlcourse.grading.nbgrader_setup import configure
configure(c, timeout={timeout}, single_kernel={single_kernel!r})
c.RobustExecute.instructor_notebook = {instructor!r}
c.TwoProcessExecute.notes_file = {notes!r}
c.TwoProcessExecute.sandbox = {sandbox!r}
c.TwoProcessExecute.memory = {memory!r}
c.TwoProcessExecute.processes = {processes!r}
'''


@dataclass
class StudentResult:
    student: str
    status: str
    note: str = ""
    scores: dict[str, float] = field(default_factory=dict)   # exercise -> points
    feedback: Path | None = None

    @property
    def total(self) -> float:
        return float(sum(self.scores.values()))


@dataclass
class ClassReport:
    chapter: str
    exercises: dict[str, float]          # exercise -> max points (autograded)
    manual_points: float
    results: list[StudentResult]
    csv_path: Path
    seconds: float
    sandboxed: bool = True

    @property
    def max_total(self) -> float:
        return float(sum(self.exercises.values()))


def _exercise_columns(released) -> dict[str, list[tuple[str, float]]]:
    """exercise -> [(test grade_id, points)], in notebook order."""
    names = conventions.exercise_names(released)
    columns: dict[str, list[tuple[str, float]]] = {}
    for cell in released.cells:
        if conventions.is_autograded_test(cell):
            gid = conventions.grade_id(cell)
            exercise = conventions.exercise_for_test(gid, names) or gid
            columns.setdefault(exercise, []).append((gid, conventions.points(cell)))
    return columns


def _prepare_master(root: Path, chapter: str, work: Path) -> tuple[Path, Path]:
    """Generate the assignment once; return (gradebook file, released notebook path)."""
    master = work / "master"
    (master / "solutions").mkdir(parents=True)
    shutil.copy(root / "nbgrader_config.py", master)
    shutil.copytree(root / "solutions" / chapter, master / "solutions" / chapter)
    db = master / "gradebook.db"
    result = nbgrader(["generate_assignment", chapter, "--force",
                       f"--CourseDirectory.release_directory={master / 'release'}"],
                      cwd=master, db_url=f"sqlite:///{db}")
    if result.returncode != 0:
        raise RuntimeError(f"nbgrader could not generate {chapter}:\n{result.stderr}")
    released = chapter_notebooks(master / "release" / chapter)[0]
    return db, released


def _student_folder(work: Path, root: Path, chapter: str, sid: str, settings: dict) -> Path:
    """A private nbgrader course for one student: config, data files, their own gradebook."""
    folder = work / "students" / sid
    source = folder / "solutions" / chapter
    source.mkdir(parents=True)
    # Data files a chapter ships are copied in by nbgrader; the notebooks (with the hidden
    # tests) are not: nbgrader reads the tests from the gradebook.
    for item in (root / "solutions" / chapter).iterdir():
        if item.suffix != ".ipynb" and item.name != ".ipynb_checkpoints":
            copy = shutil.copytree if item.is_dir() else shutil.copy
            copy(item, source / item.name)
    config = (root / "nbgrader_config.py").read_text() + EXTRA_CONFIG.format(
        notes=str(folder / "notes.json"), **settings)
    (folder / "nbgrader_config.py").write_text(config)
    return folder


def _timed_out_cells(notebook: Path) -> int:
    if not notebook.exists():
        return 0
    nb = nbformat.read(str(notebook), as_version=4)
    return sum(1 for c in nb.cells for o in c.get("outputs", [])
               if o.get("output_type") == "error" and o.get("ename") == "CellTimeoutError")


def _grade_one(sub: Submission, nb, *, work: Path, books: Path, root: Path, chapter: str,
               notebook_name: str, master_db: Path, columns, settings: dict,
               feedback_dir: Path) -> StudentResult:
    sid = sub.student
    timeout = settings["timeout"]
    folder = _student_folder(work, root, chapter, sid, settings)
    submitted = folder / "submitted" / sid / chapter
    submitted.mkdir(parents=True)
    nbformat.write(nb, str(submitted / notebook_name))
    db = books / f"{sid}.db"
    shutil.copy(master_db, db)
    db_url = f"sqlite:///{db}"
    n_code = sum(1 for c in nb.cells if c.cell_type == "code")
    limit = timeout * WHOLE_NOTEBOOK_FACTOR + 5 * n_code + 60
    result = StudentResult(sid, GRADED, sub.note)
    try:
        run = nbgrader(["autograde", chapter, "--force", f"--student={sid}"], folder, db_url,
                       timeout=limit)
        log = run.stdout + run.stderr
    except Exception as exc:  # subprocess.TimeoutExpired, or anything killing the run
        log = f"{type(exc).__name__}: {exc}"
        result.status = TIMED_OUT
        result.note = _join(result.note, f"the notebook ran longer than {limit} s in total "
                                         "and was stopped")
    notebook_id = notebook_name.removesuffix(".ipynb")
    autograded = folder / "autograded" / sid / chapter / notebook_name
    grades = read_scores(db, chapter, notebook_id, sid)
    notes = _grading_notes(folder / "notes.json")
    for note in notes:
        result.note = _join(result.note, note)
    if result.status == GRADED:
        if not autograded.exists():
            result.status = ERROR
            last = [line for line in log.splitlines() if "ERROR" in line][-3:]
            result.note = _join(result.note, "nbgrader could not grade this notebook: "
                                + " | ".join(last))
            grades = {}
        elif any("kernel died" in note for note in notes):
            result.status = KERNEL_DIED
        elif n := _timed_out_cells(autograded):
            result.status = TIMED_OUT
            result.note = _join(result.note, f"{n} cell(s) ran longer than {timeout} s and "
                                             "were stopped; the rest was graded")
        elif any("memory" in note for note in notes):
            result.status = LIMIT_HIT
    result.scores = {ex: sum(grades.get(gid, 0.0) for gid, _ in tests)
                     for ex, tests in columns.items()}
    if autograded.exists() and result.status != ERROR:
        fb = nbgrader(["generate_feedback", chapter, "--force", f"--student={sid}"], folder,
                      db_url, timeout=600)
        html = folder / "feedback" / sid / chapter / f"{notebook_id}.html"
        if fb.returncode == 0 and html.exists():
            result.feedback = feedback_dir / f"{sid}.html"
            shutil.copy(html, result.feedback)
    return result


def _grading_notes(path: Path) -> list[str]:
    """What the two-process executor wrote down (dead kernel, limits hit), deduplicated."""
    try:
        notes = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    return list(dict.fromkeys(str(n) for n in notes if isinstance(n, str)))


def _join(a: str, b: str) -> str:
    return f"{a}; {b}" if a else b


def grade_class(chapter: str, submissions: str | Path, out: str | Path | None = None, *,
                root: Path | None = None, timeout: int | None = None, jobs: int = 2,
                roster: list[str] | None = None, keep_work: bool = False,
                progress: Callable | None = None, sandbox: bool = True,
                memory: str | None = None, processes: int | None = None,
                single_kernel: bool = False) -> ClassReport:
    """Grade every submission of ``chapter`` in ``submissions``; write CSV and feedback.

    ``out`` defaults to ``<submissions>/../grading-output/<chapter>``. ``jobs`` students are
    graded at once (one kernel each). ``timeout`` is the per-cell limit in seconds; by
    default the chapter's own (notebook metadata ``dlcourse.timeout``) or 60 s.
    ``sandbox`` runs each student's kernel in the bubblewrap sandbox, with ``memory`` (e.g.
    ``"4G"``) and ``processes`` as its limits; without bubblewrap this raises
    :class:`~dlcourse.grading.sandbox.SandboxUnavailable`, naming the fix.
    ``single_kernel`` grades as plain nbgrader does (tests in the student's kernel, which
    its code can fool): the baseline of ``benchmarks/grading.py``, never for a class.
    Returns a :class:`ClassReport`.
    """
    start = time.perf_counter()
    sandbox = sandbox and not single_kernel
    if sandbox:
        from .sandbox import check_sandbox, parse_size

        check_sandbox()       # fail closed, before anything is written
        if memory:
            parse_size(memory)
    root = Path(root) if root else find_course_root()
    if chapter not in list_chapters(root):
        raise ValueError(f"unknown chapter {chapter!r}; chapters: {list_chapters(root)}")
    submissions = Path(submissions)
    if not submissions.is_dir():
        raise FileNotFoundError(f"no submissions folder at {submissions}")
    out = Path(out) if out else submissions.resolve().parent / "grading-output" / chapter
    feedback_dir = out / "feedback"
    if feedback_dir.exists():
        shutil.rmtree(feedback_dir)   # re-running rebuilds the feedback from scratch
    feedback_dir.mkdir(parents=True)
    notebook_name = chapter_notebooks(root / "solutions" / chapter)[0].name
    work = Path(tempfile.mkdtemp(prefix="dlcourse-grade-"))
    # The gradebooks (which hold the hidden tests) live apart from the students' working
    # folders, so no relative path from a running notebook leads to them.
    books = Path(tempfile.mkdtemp(prefix="dlcourse-gradebooks-"))
    try:
        master_db, released_path = _prepare_master(root, chapter, books)
        released = nbformat.read(str(released_path), as_version=4)
        if timeout is None:
            timeout = int(released.metadata.get("dlcourse", {}).get("timeout", DEFAULT_TIMEOUT))
        columns = _exercise_columns(released)
        exercises = {ex: sum(p for _, p in tests) for ex, tests in columns.items()}
        manual = sum(conventions.points(c) for c in released.cells
                     if conventions.is_manually_graded(c))
        subs = collect(submissions, chapter, notebook_name, work / "scratch", roster)
        results: list[StudentResult] = []
        todo = []
        for sub in subs:
            if sub.path is None:
                results.append(StudentResult(sub.student, sub.status, sub.note,
                                             dict.fromkeys(exercises, 0.0)))
                continue
            nb, reason = read_submission(sub.path, released)
            if nb is None:
                results.append(StudentResult(sub.student, UNREADABLE,
                                             _join(sub.note, reason),
                                             dict.fromkeys(exercises, 0.0)))
                continue
            nb, repairs = repair(nb, released)
            signs = tripwire.tampering_signs(nb)
            if signs:
                repairs = [*repairs, "check by hand: the code " + ", ".join(signs)]
            if repairs:
                sub.note = _join(sub.note, "; ".join(repairs))
            todo.append((sub, nb))
        settings = dict(timeout=timeout, sandbox=sandbox, memory=memory or "",
                        processes=int(processes or 0), single_kernel=single_kernel,
                        instructor=str(released_path))
        kwargs = dict(work=work, books=books, root=root, chapter=chapter,
                      notebook_name=notebook_name, master_db=master_db, columns=columns,
                      settings=settings, feedback_dir=feedback_dir)
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {pool.submit(_grade_one, sub, nb, **kwargs): sub for sub, nb in todo}
            for future in as_completed(futures):
                sub = futures[future]
                try:
                    results.append(future.result())
                except Exception as exc:  # never lose the class because of one student
                    results.append(StudentResult(sub.student, ERROR,
                                                 _join(sub.note, f"grading failed: {exc}"),
                                                 dict.fromkeys(exercises, 0.0)))
                if progress:
                    progress(sub.student)
        results.sort(key=lambda r: r.student)
        if not sandbox:
            for r in results:
                r.note = _join(r.note, NO_SANDBOX_NOTE)
        csv_path = _write_csv(out / "grades.csv", results, exercises, manual)
    finally:
        if not keep_work:
            shutil.rmtree(work, ignore_errors=True)
            shutil.rmtree(books, ignore_errors=True)
    return ClassReport(chapter, exercises, manual, results, csv_path,
                       time.perf_counter() - start, sandboxed=sandbox)


def _write_csv(path: Path, results: list[StudentResult], exercises: dict[str, float],
               manual: float) -> Path:
    header = (["student", "status"] + [f"{ex} (/{pts:g})" for ex, pts in exercises.items()]
              + [f"total (/{sum(exercises.values()):g})", "manual points pending", "note"])
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for r in results:
            writer.writerow([r.student, r.status]
                            + [f"{r.scores.get(ex, 0.0):g}" for ex in exercises]
                            + [f"{r.total:g}", f"{manual:g}" if manual else "", r.note])
    os.replace(tmp, path)
    return path


def format_summary(report: ClassReport) -> str:
    width = max([len(r.student) for r in report.results] + [7])
    lines = [f"{'student':<{width}}  {'status':<17} {'points':>9}  note"]
    for r in report.results:
        points = f"{r.total:g}/{report.max_total:g}"
        lines.append(f"{r.student:<{width}}  {r.status:<17} {points:>9}  {r.note[:80]}")
    counts: dict[str, int] = {}
    for r in report.results:
        counts[r.status] = counts.get(r.status, 0) + 1
    lines.append("")
    lines.append(f"{len(report.results)} students in {report.seconds:.0f} s: "
                 + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    if report.manual_points:
        lines.append(f"{report.manual_points:g} points per student are graded by hand "
                     "(nbgrader formgrader); they are not in the totals.")
    if not report.sandboxed:
        lines.append("WARNING: graded without the sandbox (--no-sandbox): student code ran "
                     "with your rights and could read or change your files.")
    lines.append(f"grades: {report.csv_path}")
    lines.append(f"feedback: {report.csv_path.parent / 'feedback'}")
    return "\n".join(lines)
