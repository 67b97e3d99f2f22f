"""The grading sandbox: bubblewrap's view, limits and network isolation, and a kernel in it.

Tests that need bubblewrap skip when it cannot run here, unless DLCOURSE_REQUIRE_SANDBOX=1
(then they fail: CI that promises a sandbox must not silently lose it).
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import nbformat
import psutil
import pytest
from nbclient import NotebookClient
from traitlets.config import Config

from dlcourse.grading import sandbox
from dlcourse.grading.sandbox import (
    Limits,
    SandboxKernelManager,
    SandboxUnavailable,
    check_sandbox,
    parse_size,
    sandbox_command,
)

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 30


@pytest.fixture
def bwrap():
    """Skip (or, with DLCOURSE_REQUIRE_SANDBOX=1, fail) when the sandbox cannot run."""
    try:
        check_sandbox()
    except SandboxUnavailable as error:
        if os.environ.get("DLCOURSE_REQUIRE_SANDBOX") == "1":
            pytest.fail(f"DLCOURSE_REQUIRE_SANDBOX=1 but the sandbox is unavailable: {error}")
        pytest.skip(f"sandbox unavailable: {error}")


def run(code: str, workdir: Path, limits: Limits | None = None, **kwargs):
    """Run Python ``code`` in the sandbox; returns the CompletedProcess (text, captured)."""
    argv = [sys.executable, "-c", textwrap.dedent(code)]
    return subprocess.run(sandbox_command(argv, workdir, limits or Limits()), capture_output=True,
                          text=True, timeout=TIMEOUT, **kwargs)


def live_with(marker: str) -> list[psutil.Process]:
    """Host processes (not zombies) whose command line contains ``marker``."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        try:
            if proc.info["status"] != psutil.STATUS_ZOMBIE and marker in " ".join(
                    proc.info["cmdline"] or ()):
                found.append(proc)
        except psutil.Error:
            pass
    return [p for p in found if p.pid != os.getpid()]


