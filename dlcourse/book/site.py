"""Building the reading edition: stage the pages, run Sphinx, serve the result.

``build()`` does the whole thing:

1. each chapter of ``solutions/`` is prepared (:func:`dlcourse.book.notebooks.prepare`),
   executed or taken from the cache (:mod:`dlcourse.book.execute`) and made static
   (:func:`dlcourse.book.notebooks.finish`);
2. the pages are staged in ``<cache>/src``: ``index.md``, ``glossary.md`` (from
   ``GLOSSARY.md``), ``chapters/<chapter>.ipynb``, the student notebooks for download and
   the bundled MathJax. A file is rewritten only when its content changed, so Sphinx's own
   incremental build re-reads only the pages that changed;
3. Sphinx (configuration in ``book/conf.py``: MyST-NB, the Furo theme) writes the site.

Nothing is fetched from the network at build time or reading time: the theme and MyST-NB
are installed Python packages, MathJax comes from an installed package
(:data:`MATHJAX_PACKAGE`) and is copied into the site, fonts are the reader's system fonts.
"""

from __future__ import annotations

import functools
import io
import os
import re
import shutil
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import nbformat

from dlcourse.grading.course import chapter_notebooks, list_chapters

from . import execute, notebooks

DEFAULT_OUT = Path("build") / "book"
DEFAULT_CACHE = Path("build") / "book-cache"
#: The pip package that bundles MathJax 3 (its files in mathjax/static/mathjax/).
MATHJAX_PACKAGE = "django-static-mathjax"
MATHJAX_FILE = "tex-svg-full.js"     # every TeX extension and the SVG output: no font files
BINDER_REPO = "dlcourse/dlcourse"    # used when README.md has no Binder badge
_BINDER_BADGE = re.compile(r"https://mybinder\.org/v2/gh/([\w.-]+/[\w.-]+)/([\w.-]+)\?")

INDEX = """\
# {title}

The reading edition of the course: every chapter with its prose, code, figures and printed
numbers, executed from the instructor notebooks when this site was built, so every number
is real. Read it before installing anything, on any device.

- **Exercises** show their task. The model solution is folded under **Show solution**: try
  it yourself first. Each exercise's tests are folded too, with their result shown.
- **Widgets** (sliders, drop-downs) appear as a snapshot of their first state.
- **Run a chapter** from the links under its title: on Binder, in your browser, or download
  the student notebook. With the course installed, `dlcourse lab` opens every notebook.

The notes' Chinese terms stand beside the English ones; the [glossary](glossary.md) lists
them all.

```{{toctree}}
:maxdepth: 1
:caption: Chapters

{chapters}
```

```{{toctree}}
:caption: Reference

glossary
```
"""


@dataclass
class BuildResult:
    out: Path
    chapters: list[str]
    executed: list[str] = field(default_factory=list)    # chapters run in this build
    cached: list[str] = field(default_factory=list)      # chapters taken from the cache
    execute_seconds: float = 0.0
    sphinx_seconds: float = 0.0
    total_seconds: float = 0.0
    warnings: int = 0
    pages: dict[str, Path] = field(default_factory=dict)  # chapter -> its HTML page
    widgets: dict[str, int] = field(default_factory=dict)  # chapter -> widgets snapshotted


class BookError(RuntimeError):
    """The book cannot be built (missing package, failing chapter); says why."""


#: What ``pip install -e ".[book]"`` adds (pyproject.toml's ``book`` extra), by module.
BOOK_MODULES = {"sphinx": "sphinx", "myst_nb": "myst-nb", "furo": "furo",
                "mathjax": MATHJAX_PACKAGE}
INSTALL_BOOK = '.venv/bin/pip install -c constraints.txt -e ".[book]"'


def check_installed() -> None:
    """Raise :class:`BookError` naming the install command when the book extra is missing."""
    import importlib.util

    missing = [pip for module, pip in BOOK_MODULES.items()
               if importlib.util.find_spec(module) is None]
    if missing:
        raise BookError(f"the book needs {', '.join(missing)}, not installed here: "
                        f"{INSTALL_BOOK}")


