"""deploy/: a class on JupyterHub with nbgrader's exchange, proven end to end on this machine.

The end-to-end test runs what deploy/README.md describes, for real: Unix users made with
useradd, JupyterHub with configurable-http-proxy (npm) on 127.0.0.1, the formgrader as a
hub-managed service, each student's JupyterLab started through the hub's REST API and driven
through nbgrader's own server endpoints over HTTP, and the instructor's `dlcourse class`
commands run as the instructor's Unix user (grading in the bubblewrap sandbox). The expected
scores come from the notebooks' nbgrader metadata at test time, never from constants.

It needs root, useradd, configurable-http-proxy, bubblewrap and the system's Python (for the
hub's venv, which every user must be able to execute). Without one of them it skips, saying
which, except where DLCOURSE_REQUIRE_HUB=1 (CI, .ci/run): there a missing one is a failure.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import pwd
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import psutil
import pytest

import dlcourse
from dlcourse.grading import conventions

from ..nbtools import ROOT, fill_answers, graded_cells_by_exercise, read

DEPLOY = ROOT / "deploy"
CHAPTER = "01_neuron"
COURSE = "dlcourse"
PREFIX = "dlce2e"                      # every Unix user and group this test makes starts so
MARKER = "dlcourse hub test user, safe to delete"
DEADLINE = 600                         # seconds for the whole round trip, setup included


# --- files that need no hub -------------------------------------------------------------------

def _load_hub_config(env: dict[str, str]):
    from traitlets.config.loader import PyFileConfigLoader

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        return PyFileConfigLoader("jupyterhub_config.py", str(DEPLOY)).load_config()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_hub_config_defines_the_course_groups_roles_and_service(tmp_path):
    (tmp_path / "students.txt").write_text("alice\nbob  # late enrolment\n\n")
    (tmp_path / "instructors.txt").write_text("carol\n")
    c = _load_hub_config({"DLCOURSE_COURSE_DIR": str(tmp_path / "course"),
                          "DLCOURSE_STUDENTS": str(tmp_path / "students.txt"),
                          "DLCOURSE_INSTRUCTORS": str(tmp_path / "instructors.txt")})
    assert c.Authenticator.allowed_users == {"alice", "bob", "carol"}
    assert c.Authenticator.allow_all is False
    assert c.JupyterHub.load_groups == {"nbgrader-dlcourse": {"users": ["alice", "bob"]},
                                        "formgrade-dlcourse": {"users": ["carol"]}}
    service = next(s for s in c.JupyterHub.services if s["name"] == COURSE)
    assert service["user"] == "grader-dlcourse" and service["cwd"] == str(tmp_path / "course")
    roles = {r["name"]: r for r in c.JupyterHub.load_roles}
    assert "access:services!service=dlcourse" in roles["formgrade-dlcourse"]["scopes"]
    assert not any(s.startswith("access:servers") for r in roles.values() for s in r["scopes"])
    assert c.JupyterHub.spawner_class == "localprocess"


def test_config_files_parse_and_students_get_no_instructor_tools():
    import yaml

    student = json.loads((DEPLOY / "jupyter/student/jupyter_server_config.json").read_text())
    extensions = student["ServerApp"]["jpserver_extensions"]
    assert extensions["nbgrader.server_extensions.formgrader"] is False
    assert extensions["dlcourse.grading.jupyter_extension"] is True
    page = json.loads((DEPLOY / "jupyter/student/labconfig/page_config.json").read_text())
    assert page["disabledExtensions"]["@jupyter/nbgrader:formgrader"] is True
    json.loads((DEPLOY / "jupyter/grader/jupyter_server_config.json").read_text())
    jobs = list(yaml.safe_load_all((DEPLOY / "k8s-grade-job.yaml").read_text()))
    assert [d["kind"] for d in jobs] == ["Job", "NetworkPolicy"]
    values = yaml.safe_load((DEPLOY / "z2jh-values.yaml").read_text())
    for name, code in values["hub"]["extraConfig"].items():
        compile(code, f"z2jh-values.yaml:hub.extraConfig.{name}", "exec")
    for name, spec in values["singleuser"]["extraFiles"].items():
        if spec["mountPath"].endswith(".py"):
            compile(spec["stringData"], f"z2jh-values.yaml:{name}", "exec")


# --- the real thing ---------------------------------------------------------------------------

def _require(condition: bool, reason: str) -> None:
    if condition:
        return
    if os.environ.get("DLCOURSE_REQUIRE_HUB") == "1":
        pytest.fail(f"DLCOURSE_REQUIRE_HUB=1 but {reason}")
    pytest.skip(reason)


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _blocked_folders(paths) -> dict[Path, set[Path]]:
    """Folders other users cannot enter on the way to ``paths`` -> what must show in them.

    Here the venv's interpreter is pyenv's, under /root (mode 0700): no student could run it.
    A real class machine installs its Python where everyone can (deploy/README.md); the test
    instead shows the hub's processes a view of each such folder holding only what is needed:
    the first entry below the deepest folder nobody else may enter, at its own path.
    """
    blocked: dict[Path, set[Path]] = {}
    for path in paths:
        path = Path(os.path.realpath(path))
        closed = [p for p in reversed(path.parents) if not os.stat(p).st_mode & 0o001]
        if closed:
            top, deepest = closed[0], closed[-1]
            entry = deepest / path.relative_to(deepest).parts[0]
            blocked.setdefault(top, set()).add(entry.relative_to(top))
    return blocked


def _view_command(blocked: dict[Path, set[Path]], scratch: Path) -> list[str]:
    """``unshare`` into a private mount namespace where each blocked folder is a tmpfs that
    holds, read-only, only the entries needed; the host's folders are not touched."""
    lines = ["set -e"]
    for i, (top, entries) in enumerate(sorted(blocked.items())):
        keeps = {entry: scratch / f"view-{i}-{j}" for j, entry in enumerate(sorted(entries))}
        for entry, keep in keeps.items():
            keep.mkdir(parents=True)
            lines.append(f"mount --bind '{top / entry}' '{keep}'")
        lines.append(f"mount -t tmpfs -o mode=0755,size=1m dlcourse-view '{top}'")
        for entry, keep in keeps.items():
            lines += [f"mkdir -p '{top / entry}'", f"mount --bind '{keep}' '{top / entry}'",
                      f"mount -o remount,bind,ro '{top / entry}'", f"umount '{keep}'"]
    lines.append('exec "$@"')
    return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
            "\n".join(lines), "sh"]