def wait_gone(marker: str, seconds: float = 5.0) -> list[psutil.Process]:
    deadline = time.monotonic() + seconds
    while (left := live_with(marker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


# 1. sizes and limits ---------------------------------------------------------------------

@pytest.mark.parametrize("text, size", [
    ("4G", 4 * 2**30), ("512M", 512 * 2**20), ("2GiB", 2 * 2**30), ("1500000", 1500000),
    ("64k", 64 * 1024), (" 1.5 G ", 3 * 2**29), ("3GB", 3 * 2**30), ("1T", 2**40),
])
def test_parse_size(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "G", "4X", "-1G", "four", "4 G B", "0"])
def test_parse_size_rejects_bad_sizes_naming_the_format(text):
    with pytest.raises(ValueError, match=r"invalid size .*") as error:
        parse_size(text)
    if text != "0":
        assert "'4G'" in str(error.value) and "'512M'" in str(error.value)


@pytest.mark.parametrize("field", ["memory", "processes", "file_size", "cpu_seconds"])
def test_limits_must_be_positive(field):
    with pytest.raises(ValueError, match=field):
        Limits(**{field: 0})


def test_limits_describe():
    assert Limits(memory=4 * 2**30).describe() == \
        "memory 4 GiB, 256 processes, files up to 512 MiB"
    text = Limits(memory=parse_size("1.5G"), processes=32, file_size=100, cpu_seconds=60)\
        .describe()
    assert text == "memory 1.5 GiB, 32 processes, files up to 100 bytes, CPU time up to 60 s"


# 2. what the sandbox sees ----------------------------------------------------------------

PROBE = """
import json, os, sys
def writable(path):
    try:
        with open(path, "w") as f:
            f.write("x")
        return True
    except OSError:
        return False
paths = json.loads(sys.argv[1])
print(json.dumps({
    "pid": os.getpid(), "cwd": os.getcwd(), "home": os.environ["HOME"],
    "jpy": os.environ.get("JPY_PARENT_PID"),
    "work": writable("out.txt"), "root": writable("/x"), "etc": writable("/etc/x"),
    "prefix": writable(os.path.join(sys.prefix, "x")), "data": writable(paths[-1]),
    "exists": {p: os.path.exists(p) for p in paths},
    "root_listing": sorted(os.listdir("/root")) if os.path.exists("/root") else [],
    "tmp_listing": os.listdir("/tmp"),
}))
"""


def test_view_is_minimal_and_read_only(bwrap, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("the answer")
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.csv").write_text("x,y\n")
    hidden = [REPO / "solutions", REPO / "tests", REPO / "pyproject.toml", REPO / ".git",
              Path("/root/.bashrc"), Path("/root/.pyenv/shims"), secret, tmp_path / "work2"]
    shown = [Path(sys.base_prefix) / "lib", REPO / "dlcourse" / "__init__.py",
             data / "train.csv"]
    argv = [sys.executable, "-c", PROBE, json.dumps([str(p) for p in hidden + shown])]
    done = subprocess.run(sandbox_command(argv, work, Limits(), extra_ro=[data]),
                          capture_output=True,
                          text=True, timeout=TIMEOUT, env={**os.environ, "JPY_PARENT_PID": "12345"})
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["pid"] <= 3  # bwrap's init is 1: a PID namespace of its own
    assert seen["cwd"] == str(work.resolve()) == seen["home"]
    assert seen["jpy"] == "1"  # not the host's PID (12345 here), meaningless inside
    assert seen["work"] and (work / "out.txt").read_text() == "x"
    assert not (seen["root"] or seen["etc"] or seen["prefix"] or seen["data"])
    exists = seen["exists"]
    assert all(exists[str(p)] for p in shown), exists
    assert not any(exists[str(p)] for p in hidden), exists
    assert seen["root_listing"] in ([], [".pyenv"])  # only the path to the interpreter
    # The host's /tmp is not there: only the way down to the work folder (pytest's is in it).
    work_in_tmp = work.resolve().parts[2:3] if work.resolve().parts[1] == "tmp" else ()
    assert seen["tmp_listing"] == list(work_in_tmp)
    assert not Path("/x").exists()


def test_broad_or_secret_folders_are_refused(tmp_path):
    for folder in (Path("/"), Path("/root"), Path("/home"), Path("/tmp"), REPO):
        with pytest.raises(ValueError, match="refusing"):
            sandbox_command(["true"], tmp_path, Limits(), extra_ro=[folder])
    with pytest.raises(ValueError, match="refusing"):
        sandbox_command(["true"], REPO, Limits())


# 3. no network ---------------------------------------------------------------------------

def test_no_network(bwrap, tmp_path):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        done = run(f"""
            import socket
            try:
                socket.create_connection(("127.0.0.1", {port}), timeout=5)
                print("connected")
            except OSError as error:
                print("refused", type(error).__name__)
            try:
                socket.getaddrinfo("pypi.org", 443)
                print("resolved")
            except OSError as error:
                print("no dns", type(error).__name__)
        """, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[0] in ("refused ConnectionRefusedError", "refused OSError")
    assert done.stdout.split("\n")[1] == "no dns gaierror"


# 4. memory -------------------------------------------------------------------------------

def test_memory_limit_raises_memory_error_inside(bwrap, tmp_path):
    done = run("""
        import numpy as np
        try:
            big = np.ones(2**28)  # 2 GiB of float64
            print("allocated", big.nbytes)
        except MemoryError:
            print("MemoryError")
        print("still alive", np.ones(3).sum())
    """, tmp_path, Limits(memory=2**30))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["MemoryError", "still", "alive", "3.0"]


def test_file_size_limit(bwrap, tmp_path):
    done = run("""
        try:
            with open("big.bin", "wb") as f:
                f.write(b"x" * 2**21)
            print("written")
        except OSError as error:
            print("refused", error.errno)
    """, tmp_path, Limits(file_size=2**20))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "refused 27"  # EFBIG
    assert (tmp_path / "big.bin").stat().st_size == 2**20


# 5. processes ----------------------------------------------------------------------------

BOMB = """
import os, time
started = 0
try:
    for _ in range(500):
        pid = os.fork()
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        started += 1
    print("not refused", started, flush=True)
except OSError as error:
    print("refused", type(error).__name__, started, flush=True)
# MARKER
"""


def test_fork_bomb_is_stopped_per_sandbox(bwrap, tmp_path):
    marker = f"bomb-{uuid.uuid4().hex}"
    code = BOMB.replace("MARKER", marker)
    limits = Limits(processes=32)
    argv = [sys.executable, "-c", code]
    # Two sandboxes at once: each gets its own 32, whatever else runs on the host.
    bombs = []
    for name in ("a", "b"):
        work = tmp_path / name
        work.mkdir()
        bombs.append(subprocess.Popen(sandbox_command(argv, work, limits),
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True))
    outputs = [bomb.communicate(timeout=TIMEOUT) for bomb in bombs]
    for (out, err), bomb in zip(outputs, bombs, strict=True):
        assert bomb.returncode == 0, err
        words = out.split()
        assert words[:2] == ["refused", "BlockingIOError"], out
        assert 24 <= int(words[2]) < 32
    # The host is unaffected, and nothing of the sandboxes outlives them.
    assert subprocess.run(["true"], timeout=10).returncode == 0
    assert wait_gone(marker) == []


# 6. nothing outlives the sandboxed command -----------------------------------------------

def test_new_session_child_dies_with_the_sandbox(bwrap, tmp_path):
    marker = f"sleeper-{uuid.uuid4().hex}"
    done = run(f"""
        import os, subprocess, sys, time
        child = subprocess.Popen(
            [sys.executable, "-c",
             "open('child-started', 'w').close(); import time; time.sleep(300)  # {marker}"],
            start_new_session=True)
        deadline = time.monotonic() + 20
        while not os.path.exists("child-started") and time.monotonic() < deadline:
            time.sleep(0.05)
        print("child", child.pid, os.getsid(child.pid) != os.getsid(0))
    """, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[2] == "True"  # it really was in a session of its own
    assert (tmp_path / "child-started").exists()
    assert wait_gone(marker) == []


# 7. a kernel in the sandbox --------------------------------------------------------------

def _execute(kc, code: str, timeout: float = TIMEOUT) -> tuple[dict, str]:
    out = []

    def hook(msg):
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            out.append("\n".join(msg["content"]["traceback"]))

    reply = kc.execute_interactive(code, timeout=timeout, output_hook=hook)
    return reply["content"], "".join(out)


def _sandbox_processes(km) -> list[psutil.Process]:
    launcher = psutil.Process(km.provisioner.pid)
    return [launcher, *launcher.children(recursive=True)]


def _started(km):
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=TIMEOUT)
    except Exception:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        raise
    return kc


def test_kernel_runs_in_the_sandbox(bwrap, tmp_path):
    km = SandboxKernelManager(workdir=tmp_path)
    started = time.monotonic()
    km.start_kernel()
    kc = _started(km)
    ready = time.monotonic() - started
    try:
        kc.kernel_info()
        info = kc.get_shell_msg(timeout=TIMEOUT)
        assert info["msg_type"] == "kernel_info_reply"
        assert info["content"]["status"] == "ok"
        reply, out = _execute(
            kc, "import numpy, os; print(os.getpid(), numpy.ones(3).sum()); print(os.getcwd())")
        assert reply["status"] == "ok", out
        pid, total, cwd = out.split()
        assert int(pid) <= 3 and total == "3.0" and cwd == str(tmp_path.resolve())
        assert km.connection_file.startswith(str(tmp_path.resolve()))
        processes = _sandbox_processes(km)
        print(f"kernel ready in {ready:.2f} s")
    finally:
        kc.stop_channels()
        km.shutdown_kernel()
    assert not km.is_alive()
    gone, alive = psutil.wait_procs(processes, timeout=10)
    assert alive == []


def test_interrupt_reaches_the_kernel(bwrap, tmp_path):
    km = SandboxKernelManager(workdir=tmp_path)
    km.start_kernel()
    kc = _started(km)
    try:
        msg_id = kc.execute("import time; time.sleep(60)")
        time.sleep(1)
        km.interrupt_kernel()
        reply = kc.get_shell_msg(timeout=TIMEOUT)
        while reply["parent_header"].get("msg_id") != msg_id:  # e.g. wait_for_ready's
            reply = kc.get_shell_msg(timeout=TIMEOUT)
        assert reply["content"]["status"] == "error"
        assert reply["content"]["ename"] == "KeyboardInterrupt"
        assert _execute(kc, "print(6 * 7)")[1].strip() == "42"  # and it lives on
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


@pytest.mark.parametrize("how", ["shutdown_now", "kill_bwrap", "kill_kernel_process"])
def test_killed_kernel_leaves_nothing_behind(bwrap, tmp_path, how):
    marker = f"orphan-{uuid.uuid4().hex}"
    km = SandboxKernelManager(workdir=tmp_path)
    km.start_kernel()
    kc = _started(km)
    try:
        reply, out = _execute(kc, textwrap.dedent(f"""
            import os, subprocess, sys, time
            child = subprocess.Popen([sys.executable, "-c",
                "open('up', 'w').close(); import time; time.sleep(300)  # {marker}"],
                start_new_session=True)
            while not os.path.exists("up"):
                time.sleep(0.05)
            print("started")
        """))
        assert out.strip() == "started", out
        assert live_with(marker)
        processes = _sandbox_processes(km)
    finally:
        kc.stop_channels()
        if how == "shutdown_now":  # what jupyter_client's kill path does
            km.shutdown_kernel(now=True)
    if how == "kill_bwrap":  # the process jupyter_client started, killed from outside
        processes[0].kill()
    elif how == "kill_kernel_process":  # the kernel itself dies (segfault, OOM killer)
        [kernel] = [p for p in processes if p.cmdline()[1:3] == ["-m", "ipykernel_launcher"]]
        kernel.kill()
    gone, alive = psutil.wait_procs(processes, timeout=10)
    if how != "shutdown_now":
        assert not km.is_alive()
        km.shutdown_kernel(now=True)  # cleans up the connection file and sockets
    assert alive == []
    assert wait_gone(marker) == []


def test_torch_kernel_starts_under_the_default_limits(bwrap, tmp_path):
    km = SandboxKernelManager(workdir=tmp_path)
    assert km.limits == Limits()
    km.start_kernel()
    kc = _started(km)
    try:
        reply, out = _execute(kc, textwrap.dedent("""
            import numpy, sklearn, matplotlib.pyplot, torch
            x = torch.ones(200, 200)
            print(float((x @ x).sum()))
            status = dict(line.split(":", 1) for line in open("/proc/self/status"))
            print(status["VmPeak"].split()[0])
        """), timeout=60)
        assert reply["status"] == "ok", out
        total, peak_kib = out.split()
        assert total == str(200.0**3)
        print(f"torch kernel: VmPeak {int(peak_kib) / 2**20:.2f} GiB "
              f"under {Limits().describe()}")
        assert int(peak_kib) * 1024 < Limits().memory
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def _notebook(*sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


def test_nbclient_with_km(bwrap, tmp_path):
    nb = _notebook("import os; print(os.getcwd())")
    km = SandboxKernelManager(workdir=tmp_path, limits=Limits(processes=128))
    NotebookClient(nb, km=km, timeout=TIMEOUT).execute()
    assert nb.cells[0].outputs[0]["text"].strip() == str(tmp_path.resolve())


def test_nbclient_kernel_manager_class_uses_the_notebook_folder(bwrap, tmp_path):
    nb = _notebook(f"import os; print(os.getcwd(), os.path.exists({str(REPO / 'tests')!r}))",
                   "import resource; print(resource.getrlimit(resource.RLIMIT_NPROC)[0])")
    config = Config({"SandboxKernelManager": {"limits": Limits(processes=99)}})
    client = NotebookClient(nb, kernel_manager_class=SandboxKernelManager, timeout=TIMEOUT,
                            config=config, resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    assert nb.cells[0].outputs[0]["text"].split() == [str(tmp_path.resolve()), "False"]
    assert nb.cells[1].outputs[0]["text"].strip() == "99"


# 8. availability -------------------------------------------------------------------------

def test_check_sandbox_names_bubblewrap_when_bwrap_is_missing(monkeypatch):
    monkeypatch.setattr(sandbox.shutil, "which", lambda name, *a, **k: None)
    with pytest.raises(SandboxUnavailable, match="bubblewrap"):
        check_sandbox()


def test_check_sandbox_reports_bwraps_error(monkeypatch, tmp_path):
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create a new namespace' >&2\n"
                    "exit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    assert shutil.which("bwrap") == str(fake)
    with pytest.raises(SandboxUnavailable) as error:
        check_sandbox()
    assert "No permissions to create a new namespace" in str(error.value)
    assert "sysctl" in str(error.value)


def test_check_sandbox_on_macos(monkeypatch):
    monkeypatch.setattr(sandbox.sys, "platform", "darwin")
    with pytest.raises(SandboxUnavailable, match="macOS"):
        check_sandbox()
