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


def _cmd_new_chapter(args) -> int:
    from .grading.course import find_course_root
    from .grading.scaffold import new_chapter

    try:
        written = new_chapter(args.chapter, find_course_root(), title=args.title)
    except (FileNotFoundError, FileExistsError, ValueError, RuntimeError) as exc:
        print(f"dlcourse new-chapter: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    print("Next: CONTRIBUTING.md's checklist for a new chapter.")
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


def _cmd_book(args) -> int:
    from .book.cli import main as book_main

    return book_main(args.book_args)


def _cmd_class(args) -> int:
    from .grading import classroom
    from .grading.sandbox import SandboxUnavailable

    try:
        if args.verb == "release":
            print(classroom.release(args.chapter, args.course))
            print(f"released {args.chapter} to the exchange")
        elif args.verb == "collect":
            students = classroom.collect(args.chapter, args.course)
            print(f"collected {args.chapter}: {len(students)} student(s) with a submission")
        elif args.verb == "grade":
            from .grading.autograde import format_summary

            report = classroom.grade(args.chapter, args.course, jobs=args.jobs,
                                     timeout=args.timeout, memory=args.memory,
                                     sandbox=not args.no_sandbox)
            print(format_summary(report))
            print(f"scores recorded in the gradebook; next: dlcourse class feedback "
                  f"{args.chapter}")
        elif args.verb == "feedback":
            students = classroom.release_feedback(args.chapter, args.course)
            print(f"released feedback on {args.chapter} to {len(students)} student(s)")
        elif args.verb == "export":
            print(f"grades: {classroom.export(args.to, args.course)}")
    except SandboxUnavailable as exc:
        print(f"dlcourse class grade: the sandbox for student code cannot start: {exc}\n"
              "Nothing was graded.", file=sys.stderr)
        return 2
    except (classroom.ClassError, FileNotFoundError, ValueError) as exc:
        print(f"dlcourse class {args.verb}: {exc}", file=sys.stderr)
        return 2
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

    new = sub.add_parser("new-chapter", help="(contributors) start a chapter that already "
                         "passes the tests: notebook, released copy, chapter test file, "
                         "README and glossary rows")
    new.add_argument("chapter", help="folder name NN_topic, e.g. 12_diffusion")
    new.add_argument("--title", help="the chapter's title (default: from the name)")
    new.set_defaults(func=_cmd_new_chapter)

    # Every option (--serve, --port, --help...) goes to dlcourse.book.cli, which parses them.
    book = sub.add_parser("book", add_help=False, help="build the course as a static website "
                          "(build/book/), executed and offline; --serve opens it; "
                          "dlcourse book --help for the options")
    book.set_defaults(func=_cmd_book)

    klass = sub.add_parser("class", help="(instructors) run a chapter through JupyterHub and "
                           "nbgrader's exchange: release, collect, grade, feedback, export "
                           "(deploy/README.md)")
    verbs = klass.add_subparsers(dest="verb", required=True)
    helps = {"release": "generate the chapter into course/ and the gradebook, then release "
                        "it to the exchange",
             "collect": "copy each student's newest submission into submitted/",
             "grade": "grade submitted/ with the sandboxed `dlcourse grade`; scores into the "
                      "gradebook, feedback into feedback/",
             "feedback": "release the graded feedback to the students",
             "export": "write the gradebook as CSV (nbgrader export)"}
    for verb, text in helps.items():
        cmd = verbs.add_parser(verb, help=text)
        if verb == "export":
            cmd.add_argument("--to", default="grades.csv", help="CSV file to write "
                             "(default: grades.csv)")
        else:
            cmd.add_argument("chapter", help="chapter folder name, e.g. 01_neuron")
        cmd.add_argument("--course", help="the course folder (default: found from the "
                         "working directory)")
        if verb == "grade":
            cmd.add_argument("--jobs", type=int, default=2, help="students graded at once")
            cmd.add_argument("--timeout", type=int, default=None, help="seconds per cell "
                             "(default: the chapter's own setting, else 60)")
            cmd.add_argument("--memory", default=None, help="memory limit of each "
                             "student's sandboxed kernel, e.g. 4G")
            cmd.add_argument("--no-sandbox", action="store_true", help="grade without "
                             "bubblewrap (a warning goes into every CSV row)")
    klass.set_defaults(func=_cmd_class)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "lab":
        args.jupyter_args = extra
    elif args.command == "book":
        args.book_args = extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
