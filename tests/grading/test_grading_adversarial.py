# ruff: noqa: E501 — the submissions' code is quoted verbatim
"""`dlcourse grade` against students who want the points without the work, or the hidden tests.

Every submission below is graded by the sandboxed two-process grader and must get exactly
its honest total: what its real answers are worth, never what its tricks claim. Chapter
01_neuron: sigmoid 3 points, neuron_forward 2, train_neuron 3.
"""

from __future__ import annotations

import csv
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import nbformat
import pytest

from dlcourse.grading import conventions
from dlcourse.grading.autograde import grade_class
from dlcourse.grading.conventions import answer_id
from dlcourse.grading.selfcheck import run_check

from ..nbtools import (
    CLASS_ROOT,
    course_notebook,
    fill_answers,
    read,
    sandbox_or_skip,
    solution_notebook,
)

pytestmark = [pytest.mark.nbgrader, pytest.mark.xdist_group("adversarial_grading")]

CHAPTER, NAME = "01_neuron", "01_neuron.ipynb"
TIMEOUT = 20
MEMORY = "3G"        # small, but enough for an honest chapter-01 kernel (numpy, torch)
PROCESSES = 64
MARKER = "dlcourse-adversary-7f3a"   # lets the test find processes a student left behind
ESCAPED = f"ESCAPED-{os.getpid()}.txt"   # unique per run: leftovers of other runs cannot pass


def scores(sigmoid=3.0, neuron_forward=2.0, train_neuron=3.0):
    return {"sigmoid": sigmoid, "neuron_forward": neuron_forward, "train_neuron": train_neuron}


ZERO = scores(0, 0, 0)


def _model(source, gid):
    return conventions.strip_markers(next(c.source for c in source.cells
                                          if conventions.grade_id(c) == gid))


