"""Where the course lives: the repository root, its chapters and their notebooks."""

from __future__ import annotations

import re
from pathlib import Path

import dlcourse

CHAPTER_PATTERN = re.compile(r"^\d\d_[a-z0-9_]+$")


def _is_course_root(path: Path) -> bool:
    return (path / "nbgrader_config.py").is_file() and (path / "solutions").is_dir()


def find_course_root(start: str | Path | None = None) -> Path:
    """The directory holding ``nbgrader_config.py`` and ``solutions/``.

    Searched upwards from ``start`` (default: the working directory), then beside the
    installed package (an editable install from a clone).
    """
    here = Path(start or Path.cwd()).resolve()
    for candidate in (here, *here.parents, Path(dlcourse.__file__).resolve().parents[1]):
        if _is_course_root(candidate):
            return candidate
    raise FileNotFoundError(
        f"no dlcourse course found from {here}: expected a folder with nbgrader_config.py and "
        "solutions/ (a clone of the dlcourse repository). Run the command inside the clone.")


def list_chapters(root: Path) -> list[str]:
    """Chapter folder names under ``solutions/`` (``NN_topic``), sorted."""
    return sorted(p.name for p in (root / "solutions").iterdir()
                  if p.is_dir() and CHAPTER_PATTERN.match(p.name))


def chapter_notebooks(folder: Path) -> list[Path]:
    """The notebooks of one chapter folder, ignoring checkpoints."""
    return sorted(p for p in folder.glob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
