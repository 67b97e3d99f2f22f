"""Finding each student's notebook in a class folder, and repairing what nbgrader cannot.

Accepted layouts (mixed freely, and inside .zip archives):

- one folder per student: ``<student>/…/<anything>.ipynb``
- flat exports from learning-management systems: ``<student>_<anything>.ipynb``
- ``<student>.zip`` / ``<student>_<anything>.zip`` holding that student's notebook(s)
- a .zip holding a whole class folder
"""

from __future__ import annotations

import copy
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from . import cells as nbcells

SAFE_ID = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass
class Submission:
    """One student's entry: the notebook to grade, or why there is none."""

    student: str
    path: Path | None = None
    status: str = "graded"          # graded | timed out | could not be read | missing | error
    note: str = ""


def student_id(name: str) -> str:
    """A gradebook-safe id from a folder or file name (nbgrader ids must be path-safe)."""
    cleaned = SAFE_ID.sub("_", name.strip()).strip("._-")
    return cleaned or "unnamed"


def _notebooks_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.ipynb")
                  if ".ipynb_checkpoints" not in p.parts and not p.name.startswith("._"))


def _choose(notebooks: list[Path], chapter: str, notebook_name: str) -> tuple[Path, str]:
    """Pick the chapter's notebook among a student's files; say so when it was a guess."""
    for rule in (lambda p: p.name == notebook_name, lambda p: chapter in p.name):
        matches = [p for p in notebooks if rule(p)]
        if matches:
            chosen = matches[0]
            break
    else:
        chosen = notebooks[0]
    note = ""
    if len(notebooks) > 1:
        note = f"{len(notebooks)} notebooks handed in; graded {chosen.name}"
    return chosen, note


def _extract(archive: Path, into: Path) -> Path | None:
    target = into / student_id(archive.stem)
    try:
        with zipfile.ZipFile(archive) as zf:
            for member in zf.infolist():  # refuse paths that escape the target folder
                dest = (target / member.filename).resolve()
                if not str(dest).startswith(str(target.resolve())):
                    raise zipfile.BadZipFile(f"unsafe path {member.filename!r}")
            zf.extractall(target)
    except (zipfile.BadZipFile, OSError):
        return None
    return target


def _unwrap(folder: Path) -> Path:
    """Descend through wrapper folders (an archive of one folder holding everything)."""
    while True:
        entries = [p for p in folder.iterdir() if p.name != "__MACOSX"
                   and not p.name.startswith(".")]
        if len(entries) == 1 and entries[0].is_dir():
            folder = entries[0]
        else:
            return folder


def _looks_like_class(folder: Path) -> bool:
    """Several student folders, or several ``<student>_….ipynb`` files with different prefixes."""
    notebooks = sorted(folder.glob("*.ipynb"))
    folders = [p for p in folder.iterdir() if p.is_dir() and p.name != "__MACOSX"]
    prefixes = {p.stem.split("_")[0] for p in notebooks if "_" in p.stem}
    return (not notebooks and len(folders) > 1) or len(prefixes) > 1


def collect(folder: Path, chapter: str, notebook_name: str, scratch: Path,
            roster: list[str] | None = None) -> list[Submission]:
    """Every student's submission in ``folder`` (see the module docstring for layouts)."""
    found: dict[str, list[Path]] = {}
    problems: dict[str, str] = {}
    _walk(Path(folder), found, problems, scratch, top=True)
    subs = []
    for student in sorted(found.keys() | problems.keys()):
        notebooks = found.get(student, [])
        if notebooks:
            path, note = _choose(notebooks, chapter, notebook_name)
            subs.append(Submission(student, path, note=note))
        else:
            subs.append(Submission(student, None, "missing",
                                   problems.get(student, "no notebook handed in")))
    for student in roster or []:
        if student_id(student) not in found and student_id(student) not in problems:
            subs.append(Submission(student_id(student), None, "missing",
                                   "on the roster, nothing handed in"))
    return sorted(subs, key=lambda s: s.student)


