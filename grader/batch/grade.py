"""One student's hand-in (files as bytes) -> one SubmissionResult, hidden checks included.

Which program grades which exercise: a file named after an exercise (``dot.py``, ``dot.ipynb``, as the
starter files are) grades that exercise; every other exercise is graded on the student's remaining
files as one program (all files, when every file is named after an exercise). A file that cannot be
read costs what it would have graded, with its reason, never the whole batch.

Imports nothing heavy: the batch's main process builds error rows with it without loading torch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from grader import __version__
from grader.results import ExerciseResult, SubmissionResult
from grader.spec.model import Exercise, localize
from grader.spec.hidden import HIDDEN_SUFFIX
from grader.i18n import Translator, localized, translator
from grader.submission import UNREADABLE, Submission, SubmissionError, combine_submissions, submission_from_bytes

if TYPE_CHECKING:
    from grader.grading import Grader
    from grader.spec.hidden import HiddenChecks


@dataclass(frozen=True)
class HandIn:
    """What travels to a worker: the student's key and their files as (name, bytes or read error)."""

    student: str
    files: tuple[tuple[str, bytes | str], ...]  # str: why the file could not be read on the main side


def error_result(student: str, exercises: list[Exercise], reason: str, *, seed: int,
                 lang: str = "en") -> SubmissionResult:
    """A row for a hand-in that could not be graded at all: every exercise 0 with the reason (a Message is
    worded here, in the row's language: the main process and the executors word it without a grader)."""
    reason = localized(reason, translator(lang))
    exercises = [localize(e, lang) for e in exercises]  # titles in the row's language too
    return SubmissionResult(
        submission=student, score=0.0, max_score=sum(e.points for e in exercises),
        exercises=[_error(e, reason) for e in exercises], notes=[reason], seed=seed, grader_version=__version__,
        lang=lang)


def _error(exercise: Exercise, reason: str) -> ExerciseResult:
    return ExerciseResult(exercise.id, exercise.title, "error", 0.0, exercise.points, message=reason)


def grade_hand_in(grader: Grader, hand_in: HandIn, catalog: list[Exercise], chosen: list[Exercise],
                  hidden: dict[str, HiddenChecks]) -> SubmissionResult:
    from grader.batch.hidden import merge_hidden

    start = time.monotonic()
    tr = grader.tr
    readable: list[Submission] = []
    unreadable: dict[str, str] = {}  # file name -> reason
    for name, data in hand_in.files:
        path = Path(hand_in.student) / name  # relative: results never depend on where the class was stored
        try:
            if isinstance(data, str):
                raise SubmissionError(UNREADABLE, {"file": name, "error": data})
            readable.append(submission_from_bytes(data, path))
        except SubmissionError as exc:
            unreadable[name] = exc.text(tr)

    ids = {e.id for e in catalog}
    named: dict[str, list[Submission]] = {}
    for sub in readable:
        stem = PurePosixPath(sub.name).stem
        if stem in ids:
            named.setdefault(stem, []).append(sub)
    general = [s for s in readable if PurePosixPath(s.name).stem not in ids] or readable
    general_problems = [reason for name, reason in unreadable.items() if PurePosixPath(name).stem not in ids]

    programs: dict[tuple[str, ...], tuple[Submission, list[Exercise]]] = {}  # one sandbox batch each
    results: dict[str, ExerciseResult] = {}
    notes: list[str] = []
    for exercise in chosen:
        own_problem = next((r for n, r in unreadable.items() if PurePosixPath(n).stem == exercise.id), None)
        parts = named.get(exercise.id) or ([] if own_problem else general)
        if not parts:
            results[exercise.id] = _error(exercise, own_problem or _joined(general_problems, tr)
                                          or tr("no file of this submission could be graded"))
            continue
        key = tuple(p.name for p in parts)
        if key not in programs:
            try:
                programs[key] = (combine_submissions(parts, Path(hand_in.student) / "+".join(key)), [])
            except SubmissionError as exc:
                results[exercise.id] = _error(exercise, exc.text(tr))
                continue
        extra = [hidden[exercise.id].exercise] if exercise.id in hidden else []
        programs[key][1].extend([exercise, *extra])
    if general_problems and any(not named.get(e.id) for e in chosen):
        notes += [tr("skipped: {reason}", reason=reason) for reason in general_problems]

    for graded in grader.grade_programs(list(programs.values())):  # one child for all of them
        notes += [n for n in graded.notes if n not in notes]
        results.update((r.id, r) for r in graded.exercises)

    ordered = []
    for exercise in chosen:
        result = results[exercise.id]
        hidden_result = results.get(exercise.id + HIDDEN_SUFFIX)
        if hidden_result is not None:
            result = merge_hidden(result, hidden_result, hidden[exercise.id], tr)
        ordered.append(result)
    return SubmissionResult(
        submission=hand_in.student, score=round(sum(r.score for r in ordered), 6),
        max_score=sum(r.max_score for r in ordered), exercises=ordered, notes=notes, seed=grader.seed,
        grader_version=__version__, duration=time.monotonic() - start, lang=grader.tr.lang)


def _joined(reasons: list[str], tr: Translator) -> str:
    """Several reasons in one message, separated as the language separates clauses."""
    return tr("; ").join(reasons)
