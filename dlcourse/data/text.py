"""Text for the language chapters: the course's own English prose, shipped with the package.

``corpus/course_prose.txt`` (132 k characters, 53 distinct) is the markdown of the chapter
notebooks as they stood when it was cut: lower-cased, code, formulas, tables and the Chinese
glosses removed, one paragraph per line. It needs no download and has no licence question,
and it is frozen, so the numbers measured on it stay put when a chapter's prose changes.
"""

from __future__ import annotations

from pathlib import Path

CORPUS = Path(__file__).with_name("corpus") / "course_prose.txt"


def load_course_text() -> str:
    """The course-prose corpus as one string (paragraphs separated by newlines)."""
    return CORPUS.read_text(encoding="utf-8")
