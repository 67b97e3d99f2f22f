"""The reading edition: ``dlcourse book`` (dlcourse/book/).

Fast: the page transformations on a small nbgrader notebook (hidden tests gone, solutions
folded, widgets snapshotted) and the cache key. ``notebooks``: a two-chapter course built
three times (the cache re-executes only what changed), then the real course built once into
build/book, whose HTML is searched for hidden tests, exercises, widgets and links.
``browser``: that site in headless Chromium with the network blocked: math typeset, figures
loaded, the "show solution" toggle, Chinese rendered with real glyphs; screenshots in
test-output/book/. Nothing here knows a chapter's content: expectations come from the
notebooks in solutions/ as they are when the test runs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from dlcourse.book import execute, notebooks, site
from dlcourse.grading import authoring, conventions

from ..nbtools import CHAPTERS, ROOT, read, solution_notebook

pytestmark = [pytest.mark.xdist_group("book"),
              pytest.mark.filterwarnings("ignore:.*is deprecated. Check CHANGES for Sphinx")]
SHOTS = ROOT / "test-output" / "book"
CHROMIUM = Path("/usr/bin/chromium")
WIDGET_VIEW = notebooks.WIDGET_VIEW

TINY_WIDGET = '''
import ipywidgets as widgets
import matplotlib.pyplot as plt

def draw(slope=1.0, kind="line"):
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, slope])
    ax.set_title(f"{kind} with slope {slope:.1f}")
    plt.show()

widgets.interactive(draw, slope=widgets.FloatSlider(value=1.5, min=0, max=3, description="slope"),
                    kind=widgets.Dropdown(options=["line", "ramp"], value="ramp"))
'''


def tiny_notebook(n: int = 1, prose: str = "The idea.") -> nbformat.NotebookNode:
    """A chapter with each kind of nbgrader cell, a widget, math and a Chinese term."""
    return authoring.build_notebook([
        authoring.markdown(f"# Chapter {n}: tiny (小章节)\n\n{prose} A neuron (神经元) "
                           "computes $f(\\mathbf{x}\\cdot\\mathbf{w} + b)$.", "intro"),
        authoring.code("%matplotlib inline\nimport numpy as np"),
        authoring.markdown("### Exercise: double it", "ex_double_task"),
        authoring.answer("ex_double", "def double(x):\n    ### BEGIN SOLUTION\n"
                         "    return 2 * x\n    ### END SOLUTION\n"),
        authoring.tests("test_double", "assert double(2) == 4, 'double(2) should be 4'\n"
                        "print('double OK')\n### BEGIN HIDDEN TESTS\n"
                        "assert double(-7) == -14, 'secret negative case'\n"
                        "print('hidden tests passed quietly')\n### END HIDDEN TESTS\n", 1),
        authoring.tests("test_double_only_hidden", "### BEGIN HIDDEN TESTS\n"
                        "assert double(0.5) == 1.0, 'secret half case'\n"
                        "### END HIDDEN TESTS\n", 1),
        authoring.markdown("### Question", "ex_why_task"),
        authoring.written_answer("ex_why", "*Model answer:* because two is two.", 1),
        authoring.code(TINY_WIDGET),
        authoring.code(f"print('chapter {n}', double(21))"),
    ])


# --- fast: page transformations ----------------------------------------------------------

def test_prepare_removes_hidden_tests_and_folds_solutions():
    nb = tiny_notebook()
    prepared = notebooks.prepare(nb)
    text = json.dumps(prepared)
    for secret in ("secret negative case", "hidden tests passed quietly", "secret half case",
                   "HIDDEN TESTS", "BEGIN SOLUTION", "END SOLUTION"):
        assert secret not in text
    assert all("nbgrader" not in c.metadata for c in prepared.cells)
    # the only-hidden test cell is gone; the visible tests stay, source folded
    assert len(prepared.cells) == len(nb.cells) - 1
    answer = next(c for c in prepared.cells if "def double" in c.source)
    assert answer.source == "def double(x):\n    return 2 * x"
    assert {"hide-input", notebooks.SOLUTION_TAG} <= set(answer.metadata["tags"])
    assert answer.metadata["mystnb"]["code_prompt_show"] == notebooks.SHOW_SOLUTION
    test = next(c for c in prepared.cells if "double(2) == 4" in c.source)
    assert notebooks.TESTS_TAG in test.metadata["tags"]
    written = next(c for c in prepared.cells if "Model answer" in c.source)
    assert written.source.startswith(f'<details class="{notebooks.SOLUTION_TAG}">')
    assert notebooks.SHOW_SOLUTION in written.source
    # the instructor notebook itself is untouched
    assert "secret negative case" in json.dumps(nb)


def _widget_state(nb, model_id):
    slider = {"model_name": "FloatSliderModel",
              "state": {"description": "slope", "value": 1.5, "min": 0, "max": 3,
                        "step": 0.1, "readout_format": ".2f"}}
    dropdown = {"model_name": "DropdownModel",
                "state": {"description": "kind", "_options_labels": ["line", "ramp"],
                          "index": 1}}
    output = {"model_name": "OutputModel", "state": {"outputs": [
        {"output_type": "display_data", "metadata": {},
         "data": {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}}]}}
    box = {"model_name": "VBoxModel",
           "state": {"children": ["IPY_MODEL_s", "IPY_MODEL_d", "IPY_MODEL_o"]}}
    nb.metadata["widgets"] = {notebooks.WIDGET_STATE: {"state": {
        model_id: box, "s": slider, "d": dropdown, "o": output}}}


def test_widgets_become_static_snapshots_of_their_first_state():
    nb = notebooks.prepare(tiny_notebook())
    cell = next(c for c in nb.cells if "interactive(" in c.source)
    cell.outputs = [nbformat.v4.new_output("execute_result", execution_count=1, data={
        "text/plain": "interactive(...)", WIDGET_VIEW: {"model_id": "box1"}})]
    _widget_state(nb, "box1")
    assert notebooks.snapshot_widgets(nb) == 1
    assert "widgets" not in nb.metadata
    controls, figure = cell.outputs
    html = controls["data"]["text/html"]
    assert 'type="range"' in html and "1.50" in html and "disabled" in html
    assert "<option selected>ramp</option>" in html
    assert notebooks.SNAPSHOT_NOTE in html and 'data-snapshot="first"' in html
    assert figure["data"]["image/png"] == "iVBORw0KGgo="
    assert WIDGET_VIEW not in json.dumps(nb)


def test_cache_key_follows_code_not_prose():
    fingerprint = "lib"
    key = execute.cache_key(notebooks.prepare(tiny_notebook()), fingerprint)
    same_code = notebooks.prepare(tiny_notebook(prose="Other words entirely."))
    assert execute.cache_key(same_code, fingerprint) == key
    assert execute.cache_key(notebooks.prepare(tiny_notebook(n=2)), fingerprint) != key
    assert execute.cache_key(notebooks.prepare(tiny_notebook()), "lib2") != key
    # a hidden test is never executed, so editing one re-executes nothing
    edited = tiny_notebook()
    cell = next(c for c in edited.cells if "secret negative case" in c.source)
    cell.source = cell.source.replace("-14", "-15")
    assert execute.cache_key(notebooks.prepare(edited), fingerprint) == key


def test_library_fingerprint_follows_what_chapters_import(tmp_path):
    for rel in ("neuron.py", "grading/kernel.py", "book/site.py"):
        (tmp_path / "dlcourse" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "dlcourse" / rel).write_text("x = 1\n")
    before = execute.library_fingerprint(tmp_path)
    with_grading = execute.library_fingerprint(tmp_path, grading=True)
    for rel in ("grading/kernel.py", "book/site.py"):
        (tmp_path / "dlcourse" / rel).write_text("x = 2\n")
    assert execute.library_fingerprint(tmp_path) == before
    assert execute.library_fingerprint(tmp_path, grading=True) != with_grading
    (tmp_path / "dlcourse" / "neuron.py").write_text("x = 2\n")
    assert execute.library_fingerprint(tmp_path) != before


def test_glossary_links_chapters():
    text = "| English | 中文 | chapters |\n|---|---|---|\n| bias | 偏置 | 01_neuron, 02_x |\n"
    page = site.glossary_page(text, ["01_neuron", "02_x"])
    assert "[01_neuron](chapters/01_neuron.ipynb), [02_x](chapters/02_x.ipynb)" in page
    assert "| bias | 偏置 |" in page


def test_serve_answers_on_loopback(tmp_path):
    import urllib.request

    (tmp_path / "index.html").write_text("<p>the book</p>")
    server, url = site.start_server(tmp_path, port=0)
    try:
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url + "index.html", timeout=10) as response:
            assert response.read() == b"<p>the book</p>"
    finally:
        server.shutdown()


def test_book_command_help():
    from dlcourse.book import cli

    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0


def test_a_missing_book_extra_says_how_to_install_it(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "myst_nb" else real(name, *a))
    with pytest.raises(site.BookError, match=r"myst-nb.*-e \"\.\[book\]\""):
        site.check_installed()


def test_dlcourse_book_passes_its_options_on(monkeypatch, capsys):
    import subprocess
    import sys

    from dlcourse import cli as top
    from dlcourse.book import cli

    with pytest.raises(SystemExit) as exit_info:
        top.main(["book", "--help"])
    assert exit_info.value.code == 0 and "--serve" in capsys.readouterr().out
    seen = []
    monkeypatch.setattr(cli, "main", lambda argv: seen.append(argv) or 0)
    assert top.main(["book", "--serve", "--port", "0", "--chapter", "01_neuron"]) == 0
    assert seen == [["--serve", "--port", "0", "--chapter", "01_neuron"]]
    # the command line stays light: the book's packages load only for `dlcourse book`
    code = ("import sys, dlcourse, dlcourse.cli; dlcourse.cli.build_parser(); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'sphinx', 'myst_nb', 'torch', 'nbclient'}))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "[]", loaded


# --- a two-chapter course, built three times ---------------------------------------------

def _tiny_course(root: Path) -> None:
    root.mkdir()
    (root / "nbgrader_config.py").write_text("c = get_config()\n")
    shutil.copytree(ROOT / "book", root / "book")
    (root / "GLOSSARY.md").write_text("# Glossary (术语表)\n\n| English | 中文 | chapters |\n"
                                      "|---|---|---|\n| neuron | 神经元 | 01_tiny |\n")
    for n in (1, 2):
        name = f"0{n}_tiny"
        for kind in ("solutions", "course"):
            (root / kind / name).mkdir(parents=True)
        authoring.write_notebook(tiny_notebook(n), root / "solutions" / name / f"{name}.ipynb")
        authoring.write_notebook(tiny_notebook(n), root / "course" / name / f"{name}.ipynb")


@pytest.mark.notebooks
def test_tiny_book_rebuilds_only_what_changed(tmp_path):
    root = tmp_path / "course"
    _tiny_course(root)
    out, quiet = root / "build" / "book", (lambda *a: None)
    first = site.build(root, jobs=2, log=quiet)
    assert first.executed == ["01_tiny", "02_tiny"] and first.warnings == 0
    page = (out / "chapters" / "01_tiny.html").read_text()
    assert "double OK" in page and "chapter 1 42" in page
    assert "secret" not in page and "HIDDEN" not in page
    assert "dlcourse-widget" in page and WIDGET_VIEW not in page
    assert (out / "notebooks" / "01_tiny.ipynb").is_file()
    assert (out / "_static" / "mathjax" / site.MATHJAX_FILE).is_file()

    assert site.build(root, log=quiet).executed == []          # nothing changed
    path = root / "solutions" / "01_tiny" / "01_tiny.ipynb"
    authoring.write_notebook(tiny_notebook(1, prose="Edited prose."), path)
    prose_only = site.build(root, log=quiet)                   # prose: no execution
    assert prose_only.executed == []
    assert "Edited prose." in (out / "chapters" / "01_tiny.html").read_text()
    path = root / "solutions" / "02_tiny" / "02_tiny.ipynb"
    nb = tiny_notebook(2)
    nb.cells[-1].source = "print('chapter two, edited', double(4))"
    authoring.write_notebook(nb, path)
    code_edit = site.build(root, log=quiet)                    # code: that chapter only
    assert code_edit.executed == ["02_tiny"]
    assert "chapter two, edited 8" in (out / "chapters" / "02_tiny.html").read_text()


# --- the real course, built once ---------------------------------------------------------

@pytest.fixture(scope="module")
def book():
    """The course's book, built (incrementally) into build/book as `dlcourse book` does;
    with the instructor notebooks as they were just before the build."""
    sources = {c: read(solution_notebook(c)) for c in CHAPTERS}
    logged = []
    result = site.build(ROOT, log=logged.append)
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "build-log.txt").write_text("\n".join(map(str, logged)) + "\n")
    return result, sources


def _soup(path: Path):
    from bs4 import BeautifulSoup

    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _site_lines(out: Path) -> dict[Path, set[str]]:
    """The lines of visible text (whitespace normalized) of every file the site builds from
    the course (HTML as rendered text, notebooks as their cells), not the theme's or
    MathJax's files in _static/."""
    from bs4 import BeautifulSoup

    lines = {}
    for path in out.rglob("*"):
        rel = path.relative_to(out)
        if not path.is_file() or rel.parts[0] == "_static" or path.suffix in (
                ".png", ".jpg", ".svg", ".inv", ".gif"):
            continue
        raw = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".html":
            raw = BeautifulSoup(raw, "html.parser").get_text()
        elif path.suffix == ".ipynb":
            nb = json.loads(raw)
            raw = "\n".join("".join(c.get("source", "")) for c in nb["cells"])
        lines[path] = {_normal(line) for line in raw.splitlines()}
    return lines