class Users:
    """Unix users made with useradd, removed (with their groups) whatever happens."""

    def __init__(self, home_root: Path):
        self.home_root = home_root
        self.made: list[str] = []

    @staticmethod
    def remove_stale(name: str) -> None:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            return
        if entry.pw_gecos != MARKER:
            pytest.fail(f"a Unix user {name!r} exists and was not made by this test")
        _kill_processes_of(entry.pw_uid)
        subprocess.run(["userdel", "-r", name], capture_output=True)
        subprocess.run(["groupdel", name], capture_output=True)

    def add(self, name: str) -> pwd.struct_passwd:
        self.remove_stale(name)
        home = self.home_root / name
        subprocess.run(["useradd", "--create-home", "--home-dir", str(home), "--shell",
                        "/bin/bash", "--comment", MARKER, "--user-group", name],
                       check=True, capture_output=True)
        self.made.append(name)
        home.chmod(0o700)
        return pwd.getpwnam(name)

    def remove_all(self) -> list[str]:
        problems = []
        for name in self.made:
            uid = pwd.getpwnam(name).pw_uid
            if left := _kill_processes_of(uid):
                problems.append(f"{name} still had processes {left}")
            subprocess.run(["userdel", "-r", name], capture_output=True)
            subprocess.run(["groupdel", name], capture_output=True)
            for command in (["getent", "passwd", name], ["getent", "group", name]):
                if subprocess.run(command, capture_output=True).returncode == 0:
                    problems.append(f"{' '.join(command)} still finds it")
        return problems


