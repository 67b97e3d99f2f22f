"""Trying wrong answers and bypasses against an exercise's tests, in one prepared kernel.

A contributor who writes an exercise also writes down how students get it wrong: the
standard mistakes (a forgotten ``/ n``, the wrong axis, an off-by-one) and the one-line
bypass (calling the library's own implementation). :func:`try_variants` runs the instructor's
notebook once, top to bottom, in one kernel. At each answer cell it first types in every
variant of that exercise and runs the exercise's test cells against it (the visible part, as
``dlcourse check`` does, and for a bypass the hidden part too), then types in the model
answer and carries on. So each variant costs only its own test cells, not a notebook run.

The tests run as the graders run them: with the exercise's forbidden functions switched off
(:mod:`dlcourse.grading.tripwire`).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import conventions, tripwire
from .kernel import RobustNotebookClient

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class Variant:
    """One answer a student might hand in for exercise ``exercise`` (an ``ex_…`` grade_id).

    ``kind`` is ``"wrong"`` (a typical mistake: the visible tests must reject it with a
    message matching the regular expression ``expect``) or ``"bypass"`` (a call to an
    implementation of what the exercise asks for: every test of the exercise, visible and
    hidden, must fail, so it scores zero).
    """

    exercise: str
    name: str
    source: str
    expect: str = ""
    kind: str = "wrong"

    def __post_init__(self):
        if self.kind not in ("wrong", "bypass"):
            raise ValueError(f"Variant.kind must be 'wrong' or 'bypass', got {self.kind!r}")
        if self.kind == "wrong" and not self.expect:
            raise ValueError(f"wrong variant {self.name!r} needs `expect`: the words the "
                             "failing test's message must contain")


@dataclass(frozen=True)
class Claim:
    """A sentence of the chapter's prose and the code that checks it.

    ``check`` runs in the kernel after the notebook's last cell, so it sees every variable
    the chapter computed; an error (an ``assert`` that fails) refutes the sentence.
    """

    sentence: str
    check: str


@dataclass
class TestOutcome:
    grade_id: str
    passed: bool
    message: str


@dataclass
class Outcome:
    """What the tests said about one variant (or, with ``variant=None``, the model answer)."""

    exercise: str
    variant: Variant | None
    visible: list[TestOutcome] = field(default_factory=list)
    full: list[TestOutcome] = field(default_factory=list)
    answer_error: str = ""

    @property
    def rejected(self) -> bool:
        """Some visible test failed."""
        return any(not t.passed for t in self.visible)

    @property
    def scores_zero(self) -> bool:
        """Every test cell failed, hidden parts included (a bypass earns nothing)."""
        return bool(self.full) and not any(t.passed for t in self.full)

    def messages(self) -> str:
        return " | ".join(f"{t.grade_id}: {t.message}" for t in self.visible if not t.passed)


def _error(cell) -> str:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return _ANSI.sub("", f"{output.get('ename')}: {output.get('evalue', '')}")
    return ""


@dataclass
class ChapterRun:
    outcomes: list[Outcome]
    claims: list[tuple[Claim, str]]       # (claim, error or '')
    cell_errors: list[tuple[int, str]]    # ordinary cells of the notebook that raised


def try_variants(notebook: str | Path, variants, claims=(), timeout: int = 60) -> ChapterRun:
    """Run ``notebook`` (an instructor notebook) once, trying ``variants`` at their exercises
    and checking ``claims`` (:class:`Claim`) at the end.

    The outcomes hold one :class:`Outcome` per variant, plus one per exercise for the model
    answer (``variant`` None), whose tests must all pass with the tripwire armed.
    """
    path = Path(notebook)
    nb = nbformat.read(str(path), as_version=4)
    by_exercise: dict[str, list[Variant]] = {}
    for variant in variants:
        by_exercise.setdefault(variant.exercise, []).append(variant)
    known = {conventions.grade_id(c) for c in nb.cells if conventions.is_answer(c)}
    unknown = sorted(set(by_exercise) - known)
    if unknown:
        raise ValueError(f"variants name exercises {unknown} that {path.name} does not have")
    names = conventions.exercise_names(nb)
    tests_of: dict[str, list] = {}
    for cell in nb.cells:
        if conventions.is_autograded_test(cell):
            name = conventions.exercise_for_test(conventions.grade_id(cell), names)
            tests_of.setdefault(conventions.answer_id(name), []).append(cell)

    client = RobustNotebookClient(copy.deepcopy(nb), timeout=timeout, kernel_name="python3",
                                  allow_errors=True, interrupt_on_timeout=True,
                                  resources={"metadata": {"path": str(path.parent.resolve())}})
    client.guards = tripwire.guards_of(nb)
    outcomes: list[Outcome] = []
    cell_errors: list[tuple[int, str]] = []
    checked: list[tuple[Claim, str]] = []
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            gid = conventions.grade_id(cell)
            if conventions.is_answer(cell) and gid in tests_of:
                for variant in by_exercise.get(gid, []):
                    outcomes.append(_try(client, index, variant, tests_of[gid]))
                model = _run(client, index, conventions.strip_markers(cell.source))
                outcomes.append(Outcome(exercise=gid, variant=None, answer_error=model))
                continue
            if conventions.is_autograded_test(cell):
                ran = _run(client, index, cell.source, like=cell)
                exercise = conventions.answer_id(conventions.exercise_for_test(gid, names))
                model = next(o for o in reversed(outcomes)
                             if o.exercise == exercise and o.variant is None)
                model.full.append(TestOutcome(gid, not ran, ran))
                continue
            error = _run(client, index, cell.source)
            if error:
                cell_errors.append((index, error))
        claim_index = len(client.nb.cells)        # a scratch cell after the last one
        client.nb.cells.append(nbformat.v4.new_code_cell())
        for claim in claims:
            checked.append((claim, _run(client, claim_index, claim.check)))
    return ChapterRun(outcomes, checked, cell_errors)


def _run(client, index: int, source: str, like=None) -> str:
    """Execute ``source`` (as a copy of cell ``like``, so tests are armed); its error or ''."""
    cell = copy.deepcopy(like) if like is not None else nbformat.v4.new_code_cell()
    cell.source = source
    cell.outputs = []
    client.nb.cells[index] = cell       # where nbclient looks for it (display updates)
    client.execute_cell(cell, index, store_history=False)
    return _error(cell)


def _try(client, index: int, variant: Variant, test_cells) -> Outcome:
    outcome = Outcome(exercise=variant.exercise, variant=variant)
    outcome.answer_error = _run(client, index, variant.source)
    for test in test_cells:
        gid = conventions.grade_id(test)
        visible = _run(client, index, conventions.remove_hidden_tests(test.source), like=test)
        outcome.visible.append(TestOutcome(gid, not visible, visible))
        if variant.kind == "bypass":
            full = _run(client, index, test.source, like=test)
            outcome.full.append(TestOutcome(gid, not full, full))
    return outcome
