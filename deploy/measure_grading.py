"""Grading seconds per submission, as deploy/README.md reports them ("Capacity").

    .venv/bin/python deploy/measure_grading.py 01_neuron --students 4 --jobs 2

Grades N copies of the model answers (the course's own solutions, typed into the released
notebook) with ``dlcourse grade``'s engine, in the bubblewrap sandbox, and prints the wall
time and the CPU time of every process it ran, in all and per submission, with the load
average: the CPU seconds are what a bigger machine divides by its cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

import nbformat

from dlcourse.grading import conventions
from dlcourse.grading.autograde import grade_class
from dlcourse.grading.course import chapter_notebooks, find_course_root
from dlcourse.grading.release import release


def model_submission(root: Path, chapter: str, scratch: Path):
    """The student notebook, released afresh from solutions/, with every answer cell's model
    solution typed in."""
    release([chapter], root, release_dir=scratch)
    released = nbformat.read(str(chapter_notebooks(scratch / chapter)[0]), 4)
    source = nbformat.read(str(chapter_notebooks(root / "solutions" / chapter)[0]), 4)
    model = {conventions.grade_id(c): c.source for c in source.cells if conventions.is_answer(c)}
    for cell in released.cells:
        if conventions.is_answer(cell) and conventions.grade_id(cell) in model:
            cell.source = conventions.strip_markers(model[conventions.grade_id(cell)])
    return released


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapter")
    parser.add_argument("--students", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    root = find_course_root()
    with tempfile.TemporaryDirectory(prefix="dlcourse-measure-") as tmp:
        nb = model_submission(root, args.chapter, Path(tmp) / "release")
        for i in range(args.students):
            folder = Path(tmp) / "in" / f"student{i:03d}"
            folder.mkdir(parents=True)
            nbformat.write(nb, str(folder / f"{args.chapter}.ipynb"))
        before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
        report = grade_class(args.chapter, Path(tmp) / "in", Path(tmp) / "out", root=root,
                             jobs=args.jobs)
        wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    statuses = sorted({r.status for r in report.results})
    totals = sorted({r.total for r in report.results})
    print(json.dumps({"chapter": args.chapter, "students": args.students, "jobs": args.jobs,
                      "statuses": statuses, "totals": totals,
                      "of": report.max_total, "wall s": round(wall, 1),
                      "wall s per submission": round(wall / args.students, 1),
                      "CPU s": round(cpu, 1),
                      "CPU s per submission": round(cpu / args.students, 1),
                      "load average (1 min) after": round(os.getloadavg()[0], 1)}))


if __name__ == "__main__":
    main()
