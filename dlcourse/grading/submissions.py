"""Finding each student's notebook in a class folder.

Accepted layouts (mixed freely, and inside .zip archives):

- one folder per student: ``<student>/…/<anything>.ipynb``
- flat exports from learning-management systems: ``<student>_<anything>.ipynb``
- ``<student>.zip`` / ``<student>_<anything>.zip`` holding that student's notebook(s)
- a .zip holding a whole class folder

Reading and repairing the notebook found is :mod:`dlcourse.grading.repair`.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .conventions import GRADED, MISSING

SAFE_ID = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass
class Submission:
    """One student's entry: the notebook to grade, or why there is none."""

    student: str
    path: Path | None = None
    status: str = GRADED            # a status of dlcourse.grading.conventions
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
                if not dest.is_relative_to(target.resolve()):
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
    # A chapter's own notebook (NN_topic.ipynb) starts with its number, never a student id.
    prefixes = {p.stem.split("_")[0] for p in notebooks
                if "_" in p.stem and not re.match(r"\d\d_", p.stem)}
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
            subs.append(Submission(student, None, MISSING,
                                   problems.get(student, "no notebook handed in")))
    for student in roster or []:
        if student_id(student) not in found and student_id(student) not in problems:
            subs.append(Submission(student_id(student), None, MISSING,
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