def mathjax_dir() -> Path:
    """The MathJax 3 release files of the installed :data:`MATHJAX_PACKAGE`."""
    try:
        import mathjax
    except ImportError:
        raise BookError(f"MathJax is not installed ({MATHJAX_PACKAGE}): "
                        f"{INSTALL_BOOK}") from None
    folder = Path(mathjax.__file__).parent / "static" / "mathjax"
    if not (folder / "es5" / MATHJAX_FILE).is_file():
        raise BookError(f"{folder} has no es5/{MATHJAX_FILE}: reinstall {MATHJAX_PACKAGE}")
    return folder


def binder_url(root: Path, chapter: str, notebook: str) -> str:
    """The Binder link of one chapter's student notebook, from the README's badge."""
    repo, ref = BINDER_REPO, "main"
    readme = root / "README.md"
    if readme.is_file():
        match = _BINDER_BADGE.search(readme.read_text(encoding="utf-8"))
        if match:
            repo, ref = match.group(1), match.group(2)
    return (f"https://mybinder.org/v2/gh/{repo}/{ref}?urlpath=lab/tree/course/"
            f"{chapter}/{notebook}")


def glossary_page(text: str, chapters: list[str]) -> str:
    """``GLOSSARY.md`` for the site: chapter names in the table become links."""
    known = set(chapters)

    def link_row(line: str) -> str:
        cells = line.rstrip().split("|")
        if len(cells) < 4:
            return line
        names = [n.strip() for n in cells[-2].split(",")]
        if not names or not all(n in known for n in names):
            return line
        cells[-2] = " " + ", ".join(f"[{n}](chapters/{n}.ipynb)" for n in names) + " "
        return "|".join(cells)

    return "\n".join(link_row(line) if line.startswith("|") else line
                     for line in text.splitlines()) + "\n"


def write_if_changed(path: Path, content: bytes | str) -> bool:
    data = content.encode("utf-8") if isinstance(content, str) else content
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return True


def _prune(folder: Path, keep: set[str]) -> None:
    if folder.is_dir():
        for path in folder.iterdir():
            if path.name not in keep:
                shutil.rmtree(path) if path.is_dir() else path.unlink()


def stage(root: Path, src: Path, pages: dict[str, nbformat.NotebookNode],
          downloads: dict[str, Path], title: str) -> None:
    """Write the Sphinx source folder (only what changed)."""
    chapters = list(pages)
    write_if_changed(src / "index.md", INDEX.format(
        title=title, chapters="\n".join(f"chapters/{c}" for c in chapters)))
    glossary = root / "GLOSSARY.md"
    text = (glossary.read_text(encoding="utf-8") if glossary.is_file()
            else "# Glossary\n\nThis course has no GLOSSARY.md yet.\n")
    write_if_changed(src / "glossary.md", glossary_page(text, chapters))
    for chapter, nb in pages.items():
        write_if_changed(src / "chapters" / f"{chapter}.ipynb", nbformat.writes(nb) + "\n")
    _prune(src / "chapters", {f"{c}.ipynb" for c in chapters})
    for name, path in downloads.items():
        write_if_changed(src / "_extra" / "notebooks" / name, path.read_bytes())
    _prune(src / "_extra" / "notebooks", set(downloads))
    mathjax = mathjax_dir()
    write_if_changed(src / "_static" / "mathjax" / MATHJAX_FILE,
                     (mathjax / "es5" / MATHJAX_FILE).read_bytes())
    write_if_changed(src / "_static" / "mathjax" / "LICENSE", (mathjax / "LICENSE").read_bytes())


def run_sphinx(root: Path, src: Path, out: Path, doctrees: Path, fresh: bool = False,
               quiet: bool = True) -> int:
    """Sphinx's html builder on the staged sources; returns the number of warnings."""
    from sphinx.application import Sphinx
    from sphinx.errors import SphinxError

    status = io.StringIO() if quiet else sys.stdout
    warnings = io.StringIO()
    try:
        app = Sphinx(str(src), str(root / "book"), str(out), str(doctrees), "html",
                     status=status, warning=warnings, freshenv=fresh, keep_going=True)
        app.build(force_all=fresh)
    except SphinxError as exc:
        raise BookError(f"Sphinx failed: {exc}\n{warnings.getvalue()}") from None
    text = warnings.getvalue()
    if text.strip():
        sys.stderr.write(text)
    return sum(1 for line in text.splitlines() if "WARNING" in line or "ERROR" in line)


