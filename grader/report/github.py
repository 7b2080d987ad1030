"""GitHub Actions: workflow commands that annotate the student's file, and a job summary in Markdown.

GitHub shows at most 10 annotations of each kind (error, warning, notice) per step and drops the rest
silently, so past the limit the last annotation of a kind says what was left out (the job summary has
it all). An exercise that did not pass is an error; a note on reading the submission (a skipped
notebook magic) is a notice.
Escaping follows GitHub's toolkit (``@actions/core`` ``command.ts``): in the message ``%``, ``\\r`` and
``\\n``; in properties (file, line, title) also ``:`` and ``,``. A student's text can therefore
neither end a command early nor start a new one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from grader.i18n import N_, Translator, translator
from grader.report.common import say, clean_text, headline, points, source_line, status_word
from grader.report.markdown import render_markdown_many
from grader.report.text import LABELS as TEXT_LABELS
from grader.results import ExerciseResult, SubmissionResult

MAX_ANNOTATIONS = 10  # per kind and step: GitHub's documented limit

# The annotations' words, in the results' language (grader/i18n.py); the rest are text.LABELS.
LABELS = {
    "note_title": N_("grader note"),
    "diagnosis_hint": N_(" (hint: {hint})"),
    "title": N_("{exercise} {status} ({score}): {title}"),
    "more_exercises": N_("{count} more exercises did not pass: {names}. The job summary lists them all."),
    "more_exercises_title": N_("{count} more exercises did not pass"),
    "more_notes": N_("{count} more notes: {names}. The job summary lists them all."),
    "more_notes_title": N_("{count} more notes"),
}


def escape_data(text: str) -> str:
    """A command's message: ``%`` first, so the escapes it introduces are not escaped again."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value (``file=``, ``title=``): also ``:`` and ``,``, which end a value."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


@dataclass(frozen=True)
class Annotation:
    kind: str  # "error" | "warning" | "notice"
    message: str
    file: str | None = None
    line: int | None = None
    title: str | None = None
    name: str = ""  # how a summary of the annotations left out names this one

    def command(self) -> str:
        properties = [("file", self.file), ("line", self.line), ("title", self.title)]
        spelled = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties if value is not None)
        return f"::{self.kind}{' ' + spelled if spelled else ''}::{escape_data(self.message)}"


def render_github(result: SubmissionResult) -> str:
    return render_github_many([result])


def render_github_many(results: Sequence[SubmissionResult]) -> str:
    """Workflow commands for every exercise that did not pass and every note, then a score line."""
    tr = translator(results[0].lang if results else "en")
    errors = [_exercise_annotation(r, e, tr) for r in results for e in r.exercises if e.status != "passed"]
    notices = [Annotation("notice", clean_text(note), file=r.submission, title=say(tr, LABELS["note_title"]),
                           name=f"{r.submission}: {clean_text(note)[:60]}")
                for r in results for note in r.notes]
    lines = [a.command() for a in _capped(errors, "more_exercises", tr)]
    lines += [a.command() for a in _capped(notices, "more_notes", tr)]
    score = sum(r.score for r in results)
    max_score = sum(r.max_score for r in results)
    exercises = [e for r in results for e in r.exercises]
    passed = sum(e.status == "passed" for e in exercises)
    lines.append(say(tr, TEXT_LABELS["footer"], passed=passed, total=len(exercises), score=points(score, max_score)))
    return "\n".join(lines) + "\n"


def _exercise_annotation(result: SubmissionResult, exercise: ExerciseResult, tr: Translator) -> Annotation:
    body = [headline(exercise, tr)]
    for diagnosis in exercise.diagnoses:
        body.append(f"• {clean_text(diagnosis.message)}" + (say(tr, LABELS["diagnosis_hint"], hint=clean_text(diagnosis.hint))
                                                             if diagnosis.hint else ""))
    body += [say(tr, TEXT_LABELS["hint"]) + clean_text(hint) for hint in exercise.hints[:2]]
    status = status_word(exercise.status, tr)
    title = say(tr, LABELS["title"], exercise=exercise.id, status=status,
               score=points(exercise.score, exercise.max_score), title=exercise.title)
    return Annotation("error", "\n".join(dict.fromkeys(body)), file=result.submission,
                      line=source_line(result.submission, exercise), title=clean_text(title), name=exercise.id)


def _capped(annotations: list[Annotation], what: str, tr: Translator) -> list[Annotation]:
    """At most ``MAX_ANNOTATIONS``; the last one left says how many more there are (``what``: the key of
    LABELS saying so, and ``what + "_title"`` its title)."""
    if len(annotations) <= MAX_ANNOTATIONS:
        return annotations
    kept = annotations[: MAX_ANNOTATIONS - 1]
    rest = annotations[MAX_ANNOTATIONS - 1:]
    names = "; ".join(a.name for a in rest)
    summary = Annotation(rest[0].kind, say(tr, LABELS[what], count=len(rest), names=names),
                         title=say(tr, LABELS[what + "_title"], count=len(rest)))
    return [*kept, summary]


def append_step_summary(results: Sequence[SubmissionResult], environ: Mapping[str, str] | None = None) -> bool:
    """Append the Markdown report to ``$GITHUB_STEP_SUMMARY`` when it is set; True when written."""
    path = (os.environ if environ is None else environ).get("GITHUB_STEP_SUMMARY")
    if not path:
        return False
    with open(path, "a", encoding="utf-8") as summary:
        summary.write(render_markdown_many(results) + "\n")
    return True