@pytest.mark.notebooks
def test_no_hidden_test_anywhere_in_the_site(book):
    result, sources = book
    visible = set()
    hidden = {}
    for chapter, nb in sources.items():
        for cell in nb.cells:
            visible.update(_normal(line) for line in
                           conventions.remove_hidden_tests(cell.source).splitlines())
            for region in conventions.hidden_test_regions(cell.source):
                for line in region.splitlines():
                    hidden.setdefault(_normal(line), chapter)
    # A line that also appears outside the hidden tests reveals nothing ("else:", ")"); a
    # hidden line leaks when it is a line of the site (code keeps its lines in HTML).
    secret = {line: ch for line, ch in hidden.items()
              if line not in visible and len(line.replace(" ", "")) >= 6}
    assert secret, "no hidden-test line to look for: did the conventions change?"
    for path in result.out.rglob("*"):
        if path.is_file() and path.suffix not in (".png", ".inv"):
            raw = path.read_text(encoding="utf-8", errors="replace").upper()
            assert "BEGIN HIDDEN TESTS" not in raw and "END HIDDEN TESTS" not in raw, path
            assert "BEGIN SOLUTION" not in raw and "END SOLUTION" not in raw, path
    leaks = [(line, ch, path.relative_to(result.out))
             for path, lines in _site_lines(result.out).items()
             for line, ch in secret.items() if line in lines]
    assert not leaks, f"hidden-test lines in the site: {leaks[:10]}"