def _kill_processes_of(uid: int) -> list[int]:
    """Kill, by PID, every process of ``uid`` (a stale test user's); returns their PIDs."""
    found = [p for p in psutil.process_iter(["uids"]) if p.info["uids"]
             and p.info["uids"].real == uid]
    for p in found:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(found, timeout=10)
    return [p.pid for p in found]


def _as_user(user: pwd.struct_passwd, argv: list[str], *, env: dict, cwd: Path | None = None,
             timeout: float = 300, namespace_of: int | None = None) -> subprocess.CompletedProcess:
    """Run ``argv`` as ``user`` (no supplementary groups), in the hub's mount namespace."""
    cwd = cwd or Path(user.pw_dir)
    if namespace_of:       # nsenter starts in "/" unless told (--wd) where
        argv = ["nsenter", f"--mount=/proc/{namespace_of}/ns/mnt", f"--wd={cwd}",
                f"--setuid={user.pw_uid}", f"--setgid={user.pw_gid}", "--", *argv]
        kw = {}
    else:
        kw = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    return subprocess.run(argv, env={**env, "HOME": user.pw_dir, "USER": user.pw_name},
                          cwd=cwd, capture_output=True, text=True, timeout=timeout, **kw)


class Hub:
    """HTTP to the hub (through the proxy, as a browser would), with one token per caller."""

    def __init__(self, url: str, admin_token: str):
        import requests

        self.url = url
        self.session = requests.Session()
        self.session.trust_env = False          # loopback only: no proxy from the environment
        self.tokens = {"admin": admin_token}

    def call(self, who: str, method: str, path: str, **kw):
        headers = {"Authorization": f"token {self.tokens[who]}"}
        return self.session.request(method, self.url + path, headers=headers,
                                    timeout=kw.pop("timeout", 120), **kw)

    def api(self, method: str, path: str, **kw):
        return self.call("admin", method, f"/hub/api{path}", **kw)

    def wait(self, what: str, ok, deadline: float, step: float = 0.5):
        while True:
            try:
                if value := ok():
                    return value
            except Exception as exc:  # noqa: BLE001 — a server still starting: try again
                last = exc
            else:
                last = None
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what} (last error: {last})")
            time.sleep(step)

    def server_ready(self, name: str) -> bool:
        model = self.api("GET", f"/users/{name}").json()
        return bool(model.get("servers", {}).get("", {}).get("ready"))

    def start_server(self, name: str, deadline: float) -> None:
        r = self.api("POST", f"/users/{name}/server")
        assert r.status_code in (201, 202), (r.status_code, r.text)
        self.wait(f"{name}'s server", lambda: self.server_ready(name), deadline)

    def stop_server(self, name: str, deadline: float) -> None:
        r = self.api("DELETE", f"/users/{name}/server")
        assert r.status_code in (202, 204), (r.status_code, r.text)
        self.wait(f"{name}'s server to stop",
                  lambda: "" not in self.api("GET", f"/users/{name}").json()["servers"],
                  deadline)


def _processes(root_pid: int) -> dict[int, float]:
    """{pid: start time} of a process and all its descendants (PID reuse-proof)."""
    try:
        top = psutil.Process(root_pid)
        found = [top, *top.children(recursive=True)]
    except psutil.NoSuchProcess:
        return {}
    alive = {}
    for p in found:
        try:
            alive[p.pid] = p.create_time()
        except psutil.NoSuchProcess:
            pass
    return alive


def _still_running(seen: dict[int, float]) -> list[int]:
    left = []
    for pid, started in seen.items():
        try:
            p = psutil.Process(pid)
            if p.create_time() == started and p.status() != psutil.STATUS_ZOMBIE:
                left.append(pid)
        except psutil.NoSuchProcess:
            pass
    return left


