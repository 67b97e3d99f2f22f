"""Every chapter's exercises measure the student, and its prose says what it measured.

One kernel per chapter runs the instructor's notebook top to bottom
(:func:`dlcourse.grading.variants.try_variants`); at each exercise it tries the chapter's
bypasses and typical mistakes (``tests/notebooks/chapters/``) against the tests, with the exercise's
forbidden functions switched off as ``dlcourse check`` and ``dlcourse grade`` switch them off.
At the end it checks the chapter's claims.
"""

from __future__ import annotations

import importlib
import re

import pytest

from dlcourse.grading import conventions
from dlcourse.grading.variants import try_variants

from ..nbtools import CHAPTERS, read, solution_notebook

MIN_MISTAKES = 2


def chapter_module(chapter: str):
    return importlib.import_module(f"tests.notebooks.chapters.ch{chapter}")


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_exercise_lists_a_bypass_and_typical_mistakes(chapter):
    module = chapter_module(chapter)
    exercises = [conventions.answer_id(n) for n in conventions.exercise_names(
        read(solution_notebook(chapter)))]
    for exercise in exercises:
        bypasses = [v for v in module.BYPASSES if v.exercise == exercise]
        mistakes = [v for v in module.MISTAKES if v.exercise == exercise]
        assert bypasses, f"{chapter}: write down the bypass a student would try for {exercise}"
        assert len(mistakes) >= MIN_MISTAKES, (
            f"{chapter}: {exercise} needs at least {MIN_MISTAKES} typical mistakes, "
            f"has {len(mistakes)}")
    assert all(v.kind == "bypass" for v in module.BYPASSES)
    assert all(v.kind == "wrong" for v in module.MISTAKES)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_bypasses_score_zero_and_mistakes_are_caught(chapter):
    module = chapter_module(chapter)
    run = try_variants(solution_notebook(chapter), [*module.BYPASSES, *module.MISTAKES],
                       claims=module.CLAIMS, timeout=90)
    problems = [f"cell {i} of the model notebook raised {e}" for i, e in run.cell_errors]
    for outcome in run.outcomes:
        v = outcome.variant
        if v is None:
            if outcome.answer_error:
                problems.append(f"{outcome.exercise}: the model answer raised "
                                f"{outcome.answer_error}")
            problems += [f"{outcome.exercise}: the model answer fails {t.grade_id} with the "
                         f"tripwire armed: {t.message}" for t in outcome.full if not t.passed]
        elif v.kind == "bypass" and not outcome.scores_zero:
            passed = [t.grade_id for t in outcome.full if t.passed]
            problems.append(f"{v.exercise}: the bypass {v.name!r} still passes {passed}")
        elif v.kind == "wrong":
            if not outcome.rejected:
                problems.append(f"{v.exercise}: the visible tests accept the mistake "
                                f"{v.name!r}")
            elif not re.search(v.expect, outcome.messages(), flags=re.I):
                problems.append(f"{v.exercise}: the mistake {v.name!r} is rejected, but the "
                                f"message does not point at it (expected /{v.expect}/): "
                                f"{outcome.messages()[:400]}")
    problems += [f"claim {c.sentence!r} does not hold: {error}" for c, error in run.claims
                 if error]
    assert not problems, f"{chapter}:\n  " + "\n  ".join(problems)