def _walk(folder: Path, found, problems, scratch: Path, top: bool) -> None:
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name == "__MACOSX":
            continue
        if entry.is_dir():
            sid = student_id(entry.name)
            notebooks = _notebooks_in(entry)
            for archive in sorted(entry.rglob("*.zip")):
                extracted = _extract(archive, scratch / "unzipped" / sid)
                if extracted:
                    notebooks += _notebooks_in(extracted)
            if notebooks:
                found.setdefault(sid, []).extend(notebooks)
            else:
                problems.setdefault(sid, "the folder holds no .ipynb file")
        elif entry.suffix == ".ipynb":
            found.setdefault(student_id(entry.stem.split("_")[0]), []).append(entry)
        elif entry.suffix == ".zip":
            sid = student_id(entry.stem.split("_")[0])
            extracted = _extract(entry, scratch / "unzipped")
            if extracted is None:
                problems.setdefault(sid, f"{entry.name} is not a readable zip archive")
                continue
            inner = _unwrap(extracted)
            if top and _looks_like_class(inner):
                _walk(inner, found, problems, scratch, top=False)
                continue
            notebooks = _notebooks_in(extracted)
            if notebooks:
                found.setdefault(sid, []).extend(notebooks)
            else:
                problems.setdefault(sid, f"{entry.name} holds no .ipynb file")


def read_submission(path: Path, released) -> tuple[nbformat.NotebookNode | None, str]:
    """Load a student's notebook, or return ``(None, reason)`` when it cannot be graded."""
    raw = path.read_bytes()
    if not raw.strip():
        return None, "the notebook file is empty"
    try:
        json.loads(raw.decode("utf-8", errors="strict"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"not valid notebook JSON ({exc})"
    try:
        nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
    except Exception as exc:  # nbformat raises several kinds of errors on malformed files
        return None, f"not a valid Jupyter notebook ({type(exc).__name__}: {exc})"
    expected = {nbcells.grade_id(c) for c in released.cells if nbcells.grade_id(c)}
    present = {nbcells.grade_id(c) for c in nb.cells if nbcells.grade_id(c)}
    answers_present = {nbcells.grade_id(c) for c in nb.cells if nbcells.is_answer(c)}
    expected_answers = {nbcells.grade_id(c) for c in released.cells if nbcells.is_answer(c)}
    if not (present & expected) and not (answers_present & expected_answers):
        return None, ("this is not the expected chapter's notebook: none of its exercise "
                      "cells are in it")
    return nb, ""


def repair(nb, released) -> tuple[nbformat.NotebookNode, list[str]]:
    """Undo what students do to nbgrader's structure, so the grade reflects their answers.

    - a graded or read-only cell whose nbgrader metadata was edited gets the released
      metadata back (nbgrader would otherwise fail the whole notebook);
    - a cell carrying a grade_id the chapter does not have loses its nbgrader metadata;
    - a deleted test or read-only cell is put back where it was released (nbgrader then
      overwrites its source with the instructor's version, hidden tests included).

    Answer cells are never changed. Returns the repaired copy and what was done.
    """
    nb = copy.deepcopy(nb)
    notes = []
    released_meta = {nbcells.grade_id(c): c.metadata["nbgrader"] for c in released.cells
                     if nbcells.grade_id(c)}
    seen = set()
    for cell in nb.cells:
        gid = nbcells.grade_id(cell)
        if gid is None:
            continue
        if gid not in released_meta or gid in seen:
            cell.metadata.pop("nbgrader", None)
            notes.append(f"ignored a cell with unknown or duplicate grade_id {gid!r}")
            continue
        seen.add(gid)
        wanted = released_meta[gid]
        current = cell.metadata["nbgrader"]
        keys = ("grade", "solution", "locked", "points", "grade_id")
        if any(current.get(k) != wanted.get(k) for k in keys):
            cell.metadata["nbgrader"] = copy.deepcopy(wanted)
            notes.append(f"restored the nbgrader metadata of {gid}")
    # Put back deleted locked cells, in released order, after their released predecessor.
    position = {nbcells.grade_id(c): i for i, c in enumerate(nb.cells) if nbcells.grade_id(c)}
    previous = None
    for rcell in released.cells:
        gid = nbcells.grade_id(rcell)
        if gid is None:
            continue
        if gid not in position:
            if nbcells.is_answer(rcell):
                previous = gid  # a deleted answer stays deleted: the student scores 0 for it
                notes.append(f"answer cell {gid} is missing")
                continue
            insert_at = position[previous] + 1 if previous in position else 0
            nb.cells.insert(insert_at, copy.deepcopy(rcell))
            position = {nbcells.grade_id(c): i for i, c in enumerate(nb.cells)
                        if nbcells.grade_id(c)}
            if nbcells.is_autograded_test(rcell):
                notes.append(f"put back the deleted test cell {gid}")
        previous = gid
    return nb, notes
