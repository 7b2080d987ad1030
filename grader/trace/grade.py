"""Run one submission's cells once in a sandboxed child and judge every trace exercise from that trace."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from grader.checks.reference import Reference, ReferenceError
from grader.results import ExerciseResult
from grader.sandbox.runner import Limits
from grader.spec.model import Exercise
from grader.submission import Submission
from grader.trace.evidence import parse_trace
from grader.trace.judge import judge_trace
from grader.trace.task import build_trace_task, trace_cells

if TYPE_CHECKING:
    from grader.grading import Grader


def grade_trace(grader: Grader, submission: Submission, exercises: list[Exercise]) -> dict[str, ExerciseResult]:
    """Every trace exercise of a submission from one run: the notebook runs once, whatever asks about it."""
    from grader.grading import exercise_limits

    results: dict[str, ExerciseResult] = {}
    prepared: list[tuple[Exercise, Reference]] = []
    for exercise in exercises:
        try:
            prepared.append((exercise, grader.prepare(exercise)[0]))
        except ReferenceError as exc:
            results[exercise.id] = ExerciseResult(exercise.id, exercise.title, "error", 0.0, exercise.points,
                                                  message=grader.tr("this exercise's spec is broken (not your fault): "
                                                                    "{error}", error=exc))
    if not prepared:
        return results
    each = [exercise_limits(e) for e, _ in prepared]
    limits = Limits(time=max(l.time for l in each), memory=max(l.memory for l in each),
                    output=max(l.output for l in each))
    cells, _ = trace_cells(submission)
    header, body = build_trace_task(prepared, submission, cells, seed=grader.seed, time_limit=limits.time)
    outcome = grader.sandbox.run(header, body, limits, filename=str(submission.path))
    evidence = parse_trace(outcome, header)
    for exercise, reference in prepared:
        judging = time.monotonic()
        result = judge_trace(exercise, reference, evidence, submission, exercise_limits(exercise), grader.tr)
        result.duration = evidence.wall + time.monotonic() - judging
        results[exercise.id] = result
    return results
