#!/usr/bin/env bash
# The one Python environment of a class machine: the hub, every student's server, the
# formgrader service and the instructor's `dlcourse class` commands all run from it.
#
#   sudo PYTHON=/opt/python3.11/bin/python3 deploy/make-hub-venv.sh /opt/dlcourse-hub
#
# Every Unix user must be able to execute its interpreter: a pyenv or conda Python under
# /root or a home folder will not do. The pinned set needs Python >= 3.11.5 (soupsieve
# 4.1.3), newer than Debian 12's /usr/bin/python3 (3.11.2). dlcourse goes in as a wheel built
# from this checkout, so the venv holds the package only, never solutions/. Safe to re-run:
# only what changed is installed, and the course package is rebuilt every time.
set -euo pipefail
venv=${1:?usage: deploy/make-hub-venv.sh VENV_DIR}
repo="$(cd "$(dirname "$0")/.." && pwd)"
python=${PYTHON:-/usr/bin/python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11, 5))'; then
    echo "make-hub-venv.sh: $python is Python $("$python" -V 2>&1 | cut -d' ' -f2); the" \
         "pinned set needs >= 3.11.5: set PYTHON to a newer one" >&2
    exit 2
fi
umask 022   # students' servers read and execute it
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q -c "$repo/constraints.txt" "$repo[hub]"
"$venv/bin/python" -m pip install -q --no-deps --force-reinstall "$repo"
