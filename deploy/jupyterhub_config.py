"""JupyterHub for one dlcourse class on one machine (deploy/README.md walks through it).

    sudo /opt/dlcourse-hub/bin/jupyterhub -f /opt/dlcourse/deploy/jupyterhub_config.py

The hub runs as root, so that every student's server runs as that student's own Unix user
(LocalProcessSpawner, never one shared UID): the exchange's file permissions and the users'
home folders are what keep students out of each other's work.

Who is who (JupyterHub groups, the names nbgrader looks for):

- ``nbgrader-<course>``: the students, one Unix user each, listed in $DLCOURSE_STUDENTS;
- ``formgrade-<course>``: the instructors and graders, listed in $DLCOURSE_INSTRUCTORS. They
  reach the formgrader, a hub-managed service named ``<course>`` at ``/services/<course>/``,
  which runs as the course's grader account ($DLCOURSE_GRADER) in the course folder.

Every setting below can be changed through the environment (the systemd unit reads
/etc/dlcourse/hub.env; see deploy/hub.env), so this file stays as shipped.
"""

import os
import pwd
import sys
from pathlib import Path

c = get_config()  # noqa: F821 — injected by traitlets when JupyterHub loads this file

DEPLOY = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent           # the hub's venv, which every user can execute


def setting(name: str, default: str) -> str:
    return os.environ.get(f"DLCOURSE_{name}") or default


def names(path: str) -> set[str]:
    """One user name a line; blank lines and ``#`` comments ignored; no file: nobody."""
    try:
        lines = Path(path).read_text().splitlines()
    except FileNotFoundError:
        return set()
    return {line.split("#")[0].strip() for line in lines} - {""}


COURSE = setting("COURSE_ID", "dlcourse")       # nbgrader's course_id, the service's name
GRADER = setting("GRADER", f"grader-{COURSE}")  # Unix user owning the course folder
COURSE_DIR = setting("COURSE_DIR", "")          # default: ~GRADER/<course>, looked up at start
EXCHANGE = setting("EXCHANGE", "/srv/nbgrader/exchange")
STATE = Path(setting("STATE_DIR", "/srv/dlcourse/hub"))   # hub database, secrets: root only
STUDENTS = names(setting("STUDENTS", "/srv/dlcourse/students.txt"))
INSTRUCTORS = names(setting("INSTRUCTORS", "/srv/dlcourse/instructors.txt"))
SERVICE_PORT = int(setting("SERVICE_PORT", "9999"))

if not COURSE_DIR:
    COURSE_DIR = str(Path(pwd.getpwnam(GRADER).pw_dir) / COURSE)

# --- network -------------------------------------------------------------------------------
# The public address is the proxy's (configurable-http-proxy, from npm). Put TLS in front
# (a reverse proxy) or give the hub the certificate: DLCOURSE_SSL_CERT / DLCOURSE_SSL_KEY.
scheme = "https" if os.environ.get("DLCOURSE_SSL_CERT") else "http"
c.JupyterHub.bind_url = (f"{scheme}://{setting('HUB_IP', '127.0.0.1')}:"
                         f"{setting('HUB_PORT', '8000')}")