class _Listener:
    """A TCP server on the host's loopback that records every connection it gets."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self.stop = True
        self.thread.join(timeout=5)
        self.sock.close()


def build_class(folder: Path, base: Path, port: int) -> dict[str, dict]:
    source = read(solution_notebook(CHAPTER, CLASS_ROOT))
    student = read(course_notebook(CHAPTER, CLASS_ROOT))
    sig, fwd, train = (_model(source, answer_id(n)) for n in
                       ("sigmoid", "neuron_forward", "train_neuron"))
    expected: dict[str, dict] = {}

    def add(name, points, **answers):
        """A submission whose answer cells hold ``answers``; the others are left blank."""
        replace = {answer_id(k): "\n".join(textwrap.dedent(part) for part in
                                           (v if isinstance(v, list) else [v]))
                   for k, v in answers.items()}
        blank = {answer_id(n) for n in ("sigmoid", "neuron_forward", "train_neuron")} - set(replace)
        nb = fill_answers(student, source, leave_blank=blank, replace=replace)
        path = folder / name / NAME
        path.parent.mkdir(parents=True)
        nbformat.write(nb, str(path))
        expected[name] = points

    # ---- honest controls
    add("perfect", scores(), sigmoid=sig, neuron_forward=fwd, train_neuron=train)
    add("blank", ZERO)
    add("partial", scores(neuron_forward=0, train_neuron=0), sigmoid=sig)

    # ---- the attack: an input transformer that blanks every assert
    add("input_transformer", ZERO, sigmoid="""
        ip = get_ipython()
        ip.input_transformers_post.append(lambda lines: ['pass\\n'] if any('assert' in l for l in lines) else lines)
        """)
    add("custom_exception_handler", ZERO, sigmoid="""
        get_ipython().set_custom_exc((BaseException,), lambda *args, **kwargs: None)
        def my_sigmoid(z): return z
        def my_sigmoid_grad(z): return z
        """)
    add("patched_numpy", ZERO, sigmoid="""
        import numpy as np, numpy.testing
        np.allclose = np.isclose = np.array_equal = lambda *a, **k: True
        np.testing.assert_allclose = lambda *a, **k: None
        def my_sigmoid(z): return np.zeros(np.shape(z))
        def my_sigmoid_grad(z): return np.zeros(np.shape(z))
        """, neuron_forward="""
        def neuron_forward(X, w, b, activation="sigmoid"): return np.zeros(len(X))
        """)
    add("lying_ndarray", ZERO, sigmoid="""
        class Liar(np.ndarray):
            def __eq__(self, other): return True
            def __array_ufunc__(self, *args, **kwargs): return True
            def __bool__(self): return True
        def my_sigmoid(z): return np.zeros(np.shape(z)).view(Liar)
        def my_sigmoid_grad(z): return np.zeros(np.shape(z)).view(Liar)
        """)
    add("fake_replies", ZERO, sigmoid="""
        import dlcourse.grading.student_side as side, json
        def serve(path, namespace):
            open(path + ".npz", "wb").write(b"PK not an archive")
            open(path + ".json", "w").write(json.dumps({"result": True, "states": []}))
        side.serve = serve
        def my_sigmoid(z): raise NotImplementedError
        def my_sigmoid_grad(z): raise NotImplementedError
        """)
    # ---- reading the hidden tests
    add("event_hook_prints_sources", scores(), sigmoid=["""
        get_ipython().events.register("pre_run_cell", lambda info: print("SOURCE:", info.raw_cell))
        get_ipython().events.register("pre_execute", lambda: print("EXEC"))
        """, sig], neuron_forward=fwd, train_neuron=train)
    add("reads_gradebook", scores(), sigmoid=[sig, f"""
        import os
        found = []
        for top in ("/tmp", "/work", "/root", "/home", "/var", {str(base)!r}):
            for dirpath, dirs, files in os.walk(top):
                dirs[:] = [d for d in dirs if d not in (".venv", "site-packages", "dlcourse")]
                found += [os.path.join(dirpath, f) for f in files
                          if f.endswith((".db", ".csv", ".ipynb")) or "gradebook" in f]
        cmdlines = []
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    cmdlines.append(open(f"/proc/{{pid}}/cmdline", "rb").read().replace(b"\\0", b" ").decode())
                except OSError:
                    pass
        print("FOUND:", found)
        print("CMDLINES:", cmdlines)
        """], neuron_forward=fwd, train_neuron=train)
    add("copies_classmate", ZERO, sigmoid=f"""
        import glob
        for path in glob.glob({str(folder)!r} + "/perfect/*.ipynb") + glob.glob("/tmp/**/perfect/**/*.ipynb", recursive=True):
            import json
            for cell in json.load(open(path))["cells"]:
                if "def my_sigmoid" in "".join(cell["source"]):
                    exec("".join(cell["source"]))
        """)
    # ---- processes, network, files
    add("process_left_behind", scores(), sigmoid=[sig, f"""
        import subprocess, sys
        subprocess.Popen([sys.executable, "-c", '''
        import glob, time  # {MARKER}
        for _ in range(120):
            for path in glob.glob("/**/grades.csv", recursive=True):
                open(path, "w").write("student,total\\\\nprocess_left_behind,1000\\\\n")
            time.sleep(0.5)
        '''], start_new_session=True)
        """], neuron_forward=fwd, train_neuron=train)
    add("network", scores(), sigmoid=[sig, f"""
        import socket
        for host in ("127.0.0.1", "localhost", "10.0.2.2"):
            try:
                socket.create_connection((host, {port}), timeout=1).sendall(b"LEAK")
                print("CONNECTED", host)
            except OSError as exc:
                print("no network:", type(exc).__name__)
        """], neuron_forward=fwd, train_neuron=train)
    add("writes_outside", scores(), sigmoid=[sig, f"""
        import os
        for target in ({str(base / ESCAPED)!r}, {str(folder / 'perfect' / NAME)!r},
                       {str(CLASS_ROOT / 'solutions' / CHAPTER / ESCAPED)!r},
                       os.path.expanduser("~/{ESCAPED}"), "/{ESCAPED}", "/tmp/{ESCAPED}"):
            try:
                open(target, "w").write("student was here")
            except OSError as exc:
                print("refused:", target, type(exc).__name__)
        """], neuron_forward=fwd, train_neuron=train)
    # ---- limits: each loses only what could not run
    add("memory_hog", scores(neuron_forward=0), sigmoid=sig, neuron_forward=["""
        hog = np.ones(2**33, dtype=np.uint8)      # 8 GiB, past the --memory limit
        """, fwd], train_neuron=train)
    add("fork_bomb", scores(train_neuron=0), sigmoid=sig, neuron_forward=fwd, train_neuron=["""
        import os, time
        children = 0
        for _ in range(5000):           # a fork bomb, bounded so a broken limit cannot hang CI
            pid = os.fork()
            if pid == 0:
                time.sleep(30)
                os._exit(0)
            children += 1
        """, train])
    add("os_exit", scores(train_neuron=0), sigmoid=sig, neuron_forward=fwd, train_neuron="""
        import os
        os._exit(1)
        """)
    add("slow_function", scores(sigmoid=0), sigmoid="""
        import time
        def my_sigmoid(z):
            while True:
                time.sleep(1)
        def my_sigmoid_grad(z):
            while True:
                time.sleep(1)
        """, neuron_forward=fwd, train_neuron=train)
    add("huge_result", scores(sigmoid=0), sigmoid="""
        def my_sigmoid(z): return np.zeros(2**31, dtype=np.uint8)
        def my_sigmoid_grad(z): return np.zeros(2**31, dtype=np.uint8)
        """, neuron_forward=fwd, train_neuron=train)
    return expected


def _marker_processes() -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if MARKER.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found.append(int(pid))
            except OSError:
                pass
    return found


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    if not sandbox_or_skip():
        pytest.skip("bubblewrap cannot run here: these attacks are stopped by the sandbox")
    base = tmp_path_factory.mktemp("adversarial")
    folder = base / "submissions"
    folder.mkdir()
    listener = _Listener()
    try:
        expected = build_class(folder, base, listener.port)
        report = grade_class(CHAPTER, folder, base / "out", root=CLASS_ROOT, timeout=TIMEOUT,
                             jobs=2, memory=MEMORY, processes=PROCESSES)
        csv_before = report.csv_path.read_bytes()
        time.sleep(3)       # a process left behind would now be rewriting grades.csv
        left = _marker_processes()
        csv_after = report.csv_path.read_bytes()
    finally:
        listener.close()
    return dict(report=report, expected=expected, base=base, folder=folder,
                connections=listener.connections, left=left,
                csv_unchanged=csv_before == csv_after)


def test_every_attack_gets_exactly_its_honest_total(attacked):
    got = {r.student: r.scores for r in attacked["report"].results}
    notes = {r.student: (r.status, r.note) for r in attacked["report"].results}
    wrong = {s: (got.get(s), exp) for s, exp in attacked["expected"].items()
             if got.get(s) != exp}
    assert not wrong, f"(got, honest) per student: {wrong}\nstatus/notes: " + str(
        {s: notes.get(s) for s in wrong})


def test_no_hidden_test_reaches_any_feedback(attacked):
    source = read(solution_notebook(CHAPTER, CLASS_ROOT))
    secret = {ln.strip() for c in source.cells
              for region in conventions.hidden_test_regions(c.source)
              for ln in region.splitlines() if len(ln.strip()) > 15}
    assert secret
    for r in attacked["report"].results:
        if r.feedback is None:
            continue
        html = r.feedback.read_text()
        leaked = [ln for ln in secret if ln in html or ln.replace('"', "&quot;") in html
                  or ln.replace("'", "&#39;") in html]
        assert not leaked, f"{r.student}'s feedback shows hidden tests: {leaked[:2]}"
        assert "BEGIN HIDDEN TESTS" not in html


def test_the_event_hook_saw_no_test_cell(attacked):
    """The hook printed every cell the student's kernel ran: no test cell is among them.

    Input cells are syntax-highlighted in the feedback (split into spans), so a test line
    found verbatim in the page can only come from an output.
    """
    import html as html_lib

    page = next(r.feedback for r in attacked["report"].results
                if r.student == "event_hook_prints_sources").read_text()
    assert "SOURCE:" in page, "the hook ran in the student's own cells"
    source = read(solution_notebook(CHAPTER, CLASS_ROOT))
    test_lines = {ln.strip() for c in source.cells if conventions.is_autograded_test(c)
                  for ln in conventions.strip_markers(c.source).splitlines()
                  if len(ln.strip()) > 25 and not ln.strip().startswith("#")}  # code lines
    shown = [ln for ln in test_lines if html_lib.escape(ln) in page or ln in page]
    assert not shown, f"test cells reached the student's kernel: {shown[:2]}"


def test_nothing_of_the_grader_is_visible_from_the_sandbox(attacked):
    page = next(r.feedback for r in attacked["report"].results
                if r.student == "reads_gradebook").read_text()
    assert "FOUND: []" in page
    import html as html_lib
    import re

    printed = re.search(r"CMDLINES: (\[.*?\])\n", html_lib.unescape(page))
    assert printed, "the submission printed the command lines it could see"
    cmdlines = printed.group(1)
    for secret in ("gradebook", "nbgrader", str(attacked["folder"]), "dlcourse-gradebooks"):
        assert secret not in cmdlines, f"{secret!r} visible through /proc"


def test_no_process_outlives_grading_and_grades_csv_is_intact(attacked):
    assert not attacked["left"], f"processes left behind: {attacked['left']}"
    assert attacked["csv_unchanged"]
    rows = {r["student"]: r for r in csv.DictReader(attacked["report"].csv_path.open())}
    assert rows["process_left_behind"]["total (/8)"] == "8"


def test_no_network_and_no_write_outside(attacked):
    assert attacked["connections"] == 0, "a student reached the host's loopback"
    assert not list(attacked["base"].rglob(ESCAPED))
    assert not (CLASS_ROOT / "solutions" / CHAPTER / ESCAPED).exists()
    for place in (Path.home(), Path("/"), Path("/tmp")):
        assert not (place / ESCAPED).exists(), f"a student wrote into {place}"
    perfect = (attacked["folder"] / "perfect" / NAME).read_text()
    assert "student was here" not in perfect


def test_limits_are_named_in_the_notes(attacked):
    rows = {r.student: r for r in attacked["report"].results}
    assert "memory" in rows["memory_hog"].note, rows["memory_hog"].note
    assert rows["os_exit"].status == "kernel died" and "kernel died" in rows["os_exit"].note
    assert "ran longer than" in rows["slow_function"].note or "TimeoutError" in (
        rows["slow_function"].feedback.read_text())
    assert rows["perfect"].status == "graded" and rows["perfect"].note == ""


def test_check_and_grade_agree_on_honest_notebooks(attacked):
    """`dlcourse check` (one kernel, visible tests) and the two-process grader agree."""
    report = {r.student: r.scores for r in attacked["report"].results}
    for student in ("perfect", "partial", "blank"):
        check = run_check(attacked["folder"] / student / NAME, timeout=TIMEOUT)
        per_exercise = dict.fromkeys(report[student], 0.0)
        for test in check.tests:
            per_exercise[test.exercise] += test.points
        assert per_exercise == report[student], student


def test_grading_fails_closed_without_the_sandbox(tmp_path, monkeypatch):
    import dlcourse.grading.sandbox as sandbox

    monkeypatch.setenv("PATH", str(tmp_path))      # no bwrap on PATH
    (tmp_path / "submissions").mkdir()
    with pytest.raises(sandbox.SandboxUnavailable, match="bubblewrap"):
        grade_class(CHAPTER, tmp_path / "submissions", root=CLASS_ROOT)
    assert not (tmp_path / "grading-output").exists(), "nothing is written when failing closed"
    result = subprocess.run([sys.executable, "-m", "dlcourse.cli", "grade", CHAPTER,
                             str(tmp_path / "submissions")], capture_output=True, text=True,
                            env={**os.environ, "PATH": str(tmp_path)})
    assert result.returncode == 2 and "--no-sandbox" in result.stderr
