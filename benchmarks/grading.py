"""Wall time of `dlcourse grade` on a class of 30+ submissions of chapter 01_neuron.

The class is the one the tests use (tests/test_grading.py: correct, partial, blank, broken,
looping, crashing and tampered notebooks). Run from the repository root:

    .venv/bin/python benchmarks/grading.py [--jobs 1 2] [--timeout 15]

Target on a 2-core machine: 30 submissions in at most 3 minutes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dlcourse.grading.autograde import grade_class  # noqa: E402
from tests.test_grading import build_class  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[2])
    parser.add_argument("--timeout", type=int, default=15, help="seconds per cell")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "submissions"
        folder.mkdir()
        n = len(build_class(folder))
        print(f"{n} submissions (1 loops forever: costs one {args.timeout} s cell timeout)")
        for jobs in args.jobs:
            start = time.perf_counter()
            report = grade_class("01_neuron", folder, Path(tmp) / f"out{jobs}", root=ROOT,
                                 timeout=args.timeout, jobs=jobs)
            seconds = time.perf_counter() - start
            print(f"jobs={jobs}: {len(report.results)} students graded in {seconds:.0f} s "
                  f"({seconds / len(report.results):.1f} s per student)")


if __name__ == "__main__":
    main()
