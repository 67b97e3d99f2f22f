"""Executing the chapters for the book, cached by content.

A chapter's cache key is a hash of what its outputs depend on: the code cells of its
reading edition (hidden tests removed, see :func:`dlcourse.book.notebooks.prepare`), the
kernel, the library (every file of the ``dlcourse`` package but the parts no chapter imports:
this book builder, the grader, the command line), the pinned versions (``constraints.txt``)
and the other files in the chapter's folder. Editing a
chapter's prose re-executes nothing; editing its code re-executes that chapter only; editing
the library re-executes every chapter (they all import it). The executed notebook is kept in
``<cache>/executed/<chapter>.ipynb`` with its key.

Each chapter runs in a fresh kernel in a temporary copy of its folder (a chapter that saves
files leaves nothing in the repository), with the project's sliced polling
(:mod:`dlcourse.grading.kernel`, nbclient issue 312). With ``jobs`` > 1 chapters run side by
side, the longest first (by the time each took last), each kernel on one BLAS thread.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode

#: Bump when the way chapters are executed changes, so old cache entries are not reused.
EXECUTION_VERSION = "1"
KERNEL = "python3"
#: ipykernel warns on stderr, once per kernel, that it listens on loopback TCP (as every
#: Jupyter kernel does): a dozen identical lines in the build's log. Errors still show.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class Executed:
    chapter: str
    notebook: NotebookNode
    cached: bool
    seconds: float          # execution time now, or (cached) when it was executed


class ExecutionFailed(RuntimeError):
    """A chapter raised while executing; the message names it and shows the error."""


def _hash_tree(h, folder: Path, skip=()) -> None:
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if (not path.is_file() or "__pycache__" in rel.parts or path.suffix == ".pyc"
                or ".ipynb_checkpoints" in rel.parts or any(rel.parts[0] == s for s in skip)):
            continue
        h.update(str(rel).encode() + b"\0" + path.read_bytes() + b"\0")


#: Parts of the package no chapter imports: the book builder, the grader, the command line.
NOT_IMPORTED_BY_CHAPTERS = ("book", "grading", "cli.py", "__main__.py")


def library_fingerprint(root: Path, grading: bool = False) -> str:
    """A hash of the files the chapters' outputs may depend on besides their own code: the
    ``dlcourse`` package (without :data:`NOT_IMPORTED_BY_CHAPTERS`; with ``grading`` for a
    chapter whose code mentions ``dlcourse.grading``) and ``constraints.txt``."""
    h = hashlib.sha256()
    skip = tuple(s for s in NOT_IMPORTED_BY_CHAPTERS if not (grading and s == "grading"))
    _hash_tree(h, root / "dlcourse", skip=skip)
    constraints = root / "constraints.txt"
    if constraints.is_file():
        h.update(constraints.read_bytes())
    return h.hexdigest()


def uses_grading(prepared: NotebookNode) -> bool:
    return any("dlcourse.grading" in c.source for c in prepared.cells if c.cell_type == "code")


def cache_key(prepared: NotebookNode, fingerprint: str, folder: Path | None = None,
              notebook_name: str = "") -> str:
    """The content key of one chapter's execution (see the module docstring)."""
    h = hashlib.sha256()
    h.update(f"dlcourse-book {EXECUTION_VERSION} {KERNEL}\0{fingerprint}\0".encode())
    for cell in prepared.cells:
        if cell.cell_type == "code":
            tags = sorted(t for t in cell.metadata.get("tags", []) if t == "raises-exception")
            h.update(json.dumps([cell.source, tags]).encode() + b"\0")
    if folder is not None:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.name != notebook_name and \
                    ".ipynb_checkpoints" not in path.parts:
                h.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def merge_outputs(prepared: NotebookNode, executed: NotebookNode) -> NotebookNode:
    """``prepared`` (a copy) with the outputs of ``executed``, whose code cells are the
    same (same key): prose edited since is kept, outputs come from the cache."""
    nb = copy.deepcopy(prepared)
    done = [c for c in executed.cells if c.cell_type == "code"]
    todo = [c for c in nb.cells if c.cell_type == "code"]
    if len(done) != len(todo):
        raise ValueError("cached notebook does not match: different code cells")
    for cell, result in zip(todo, done, strict=True):
        cell.outputs = result.get("outputs", [])
        cell.execution_count = result.get("execution_count")
    if "widgets" in executed.metadata:
        nb.metadata["widgets"] = executed.metadata["widgets"]
    for key in ("language_info",):
        if key in executed.metadata:
            nb.metadata[key] = executed.metadata[key]
    return nb