@pytest.mark.notebooks
def test_every_chapter_page_has_its_exercises_widgets_and_links(book):
    result, sources = book
    out = result.out
    assert (out / "index.html").is_file()
    index = {a.get("href") for a in _soup(out / "index.html").find_all("a")}
    for chapter, nb in sources.items():
        page = result.pages[chapter]
        soup = _soup(page)
        assert f"chapters/{chapter}.html" in index, chapter
        assert notebooks.title(nb) and soup.h1 is not None, chapter
        answers = [c for c in nb.cells if conventions.is_answer(c)]
        folded = (soup.select(f".tag_{notebooks.SOLUTION_TAG} details")
                  + soup.select(f"details.{notebooks.SOLUTION_TAG}"))
        assert len(folded) == len(answers), (chapter, len(folded), len(answers))
        for details in folded:
            assert notebooks.SHOW_SOLUTION in details.summary.get_text()
        # the solution's code is inside the fold, markers gone
        for cell in answers:
            if cell.cell_type == "code":
                last = [line for line in conventions.strip_markers(cell.source).splitlines()
                        if line.strip()][-1].strip()
                assert any(last in _normal(d.get_text()) for d in folded), (chapter, last)
        # widgets: each one a static snapshot, none left for JavaScript to draw
        html = page.read_text(encoding="utf-8")
        assert "application/vnd.jupyter.widget" not in html
        assert html.count('data-snapshot="first"') == result.widgets[chapter], chapter
        # every asset is local
        for tag, attr in (("script", "src"), ("link", "href"), ("img", "src")):
            for element in soup.find_all(tag):
                url = element.get(attr) or ""
                if tag == "link" and "stylesheet" not in (element.get("rel") or []):
                    continue
                assert not re.match(r"^(https?:)?//", url), (chapter, tag, url)
        # Binder and download links
        binder = [a["href"] for a in soup.select("a.dlcourse-button")
                  if "mybinder.org" in a["href"]]
        assert binder and binder[0].endswith(f"course/{chapter}/{solution_notebook(chapter).name}")
        downloads = [a["href"] for a in soup.select("a.dlcourse-button[download]")]
        if (ROOT / "course" / chapter / solution_notebook(chapter).name).is_file():
            assert downloads and (page.parent / downloads[0]).resolve().is_file(), chapter
    assert sum(result.widgets.values()) > 0
    glossary = _normal(_soup(out / "glossary.html").get_text())
    rows = [line.split("|") for line in (ROOT / "GLOSSARY.md").read_text().splitlines()
            if line.startswith("|") and not line.startswith("|---")][1:]
    assert rows and all(_normal(r[2]) in glossary for r in rows if len(r) > 3)



