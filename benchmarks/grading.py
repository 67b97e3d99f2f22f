"""Wall time of `dlcourse grade` on a class of 30+ submissions of chapter 01_neuron.

The class is the one the tests use (tests/grading/test_grading.py: correct, partial, blank, broken,
looping, crashing and tampered notebooks). Each round grades it twice, interleaved, in one
run: the sandboxed two-process grader (what `dlcourse grade` does) and nbgrader's own
single-kernel grading (the tests in the student's kernel, what it did before). Run from the
repository root:

    .venv/bin/python benchmarks/grading.py [--jobs 2] [--rounds 1] [--timeout 15]

Targets on a 2-core machine: the sandboxed class in at most 3 minutes, and at most 1.5x the
single-kernel time.
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
from tests.grading.test_grading import build_class  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--timeout", type=int, default=15, help="seconds per cell")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "submissions"
        folder.mkdir()
        n = len(build_class(folder))
        print(f"{n} submissions (1 loops forever: costs one {args.timeout} s cell timeout), "
              f"jobs={args.jobs}")
        times: dict[str, list[float]] = {"single kernel": [], "sandboxed, two processes": []}
        for r in range(args.rounds):
            for name, single in (("single kernel", True), ("sandboxed, two processes", False)):
                start = time.perf_counter()
                report = grade_class("01_neuron", folder, Path(tmp) / f"out{r}{single}",
                                     root=ROOT, timeout=args.timeout, jobs=args.jobs,
                                     single_kernel=single)
                seconds = time.perf_counter() - start
                times[name].append(seconds)
                print(f"  round {r + 1}, {name}: {len(report.results)} students in "
                      f"{seconds:.0f} s ({seconds / len(report.results):.1f} s per student)")
        base = min(times["single kernel"])
        safe = min(times["sandboxed, two processes"])
        print(f"best of {args.rounds}: single kernel {base:.0f} s, sandboxed {safe:.0f} s, "
              f"ratio {safe / base:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
