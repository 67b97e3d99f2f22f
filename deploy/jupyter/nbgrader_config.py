"""nbgrader settings every account on the class machine shares: students, the grader.

JupyterHub puts this folder on JUPYTER_CONFIG_PATH for every server it starts
(deploy/jupyterhub_config.py). For commands run outside the hub (ssh as the grader), link it
as /etc/jupyter/nbgrader_config.py, or export JUPYTER_CONFIG_PATH=<this folder>.
The course's own settings (course_id, solutions/ as the source, the sandboxed two-process
autograding) stay in the course folder's nbgrader_config.py, the repository's.
"""

import os

c = get_config()  # noqa: F821 — injected by traitlets when nbgrader loads this file

# The filesystem exchange: <root>/<course_id>/{outbound,inbound,feedback}. nbgrader needs
# the root itself world-writable (mode 1777); the course folder in it belongs to the grader.
c.Exchange.root = os.environ.get("DLCOURSE_EXCHANGE", "/srv/nbgrader/exchange")
c.Exchange.path_includes_course = True

# nbgrader's own submit leaves a submission world-readable (found only by its random name);
# this one closes its folder to all but the grader's group (dlcourse/grading/classroom.py).
c.ExchangeFactory.submit = "dlcourse.grading.classroom.PrivateSubmit"

# Inside the hub (a server has a hub API token), ask JupyterHub which courses a user is in:
# groups nbgrader-<course> (students) and formgrade-<course> (graders). Outside it there is
# no hub to ask, so the instructor's own commands keep nbgrader's default.
if os.environ.get("JUPYTERHUB_API_TOKEN"):
    from nbgrader.auth import JupyterHubAuthPlugin

    c.Authenticator.plugin_class = JupyterHubAuthPlugin