# --- the site in headless Chromium, network blocked ----------------------------------------

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run",
         # no name resolves (loopback is reached by address): nothing can leave the machine
         "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]

NO_CJK = "Chinese drawn as boxes: install a CJK font (apt-get install fonts-noto-cjk)"
PAGE_CHECKS = r"""async () => {
  const main = document.querySelector('article') || document.body;
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  const imgs = [...main.querySelectorAll('img')];
  imgs.forEach(i => i.loading = 'eager');
  await Promise.all(imgs.map(i => i.complete ? null :
      new Promise(done => { i.onload = i.onerror = done; setTimeout(done, 20000); })));
  const math = [...main.querySelectorAll('span.math, div.math')];
  // text a reader sees outside code and typeset math: no TeX left raw
  const raw = [];
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT, {acceptNode: n =>
      n.parentElement.closest('pre, code, mjx-container, script, style, .highlight')
        ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
  const han = new Set();
  while (walker.nextNode()) {
    const t = walker.currentNode.nodeValue;
    const m = t.match(/\\\(|\\\[|\$\$|\$[^$\s][^$]*\$|\\(frac|mathbf|sum|sigma)\b/);
    if (m) raw.push(t.slice(Math.max(0, m.index - 30), m.index + 40));
    for (const ch of t) if (/\p{Script=Han}/u.test(ch)) han.add(ch);
  }
  // Chinese: each character drawn in the page's font must differ from a missing glyph
  const family = getComputedStyle(main).fontFamily;
  const draw = s => { const c = document.createElement('canvas'); c.width = c.height = 48;
    const g = c.getContext('2d'); g.font = `40px ${family}`; g.fillText(s, 2, 40);
    return Array.from(g.getImageData(0, 0, 48, 48).data).join(','); };
  const missing = draw('\u0378');
  const sample = [...han].slice(0, 40);
  const drawn = sample.map(draw);
  return {
    math: math.length,
    typeset: math.filter(e => e.querySelector('mjx-container svg')).length,
    mathErrors: main.querySelectorAll('mjx-merror, [data-mjx-error]').length,
    raw,
    images: imgs.length,
    broken: imgs.filter(i => !(i.naturalWidth > 0)).map(i => i.src),
    han: han.size,
    boxes: sample.filter((ch, k) => drawn[k] === missing),
    distinct: new Set(drawn).size,
    solutions: main.querySelectorAll(
        '.tag_dlcourse-solution details, details.dlcourse-solution').length,
  };
}"""