class ExecutionCache:
    """One executed notebook per chapter, with the key it was executed for."""

    def __init__(self, folder: Path):
        self.folder = Path(folder) / "executed"

    def _path(self, chapter: str) -> Path:
        return self.folder / f"{chapter}.ipynb"

    def get(self, chapter: str, key: str) -> NotebookNode | None:
        path = self._path(chapter)
        if not path.is_file():
            return None
        try:
            nb = nbformat.read(str(path), as_version=4)
        except Exception:
            return None
        meta = nb.metadata.get("dlcourse_book", {})
        return nb if meta.get("key") == key else None

    def seconds(self, chapter: str) -> float:
        """How long the chapter took when last executed (0 if never)."""
        path = self._path(chapter)
        if not path.is_file():
            return 0.0
        try:
            with open(path, encoding="utf-8") as f:
                return float(json.load(f)["metadata"]["dlcourse_book"]["seconds"])
        except (OSError, ValueError, KeyError, TypeError):
            return 0.0

    def put(self, chapter: str, key: str, nb: NotebookNode, seconds: float) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        nb = copy.deepcopy(nb)
        nb.metadata["dlcourse_book"] = {"key": key, "seconds": round(seconds, 2)}
        tmp = self._path(chapter).with_suffix(f".tmp{os.getpid()}")
        nbformat.write(nb, str(tmp))
        os.replace(tmp, self._path(chapter))


def kernel_env(one_thread: bool) -> dict:
    env = dict(os.environ)
    # The kernel must draw inline figures: a backend inherited from a headless parent
    # (MPLBACKEND=Agg in the tests) would swallow every plt.show().
    env.pop("MPLBACKEND", None)
    if one_thread:
        for var in THREAD_VARIABLES:
            env.setdefault(var, "1")
    return env


def _first_error(nb: NotebookNode) -> str:
    """The first unexpected error output (cells tagged ``raises-exception`` may raise)."""
    for i, cell in enumerate(nb.cells):
        if "raises-exception" in cell.get("metadata", {}).get("tags", []):
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                return f"cell {i}: {out.get('ename')}: {out.get('evalue')}"
    return ""


def execute_notebook(nb: NotebookNode, folder: Path, timeout: int, env: dict,
                     allow_errors: bool = False) -> tuple[NotebookNode, float]:
    """Run a copy of ``nb`` top to bottom in a fresh kernel, in a temporary copy of
    ``folder``; returns it with outputs and widget state, and the seconds it took."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    from dlcourse.grading.kernel import SlicedPolling

    class BookClient(SlicedPolling, NotebookClient):
        pass

    nb = copy.deepcopy(nb)
    with tempfile.TemporaryDirectory(prefix="dlcourse-book-") as tmp:
        work = Path(tmp) / folder.name
        shutil.copytree(folder, work, ignore=shutil.ignore_patterns("*.ipynb",
                                                                    ".ipynb_checkpoints"))
        client = BookClient(nb, timeout=timeout, kernel_name=KERNEL,
                            allow_errors=allow_errors, store_widget_state=True,
                            resources={"metadata": {"path": str(work)}},
                            extra_arguments=KERNEL_ARGUMENTS)
        start = time.perf_counter()
        try:
            client.execute(env=env)
        except CellExecutionError as exc:
            message = _ANSI.sub("", str(exc)).strip()
            raise ExecutionFailed(f"{folder.name}: a cell raised\n{message}") from None
        except Exception as exc:      # timeouts, a dead kernel
            raise ExecutionFailed(f"{folder.name}: {type(exc).__name__}: {exc}") from None
        seconds = time.perf_counter() - start
    return nb, seconds


@dataclass
class Job:
    chapter: str
    folder: Path
    prepared: NotebookNode
    key: str
    timeout: int


def execute_all(jobs: list[Job], cache: ExecutionCache, workers: int = 1,
                allow_errors: bool = False, fresh: bool = False,
                log=print) -> dict[str, Executed]:
    """Execute every job whose key is not in the cache (all with ``fresh``); the others come
    from the cache. Returns the executed notebooks by chapter."""
    results: dict[str, Executed] = {}
    todo = []
    for job in jobs:
        hit = None if fresh else cache.get(job.chapter, job.key)
        if hit is not None:
            seconds = float(hit.metadata.get("dlcourse_book", {}).get("seconds", 0))
            results[job.chapter] = Executed(job.chapter, merge_outputs(job.prepared, hit),
                                            True, seconds)
            log(f"  {job.chapter}: cached (executed in {seconds:.1f} s)")
        else:
            todo.append(job)
    if not todo:
        return results
    todo.sort(key=lambda j: cache.seconds(j.chapter), reverse=True)
    workers = max(1, min(workers, len(todo)))
    env = kernel_env(one_thread=workers > 1)

    failures: list[str] = []

    def run(job: Job) -> Executed | None:
        try:
            nb, seconds = execute_notebook(job.prepared, job.folder, job.timeout, env,
                                           allow_errors=allow_errors)
        except ExecutionFailed as exc:
            failures.append(str(exc))
            log(f"  {job.chapter}: FAILED")
            return None
        error = _first_error(nb)
        if not error:        # a notebook that raised is shown (allow_errors), never cached
            cache.put(job.chapter, job.key, nb, seconds)
        log(f"  {job.chapter}: executed in {seconds:.1f} s" + (f" ({error})" if error else ""))
        return Executed(job.chapter, nb, False, seconds)

    log(f"executing {len(todo)} chapter(s), {workers} at a time")
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for job, done in zip(todo, list(pool.map(run, todo)), strict=True):
            if done is not None:
                results[job.chapter] = done
    if failures:
        raise ExecutionFailed("\n\n".join(failures))
    return results
