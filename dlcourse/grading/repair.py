"""Reading a student's notebook, and repairing what nbgrader cannot.

:func:`read_submission` says why a file cannot be graded (empty, not JSON, not a notebook,
another chapter's notebook); :func:`repair` undoes what students do to nbgrader's structure
(edited metadata, deleted test cells, copied cells) so the grade reflects their answers.
Finding the files is :mod:`dlcourse.grading.submissions`.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat

from .conventions import grade_id, is_answer, is_autograded_test


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
    expected = {grade_id(c) for c in released.cells if grade_id(c)}
    present = {grade_id(c) for c in nb.cells if grade_id(c)}
    answers_present = {grade_id(c) for c in nb.cells if is_answer(c)}
    expected_answers = {grade_id(c) for c in released.cells if is_answer(c)}
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
    released_meta = {grade_id(c): c.metadata["nbgrader"] for c in released.cells
                     if grade_id(c)}
    seen = set()
    for cell in nb.cells:
        gid = grade_id(cell)
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
    position = {grade_id(c): i for i, c in enumerate(nb.cells) if grade_id(c)}
    previous = None
    for rcell in released.cells:
        gid = grade_id(rcell)
        if gid is None:
            continue
        if gid not in position:
            if is_answer(rcell):
                previous = gid  # a deleted answer stays deleted: the student scores 0 for it
                notes.append(f"answer cell {gid} is missing")
                continue
            insert_at = position[previous] + 1 if previous in position else 0
            nb.cells.insert(insert_at, copy.deepcopy(rcell))
            position = {grade_id(c): i for i, c in enumerate(nb.cells)
                        if grade_id(c)}
            if is_autograded_test(rcell):
                notes.append(f"put back the deleted test cell {gid}")
        previous = gid
    return nb, notes
