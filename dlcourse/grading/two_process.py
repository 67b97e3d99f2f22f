"""Autograding in two processes: the student's cells in a sandbox, the tests out of its reach.

nbgrader (like otter-grader) runs the tests in the same kernel as the student's code, so
whatever the student's code does to that process (an IPython input transformer that blanks
every ``assert``, a patched ``np.allclose``, an event hook that prints the hidden tests)
decides the grade. :class:`TwoProcessExecute` replaces nbgrader's ``Execute`` step:

- every cell of the submission except the test cells runs in the student's kernel, inside
  the sandbox of :mod:`dlcourse.grading.sandbox` (no network, a private work folder, its own
  PID namespace, limits on memory, processes and file sizes);
- the test cells (visible and hidden, as nbgrader restored them from the gradebook) run in a
  trusted process (:mod:`dlcourse.grading.trusted_side`) together with the instructor's own
  copy of the non-exercise cells they need. The functions the student's answers define
  reach the tests as proxies: a call ships its arguments to the student's kernel and only
  plain data comes back (:mod:`dlcourse.grading.wire`);
- the hidden tests never enter the student's process, and nothing from it is unpickled.

The outputs of the test cells are written into the notebook as nbgrader expects, so its
``SaveAutoGrades`` scores them and its feedback shows them (with hidden tests redacted).
Cells after the last test cell are not run, in either process: they cannot change a grade,
and a class of hundreds should not pay for them.
A student's kernel that dies, runs out of memory or time loses the tests that could not run
from then on; the reason is written to ``notes_file`` for ``dlcourse grade``'s CSV.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from queue import Empty

import nbformat
from jupyter_core.utils import run_sync
from nbclient.exceptions import DeadKernelError
from traitlets import Bool, Integer, Unicode

from . import conventions as nbcells
from . import tripwire, trusted_side
from .kernel import RobustExecute, instructor_notebook_path
from .pruning import needed_cells

MAX_REPLY_BYTES = 512 * 2**20
CALLS_FOLDER = ".dlcourse-calls"


def answer_names(source: str) -> list[str]:
    """The functions an answer cell defines (what the tests may call)."""
    try:
        tree = ast.parse(nbcells.strip_markers(source))
    except SyntaxError:
        return []
    return [node.name for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]


def trusted_plan(instructor) -> list[tuple]:
    """The instructor notebook as steps for the trusted side: run, bind, test.

    The plan ends with the last test: the cells after it cannot change a grade, so the
    trusted side does not spend the student's time budget running them.
    """
    steps = []
    for cell in instructor.cells:
        if cell.cell_type != "code":
            continue
        if nbcells.is_autograded_test(cell):
            steps.append(("test", nbcells.grade_id(cell)))
        elif nbcells.is_answer(cell):
            spec = tripwire.forbidden_of(cell)
            steps.append(("bind", {name: spec.to_metadata() if spec else None
                                   for name in answer_names(cell.source)}))
        elif cell.source.strip():
            steps.append(("run", cell.source))
    last_test = max((i for i, (kind, _) in enumerate(steps) if kind == "test"), default=-1)
    return steps[:last_test + 1]


class TrustedProcess:
    """The trusted test process and its message loop, seen from the grader."""

    def __init__(self, cwd: Path):
        parent, child = socket.socketpair()
        env = dict(os.environ)
        # Small, parallel graders: one BLAS/OpenMP thread each (the kernel type is untouched).
        env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   MPLBACKEND="Agg", IPYTHONDIR=str(cwd / ".ipython"))
        env.pop("JPY_PARENT_PID", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dlcourse.grading.trusted_side", str(child.fileno())],
            pass_fds=[child.fileno()], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        child.close()
        self.sock = parent
        self.pending: list[object] = []        # keys of cells sent, not yet done

    def send(self, message) -> None:
        trusted_side.send(self.sock, message)
        if message[0] == "run":
            self.pending.append(message[1])

    def receive(self, timeout: float | None):
        self.sock.settimeout(timeout)
        try:
            return trusted_side.receive(self.sock)
        finally:
            self.sock.settimeout(None)

    def interrupt(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)

    def close(self) -> None:
        try:
            trusted_side.send(self.sock, ("exit",))
        except OSError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.sock.close()


class TwoProcessExecute(RobustExecute):
    """nbgrader's Execute, with the tests moved out of the student's process (module doc)."""

    sandbox = Bool(True, help="Run the student's kernel in the bubblewrap sandbox; False "
                              "keeps two processes but no sandbox (--no-sandbox)").tag(config=True)
    memory = Unicode("", help="Memory limit of the student's kernel, e.g. 4G (default: the "
                              "sandbox's)").tag(config=True)
    processes = Integer(0, help="Process limit of the student's kernel (0: the sandbox's "
                                "default)").tag(config=True)
    kernel_threads = Integer(1, help="BLAS/OpenMP threads of the student's kernel: a grader "
                                     "runs several kernels at once, and spinning BLAS "
                                     "threads would steal each other's cores").tag(config=True)
    notes_file = Unicode("", help="Where to write what went wrong (JSON list)").tag(config=True)
    prune_setup = Bool(True, help="Run in the trusted process only the instructor's cells the "
                                  "tests need (dlcourse.grading.pruning)").tag(config=True)

    # ------------------------------------------------------------------ set-up
    def preprocess(self, nb, resources=None, km=None):
        resources = resources if resources is not None else {}
        instructor_path = self._instructor_path(resources)
        instructor = nbformat.read(str(instructor_path), as_version=4)
        self._steps = trusted_plan(instructor)
        if self.prune_setup:
            self._steps = needed_cells(self._steps, {
                nbcells.grade_id(c): c.source for c in instructor.cells
                if nbcells.is_autograded_test(c)})
        self._sent = 0
        self._notes: list[str] = []
        self._dead = ""
        self._calls = 0
        self._limits = None
        student_src = Path(resources.get("metadata", {}).get("path") or ".")
        self._workdir = Path(tempfile.mkdtemp(prefix="dlcourse-student-"))
        trusted_dir = Path(tempfile.mkdtemp(prefix="dlcourse-trusted-"))
        _copy_data_files(student_src, self._workdir)
        _copy_data_files(instructor_path.parent, trusted_dir)
        (self._workdir / CALLS_FOLDER).mkdir()
        resources.setdefault("metadata", {})["path"] = str(self._workdir)
        if self.kernel_threads:        # inherited by the kernel, sandboxed or not
            for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
                os.environ[name] = str(self.kernel_threads)
        if km is None and self.sandbox:
            from .sandbox import Limits, check_sandbox, parse_size

            check_sandbox()
            limits = Limits()
            if self.memory:
                limits = dataclasses.replace(limits, memory=parse_size(self.memory))
            if self.processes:
                limits = dataclasses.replace(limits, processes=self.processes)
            self._limits = limits
            km = _async_sandbox_manager()(workdir=self._workdir, limits=limits,
                                      kernel_name=nb.metadata.get("kernelspec", {}).get(
                                          "name", "python3"))
        self._last_test = max((i for i, c in enumerate(nb.cells) if nbcells.is_autograded_test(c)),
                              default=-1)
        self._trusted = TrustedProcess(trusted_dir)
        try:
            self._send_until_next_test(None)
            return super().preprocess(nb, resources, km)
        finally:
            self._trusted.close()
            shutil.rmtree(self._workdir, ignore_errors=True)
            shutil.rmtree(trusted_dir, ignore_errors=True)
            if self.notes_file:
                Path(self.notes_file).write_text(json.dumps(self._notes))

    def _instructor_path(self, resources) -> Path:
        if self.instructor_notebook:
            return Path(self.instructor_notebook)
        path = instructor_notebook_path(self.config, resources)
        if path is None:
            raise ValueError("no instructor notebook: set TwoProcessExecute.instructor_notebook")
        return path

    # ------------------------------------------------------------------ the two timelines
    def _send_until_next_test(self, test_id) -> None:
        """Queue the trusted steps up to ``test_id`` (None: up to the first test)."""
        while self._sent < len(self._steps):
            kind, arg = self._steps[self._sent]
            if kind == "test":
                if test_id is None or arg == test_id:
                    return
                self._sent += 1          # a test the student's notebook has moved: skip
                continue
            self._trusted.send(("run", ("setup", self._sent), arg, False) if kind == "run"
                               else ("bind", arg))
            self._sent += 1

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if nbcells.is_autograded_test(cell):
            self._run_test(cell, index)
            return cell, resources
        if index > self._last_test:
            return cell, resources       # after the last test nothing can change a grade
        if self._dead:
            cell.outputs = [_error("KernelNotRunning", "not run: " + self._dead)]
            return cell, resources
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._dead = (f"the kernel died in cell {index} (os._exit, a crash, or a limit: "
                          f"{self._limit_text()})")
            self._notes.append(self._dead)
            cell.outputs.append(_error("DeadKernelError", self._dead))
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" and out.get("ename") == "MemoryError":
                self._notes.append(f"cell {index} ran out of memory ({self._limit_text()})")
        return cell, resources

    def _limit_text(self) -> str:
        return self._limits.describe() if self._limits else "no sandbox limits"

    def _run_test(self, cell, index) -> None:
        gid = nbcells.grade_id(cell)
        self._send_until_next_test(gid)
        if self._sent < len(self._steps):
            self._sent += 1
        if self._trusted.pending:
            # The instructor's set-up cells get their own time, not the test's.
            setup_deadline = time.monotonic() + (self.timeout or 60) * len(self._trusted.pending)
            self._serve_until_done(self._trusted.pending[-1], setup_deadline, index)
        key = ("test", gid)
        self._trusted.send(("run", key, cell.source, True))
        deadline = time.monotonic() + (self.timeout or 60)
        cell.outputs = self._serve_until_done(key, deadline, index)
        cell.execution_count = None
        self._send_until_next_test(None)

    def _serve_until_done(self, key, deadline, index) -> list:
        """Answer the trusted side's calls until cell ``key`` is done; return its outputs."""
        timed_out = False
        while True:
            remaining = deadline - time.monotonic()
            try:
                message = self._trusted.receive(max(remaining, 0.1) if not timed_out else 30)
            except TimeoutError:
                if timed_out:
                    return [_error("CellTimeoutError", "the grader's test process stopped "
                                   "answering")]
                timed_out = True
                self._trusted.interrupt()
                continue
            except (EOFError, OSError) as exc:
                return [_error("GraderError", f"the test process ended: {exc}")]
            if message[0] == "call":
                self._trusted.send(self._relay(message[1], deadline))
                continue
            if message[0] != "done":
                continue
            done_key, outputs = message[1], message[2]
            if done_key in self._trusted.pending:
                self._trusted.pending.remove(done_key)
            if done_key[0] == "setup":
                for out in outputs:      # the instructor's cell failed: say so, go on
                    self._notes.append(f"the grader's own copy of cell {done_key[1]} failed: "
                                       f"{out.get('ename')}: {out.get('evalue', '')[:200]}")
            if done_key != key:
                continue
            if timed_out:
                outputs = [o for o in outputs if o.get("output_type") != "error"]
                outputs.append(dict(self.error_on_timeout, output_type="error"))
                self._notes.append(f"test {key[1]} ran longer than {self.timeout} s")
            return [nbformat.from_dict(o) for o in outputs]

    # ------------------------------------------------------------------ calls into the sandbox
    def _relay(self, request: bytes, deadline: float):
        if self._dead:
            return ("failed", "RuntimeError", f"your kernel is not running: {self._dead}")
        self._calls += 1
        base = self._workdir / CALLS_FOLDER / str(self._calls)
        for suffix in (".json", ".npz"):
            Path(str(base) + suffix).unlink(missing_ok=True)
        Path(str(base) + ".request").write_bytes(request)
        code = (f'__import__("dlcourse.grading.student_side", fromlist=["serve"])'
                f'.serve({str(base)!r}, globals())')
        status = run_sync(self._execute_quietly)(code, max(deadline - time.monotonic(), 1.0))
        try:
            if status == "timeout":
                return ("failed", "TimeoutError", f"your function ran longer than "
                        f"{self.timeout} s (the test's time limit) and was stopped")
            if status == "dead":
                self._dead = (f"the kernel died while a test called your function "
                              f"({self._limit_text()})")
                self._notes.append(self._dead)
                return ("failed", "RuntimeError", self._dead)
            try:
                skeleton = _read_limited(Path(str(base) + ".json"))
                arrays = _read_limited(Path(str(base) + ".npz"))
            except (OSError, ValueError) as exc:
                return ("failed", "RuntimeError", f"your kernel sent no answer ({exc})")
            return ("reply", skeleton, arrays)
        finally:
            for suffix in (".request", ".json", ".npz"):
                Path(str(base) + suffix).unlink(missing_ok=True)

    async def _execute_quietly(self, code: str, timeout: float) -> str:
        """Run ``code`` in the student's kernel; its output is dropped. ok, timeout or dead."""
        msg_id = self.kc.execute(code, silent=True, store_history=False, allow_stdin=False,
                                 stop_on_error=False)
        deadline = time.monotonic() + timeout
        interrupted = False
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 and not interrupted:
                await _maybe_await(self.km.interrupt_kernel())
                interrupted, deadline = True, time.monotonic() + 10
                continue
            if remaining <= 0:
                return "timeout"
            try:
                msg = await _maybe_await(self.kc.shell_channel.get_msg(timeout=min(1.0, remaining)))
            except Empty:
                if not await _maybe_await(self.km.is_alive()):
                    return "dead"
                continue
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                return "timeout" if interrupted else "ok"


def _async_sandbox_manager():
    """The sandbox's kernel manager with jupyter_client's async API, as nbclient needs."""
    from jupyter_client.manager import AsyncKernelManager

    from .sandbox import SandboxKernelManager

    class AsyncSandboxKernelManager(SandboxKernelManager, AsyncKernelManager):
        pass

    return AsyncSandboxKernelManager


async def _maybe_await(value):
    if hasattr(value, "__await__"):
        return await value
    return value


def _read_limited(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_REPLY_BYTES:
        raise ValueError(f"the answer is {size:,} bytes, more than {MAX_REPLY_BYTES:,}")
    return path.read_bytes()


def _copy_data_files(source: Path, target: Path) -> None:
    """The chapter's data files (not its notebooks) into a fresh folder."""
    if not source.is_dir():
        return
    for item in source.iterdir():
        if item.suffix == ".ipynb" or item.name.startswith(".") or item.name == "__pycache__":
            continue
        if item.is_dir():
            shutil.copytree(item, target / item.name)
        elif item.is_file():
            shutil.copy(item, target / item.name)


def _error(ename: str, evalue: str):
    return nbformat.from_dict({"output_type": "error", "ename": ename, "evalue": evalue,
                               "traceback": [f"{ename}: {evalue}"]})
