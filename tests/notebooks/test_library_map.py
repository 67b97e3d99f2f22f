"""The README's chapter table says which library modules each chapter uses, and stays true.

"What does chapter 05 rely on" is answered in one step by that table's last column; this
test reads every import in each instructor notebook (answer and test cells included) and
fails, printing the right rows, when the table and the notebooks disagree.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import dlcourse

from ..nbtools import CHAPTERS, ROOT, read, solution_notebook

PACKAGE = Path(dlcourse.__file__).resolve().parent


def library_modules(chapter: str) -> list[str]:
    """``core.layers``, ``data``, ``torch``… : the dlcourse modules a chapter imports."""
    found = set()
    for cell in read(solution_notebook(chapter)).cells:
        if cell.cell_type != "code":
            continue
        source = "\n".join(line for line in cell.source.splitlines()
                           if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(source)):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                folder = PACKAGE.parent / node.module.replace(".", "/")
                # `from dlcourse.shallow import features` imports the module shallow.features
                names = [f"{node.module}.{a.name}" if (folder / f"{a.name}.py").exists()
                         else node.module for a in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] != "dlcourse" or len(parts) < 2:
                    continue
                # a package's own modules are named (core.layers); data, widgets and torch
                # count as one each, as a chapter imports them by package
                if parts[1] in ("data", "widgets", "torch"):
                    found.add(parts[1])
                else:
                    found.add(".".join(parts[1:3]))
    return sorted(found)


def readme_rows() -> dict[str, str]:
    """{chapter: modules cell} of the table in the README's section for contributors."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = {}
    for line in text.split("## For contributors", 1)[1].split("\n## ", 1)[0].splitlines():
        match = re.match(r"^\| `(\d\d_[a-z0-9_]+)` \| (?P<modules>[^|]*) \|$", line)
        if match:
            rows[match.group(1)] = match.group("modules").strip()
    return rows


def expected_cell(chapter: str) -> str:
    return ", ".join(f"`{m}`" for m in library_modules(chapter)) or "—"


def test_readme_chapter_table_lists_the_modules_each_chapter_uses():
    rows = readme_rows()
    assert set(rows) == set(CHAPTERS), (
        f"README's chapter table has {sorted(rows)}, solutions/ has {CHAPTERS}")
    wrong = {c: expected_cell(c) for c in CHAPTERS if rows[c] != expected_cell(c)}
    assert not wrong, ("README's chapter table: the last column of these rows should read\n"
                       + "\n".join(f"{c}: {cell}" for c, cell in wrong.items()))
