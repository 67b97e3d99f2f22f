"""Generating the student notebooks in ``course/`` from ``solutions/`` with nbgrader."""

from __future__ import annotations

import tempfile
from pathlib import Path

from .course import find_course_root, list_chapters
from .nbgrader_setup import run as nbgrader


def release(chapters: list[str] | None = None, root: Path | None = None,
            release_dir: Path | None = None) -> list[Path]:
    """Regenerate the student notebooks for ``chapters`` (default: all).

    ``release_dir`` (default ``<root>/course``) lets tests release into a temporary folder.
    The gradebook nbgrader needs for this lives in a temporary file and is thrown away.
    Returns the released chapter folders. Raises ``RuntimeError`` with nbgrader's log when
    nbgrader fails (for example on a duplicate grade_id).
    """
    root = Path(root) if root else find_course_root()
    known = list_chapters(root)
    chapters = list(chapters) if chapters else known
    unknown = [c for c in chapters if c not in known]
    if unknown:
        raise ValueError(f"unknown chapter(s) {unknown}; the chapters in {root / 'solutions'} "
                         f"are {known}")
    release_dir = Path(release_dir) if release_dir else root / "course"
    done = []
    with tempfile.TemporaryDirectory(prefix="dlcourse-release-") as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'gradebook.db'}"
        for chapter in chapters:
            result = nbgrader(["generate_assignment", chapter, "--force",
                               f"--CourseDirectory.release_directory={release_dir}"],
                              cwd=root, db_url=db_url)
            if result.returncode != 0:
                raise RuntimeError(f"nbgrader generate_assignment {chapter} failed:\n"
                                   f"{result.stdout}\n{result.stderr}")
            done.append(release_dir / chapter)
    return done