def _expected_images(nb) -> int:
    return sum(any(k.startswith("image/") for k in o.get("data", {}))
               for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


@pytest.mark.browser
def test_book_in_a_browser_offline(book):
    if not CHROMIUM.exists():
        if os.environ.get("DLCOURSE_REQUIRE_BROWSER"):
            raise RuntimeError("DLCOURSE_REQUIRE_BROWSER is set but /usr/bin/chromium is missing")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    result, sources = book
    out = result.out
    staged = {c: nbformat.read(str(ROOT / site.DEFAULT_CACHE / "src" / "chapters" /
                                   f"{c}.ipynb"), as_version=4) for c in CHAPTERS}
    server, base = site.start_server(out, port=0)
    SHOTS.mkdir(parents=True, exist_ok=True)
    blocked, failed = [], []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS,
                                        headless=True)
            context = browser.new_context(viewport={"width": 1300, "height": 1000})

            def only_loopback(route):
                if route.request.url.startswith((base, "file://", "data:")):
                    route.continue_()
                else:
                    blocked.append(route.request.url)
                    route.abort()

            context.route("**/*", only_loopback)
            page = context.new_page()
            page.on("requestfailed", lambda r: failed.append((r.url, r.failure)))
            page.on("response", lambda r: failed.append((r.url, r.status))
                    if r.status >= 400 else None)

            def visit(rel):
                page.goto(base + rel, wait_until="load")
                return page.evaluate(PAGE_CHECKS)

            home = visit("index.html")
            page.screenshot(path=str(SHOTS / "1-home.png"))
            assert home["broken"] == [] and home["boxes"] == [], (NO_CJK, home)
            glossary = visit("glossary.html")
            assert glossary["han"] > 0 and glossary["boxes"] == [], (NO_CJK, glossary)
            assert glossary["distinct"] == min(glossary["han"], 40), glossary
            page.screenshot(path=str(SHOTS / "3-glossary.png"))

            shot_taken = False
            for chapter in CHAPTERS:
                rel = f"chapters/{chapter}.html"
                stats = visit(rel)
                nb = staged[chapter]
                has_math = any("$" in c.source for c in nb.cells if c.cell_type == "markdown")
                where = f"{chapter}: {stats}"
                # math: present where the notebook has some, all typeset, none left raw
                assert stats["math"] > 0 or not has_math, where
                assert stats["typeset"] == stats["math"] and stats["mathErrors"] == 0, where
                assert stats["raw"] == [], where
                # figures: at least every image output of the notebook, all loaded
                assert stats["images"] >= _expected_images(nb) and stats["broken"] == [], where
                # Chinese terms: real glyphs, not boxes
                assert stats["boxes"] == [], (NO_CJK, where)
                # the "show solution" toggle: folded, then open on a click, then folded
                answers = sum(conventions.is_answer(c) for c in sources[chapter].cells)
                assert stats["solutions"] == answers, where
                if answers:
                    fold = page.locator(".tag_dlcourse-solution details, "
                                        "details.dlcourse-solution").first
                    inside = fold.locator(":scope > :not(summary)").first
                    summary = fold.locator("summary")
                    assert not inside.is_visible(), where
                    assert "Show solution" in summary.inner_text()
                    summary.click()
                    page.wait_for_function("(el) => el.open", arg=fold.element_handle())
                    assert inside.is_visible(), where
                    assert "Hide solution" in summary.inner_text()
                    if not shot_taken:
                        fold.scroll_into_view_if_needed()
                        page.evaluate("() => window.scrollBy(0, -250)")
                        page.screenshot(path=str(SHOTS / "2-solution-open.png"))
                        shot_taken = True
                    summary.click()
                    page.wait_for_function("(el) => !el.open", arg=fold.element_handle())
                    assert not inside.is_visible(), where
            # the same pages straight from the file system, no server at all
            page.goto((out / "chapters" / f"{CHAPTERS[0]}.html").as_uri(), wait_until="load")
            from_disk = page.evaluate(PAGE_CHECKS)
            assert from_disk["typeset"] == from_disk["math"] and from_disk["broken"] == []
            browser.close()
    finally:
        server.shutdown()
    assert blocked == [], f"the site asked for remote resources: {blocked[:10]}"
    assert failed == [], f"requests that failed: {failed[:10]}"
