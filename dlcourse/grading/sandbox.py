"""Run an untrusted student's Jupyter kernel inside bubblewrap (Linux only).

Grading executes student code. Without a sandbox that code runs with the grader's rights: it
can read the solutions and hidden tests, talk to the network, fill the memory or fork until
the machine stalls. Here the kernel runs under ``bwrap`` with

* its own PID, network, IPC, UTS and cgroup namespaces: no network at all (not even the
  host's loopback), and when the kernel's main process dies every process it started dies
  with it (``--die-with-parent`` plus the PID namespace);
* a read-only view of only what Python needs (``/usr``, ``/etc``, the interpreter, the venv,
  the course package); the work folder is the only writable host path, ``/tmp`` is private;
* resource limits set by a tiny launcher just before the kernel is executed.

The process limit needs care when grading as root (CI, containers): ``RLIMIT_NPROC`` is not
enforced for host uid 0, and otherwise counts every process of the uid on the host. So as
root the launcher first becomes ``nobody`` (:data:`SANDBOX_UID`) and then enters a new user
namespace of its own; the kernel counts processes per user namespace, so the limit covers
exactly the sandbox. (bwrap's own ``--unshare-user --uid N`` would map N to host root, where
the limit is not enforced.) As an ordinary user, bwrap's user namespace does the same job.

Use :class:`SandboxKernelManager` wherever a ``jupyter_client.KernelManager`` is accepted
(nbclient's ``km=`` argument or its ``kernel_manager_class``).
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlparse

from jupyter_client import KernelManager
from jupyter_core.utils import run_sync
from traitlets import Instance, List, Unicode

#: Host uid (and gid) the sandbox runs as when the grader is root: ``nobody``.
SANDBOX_UID = 65534

#: Host paths bound read-only when present: the system's programs, libraries and settings.
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")

#: Environment passed into the sandbox when set on the host (BLAS threading, hashing, plots).
ENV_PREFIXES = ("OPENBLAS_", "OMP_", "MKL_")
ENV_NAMES = ("PYTHONHASHSEED", "MPLBACKEND")

_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?", re.IGNORECASE)
_UNIX_SOCKET_PATH_MAX = 107  # sun_path is 108 bytes with the terminating NUL

# Runs inside the sandbox with the interpreter in isolated mode (-I -S): become the sandbox
# user if asked (root only), set the limits, exec the real command. Argument 1 is a JSON spec.
_LAUNCHER = """\
import ctypes, json, os, resource, sys
spec = json.loads(sys.argv[1])
uid = spec["uid"]
if uid is not None:
    for top in spec["chown"]:
        os.lchown(top, uid, uid)
        for folder, dirs, files in os.walk(top):
            for name in dirs + files:
                os.lchown(os.path.join(folder, name), uid, uid)
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE, so that /proc/self/*_map is ours again
    if libc.unshare(0x10000000) != 0:  # CLONE_NEWUSER: processes are counted per namespace
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWUSER) failed")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                       ("gid_map", f"{uid} {uid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)
    try:  # no nested user namespaces (a hardening, as bwrap's --disable-userns)
        with open("/proc/sys/user/max_user_namespaces", "w") as f:
            f.write("0")
    except OSError:
        pass
for name, (soft, hard) in spec["limits"].items():
    resource.setrlimit(getattr(resource, name), (soft, hard))
argv = sys.argv[2:]
os.execvp(argv[0], argv)
"""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed kernel.

    ``memory`` is address space (``RLIMIT_AS``), not resident memory. Measured in the sandbox
    on 2 cores: a kernel with numpy, sklearn, matplotlib and torch imported peaks at 1.0 GiB;
    the most any course chapter (solutions, run whole) reached is 1.2 GiB (09_gan). Each
    further core adds about 50 MiB (OpenBLAS's 40 MiB buffer per thread, thread stacks), so
    4 GiB fits up to about 48 cores; on bigger machines set OMP_NUM_THREADS and
    OPENBLAS_NUM_THREADS (passed into the sandbox) or raise ``memory``. ``processes`` counts
    threads too (the kernel counts tasks), per sandbox.
    """

    memory: int = 4 * 2**30
    processes: int = 256
    file_size: int = 512 * 2**20
    cpu_seconds: int | None = None

    def __post_init__(self):
        for name in ("memory", "processes", "file_size", "cpu_seconds"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value <= 0):
                raise ValueError(f"Limits.{name} must be a positive integer, not {value!r}")

    def describe(self) -> str:
        """One line for logs, e.g. 'memory 4 GiB, 256 processes, files up to 512 MiB'."""
        text = (f"memory {_format_size(self.memory)}, {self.processes} processes, "
                f"files up to {_format_size(self.file_size)}")
        if self.cpu_seconds is not None:
            text += f", CPU time up to {self.cpu_seconds} s"
        return text

    def rlimits(self) -> dict[str, tuple[int, int]]:
        """The (soft, hard) rlimits the launcher sets, by ``resource`` constant name."""
        limits = {
            "RLIMIT_AS": (self.memory, self.memory),
            "RLIMIT_FSIZE": (self.file_size, self.file_size),
            "RLIMIT_NPROC": (self.processes, self.processes),
            "RLIMIT_CORE": (0, 0),  # a crashing kernel must not dump GiBs into the work folder
        }
        if self.cpu_seconds is not None:
            # SIGXCPU at the soft limit (Python dies of it), SIGKILL a little later regardless.
            limits["RLIMIT_CPU"] = (self.cpu_seconds, self.cpu_seconds + 5)
        return limits


def _format_size(size: int) -> str:
    for unit in ("TiB", "GiB", "MiB", "KiB"):
        scale = _UNITS[unit[0]]
        if size >= scale:
            value = size / scale
            return f"{value:.0f} {unit}" if size % scale == 0 else f"{value:.1f} {unit}"
    return f"{size} bytes"


def parse_size(text: str) -> int:
    """Bytes from '4G', '512M', '2GiB', '1.5G' or '1500000'; units are binary (1K = 1024)."""
    match = _SIZE.fullmatch(str(text).strip())
    if match is None:
        raise ValueError(
            f"invalid size {text!r}: expected a number of bytes, optionally followed by a unit "
            "K, M, G or T (binary, 1K = 1024; 'G', 'GB' and 'GiB' all mean 2**30), "
            "e.g. '4G', '512M', '2GiB' or '1500000'"
        )
    number, unit = match.groups()
    size = int(float(number) * _UNITS[unit.upper()])
    if size <= 0:
        raise ValueError(f"invalid size {text!r}: must be more than 0 bytes")
    return size


class SandboxUnavailable(RuntimeError):
    """bubblewrap cannot run here; the message says how to fix it."""


_verified: set[str] = set()  # bwrap executables that ran the trivial sandbox


def check_sandbox() -> None:
    """Raise :class:`SandboxUnavailable` unless a trivial command runs in the sandbox.

    The probe runs the real launcher (as root: the user switch and the user namespace too),
    so every failure mode shows here, before a kernel's start times out. A success is cached
    for the process.
    """
    if sys.platform == "darwin":
        raise SandboxUnavailable(
            "macOS has no bubblewrap: grade on Linux or pass --no-sandbox")
    if not sys.platform.startswith("linux"):
        raise SandboxUnavailable(
            f"the sandbox needs Linux (bubblewrap), not {sys.platform}: grade on Linux or "
            "pass --no-sandbox")
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable(
            "bwrap not found: install bubblewrap (sudo apt-get install bubblewrap, or "
            "sudo dnf install bubblewrap) or pass --no-sandbox")
    if bwrap in _verified:
        return
    with tempfile.TemporaryDirectory(prefix="dlcourse-sandbox-check-") as work:
        argv = [sys.executable, "-I", "-c", "pass"]  # with site: the venv must be readable
        try:
            done = subprocess.run(sandbox_command(argv, Path(work), Limits()),
                                  capture_output=True, text=True, timeout=60)
        except subprocess.TimeoutExpired as error:
            raise SandboxUnavailable(f"bubblewrap did not finish a trivial command: {error}") \
                from error
    if done.returncode != 0:
        raise SandboxUnavailable(_diagnose(done.stderr.strip(), done.returncode))
    _verified.add(bwrap)


def _diagnose(stderr: str, returncode: int) -> str:
    message = f"bubblewrap failed to run a trivial command (exit {returncode}): {stderr}"
    lowered = stderr.lower()
    if "namespace" in lowered or "operation not permitted" in lowered or "unshare" in lowered:
        message += (
            "\nuser namespaces are disabled: sysctl kernel.unprivileged_userns_clone=1 "
            "(Debian), or sysctl kernel.apparmor_restrict_unprivileged_userns=0 (Ubuntu 24.04+); "
            "in a container, run it with --security-opt seccomp=unconfined or --privileged")
    return message


def _forbidden() -> set[Path]:
    """Folders never bound: they hold other users' files, solutions or hidden tests."""
    home = Path(os.path.expanduser("~")).resolve()
    banned = {Path("/"), Path("/root"), Path("/home"), Path("/work"), Path("/tmp")}
    for path in (home, *_project_roots()):
        banned.add(path)
        banned.update(path.parents)
    return banned


def _editable_installs() -> list[tuple[Path, list[str]]]:
    """(project folder, top-level import names) of each editable install, e.g. dlcourse's."""
    found = []
    for dist in metadata.distributions():
        direct = dist.read_text("direct_url.json")
        try:
            info = json.loads(direct or "{}")
        except ValueError:
            continue
        if not info.get("dir_info", {}).get("editable"):
            continue
        project = Path(unquote(urlparse(info.get("url", "")).path)).resolve()
        names = (dist.read_text("top_level.txt") or "").split()
        names.append(re.sub(r"[-.]+", "_", dist.metadata["Name"] or "").lower())
        found.append((project, [n for n in dict.fromkeys(names) if n.isidentifier()]))
    return found


def _project_roots() -> list[Path]:
    """Source checkouts of editable installs: the repository holds solutions/ and tests/."""
    import dlcourse

    roots = [project for project, _ in _editable_installs()]
    package = Path(dlcourse.__file__).resolve().parent
    if not _is_within(package, _prefixes()):
        roots.append(package.parent)
    return list(dict.fromkeys(roots))


def _prefixes() -> list[Path]:
    """The interpreter's installation and the venv, also through the interpreter's symlinks."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    real = Path(os.path.realpath(sys.executable))
    if real.parent.name == "bin":
        paths.add(str(real.parent.parent))
    return [Path(p).resolve() for p in sorted(paths)]


def _is_within(path: Path, folders) -> bool:
    return any(path == folder or folder in path.parents for folder in folders)


@functools.cache
def _kernel_sys_path() -> tuple[str, ...]:
    """sys.path of a fresh interpreter (no PYTHONPATH, no cwd): what the kernel will import."""
    done = subprocess.run([sys.executable, "-I", "-c", "import sys; print(repr(sys.path))"],
                          capture_output=True, text=True, timeout=60, check=True)
    return tuple(ast.literal_eval(done.stdout.strip()))


def _package_paths() -> list[Path]:
    """Import locations outside the prefixes: a sys.path entry itself, or, when the entry is
    a project checkout (an editable install's), only its packages (e.g. /work/main/dlcourse),
    never the checkout with its solutions/ and hidden tests."""
    import dlcourse

    found = [Path(dlcourse.__file__).resolve().parent]
    outside = [Path(p) for p in SYSTEM_PATHS] + _prefixes()
    banned = _forbidden()
    for entry in _kernel_sys_path():
        path = Path(entry).resolve() if entry else None
        if path is None or not path.exists() or _is_within(path, outside):
            continue
        if path not in banned:
            found.append(path)
    for _, names in _editable_installs():
        for name in names:
            try:
                spec = importlib.util.find_spec(name)
            except (ImportError, ValueError):
                continue
            if spec is None:
                continue
            if spec.submodule_search_locations:
                found += [Path(p).resolve() for p in spec.submodule_search_locations]
            elif spec.origin and os.path.isfile(spec.origin):
                found.append(Path(spec.origin).resolve())
    return [p for p in found if not _is_within(p, outside)]


def _readonly_paths(extra_ro) -> list[Path]:
    """What the sandbox sees read-only, outermost first, without duplicates or banned folders."""
    wanted = [Path(p) for p in SYSTEM_PATHS]
    wanted += _prefixes() + _package_paths() + [Path(p) for p in extra_ro]
    banned = _forbidden()
    paths: list[Path] = []
    for path in wanted:
        path = Path(os.path.abspath(path))
        for variant in (path, path.resolve()):
            if not os.path.lexists(variant):
                continue
            if variant in banned:
                raise ValueError(f"refusing to expose {variant} in the sandbox: it holds files "
                                 "that student code must not see (bind a subfolder instead)")
            if variant not in paths:
                paths.append(variant)
    paths.sort(key=lambda p: len(p.parts))
    kept: list[Path] = []
    for path in paths:  # what is inside a bound folder is already there (symlinks too)
        if not _is_within(path, [k for k in kept if not k.is_symlink()]):
            kept.append(path)
    return kept


def _environment(workdir: Path) -> dict[str, str]:
    """The kernel's whole environment: minimal, plus the host's BLAS threading settings."""
    env = {
        "PATH": f"{sys.prefix}/bin:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(workdir),
        "LANG": "C.UTF-8",
        "TMPDIR": "/tmp",
        "IPYTHONDIR": str(workdir / ".ipython"),
        "MPLCONFIGDIR": str(workdir / ".mpl"),
        # Not the host's PID (unknown in the PID namespace: ipykernel's parent poller would
        # shut the kernel down at once) but the launcher's parent inside, bwrap's init, which
        # ipykernel never polls; unset, ipykernel prints an "ipython kernel" banner instead.
        "JPY_PARENT_PID": "1",
    }
    # glibc reserves a 64 MiB malloc arena per thread (up to 8 per core); RLIMIT_AS counts
    # those reservations, so a torch kernel on a 32-core machine would need GiBs more
    # address space than on 2 cores. Two arenas make the memory limit core-independent.
    env["MALLOC_ARENA_MAX"] = os.environ.get("MALLOC_ARENA_MAX", "2")
    for name, value in os.environ.items():
        if name.startswith(ENV_PREFIXES) or name in ENV_NAMES:
            env[name] = value
    return env


def sandbox_command(argv: list[str], workdir: Path, limits: Limits, *,
                    extra_ro: list[Path] = ()) -> list[str]:
    """The command that runs ``argv`` in the sandbox, with ``workdir`` writable and the cwd.

    As root, ``workdir`` is handed to :data:`SANDBOX_UID` (chowned recursively) at each
    start, so that the unprivileged kernel can write there; the grader, root, still reads it.
    """
    workdir = Path(workdir).resolve()
    if workdir in _forbidden():
        raise ValueError(f"refusing to use {workdir} as the sandbox's writable folder")
    as_root = os.geteuid() == 0
    cmd = [shutil.which("bwrap") or "bwrap"]
    if as_root:
        # --unshare-all would add a user namespace mapping only uid 0, from which the launcher
        # could not switch to SANDBOX_UID; the launcher creates the user namespace instead.
        cmd += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
                "--unshare-cgroup-try", "--cap-drop", "ALL"]
        for cap in ("CAP_SETUID", "CAP_SETGID", "CAP_CHOWN", "CAP_DAC_READ_SEARCH"):
            cmd += ["--cap-add", cap]  # the launcher's, until it drops to SANDBOX_UID
    else:
        cmd += ["--unshare-all", "--unshare-user", "--disable-userns"]
    cmd += ["--die-with-parent", "--new-session"]
    made: set[Path] = set()
    bound: list[Path] = []  # host folders shown as they are, with all their contents

    def mount(path: Path, *args: str) -> None:
        # bwrap makes missing parents mode 0700, which the kernel (nobody, as root) could
        # not traverse to reach e.g. /root/.pyenv/versions/3.11.7: make them 0755.
        for parent in reversed(path.parents[:-1]):
            if parent not in made and not _is_within(parent, bound):
                cmd.extend(["--perms", "0755", "--dir", str(parent)])
                made.add(parent)
        cmd.extend(args)
        made.add(path)

    tmp_size = str(limits.file_size)  # tmpfs is RAM outside RLIMIT_AS: keep it bounded
    mount(Path("/proc"), "--proc", "/proc")
    mount(Path("/dev"), "--dev", "/dev")
    mount(Path("/tmp"), "--perms", "1777", "--size", tmp_size, "--tmpfs", "/tmp")
    mount(Path("/dev/shm"), "--perms", "1777", "--size", tmp_size, "--tmpfs", "/dev/shm")
    for path in _readonly_paths(extra_ro):  # after /tmp's tmpfs, which would hide them
        if path.is_symlink():
            mount(path, "--symlink", os.readlink(path), str(path))
        else:
            mount(path, "--ro-bind", str(path), str(path))
            bound.append(path)
    mount(workdir, "--bind", str(workdir), str(workdir))
    cmd += ["--chdir", str(workdir), "--remount-ro", "/", "--clearenv"]
    for name, value in _environment(workdir).items():
        cmd += ["--setenv", name, value]
    spec = {"uid": SANDBOX_UID if as_root else None, "chown": [str(workdir)],
            "limits": limits.rlimits()}
    return cmd + ["--", sys.executable, "-I", "-S", "-c", _LAUNCHER, json.dumps(spec),
                  *map(str, argv)]


class SandboxKernelManager(KernelManager):
    """A KernelManager whose kernel runs in the sandbox, talking over IPC sockets in workdir.

    TCP cannot cross into the sandbox's network namespace, so the sockets and the connection
    file live in the (bound) work folder. Without a ``workdir`` the kernel works in the
    folder nbclient starts it in (the notebook's). Interrupts go as messages: a signal would
    reach bwrap, not the kernel.
    """

    workdir = Unicode("", config=True,
                      help="Writable folder of the kernel (its cwd and HOME); default: the "
                           "cwd given to start_kernel, e.g. the notebook's folder.")
    limits = Instance(Limits, args=(), config=True, help="Resource limits of the kernel.")
    extra_ro = List(Unicode(), config=True, help="More host paths to show read-only.")

    def __init__(self, workdir: Path | str | None = None, limits: Limits | None = None,
                 **kwargs):
        if workdir is not None:
            kwargs["workdir"] = str(workdir)
        if limits is not None:
            kwargs["limits"] = limits
        kwargs["transport"] = "ipc"
        super().__init__(**kwargs)
        self._active_workdir: Path | None = None

    @property
    def kernel_spec(self):
        spec = super().kernel_spec
        if spec is not None:
            spec.interrupt_mode = "message"
        return spec

    def _sandbox_workdir(self, cwd=None) -> Path:
        folder = self.workdir or cwd
        if not folder:
            raise ValueError("SandboxKernelManager needs a workdir (or a cwd to start in)")
        return Path(folder).resolve()

    async def _async_pre_start_kernel(self, **kw):
        check_sandbox()
        workdir = self._sandbox_workdir(kw.get("cwd"))
        workdir.mkdir(parents=True, exist_ok=True)
        self._active_workdir = workdir
        kw["cwd"] = str(workdir)
        if not self.connection_file or Path(self.connection_file).parent != workdir:
            tag = uuid.uuid4().hex[:8]
            self.connection_file = str(workdir / f".kernel-{tag}.json")
            self.ip = str(workdir / f".kernel-{tag}")
        if len(f"{self.ip}-99999") > _UNIX_SOCKET_PATH_MAX:
            raise ValueError(f"work folder path too long for IPC sockets ({self.ip}): "
                             f"use a folder with a path under {_UNIX_SOCKET_PATH_MAX - 25} "
                             "characters")
        return await super()._async_pre_start_kernel(**kw)

    pre_start_kernel = run_sync(_async_pre_start_kernel)

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        argv = super().format_kernel_cmd(extra_arguments)
        return sandbox_command(argv, self._active_workdir, self.limits,
                               extra_ro=[Path(p) for p in self.extra_ro])
