"""The course in a real browser: JupyterLab + headless Chromium driven by Playwright.

Starts JupyterLab on a free loopback port with a token, in a temporary copy of course/,
opens the neuron chapter, runs all cells and checks in the page that the notebook renders,
a slider re-draws its plot, an unanswered exercise shows NotImplementedError while a filled-in
one passes its visible test, and nbgrader's Validate reports the result. Screenshots go to
test-output/browser/. Needs Debian's chromium (.ci/run installs it; never
`playwright install`, which downloads a browser).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from dlcourse.grading import conventions
from dlcourse.grading.selfcheck import run_check

from ..nbtools import ROOT, read, solution_notebook

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "test-output" / "browser"
CHAPTER = "01_neuron"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run"]

if not CHROMIUM.exists():
    if os.environ.get("DLCOURSE_REQUIRE_BROWSER"):
        raise RuntimeError("DLCOURSE_REQUIRE_BROWSER is set but /usr/bin/chromium is missing")
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)",
                allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on a copy of course/; stopped by its PID afterwards."""
    home = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "course" / CHAPTER, home / "course" / CHAPTER)
    settings = home / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    port, token = _free_port(), "dlcourse-browser-test"
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
               JUPYTER_CONFIG_DIR=str(home / "config"), HOME=str(home))
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={home / 'course'}", "--LabApp.expose_app_in_browser=True",
           "--ServerApp.port_retries=0",
           "--ServerApp.jpserver_extensions=dlcourse.grading.jupyter_extension=True"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(home / "lab.log", "w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError((home / "lab.log").read_text()) from None
                time.sleep(0.5)
        else:
            raise RuntimeError("JupyterLab did not start in 60 s")
        yield dict(url=url, token=token, home=home, pid=proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _wait_idle(page, timeout_s=120):
    """Wait until no cell shows the running prompt [*] and the kernel is idle."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        busy = page.evaluate("""() => {
            const app = window.jupyterapp; const w = app.shell.currentWidget;
            const status = w.sessionContext.session?.kernel?.status;
            const running = [...document.querySelectorAll('.jp-InputArea-prompt')]
                .some(p => p.textContent.includes('*'));
            return running || status !== 'idle';
        }""")
        if not busy:
            return
        time.sleep(0.5)
    raise AssertionError("the notebook did not finish running")


def test_student_notebook_in_jupyterlab(lab):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    source = read(solution_notebook(CHAPTER))
    sigmoid_answer = conventions.strip_markers(next(
        c.source for c in source.cells if conventions.grade_id(c) == "ex_sigmoid"))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS,
                                    headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{lab['url']}/lab/tree/{CHAPTER}/{CHAPTER}.ipynb?token={lab['token']}")
        # (1) the notebook renders
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell"
                               ".currentWidget && window.jupyterapp.shell.currentWidget"
                               ".sessionContext.session?.kernel?.status === 'idle'",
                               timeout=60_000)
        page.screenshot(path=str(SHOTS / "1-opened.png"))
        # JupyterLab renders only the cells near the view; count the notebook's cells.
        n_cells = page.evaluate("() => window.jupyterapp.shell.currentWidget.content"
                                ".widgets.length")
        assert n_cells == len(source.cells)
        assert page.locator(".jp-Notebook .jp-Cell").count() > 5
        title = page.locator(".jp-RenderedMarkdown h1").first
        title.wait_for(timeout=30_000)
        assert "The single neuron" in title.inner_text()

        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        _wait_idle(page)
        page.screenshot(path=str(SHOTS / "2-ran-all.png"), full_page=False)

        # (2) a slider renders and moving it re-draws the plot
        slider = page.locator(".widget-slider .noUi-handle, .widget-hslider .noUi-handle").first
        slider.wait_for(timeout=30_000)
        slider.scroll_into_view_if_needed()
        widget_img = page.locator(".jupyter-widgets-output-area img, "
                                  ".widget-output img").first
        widget_img.wait_for(timeout=30_000)
        before = widget_img.get_attribute("src")
        slider.focus()
        for _ in range(4):
            page.keyboard.press("ArrowRight")
        page.wait_for_function("(old) => { const img = document.querySelector("
                               "'.jupyter-widgets-output-area img, .widget-output img');"
                               " return img && img.src !== old; }", arg=before,
                               timeout=30_000)
        page.screenshot(path=str(SHOTS / "3-slider-moved.png"))

        # (3) the blank exercise fails with NotImplementedError; a filled one passes
        def outputs_of(grade_id):
            """The cell's outputs as the page's notebook model holds them (JupyterLab
            renders only the cells in view, so the DOM may not have them)."""
            return page.evaluate("""(gid) => {
                const nb = window.jupyterapp.shell.currentWidget.content;
                const i = nb.widgets.findIndex(
                    c => (c.model.getMetadata('nbgrader') || {}).grade_id === gid);
                return JSON.stringify(nb.widgets[i].model.outputs.toJSON());
            }""", grade_id)

        assert "NotImplementedError" in outputs_of("test_sigmoid")
        page.evaluate("""async (src) => {
            const app = window.jupyterapp; const nb = app.shell.currentWidget.content;
            const i = nb.widgets.findIndex(
                c => (c.model.getMetadata('nbgrader') || {}).grade_id === 'ex_sigmoid');
            nb.widgets[i].model.sharedModel.setSource(src);
            nb.activeCellIndex = i;
            await app.commands.execute('notebook:run-cell-and-select-next');
            await app.commands.execute('notebook:run-cell-and-select-next');
            await app.commands.execute('notebook:run-cell');
        }""", sigmoid_answer)
        _wait_idle(page)
        passed = outputs_of("test_sigmoid")
        assert "my_sigmoid: values, shape, stability and dtype OK" in passed, passed
        assert "NotImplementedError" not in passed
        assert "my_sigmoid_grad OK" in outputs_of("test_sigmoid_grad")
        # Run All stops at the first error, as in any Jupyter; run on from here and the
        # next unanswered exercise is the one that stops it.
        page.evaluate("""async () => {
            const app = window.jupyterapp; const nb = app.shell.currentWidget.content;
            nb.activeCellIndex = nb.widgets.findIndex(
                c => (c.model.getMetadata('nbgrader') || {}).grade_id === 'test_sigmoid_grad');
            await app.commands.execute('notebook:run-all-below');
        }""")
        _wait_idle(page)
        assert "NotImplementedError" in outputs_of("test_neuron_forward")
        page.screenshot(path=str(SHOTS / "4-exercise-passes.png"))

        # (4) nbgrader's Validate reports the result
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        time.sleep(1)
        page.locator("button:has-text('Validate'), .validate-button").first.click()
        dialog = page.locator(".jp-Dialog")
        dialog.wait_for(timeout=240_000)
        page.wait_for_function("() => !document.querySelector('.jp-Dialog')?.innerText"
                               ".includes('Validating')", timeout=120_000)
        text = dialog.inner_text()
        page.screenshot(path=str(SHOTS / "5-validate.png"))
        browser.close()
    # Validate stops at the first failing test: the unanswered forward pass, not the
    # sigmoid the student filled in.
    assert "The following cell failed" in text, text[:2000]
    assert "neuron_forward(X_small" in text and "NotImplementedError" in text, text[:2000]
    assert "my_sigmoid(z)" not in text, "the passing sigmoid test must not be reported"
    # The saved notebook, checked the way `dlcourse check` does, agrees per exercise.
    report = run_check(lab["home"] / "course" / CHAPTER / f"{CHAPTER}.ipynb")
    status = {t.grade_id: t.passed for t in report.tests}
    assert status == {"test_sigmoid": True, "test_sigmoid_grad": True,
                      "test_neuron_forward": False, "test_neuron_backward": False,
                      "test_train_neuron": False}
