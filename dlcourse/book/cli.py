"""``dlcourse book``: build the reading edition, and optionally serve it on loopback."""

from __future__ import annotations

import argparse
import os
import sys
import time
import webbrowser
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dlcourse book",
        description="Build the course as a static website (build/book/): every chapter "
        "executed from solutions/ (cached by content: only changed chapters run again), "
        "solutions folded, no hidden test, widgets as static snapshots, math and fonts "
        "local. Works offline.")
    parser.add_argument("--out", help="output folder (default: build/book in the course)")
    parser.add_argument("--cache", help="execution cache and Sphinx state (default: "
                        "build/book-cache in the course)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="chapters executed at once (default: %(default)s)")
    parser.add_argument("--timeout", type=int, default=600,
                        help="seconds allowed per cell (default: %(default)s)")
    parser.add_argument("--fresh", action="store_true",
                        help="ignore the caches: execute every chapter and rewrite every page")
    parser.add_argument("--allow-errors", action="store_true",
                        help="keep building when a cell raises (its traceback is shown)")
    parser.add_argument("--chapter", action="append", dest="chapters", metavar="CHAPTER",
                        help="build only this chapter (repeatable; for a quick preview)")
    parser.add_argument("--serve", action="store_true",
                        help="after building, serve the site on 127.0.0.1 and open it")
    parser.add_argument("--port", type=int, default=8000, help="port for --serve "
                        "(default: %(default)s; 0 picks a free one)")
    parser.add_argument("--no-browser", action="store_true",
                        help="with --serve: do not open a web browser")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``dlcourse book``; returns the exit status."""
    args = build_parser().parse_args(argv)
    from dlcourse.grading.course import find_course_root

    from .site import BookError, build, start_server

    try:
        root = find_course_root()
    except FileNotFoundError as exc:
        print(f"dlcourse book: {exc}", file=sys.stderr)
        return 2
    try:
        result = build(root, out=Path(args.out) if args.out else None,
                       cache_dir=Path(args.cache) if args.cache else None, jobs=args.jobs,
                       timeout=args.timeout, fresh=args.fresh,
                       allow_errors=args.allow_errors, chapters=args.chapters)
    except BookError as exc:
        print(f"dlcourse book: {exc}", file=sys.stderr)
        return 1
    if not args.serve:
        print(f"open {result.out / 'index.html'} (or: dlcourse book --serve)")
        return 0
    try:
        server, url = start_server(result.out, port=args.port)
    except OSError as exc:
        print(f"dlcourse book: cannot serve on port {args.port}: {exc} (try --port 0)",
              file=sys.stderr)
        return 2
    print(f"serving the book at {url} (Ctrl-C stops)", flush=True)
    if not args.no_browser:
        webbrowser.open(url)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
