"""``dlcourse new-chapter NN_topic``: a new chapter that already passes the test suite.

It writes everything a chapter needs to be part of the course, so a contributor starts from
a green suite and replaces the example with the real lesson:

- ``solutions/NN_topic/NN_topic.ipynb``: prose, a computed number, a widget, one example
  exercise (task, answer with its forbid list, visible and hidden tests) and the glossary
  table;
- ``course/NN_topic/``, released from it;
- ``tests/notebooks/chapters/chNN_topic.py``: the exercise's bypass and typical mistakes, and
  a claim;
- its rows in README.md (the chapter tables) and in GLOSSARY.md.

CONTRIBUTING.md's checklist says what to replace.
"""

from __future__ import annotations

import re
from pathlib import Path

from . import authoring
from .course import CHAPTER_PATTERN, list_chapters

EXAMPLE_TERM = ("mean squared error", "均方误差")

CHAPTER_FILE = '''"""{chapter}: bypasses, typical mistakes and claims (read by test_chapters.py).

Replace the example with one entry per exercise: the bypass a student would try (it must
score zero) and at least two typical wrong answers, each with the words its failing visible
test says; and one claim per comparison the prose states.
"""

from dlcourse.grading.variants import Claim, Variant

BYPASSES = [
    Variant("ex_mean_squared_error", "call the library's mse", kind="bypass", source=\'\'\'
from dlcourse.core.losses import mse

def mean_squared_error(pred, target):
    return mse(np.asarray(pred, dtype=float), np.asarray(target, dtype=float))[0]
\'\'\'),
]

MISTAKES = [
    Variant("ex_mean_squared_error", "forgot to divide by n", expect="divide by the number",
            source=\'\'\'
def mean_squared_error(pred, target):
    return float(np.sum((np.asarray(pred) - np.asarray(target)) ** 2))
\'\'\'),
    Variant("ex_mean_squared_error", "absolute instead of squared error", expect="square",
            source=\'\'\'
def mean_squared_error(pred, target):
    return float(np.mean(np.abs(np.asarray(pred) - np.asarray(target))))
\'\'\'),
    Variant("ex_mean_squared_error", "no shape check: broadcasts (n, 1) against (n,)",
            expect="compare the shapes", source=\'\'\'
def mean_squared_error(pred, target):
    return float(np.mean((np.asarray(pred, dtype=float) - np.asarray(target, dtype=float)) ** 2))
\'\'\'),
]

CLAIMS = [
    Claim("the mean predictor's error equals the variance of the targets",
          "assert abs(mean_error - np.var(y)) < 1e-12"),
]
'''


