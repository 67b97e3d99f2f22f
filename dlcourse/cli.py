"""The ``dlcourse`` command: open the course, release notebooks, self-check, grade."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys


def _cmd_lab(args) -> int:
    from .grading.course import find_course_root

    course = find_course_root() / "course"
    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={course}",
           "--ServerApp.jpserver_extensions=dlcourse.grading.jupyter_extension=True"]
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

    try:
        folders = release(args.chapters or None)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"dlcourse release: {exc}", file=sys.stderr)
        return 2
    for folder in folders:
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


def _cmd_grade(args) -> int:
    from tqdm.auto import tqdm

    from .grading.autograde import format_summary, grade_class
    from .grading.sandbox import SandboxUnavailable

    roster = None
    if args.roster:
        roster = [line.strip() for line in open(args.roster, encoding="utf-8") if line.strip()]
    bar = tqdm(desc=f"grading {args.chapter}", unit="student")
    try:
        report = grade_class(args.chapter, args.submissions, args.out, timeout=args.timeout,
                             jobs=args.jobs, roster=roster, keep_work=args.keep_work,
                             progress=lambda student: bar.update(1),
                             sandbox=not args.no_sandbox, memory=args.memory)
    except SandboxUnavailable as exc:
        bar.close()
        print(f"dlcourse grade: the sandbox for student code cannot start: {exc}\n"
              "Nothing was graded. Fix the sandbox, or pass --no-sandbox to grade without it "
              "(student code then runs with your rights).", file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError) as exc:
        bar.close()
        print(f"dlcourse grade: {exc}", file=sys.stderr)
        return 2
    bar.close()
    print(format_summary(report))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dlcourse", description="The dlcourse deep-learning course: open it, check your "
        "answers, and (instructors) release and grade notebooks.")
    sub = parser.add_subparsers(dest="command", required=True)

    lab = sub.add_parser("lab", help="open the student notebooks (course/) in JupyterLab; "
                         "other options (e.g. --port 8890) go to jupyter lab")
    lab.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    lab.set_defaults(func=_cmd_lab)

    check = sub.add_parser("check", help="run a notebook in a fresh kernel and report, per "
                           "exercise, which visible tests pass")
    check.add_argument("notebook", help="path to the .ipynb to check")
    check.add_argument("--timeout", type=int, default=60, help="seconds allowed per cell")
    check.set_defaults(func=_cmd_check)

    grade = sub.add_parser("grade", help="(instructors) autograde a folder of submissions: "
                           "grades.csv and one feedback page per student")
    grade.add_argument("chapter", help="chapter folder name, e.g. 01_neuron")
    grade.add_argument("submissions", help="folder with one subfolder per student, or "
                       "<student>_*.ipynb files, or .zip archives of either")
    grade.add_argument("--out", help="output folder (default: grading-output/<chapter> "
                       "beside the submissions folder)")
    grade.add_argument("--timeout", type=int, default=None, help="seconds allowed per cell "
                       "(nbgrader's Execute.timeout); default: the chapter's own setting "
                       "(notebook metadata dlcourse.timeout) or 60")
    grade.add_argument("--jobs", type=int, default=2, help="students graded at once")
    grade.add_argument("--roster", help="text file with one student id per line; students "
                       "on it with no submission are listed as missing")
    grade.add_argument("--memory", default=None, help="memory limit of each student's "
                       "sandboxed kernel, e.g. 4G (default: the sandbox's, see "
                       "dlcourse.grading.sandbox.Limits)")
    grade.add_argument("--no-sandbox", action="store_true", help="grade without the "
                       "bubblewrap sandbox (tests still run apart from student code; a "
                       "warning goes into the summary and every CSV row)")
    grade.add_argument("--keep-work", action="store_true", help="keep the temporary nbgrader "
                       "folders (for debugging)")
    grade.set_defaults(func=_cmd_grade)

    rel = sub.add_parser("release", help="(instructors, contributors) regenerate course/ "
                         "from solutions/ with nbgrader")
    rel.add_argument("chapters", nargs="*", help="chapter folders, e.g. 01_neuron "
                     "(default: all)")
    rel.set_defaults(func=_cmd_release)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "lab":
        args.jupyter_args = extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
