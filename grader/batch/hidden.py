"""Folding hidden trials into an exercise's result without letting anything about them out.

The hidden part becomes one check named ``hidden`` next to the exercise's own checks, weighted by the
hidden file's ``weight``. What a student can read of it: how many hidden trials passed, and the concept
they test. Nothing else survives: no inputs, values, shapes, mismatches, diagnoses, error messages or
captured output (a student's code could print its inputs), since any of them would reveal the trials.
"""

from __future__ import annotations

from dataclasses import replace

from grader.i18n import ENGLISH, Translator
from grader.results import CheckResult, ExerciseResult, TrialOutcome
from grader.spec.hidden import HiddenChecks


def merge_hidden(visible: ExerciseResult, hidden: ExerciseResult, checks: HiddenChecks,
                 tr: Translator = ENGLISH) -> ExerciseResult:
    """The visible result with the hidden part as one more check, worded by ``tr`` (the result's language)."""
    own_weight = sum(c.weight for c in visible.checks) or 1.0
    share = checks.weight / (own_weight + checks.weight)  # the hidden part's share of the points
    points = visible.max_score
    verdicts = _trial_verdicts(hidden)
    passed = sum(verdicts)
    fraction = hidden.score / hidden.max_score if hidden.status != "error" and hidden.max_score else 0.0
    failed_message = tr("a hidden check failed: {concept}", concept=checks.concept_in(tr.lang))
    check = CheckResult(
        name="hidden", weight=checks.weight, passed=passed, total=len(verdicts),
        score=round(points * share * fraction, 6), max_score=round(points * share, 6),
        message=tr("{passed}/{total} passed", passed=passed, total=len(verdicts))
        + ("" if passed == len(verdicts) else tr(": ") + failed_message),
        trials=[TrialOutcome(tr("hidden trial {number}", number=i), ok, "" if ok else failed_message)
                for i, ok in enumerate(verdicts, start=1)])
    own_checks = [replace(c, score=round(c.score * (1 - share), 6), max_score=round(c.max_score * (1 - share), 6))
                  for c in visible.checks]
    if visible.status == "error":  # the code could not run at all: nothing more to say or score
        return replace(visible, checks=[*own_checks, check])
    score = round(visible.score * (1 - share) + check.score, 6)
    status, message = visible.status, visible.message
    if passed < len(verdicts) or check.score < check.max_score - 1e-9:
        status, message = "failed", message or failed_message
    # The spec's hints are public text; grading omits them when the visible part passed.
    hints = visible.hints or ([] if status == "passed" else list(hidden.hints))
    return replace(visible, status=status, score=score, checks=[*own_checks, check], message=message, hints=hints)


def _trial_verdicts(hidden: ExerciseResult) -> list[bool]:
    """Per hidden trial (in order): did every check pass there? An error fails them all."""
    trials: dict[str, bool] = {}
    for check in hidden.checks:
        for outcome in check.trials:
            ok = outcome.passed or outcome.skipped
            trials[outcome.trial] = trials.get(outcome.trial, True) and ok and hidden.status != "error"
    return list(trials.values()) or [hidden.status == "passed"]