def _cells(chapter: str, title: str):
    number = int(chapter[:2])
    md, code = authoring.markdown, authoring.code
    return [
        md(f"""
        # Chapter {number} — {title}

        *Replace this introduction with the lesson: motivation, the idea in prose and one
        formula, the smallest code that shows it, a measured result, then an exercise.
        Mirror the course notes' section and put each Chinese term beside its English one
        at first use, as with the mean squared error (均方误差) below.*
        """, grade_id="intro"),
        code("""
        %matplotlib inline
        import numpy as np
        from IPython.display import Markdown, display

        from dlcourse.widgets import activation_explorer
        """),
        md("""
        ## A measured result

        Every number in the prose is computed by the notebook: the error of predicting
        every target with their mean is their variance.
        """),
        code("""
        rng = np.random.default_rng(0)
        y = rng.normal(2.0, 0.5, size=200)
        mean_error = float(np.mean((y - y.mean()) ** 2))
        display(Markdown(f"Predicting the mean gives an error of **{mean_error:.4f}**, "
                         f"the variance of the targets ({np.var(y):.4f})."))
        """),
        md("""
        ## A widget

        Replace it with one that teaches this chapter (`dlcourse/widgets/`).
        """),
        code("activation_explorer()"),
        md("""
        ## Exercise 1 — the mean squared error

        Write `mean_squared_error(pred, target)`: the mean over the samples of the squared
        difference, $\\frac{1}{n}\\sum_i (p_i - t_i)^2$, returned as a Python float. `pred`
        and `target` must have the same shape: raise a `ValueError` that names both shapes
        otherwise (numpy would silently broadcast an (n, 1) column against (n,) targets into
        an (n, n) matrix). Write it with numpy yourself: the library's `mse` is switched off
        while the tests run.
        """, grade_id="ex_mean_squared_error_task"),
        authoring.answer("ex_mean_squared_error", """
        def mean_squared_error(pred, target):
            ### BEGIN SOLUTION
            pred, target = np.asarray(pred, dtype=float), np.asarray(target, dtype=float)
            if pred.shape != target.shape:
                raise ValueError(f"pred has shape {pred.shape} but target has shape "
                                 f"{target.shape}; they must be equal")
            return float(np.mean((pred - target) ** 2))
            ### END SOLUTION
        """, forbid={"task": "write the mean squared error yourself",
                     "functions": ["dlcourse.core.losses.mse",
                                   "sklearn.metrics.mean_squared_error",
                                   "torch.nn.functional.mse_loss"]}),
        authoring.tests("test_mean_squared_error", """
        got = mean_squared_error([1.0, 2.0, 3.0], [1.0, 2.0, 5.0])
        assert isinstance(got, float), f"return a Python float, got {type(got).__name__}"
        assert not np.isclose(got, 4.0), ("got 4.0, the sum of the squared errors: divide by "
                                          "the number of samples")
        assert not np.isclose(got, 2 / 3), ("got 2/3, the mean absolute error: square each "
                                            "difference")
        assert np.isclose(got, 4 / 3), f"expected 4/3 for errors (0, 0, 2), got {got}"
        print("mean_squared_error: values OK")
        ### BEGIN HIDDEN TESTS
        rng = np.random.default_rng(7)
        for n in (1, 5, 50):
            p, t = rng.normal(size=n), rng.normal(size=n)
            assert np.isclose(mean_squared_error(p, t), np.mean((p - t) ** 2))
        ### END HIDDEN TESTS
        """, points=1),
        authoring.tests("test_mean_squared_error_shapes", """
        try:
            mean_squared_error(np.zeros((3, 1)), np.zeros(3))
        except ValueError as error:
            assert "(3, 1)" in str(error) and "(3,)" in str(error), (
                f"name both shapes in the error message, got: {error}")
        else:
            raise AssertionError("pred (3, 1) against target (3,) must raise ValueError: "
                                 "compare the shapes before subtracting")
        print("mean_squared_error: shape check OK")
        ### BEGIN HIDDEN TESTS
        for a, b in [((2,), (3,)), ((4, 2), (2, 4)), ((1,), (5,))]:
            try:
                mean_squared_error(np.zeros(a), np.zeros(b))
            except ValueError:
                pass
            else:
                raise AssertionError(f"{a} against {b} must raise ValueError")
        assert mean_squared_error(np.ones((4, 2)), np.zeros((4, 2))) == 1.0
        ### END HIDDEN TESTS
        """, points=1),
        authoring.tests("test_mean_squared_error_inputs", """
        got = mean_squared_error([1, 2], [1, 4])
        assert isinstance(got, float) and got == 2.0, (
            f"integer lists are numbers too: expected 2.0 for errors (0, 2), got {got!r}")
        print("mean_squared_error: inputs OK")
        ### BEGIN HIDDEN TESTS
        p32, t32 = np.float32([0.5, 1.5]), np.float32([0.0, 0.0])
        assert isinstance(mean_squared_error(p32, t32), float)
        assert np.isclose(mean_squared_error(p32, t32), 1.25)
        ### END HIDDEN TESTS
        """, points=1),
        md(f"""
        ### Glossary (术语表)

        | English | 中文 |
        |---|---|
        | {EXAMPLE_TERM[0]} | {EXAMPLE_TERM[1]} |
        """),
    ]