def _server_pid(hub: Hub, name: str) -> int:
    """The PID of a user's running server (LocalProcessSpawner keeps it in its state)."""
    for p in psutil.process_iter(["uids", "cmdline"]):
        if p.info["uids"] and p.info["uids"].real == pwd.getpwnam(name).pw_uid \
                and any("jupyterhub-singleuser" in a for a in p.info["cmdline"] or []):
            return p.pid
    raise AssertionError(f"no server process of {name}")


class Sampler:
    """Peak memory (PSS: shared pages split between the processes sharing them) of each
    student's processes, sampled twice a second: the capacity figures of deploy/README.md."""

    def __init__(self, uids: dict[str, int]):
        import threading

        self.uids = uids
        self.peak = dict.fromkeys(uids, 0)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(0.5):
            totals = dict.fromkeys(self.uids, 0)
            for p in psutil.process_iter(["uids"]):
                for who, uid in self.uids.items():
                    if p.info["uids"] and p.info["uids"].real == uid:
                        try:
                            totals[who] += p.memory_full_info().pss
                        except (psutil.NoSuchProcess, psutil.AccessDenied):
                            pass
            for who, total in totals.items():
                self.peak[who] = max(self.peak[who], total)

    def close(self) -> dict[str, float]:
        self.stop.set()
        self.thread.join()
        return {who: round(v / 2**20) for who, v in self.peak.items()}


def _cpu_seconds(pid: int) -> float:
    """CPU time of a process, its children so far and the children it has reaped."""
    total = 0.0
    for p in [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]:
        t = p.cpu_times()
        total += t.user + t.system + (t.children_user + t.children_system
                                      if p.pid == pid else 0.0)
    return total


def _expected(released) -> tuple[dict[str, float], str, dict[str, float]]:
    """Points per autograded test cell, the exercise student2 leaves blank, and each
    student's total: student1 all right, student2 all right but that blank exercise."""
    groups = graded_cells_by_exercise(released)
    blank = next(iter(groups))
    points = {conventions.grade_id(c): conventions.points(c) for cells in groups.values()
              for c in cells}
    lost = sum(conventions.points(c) for c in groups[blank])
    total = sum(points.values())
    return points, blank, {"student1": total, "student2": total - lost}