if scheme == "https":
    c.JupyterHub.ssl_cert = os.environ["DLCOURSE_SSL_CERT"]
    c.JupyterHub.ssl_key = os.environ["DLCOURSE_SSL_KEY"]
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(setting("HUB_API_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{setting('PROXY_API_PORT', '8001')}"
c.ConfigurableHTTPProxy.command = [setting("PROXY", "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = str(STATE / "jupyterhub-proxy.pid")
# Per-user subdomains make the formgrader's iframe safe to allow (deploy/README.md,
# "The formgrader"): DLCOURSE_SUBDOMAIN_HOST=https://hub.example.org with a wildcard
# certificate and DNS entry.
if os.environ.get("DLCOURSE_SUBDOMAIN_HOST"):
    c.JupyterHub.subdomain_host = os.environ["DLCOURSE_SUBDOMAIN_HOST"]

# --- state ---------------------------------------------------------------------------------
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.cleanup_servers = True      # stopping the hub stops every user's server
c.JupyterHub.cleanup_proxy = True

# --- who may log in ------------------------------------------------------------------------
# PAM: the machine's own Unix accounts and passwords (or whatever PAM is wired to, e.g.
# the university's LDAP/Kerberos through sssd). For single sign-on instead, see
# deploy/README.md ("Logging in"): oauthenticator's LocalGenericOAuthenticator keeps the
# one-Unix-user-per-student model. JupyterHub >= 5 lets nobody in unless allowed_users or
# allow_all says so (nbgrader's docs still say `whitelist`, removed in JupyterHub 1.2).
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.open_sessions = False
c.Authenticator.allowed_users = STUDENTS | INSTRUCTORS
c.Authenticator.allow_all = False
c.Authenticator.admin_users = set()      # instructors get a narrower role below

c.JupyterHub.load_groups = {
    f"nbgrader-{COURSE}": {"users": sorted(STUDENTS)},
    f"formgrade-{COURSE}": {"users": sorted(INSTRUCTORS)},
}
c.JupyterHub.load_roles = [
    {   # instructors: the formgrader, and the admin page to start or stop students' servers
        # (not access:servers: an instructor cannot open a student's server)
        "name": f"formgrade-{COURSE}",
        "groups": [f"formgrade-{COURSE}"],
        "scopes": [f"access:services!service={COURSE}", "list:services",
                   f"read:services!service={COURSE}", "admin-ui", "list:users",
                   "read:users", "admin:servers"],
    },
    {   # students: find the course's service (nbgrader's course list), nothing more
        "name": f"nbgrader-{COURSE}",
        "groups": [f"nbgrader-{COURSE}"],
        "scopes": ["list:services", f"read:services!service={COURSE}"],
    },
    {   # the formgrader: who is in which course (nbgrader.auth.JupyterHubAuthPlugin), and
        # adding students to the course's group ("Manage Students" in the formgrader)
        "name": f"{COURSE}-formgrader",
        "services": [COURSE],
        "scopes": ["list:users", "read:users:name", "read:users:groups", "list:groups",
                   f"read:groups!group=nbgrader-{COURSE}", f"groups!group=nbgrader-{COURSE}"],
    },
    {   # the idle culler stops servers nobody used for an hour (memory, see README)
        "name": "idle-culler",
        "services": ["idle-culler"],
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
    },
]

# --- the formgrader: a hub-managed service, running as the grader account ------------------
# It is JupyterLab as GRADER in the course folder, opening on the formgrader page itself:
# JupyterHub >= 4.1 forbids iframes (Content-Security-Policy: frame-ancestors 'none'),
# which leaves the formgrader's tab inside JupyterLab blank (nbgrader issues 1870, 1910,
# 1919); the page opened directly, /services/<course>/formgrader, works.
c.JupyterHub.services = [
    {
        "name": COURSE,
        "url": f"http://127.0.0.1:{SERVICE_PORT}",
        "command": [str(BIN / "jupyterhub-singleuser"), f"--ServerApp.root_dir={COURSE_DIR}"],
        "user": GRADER,
        "cwd": COURSE_DIR,
        "oauth_no_confirm": True,
        "environment": {
            "JUPYTERHUB_DEFAULT_URL": "/formgrader",
            "JUPYTER_CONFIG_PATH": f"{DEPLOY / 'jupyter' / 'grader'}:{DEPLOY / 'jupyter'}",
            "DLCOURSE_EXCHANGE": EXCHANGE,
            "PATH": f"{BIN}:/usr/bin:/bin",
        },
    },
    {
        "name": "idle-culler",
        "command": [sys.executable, "-m", "jupyterhub_idle_culler",
                    f"--timeout={setting('IDLE_TIMEOUT', '3600')}"],
    },
]

# --- every student's server: JupyterLab as the student's own Unix user ---------------------
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(BIN / "jupyterhub-singleuser")]
c.Spawner.notebook_dir = "~"
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.Spawner.environment = {
    # deploy/jupyter/student: no formgrader, no create-assignment; the Validate button polls
    # the kernel in short slices. deploy/jupyter: the exchange (nbgrader_config.py).
    "JUPYTER_CONFIG_PATH": f"{DEPLOY / 'jupyter' / 'student'}:{DEPLOY / 'jupyter'}",
    "DLCOURSE_EXCHANGE": EXCHANGE,
    "PATH": f"{BIN}:/usr/bin:/bin",
    # one BLAS thread per kernel: 500 kernels must not each spawn one thread per core
    "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
}
# The server's own token: report activity, and read its user's groups (nbgrader asks the
# hub which courses the student is in before a fetch or a submit).
c.Spawner.server_token_scopes = ["users:activity!user", "access:servers!server",
                                 "read:users:name!user", "read:users:groups!user"]


def open_on_latest_chapter(spawner) -> None:
    """JupyterLab opens on the newest chapter the student fetched, else on the file browser
    with nbgrader's Assignments list one menu away (Nbgrader > Assignments)."""
    home = Path(pwd.getpwnam(spawner.user.name).pw_dir)
    fetched = sorted(p for p in (home / COURSE).glob("[0-9][0-9]_*/*.ipynb")
                     if not p.name.startswith("."))
    spawner.default_url = (f"/lab/tree/{fetched[-1].relative_to(home).as_posix()}"
                           if fetched else "/lab")


c.Spawner.pre_spawn_hook = open_on_latest_chapter

# Larger machines: SystemdSpawner (jupyterhub-systemdspawner) gives each server a memory and
# CPU limit of its own; it needs systemd as PID 1 (deploy/README.md, "Capacity").
if setting("SPAWNER", "local") == "systemd":
    c.JupyterHub.spawner_class = "systemdspawner.SystemdSpawner"
    c.SystemdSpawner.mem_limit = setting("MEM_LIMIT", "2G")
    c.SystemdSpawner.cpu_limit = float(setting("CPU_LIMIT", "1.0"))
    c.SystemdSpawner.isolate_tmp = True
    c.SystemdSpawner.disable_user_sudo = True