def _add_readme_rows(readme: Path, chapter: str, title: str, modules: str) -> None:
    """Append the chapter to both chapter tables of the README (students', contributors')."""
    lines = readme.read_text(encoding="utf-8").splitlines()
    row = re.compile(r"^\| `\d\d_[a-z0-9_]+` \|")
    contributors = next(i for i, line in enumerate(lines) if line == "## For contributors")
    ends = [i for i in range(len(lines)) if row.match(lines[i])
            and (i + 1 == len(lines) or not row.match(lines[i + 1]))]
    students_end = max(i for i in ends if i < contributors)
    contributors_end = min(i for i in ends if i > contributors)
    lines.insert(contributors_end + 1, f"| `{chapter}` | {modules} |")
    lines.insert(students_end + 1, f"| `{chapter}` | {title} (replace with the notes' section) |")
    readme.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _add_glossary_row(glossary: Path, chapter: str, english: str, chinese: str) -> None:
    """Add the chapter to the term's row, or a new row in English order."""
    lines = glossary.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] == english and cells[1] == chinese:
            lines[i] = f"| {english} | {chinese} | {cells[2]}, {chapter} |"
            break
    else:
        table = [i for i, line in enumerate(lines) if line.startswith("| ")
                 and not line.startswith(("| English", "|---"))]
        at = next((i for i in table if lines[i][2:].lower() > english.lower()), table[-1] + 1)
        lines.insert(at, f"| {english} | {chinese} | {chapter} |")
    glossary.write_text("\n".join(lines) + "\n", encoding="utf-8")


def new_chapter(chapter: str, root: Path, title: str | None = None) -> list[Path]:
    """Create chapter ``chapter`` (``NN_topic``) in the course at ``root``; returns the files
    written or changed. Refuses a malformed name or one whose number is taken."""
    if not CHAPTER_PATTERN.match(chapter):
        raise ValueError(f"a chapter is named NN_topic (two digits, underscore, lower-case "
                         f"words), e.g. 12_diffusion; got {chapter!r}")
    taken = {c[:2]: c for c in list_chapters(root)}
    if chapter[:2] in taken:
        raise FileExistsError(f"chapter number {chapter[:2]} is taken by {taken[chapter[:2]]}")
    title = title or chapter[3:].replace("_", " ")
    folder = root / "solutions" / chapter
    folder.mkdir(parents=True)
    notebook = folder / f"{chapter}.ipynb"
    authoring.write_notebook(authoring.build_notebook(_cells(chapter, title)), notebook)

    chapter_file = root / "tests" / "notebooks" / "chapters" / f"ch{chapter}.py"
    chapter_file.write_text(CHAPTER_FILE.format(chapter=chapter), encoding="utf-8")
    _add_readme_rows(root / "README.md", chapter, title, "`widgets`")
    _add_glossary_row(root / "GLOSSARY.md", chapter, *EXAMPLE_TERM)

    from .release import release

    release([chapter], root)
    return [notebook, root / "course" / chapter, chapter_file, root / "README.md",
            root / "GLOSSARY.md"]


def table_rows(text: str) -> list[tuple[str, str]]:
    """(English, 中文): the first two cells of every row of the markdown tables in ``text``
    (header and separator rows skipped); GLOSSARY.md and the chapters' tables alike."""
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if (line.lstrip().startswith("|") and len(cells) >= 2 and cells[0]
                and cells[0] != "English" and not set(cells[0]) <= {"-"}):
            rows.append((cells[0], cells[1]))
    return rows


def glossary_rows(notebook_text: str) -> list[tuple[str, str]]:
    """(English, 中文) rows of a chapter's last ``### Glossary (术语表)`` table."""
    tables = notebook_text.split("Glossary (术语表)")
    return table_rows(tables[-1]) if len(tables) > 1 else []


def sync_glossary(root: Path) -> list[tuple[str, str, str]]:
    """Add every chapter's glossary rows that GLOSSARY.md lacks; returns what was added."""
    import nbformat

    from .course import chapter_notebooks

    added = []
    glossary = root / "GLOSSARY.md"
    for chapter in list_chapters(root):
        nb = nbformat.read(str(chapter_notebooks(root / "solutions" / chapter)[0]), as_version=4)
        text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        known = glossary.read_text(encoding="utf-8")
        for english, chinese in glossary_rows(text):
            line = next((l for l in known.splitlines()
                         if l.startswith(f"| {english} | {chinese} |")), None)
            if line is None or chapter not in line:
                _add_glossary_row(glossary, chapter, english, chinese)
                added.append((english, chinese, chapter))
                known = glossary.read_text(encoding="utf-8")
    return added
