"""A Markdown report (GitHub-flavoured): for a job summary, a pull-request comment, Gradescope's ``md``.

Markdown a student cannot break: every piece of text that comes from a result is escaped
(``escape``), and the terminal report quoted in a details block sits in a code fence longer than any
run of backticks inside it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from grader.i18n import N_, Translator, translator
from grader.report.common import say, clean_text, points
from grader.report.text import LABELS as TEXT_LABELS
from grader.report.text import render_exercise
from grader.results import ExerciseResult, SubmissionResult

MARKS = {"passed": "✅", "failed": "❌", "error": "⚠️"}  # beside the status word, in the result's language

# The Markdown report's own words (grader/i18n.py); the rest are the terminal report's (text.LABELS).
LABELS = {
    "grading": N_("Grading: {score}"),
    "submissions_passed": N_("{passed}/{total} submissions passed every exercise."),
    "columns": N_("| status | exercise | title | score |"),
    "note": N_("note:"),
    "hint": N_("hint:"),
    "details": N_("Details"),
}

# CommonMark lets any ASCII punctuation be backslash-escaped; these are the ones that can start or end
# markup inline (emphasis, code, links, HTML, tables, strikethrough, headings, entities).
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#!&])")


def escape(text: str) -> str:
    """Inline Markdown showing ``text`` literally, on one line."""
    return _SPECIAL.sub(r"\\\1", " ".join(clean_text(text).split()))


def render_markdown(result: SubmissionResult) -> str:
    """The report of one submission."""
    return render_markdown_many([result])


def render_markdown_many(results: Sequence[SubmissionResult]) -> str:
    """Several submissions (``grader ci`` grades one file per exercise): a total, then one section each,
    in the results' language."""
    lines: list[str] = []
    tr = translator(results[0].lang if results else "en")
    if len(results) != 1:
        score = sum(r.score for r in results)
        max_score = sum(r.max_score for r in results)
        passed = sum(r.passed for r in results)
        lines += ["# " + say(tr, LABELS["grading"], score=points(score, max_score)), "",
                  say(tr, LABELS["submissions_passed"], passed=passed, total=len(results)), ""]
    level = "#" if len(results) == 1 else "##"
    for result in results:
        lines += _submission(result, level)
    return "\n".join(lines).rstrip("\n") + "\n"


def _submission(result: SubmissionResult, level: str) -> list[str]:
    tr = translator(result.lang)
    passed = sum(e.status == "passed" for e in result.exercises)
    mark = "✅" if result.passed else "❌"
    lines = [
        f"{level} {mark} {escape(result.submission)}: {points(result.score, result.max_score)}", "",
        say(tr, TEXT_LABELS["footer"], passed=passed, total=len(result.exercises),
           score=f"**{points(result.score, result.max_score)}**"),
        "",
    ]
    if result.exercises:
        lines += [say(tr, LABELS["columns"]), "|---|---|---|---:|"]
        lines += [
            f"| {_status(e.status, tr)} | {_code(e.id)} | {escape(e.title)} "
            f"| {points(e.score, e.max_score)} |"
            for e in result.exercises
        ]
        lines.append("")
    for exercise in result.exercises:
        if exercise.status != "passed":
            lines += render_exercise_markdown(exercise, level + "#", lang=result.lang).rstrip("\n").split("\n")
            lines.append("")
    lines += [note_line(note, tr) for note in result.notes]
    if result.notes:
        lines.append("")
    return lines


def note_line(note: str, tr: Translator) -> str:
    """A note of the submission, quoted: ``> **note:** …``."""
    return f"> **{say(tr, LABELS['note'])}** {escape(note)}"


def _status(status: str, tr: Translator) -> str:
    """The status's mark and word ("✅ passed", "❌ 未通过"); an unknown status as it is."""
    if status not in MARKS:
        return escape(status)
    return f"{MARKS[status]} {say(tr, TEXT_LABELS[status])}"


def render_exercise_markdown(exercise: ExerciseResult, level: str = "###", lang: str = "en") -> str:
    """One exercise: headline, diagnoses with hints, then the terminal report in a details block
    (``lang``: its result's language).

    Also Gradescope's per-test output (``output_format: md``).
    """
    tr = translator(lang)
    hint = say(tr, LABELS["hint"])
    lines = [f"{level} {_status(exercise.status, tr)}{say(tr, TEXT_LABELS['separator'])}{_code(exercise.id)} · "
             f"{escape(exercise.title)} ({points(exercise.score, exercise.max_score)})", ""]
    if exercise.message:
        lines += [f"**{escape(exercise.message)}**", ""]
    for diagnosis in exercise.diagnoses:
        where = say(tr, TEXT_LABELS["line"], line=diagnosis.line) if diagnosis.line is not None else ""
        lines.append(f"- {where}{escape(diagnosis.message)}")
        if diagnosis.hint:
            lines.append(f"  - *{hint}* {escape(diagnosis.hint)}")
    lines += [f"- *{hint}* {escape(text)}" for text in exercise.hints]
    if exercise.diagnoses or exercise.hints:
        lines.append("")
    if exercise.status != "passed":
        details = render_exercise(exercise, color=False, width=100, lang=lang)
        lines += [f"<details><summary>{say(tr, LABELS['details'])}</summary>", "", *_fenced(details), "", "</details>"]
    return "\n".join(lines).rstrip("\n") + "\n"


def _fenced(text: str) -> list[str]:
    """A code block that no line of ``text`` can close: the fence is longer than its longest backtick run."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + "text", *text.rstrip("\n").split("\n"), fence]


def _code(text: str) -> str:
    """Inline code: a span delimited by more backticks than it contains, so none can end it early."""
    text = " ".join(clean_text(text).split())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}".replace("|", "\\|")  # a table cell ends at any bare |
