"""The ``dlcourse`` command: open the course, release notebooks, self-check, grade."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys


def _cmd_lab(args) -> int:
    from .grading.course import find_course_root

    course = find_course_root() / "course"
    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={course}"]
    # JupyterLab refuses to start as root (this container); Binder runs as a normal user.
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    if args.no_browser:
        cmd.append("--no-browser")
    cmd.extend(args.jupyter_args)
    print("Starting JupyterLab on", course, flush=True)
    return subprocess.call(cmd)


def _cmd_release(args) -> int:
    from .grading.release import release

    for folder in release(args.chapters or None):
        print(f"released {folder}")
    return 0


def _cmd_check(args) -> int:
    from .grading.selfcheck import format_report, run_check

    try:
        report = run_check(args.notebook, timeout=args.timeout)
    except (FileNotFoundError, ValueError) as exc:
        print(f"dlcourse check: {exc}", file=sys.stderr)
        return 2
    print(format_report(report))
    return 0 if report.all_passed else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dlcourse", description="The dlcourse deep-learning course: open it, check your "
        "answers, and (instructors) release and grade notebooks.")
    sub = parser.add_subparsers(dest="command", required=True)

    lab = sub.add_parser("lab", help="open the student notebooks (course/) in JupyterLab")
    lab.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    lab.add_argument("jupyter_args", nargs=argparse.REMAINDER,
                     help="further options passed to jupyter lab (e.g. --port 8890)")
    lab.set_defaults(func=_cmd_lab)

    check = sub.add_parser("check", help="run a notebook in a fresh kernel and report, per "
                           "exercise, which visible tests pass")
    check.add_argument("notebook", help="path to the .ipynb to check")
    check.add_argument("--timeout", type=int, default=60, help="seconds allowed per cell")
    check.set_defaults(func=_cmd_check)

    rel = sub.add_parser("release", help="(instructors, contributors) regenerate course/ "
                         "from solutions/ with nbgrader")
    rel.add_argument("chapters", nargs="*", help="chapter folders, e.g. 01_neuron "
                     "(default: all)")
    rel.set_defaults(func=_cmd_release)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