def build(root: Path, out: Path | None = None, cache_dir: Path | None = None, jobs: int = 2,
          timeout: int = 600, fresh: bool = False, allow_errors: bool = False,
          chapters: list[str] | None = None, log=print) -> BuildResult:
    """Build the reading edition of the course at ``root`` into ``out`` (default
    ``build/book``); see the module docstring."""
    start = time.perf_counter()
    root = Path(root).resolve()
    out = Path(out or root / DEFAULT_OUT).resolve()
    cache_dir = Path(cache_dir or root / DEFAULT_CACHE).resolve()
    check_installed()  # fail before executing anything
    mathjax_dir()
    names = chapters or list_chapters(root)
    fingerprints = {False: execute.library_fingerprint(root),
                    True: execute.library_fingerprint(root, grading=True)}
    jobs_list, downloads, links = [], {}, {}
    for chapter in names:
        folder = root / "solutions" / chapter
        found = chapter_notebooks(folder)
        if not found:
            raise BookError(f"solutions/{chapter} has no notebook")
        path = found[0]
        source = nbformat.read(str(path), as_version=4)
        prepared = notebooks.prepare(source)
        key = execute.cache_key(prepared, fingerprints[execute.uses_grading(prepared)],
                                folder, path.name)
        per_cell = int(source.metadata.get("dlcourse", {}).get("timeout", 0) or 0)
        jobs_list.append(execute.Job(chapter, folder, prepared, key, max(timeout, per_cell)))
        student = root / "course" / chapter / path.name
        if student.is_file():
            downloads[f"{chapter}.ipynb"] = student
        links[chapter] = (binder_url(root, chapter, path.name),
                          f"../notebooks/{chapter}.ipynb" if student.is_file() else None)
    log(f"dlcourse book: {len(names)} chapters from {root / 'solutions'}")
    cache = execute.ExecutionCache(cache_dir)
    t0 = time.perf_counter()
    try:
        results = execute.execute_all(jobs_list, cache, workers=jobs,
                                      allow_errors=allow_errors, fresh=fresh, log=log)
    except execute.ExecutionFailed as exc:
        raise BookError(str(exc)) from None
    execute_seconds = time.perf_counter() - t0
    pages, widgets = {}, {}
    for chapter in names:
        nb = results[chapter].notebook
        widgets[chapter] = notebooks.snapshot_widgets(nb)
        pages[chapter] = notebooks.finish(nb, *links[chapter])
    src = cache_dir / "src"
    stage(root, src, pages, downloads, title="dlcourse: deep learning, from one neuron to "
                                             "Transformers")
    log("writing the site with Sphinx")
    t1 = time.perf_counter()
    warnings = run_sphinx(root, src, out, cache_dir / "doctrees", fresh=fresh)
    sphinx_seconds = time.perf_counter() - t1
    result = BuildResult(
        out=out, chapters=names,
        executed=[c for c in names if not results[c].cached],
        cached=[c for c in names if results[c].cached],
        execute_seconds=execute_seconds, sphinx_seconds=sphinx_seconds,
        total_seconds=time.perf_counter() - start, warnings=warnings,
        pages={c: out / "chapters" / f"{c}.html" for c in names}, widgets=widgets)
    log(f"built {out / 'index.html'} in {result.total_seconds:.1f} s: "
        f"{len(result.executed)} chapter(s) executed ({execute_seconds:.1f} s), "
        f"{len(result.cached)} from the cache, Sphinx {sphinx_seconds:.1f} s, "
        f"{warnings} warning(s)")
    return result


# --- serving ------------------------------------------------------------------------------

class _QuietHandler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map,
                      ".js": "text/javascript", ".ipynb": "application/x-ipynb+json"}

    def log_message(self, format, *args):  # noqa: A002 — the base class's name
        pass


def start_server(folder: Path, port: int = 8000, host: str = "127.0.0.1"):
    """Serve ``folder`` over HTTP on ``host`` (loopback by default) in a daemon thread;
    returns ``(server, url)``. ``port`` 0 picks a free port. Stop it with
    ``server.shutdown()``."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer((host, port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, f"http://{host}:{server.server_address[1]}/"