@pytest.mark.hub
def test_a_class_round_trip_on_a_real_hub():
    start = time.monotonic()
    deadline = start + DEADLINE
    times: dict[str, float] = {}
    capacity: dict[str, object] = {}

    cpu_start = resource.getrusage(resource.RUSAGE_CHILDREN)

    def lap(name: str) -> None:
        times[name] = round(time.monotonic() - start - sum(times.values()), 1)

    _require(hasattr(os, "geteuid") and os.geteuid() == 0,
             "the hub test creates Unix users with useradd and runs the hub as root: run it "
             "as root (CI does)")
    for tool in ("useradd", "userdel", "groupdel", "unshare", "nsenter",
                 "configurable-http-proxy", "bwrap"):
        _require(shutil.which(tool) is not None,
                 f"{tool} not found (apt-get install bubblewrap; "
                 "npm install -g configurable-http-proxy@5.2.0)")
    _require(importlib.util.find_spec("jupyterhub") is not None,
             "jupyterhub is not installed in this venv: pip install -c constraints.txt "
             "-e '.[test]'")
    bindir = Path(sys.executable).parent        # the hub runs from this very venv
    blocked = _blocked_folders([sys.executable, sys.prefix,
                                Path(dlcourse.__file__).parent])

    base = Path(tempfile.mkdtemp(prefix="dlchub-", dir="/tmp"))
    base.chmod(0o755)
    users = Users(base / "home")
    (base / "home").mkdir(mode=0o755)
    hub_proc = log = pool = None
    hub_memory = None
    hub_log = ""
    seen: dict[int, float] = {}
    problems: list[str] = []
    try:
        instructor = users.add(f"{PREFIX}-instructor")
        students = {key: users.add(f"{PREFIX}-{key}") for key in ("student1", "student2")}

        # The machine's side, as deploy/README.md sets it up: deploy/ readable by everyone,
        # the exchange (1777) with the course's folder owned by the grader, the course folder
        # a private copy of the repository in the grader's home, rosters, hub state (root).
        shutil.copytree(DEPLOY, base / "deploy")
        exchange = base / "exchange"
        exchange.mkdir()
        exchange.chmod(0o1777)
        (exchange / COURSE).mkdir()
        os.chown(exchange / COURSE, instructor.pw_uid, instructor.pw_gid)
        course = Path(instructor.pw_dir) / COURSE
        (course / "solutions").mkdir(parents=True)
        shutil.copy(ROOT / "nbgrader_config.py", course)
        shutil.copytree(ROOT / "solutions" / CHAPTER, course / "solutions" / CHAPTER)
        subprocess.run(["chown", "-R", f"{instructor.pw_uid}:{instructor.pw_gid}", str(course)],
                       check=True)
        (base / "students.txt").write_text("\n".join(s.pw_name for s in students.values()))
        (base / "instructors.txt").write_text(instructor.pw_name + "\n")
        state = base / "hub"
        state.mkdir(mode=0o700)
        hub_port, api_port, proxy_port, service_port = _free_ports(4)
        admin_token = os.urandom(24).hex()
        (state / "test_config.py").write_text(f"""
c = get_config()  # noqa
load_subconfig({str(base / 'deploy' / 'jupyterhub_config.py')!r})
# The test authenticator: nobody logs in with a password; the test acts through tokens.
c.JupyterHub.authenticator_class = "dummy"
c.JupyterHub.services.append({{"name": "e2e-admin", "api_token": {admin_token!r}}})
c.JupyterHub.load_roles.append({{"name": "e2e-admin", "services": ["e2e-admin"],
    "scopes": ["admin:users", "admin:servers", "tokens", "read:hub", "admin:groups"]}})
""")
        hub_env = {
            "PATH": f"{bindir}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
            "HOME": str(state), "DLCOURSE_GRADER": instructor.pw_name,
            "DLCOURSE_COURSE_DIR": str(course), "DLCOURSE_EXCHANGE": str(exchange),
            "DLCOURSE_STATE_DIR": str(state),
            "DLCOURSE_STUDENTS": str(base / "students.txt"),
            "DLCOURSE_INSTRUCTORS": str(base / "instructors.txt"),
            "DLCOURSE_HUB_PORT": str(hub_port), "DLCOURSE_HUB_API_PORT": str(api_port),
            "DLCOURSE_PROXY_API_PORT": str(proxy_port),
            "DLCOURSE_SERVICE_PORT": str(service_port),
            "DLCOURSE_PROXY": shutil.which("configurable-http-proxy"),
        }
        user_env = {"PATH": f"{bindir}:/usr/bin:/bin", "LANG": "C.UTF-8",
                    "JUPYTER_CONFIG_PATH": str(base / "deploy" / "jupyter"),
                    "DLCOURSE_EXCHANGE": str(exchange), "OPENBLAS_NUM_THREADS": "1"}
        lap("users and folders")

        log = open(state / "hub.log", "w")  # noqa: SIM115 — closed in finally
        view = _view_command(blocked, state) if blocked else []
        hub_proc = subprocess.Popen([*view, str(bindir / "jupyterhub"), "-f",
                                     str(state / "test_config.py")], cwd=state, env=hub_env,
                                    stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        namespace = hub_proc.pid if blocked else None
        hub = Hub(f"http://127.0.0.1:{hub_port}", admin_token)
        hub.wait("the hub's mount namespace", lambda: "jupyterhub" in " ".join(
            psutil.Process(hub_proc.pid).cmdline()[:2]), deadline, step=0.05)

        def cli(*args: str) -> subprocess.CompletedProcess:
            done = _as_user(instructor, [str(bindir / "dlcourse"), "class", *args],
                            env=user_env, cwd=course, namespace_of=namespace,
                            timeout=max(10, deadline - time.monotonic()))
            assert done.returncode == 0, f"dlcourse class {args}:\n{done.stdout}{done.stderr}"
            return done

        pool = ThreadPoolExecutor(4)
        releasing = pool.submit(cli, "release", CHAPTER)     # while the hub starts
        hub.wait("the hub", lambda: hub.session.get(hub.url + "/hub/api/",
                                                     timeout=5).ok, deadline)
        for who, user in [("instructor", instructor), *students.items()]:
            r = hub.api("POST", f"/users/{user.pw_name}/tokens",
                        json={"note": "e2e", "expires_in": 900})
            assert r.status_code == 201, (r.status_code, r.text)
            hub.tokens[who] = r.json()["token"]
        starting = [pool.submit(hub.start_server, s.pw_name, deadline)
                    for s in students.values()]
        hub.wait("the formgrader service", lambda: hub.call(
            "instructor", "GET", f"/services/{COURSE}/api/status", timeout=10).ok, deadline)
        releasing.result()
        for f in starting:
            f.result()
        seen.update(_processes(hub_proc.pid))
        lap("hub, release, formgrader and two servers up")

        sampler = Sampler({w: u.pw_uid for w, u in students.items()})
        time.sleep(1.2)
        capacity["idle server MiB (PSS)"] = {w: round(v / 2**20)
                                             for w, v in sampler.peak.items()}
        capacity["server start CPU s"] = {
            w: round(_cpu_seconds(_server_pid(hub, u.pw_name)), 1)
            for w, u in students.items()}

        # Each student: fetch, answer, validate, submit, through nbgrader's endpoints.
        path = f"{COURSE}/{CHAPTER}/{CHAPTER}.ipynb"
        form = {"course_id": COURSE, "assignment_id": CHAPTER}

        def endpoint(who, action, data=None, method="POST"):
            name = students[who].pw_name
            r = hub.call(who, method, f"/user/{name}/{action}", data=data)
            assert r.ok, (who, action, r.status_code, r.text[:500])
            return r

        def contents(who, rel, method="GET", **kw):
            name = students[who].pw_name
            return hub.call(who, method, f"/user/{name}/api/contents/{rel}", **kw)

        released = None
        for who in students:
            listing = endpoint(who, "assignments/fetch", form).json()
            assert listing["success"], listing
            assert [a["status"] for a in listing["value"]
                    if a["assignment_id"] == CHAPTER] == ["fetched"], listing
            got = contents(who, path)
            assert got.ok, got.text[:300]
            released = nbformat.from_dict(got.json()["content"])
        points, blank, totals = _expected(released)
        manual = sum(conventions.points(c) for c in released.cells
                     if conventions.is_manually_graded(c))
        model = read(ROOT / "solutions" / CHAPTER / f"{CHAPTER}.ipynb")
        answers = {"student1": fill_answers(released, model),
                   "student2": fill_answers(released, model,
                                            leave_blank={conventions.answer_id(blank)})}
        for who, nb in answers.items():
            put = contents(who, path, "PUT", json={"type": "notebook", "format": "json",
                                                   "content": nb})
            assert put.ok, put.text[:300]
        with ThreadPoolExecutor(2) as validators:   # nbgrader's Validate, both at once
            checks = dict(zip(students, validators.map(
                lambda who: endpoint(who, "assignments/validate", {"path": path}).json(),
                students), strict=True))
        assert checks["student1"]["success"] and "failed" not in checks["student1"]["value"], \
            checks["student1"]
        assert "failed" in checks["student2"]["value"], checks["student2"]
        for who in students:
            listing = endpoint(who, "assignments/submit", form).json()
            assert listing["success"], listing
        capacity["active student MiB (PSS, server + kernel, peak)"] = sampler.close()
        capacity["CPU s per student (start, fetch, validate, submit)"] = {
            w: round(_cpu_seconds(_server_pid(hub, u.pw_name)), 1)
            for w, u in students.items()}
        lap("fetch, answer, validate, submit")

        # What student2 can reach of student1's work and of the instructor's course.
        inbound = exchange / COURSE / "inbound"
        submission = next(inbound.glob(f"{students['student1'].pw_name}+{CHAPTER}+*"))
        probe = _as_user(students["student2"], [sys.executable, "-c", PROBE, json.dumps({
            "list inbound": str(inbound),
            "read student1's submission": str(submission / f"{CHAPTER}.ipynb"),
            "list student1's submission": str(submission),
            "list student1's home": students["student1"].pw_dir,
            "read the solutions": str(course / "solutions" / CHAPTER / f"{CHAPTER}.ipynb"),
            "read the gradebook": str(course / "gradebook.db"),
        })], env=user_env, namespace_of=namespace)
        denied = json.loads(probe.stdout)
        assert all(v == "PermissionError" for v in denied.values()), denied
        r = hub.call("student2", "GET", f"/user/{students['student1'].pw_name}/api/contents")
        assert r.status_code == 403, r.status_code
        for who in students:
            for page in ("formgrader", "formgrader/api/assignments", "lab"):
                r = hub.call(who, "GET", f"/services/{COURSE}/{page}", allow_redirects=False)
                assert r.status_code == 403, (who, page, r.status_code)
        page = hub.call("instructor", "GET", f"/services/{COURSE}/formgrader")
        assert page.status_code == 200 and "formgrader" in page.text.lower()
        # the reason the formgrader's tab in JupyterLab is blank (deploy/README.md)
        assert "frame-ancestors 'none'" in page.headers.get("Content-Security-Policy", "")
        lab = hub.call("student1", "GET", f"/user/{students['student1'].pw_name}/lab")
        assert "@jupyter/nbgrader:formgrader" in lab.text   # in disabledExtensions
        own = hub.call("student1", "GET", f"/user/{students['student1'].pw_name}/formgrader")
        assert own.status_code == 404, own.status_code   # no formgrader in students' servers
        lap("isolation checks")

        cli("collect", CHAPTER)
        lap("collect")

        def reopen(name: str) -> str:
            """Next login opens JupyterLab on the chapter the student fetched."""
            hub.stop_server(name, deadline)
            hub.start_server(name, deadline)
            r = hub.call("student1", "GET", f"/user/{name}/", allow_redirects=False)
            return urlsplit(r.headers.get("Location", "")).path

        name = students["student1"].pw_name
        reopened = pool.submit(reopen, name)                # while the instructor grades
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        graded = cli("grade", CHAPTER, "--jobs", "2")
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        capacity["grading CPU s per submission"] = round(
            (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / 2, 1)
        assert reopened.result() == f"/user/{name}/lab/tree/{path}"
        seen.update(_processes(hub_proc.pid))
        lap("grade (sandboxed) + a server restarted")

        cli("feedback", CHAPTER)
        export = course / "grades.csv"
        exporting = pool.submit(cli, "export", "--to", str(export))

        def fetch_feedback(who: str) -> str:
            endpoint(who, "assignments/fetch_feedback", form)
            folder = contents(who, f"{COURSE}/{CHAPTER}/feedback").json()["content"]
            assert len(folder) == 1, folder
            return contents(who, f"{folder[0]['path']}/{CHAPTER}.html").json()["content"]

        for who, html in zip(students, pool.map(fetch_feedback, students), strict=True):
            assert conventions.HIDDEN_BEGIN not in html, who   # its own score, no hidden test
            assert f"(Score: {totals[who] + 0.0} / {sum(points.values()) + manual + 0.0})" \
                in html, (who, totals[who])
        exporting.result()
        lap("feedback + export")

        # The scores, exactly: gradebook (per test cell), nbgrader's CSV, dlcourse's CSV.
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE) as gb:
            for who, user in students.items():
                nb = gb.find_submission_notebook(CHAPTER, CHAPTER, user.pw_name)
                scores = {g.name: g.score for g in nb.grades if g.name in points}
                blank_tests = {conventions.grade_id(c) for c in
                               graded_cells_by_exercise(released)[blank]}
                want = {gid: (0.0 if who == "student2" and gid in blank_tests else pts)
                        for gid, pts in points.items()}
                assert scores == want, (who, scores, want)
        rows = {row["student_id"]: row for row in csv.DictReader(export.open())}
        for who, user in students.items():
            row = rows[user.pw_name]
            assert row["assignment"] == CHAPTER
            assert float(row["score"]) == totals[who], (who, row)
            assert float(row["max_score"]) == sum(points.values()) + manual, row
        ours = list(csv.DictReader((course / "grading-output" / CHAPTER / "grades.csv").open()))
        total_column = next(k for k in ours[0] if k.startswith("total"))
        assert {r["student"]: float(r[total_column]) for r in ours} == {
            students[w].pw_name: t for w, t in totals.items()}, graded.stdout
        assert all(r["status"] == "graded" and "WITHOUT the sandbox" not in r["note"]
                   for r in ours), ours

        hub_memory = round(sum(p.memory_info().rss for p in [
            psutil.Process(hub_proc.pid),
            psutil.Process(int((state / "jupyterhub-proxy.pid").read_text()))]) / 2**20)
        for stopping in [pool.submit(hub.stop_server, u.pw_name, deadline)
                         for u in students.values()]:
            stopping.result()
    finally:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        if hub_proc is not None:
            seen.update(_processes(hub_proc.pid))
            proxy_pid = base / "hub" / "jupyterhub-proxy.pid"
            if proxy_pid.exists():
                seen.update(_processes(int(proxy_pid.read_text().strip())))
            if hub_proc.poll() is None:
                hub_proc.send_signal(signal.SIGTERM)
            try:
                hub_proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                problems.append("the hub did not stop within 60 s of SIGTERM")
            if left := _still_running(seen):
                problems.append(f"processes outlived the hub: {left}")
                for pid in left:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
        if log is not None:
            log.close()
            hub_log = (base / "hub" / "hub.log").read_text()[-6000:]
            print(f"--- hub log (end) ---\n{hub_log}")
        problems += users.remove_all()
        shutil.rmtree(base, ignore_errors=True)
        lap("stop and clean up")
        print(f"hub round trip: {json.dumps(times)}, {time.monotonic() - start:.0f} s in all")
    out = ROOT / "test-output"
    out.mkdir(exist_ok=True)
    capacity["hub + proxy MiB (RSS)"] = hub_memory
    cpu_end = resource.getrusage(resource.RUSAGE_CHILDREN)
    capacity["CPU s of the whole round trip (every process)"] = round(
        cpu_end.ru_utime + cpu_end.ru_stime - cpu_start.ru_utime - cpu_start.ru_stime)
    capacity["load average (1 min) at the end"] = os.getloadavg()[0]
    (out / "hub-e2e-times.json").write_text(json.dumps({"seconds": times,
                                                         "capacity": capacity}, indent=1))
    print(f"capacity: {json.dumps(capacity)}")
    assert not problems, f"{problems}\nhub log:\n{hub_log}"
    assert time.monotonic() - start < DEADLINE


# Runs as student2 with the system's Python: tries each path, reports the exception's name.
PROBE = """
import json, os, sys
out = {}
for what, path in json.loads(sys.argv[1]).items():
    try:
        (os.listdir if what.startswith("list") else lambda p: open(p).read())(path)
        out[what] = "allowed"
    except Exception as exc:
        out[what] = type(exc).__name__
print(json.dumps(out))
"""
