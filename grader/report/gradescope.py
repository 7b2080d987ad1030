"""Gradescope's ``results.json`` (its autograder specification, "Output format"): one test per exercise.

Fields written, per the specification:

- top level: ``score`` (the points earned; Gradescope takes the assignment's total from its own
  settings, so no maximum is written there), ``execution_time`` (whole seconds), ``output`` and
  ``output_format``, ``visibility``, ``stdout_visibility``, ``extra_data`` and ``tests``;
- each test: ``score``, ``max_score``, ``status`` (``passed`` or ``failed``: the specification has no
  third value, an exercise that could not be graded is ``failed``), ``name``, ``number``, ``output``
  and ``output_format`` (``md``: the Markdown report of the exercise), ``visibility``.

Visibility is one of ``visible``, ``hidden``, ``after_due_date``, ``after_published``. By default the
tests are ``visible`` (students get their feedback at once) and the autograder's stdout, which names
nothing a student needs, is ``hidden``; a course that publishes results only with the grades passes
``visibility="after_published"``. Hidden checks (``grader gradescope build --hidden``) are a test of
their own, ``after_published`` whatever the option, with only their count and concept.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Literal

from grader.i18n import N_, translator
from grader.report.common import say, clean_text, points
from grader.report.markdown import escape, note_line, render_exercise_markdown
from grader.report.text import LABELS as TEXT_LABELS
from grader.results import SubmissionResult

# Words a student reads on Gradescope besides the Markdown report (grader/i18n.py).
LABELS = {
    "hidden_name": N_("{exercise}: hidden checks"),
    "hidden_output": N_("{passed}/{total} hidden trials passed. {message}"),
    "could_not_grade": N_("The autograder could not grade this submission: {error}"),
}

HIDDEN_CHECK = "hidden"  # the check grader.batch.hidden adds to an exercise
Visibility = Literal["visible", "hidden", "after_due_date", "after_published"]
VISIBILITIES: tuple[str, ...] = ("visible", "hidden", "after_due_date", "after_published")


@dataclass(frozen=True)
class GradescopeOptions:
    visibility: Visibility = "visible"  # of each test
    stdout_visibility: Visibility = "hidden"  # of run_autograder's stdout


def gradescope_document(result: SubmissionResult, options: GradescopeOptions = GradescopeOptions()
                        ) -> dict[str, Any]:
    for value in (options.visibility, options.stdout_visibility):
        if value not in VISIBILITIES:
            raise ValueError(f"visibility {value!r}: expected one of {', '.join(VISIBILITIES)}")
    tr = translator(result.lang)
    tests = []
    for number, exercise in enumerate(result.exercises, 1):
        hidden = next((c for c in exercise.checks if c.name == HIDDEN_CHECK), None)
        visible_score = exercise.score - (hidden.score if hidden else 0.0)
        visible_max = exercise.max_score - (hidden.max_score if hidden else 0.0)
        tests.append({
            "score": _finite(visible_score),
            "max_score": _finite(visible_max),
            "status": "passed" if exercise.status == "passed" or (hidden and visible_score >= visible_max)
            else "failed",
            "name": clean_text(f"{exercise.id}: {exercise.title}"),
            "number": str(number),
            "output": render_exercise_markdown(exercise, lang=result.lang),
            "output_format": "md",
            "visibility": options.visibility,
        })
        if hidden is not None:  # its own test, which students see only once the grades are published
            tests.append({
                "score": _finite(hidden.score),
                "max_score": _finite(hidden.max_score),
                "status": "passed" if hidden.passed == hidden.total else "failed",
                "name": clean_text(say(tr, LABELS["hidden_name"], exercise=exercise.id)),
                "number": f"{number}.h",
                "output": escape(say(tr, LABELS["hidden_output"], passed=hidden.passed, total=hidden.total,
                                    message=hidden.message).strip()),
                "output_format": "md",
                "visibility": "after_published",
            })
    passed = sum(e.status == "passed" for e in result.exercises)
    summary = [say(tr, TEXT_LABELS["footer"], passed=passed, total=len(result.exercises),
                  score=f"**{points(result.score, result.max_score)}**")]
    summary += [note_line(note, tr) for note in result.notes]
    return {
        "score": _finite(result.score),
        "execution_time": max(0, round(_finite(result.duration))),
        "output": "\n\n".join(summary),
        "output_format": "md",
        "visibility": options.visibility,
        "stdout_visibility": options.stdout_visibility,
        "extra_data": {"submission": result.submission, "seed": result.seed,
                       "grader_version": result.grader_version},
        "tests": tests,
    }


def render_gradescope(result: SubmissionResult, options: GradescopeOptions = GradescopeOptions()) -> str:
    return json.dumps(gradescope_document(result, options), indent=2, ensure_ascii=False, allow_nan=False)


def error_document(message: str, options: GradescopeOptions = GradescopeOptions()) -> dict[str, Any]:
    """results.json for a submission that could not be graded at all (no file, unreadable file): score
    0 and the reason, which the student sees instead of Gradescope's generic autograder failure."""
    return {"score": 0, "output": clean_text(message), "output_format": "text", "visibility": options.visibility,
            "stdout_visibility": options.stdout_visibility, "tests": []}


def _finite(value: float) -> float:
    return value if math.isfinite(value) else 0.0
