"""Building notebooks with nbgrader metadata from Python (for contributors and tests).

The notebooks in ``solutions/`` are the source of truth and can be edited in JupyterLab
with nbgrader's "Create Assignment" toolbar. These helpers write the same metadata from a
script, which is handy for a new chapter and for the fake submissions in the tests.
"""

from __future__ import annotations

from textwrap import dedent

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

SCHEMA_VERSION = 3


def _meta(grade_id: str, *, grade: bool, solution: bool, locked: bool, points=None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked,
            "schema_version": SCHEMA_VERSION, "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _clean(text: str) -> str:
    return dedent(text).strip("\n")


def markdown(text: str, grade_id: str | None = None):
    """Prose. With a ``grade_id`` it becomes a locked (read-only) nbgrader cell."""
    cell = new_markdown_cell(_clean(text))
    if grade_id:
        cell.metadata.update(_meta(grade_id, grade=False, solution=False, locked=True))
    return cell


def code(source: str):
    """An ordinary code cell (demonstration, not graded)."""
    return new_code_cell(_clean(source))


def answer(grade_id: str, source: str, forbid: dict | None = None):
    """An autograded answer cell; wrap the solution in ### BEGIN/END SOLUTION.

    ``forbid`` (``{"task": "write the convolution yourself", "functions": [dotted names]}``)
    lists what the exercise switches off while its tests run
    (:mod:`dlcourse.grading.tripwire`).
    """
    cell = new_code_cell(_clean(source))
    cell.metadata.update(_meta(grade_id, grade=False, solution=True, locked=False))
    if forbid is not None:
        from .tripwire import Forbidden

        cell.metadata["dlcourse"] = {"forbid": Forbidden.from_metadata(forbid).to_metadata()}
    return cell


def tests(grade_id: str, source: str, points: float):
    """A locked autograded test cell worth ``points``; hidden parts in BEGIN/END HIDDEN TESTS."""
    cell = new_code_cell(_clean(source))
    cell.metadata.update(_meta(grade_id, grade=True, solution=False, locked=True,
                               points=points))
    return cell


def written_answer(grade_id: str, text: str, points: float):
    """A manually graded markdown answer (the instructor reads and scores it)."""
    cell = new_markdown_cell(_clean(text))
    cell.metadata.update(_meta(grade_id, grade=True, solution=True, locked=False,
                               points=points))
    return cell


def build_notebook(cells) -> nbformat.NotebookNode:
    nb = new_notebook(cells=list(cells))
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python",
                                 "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def write_notebook(nb, path) -> None:
    """Write without outputs or execution counts (the repository's convention)."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nbformat.validate(nb)
    nbformat.write(nb, str(path))
