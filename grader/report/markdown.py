"""A Markdown report (GitHub-flavoured): for a job summary, a pull-request comment, Gradescope's ``md``.

Markdown a student cannot break: every piece of text that comes from a result is escaped
(``escape``), and the terminal report quoted in a details block sits in a code fence longer than any
run of backticks inside it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from grader.report.common import clean_text, points
from grader.report.text import render_exercise
from grader.results import ExerciseResult, SubmissionResult

MARKS = {"passed": "✅ passed", "failed": "❌ failed", "error": "⚠️ error"}

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
    """Several submissions (``grader ci`` grades one file per exercise): a total, then one section each."""
    lines: list[str] = []
    if len(results) != 1:
        score = sum(r.score for r in results)
        max_score = sum(r.max_score for r in results)
        passed = sum(r.passed for r in results)
        lines += [f"# Grading: {points(score, max_score)}", "",
                  f"{passed}/{len(results)} submissions passed every exercise.", ""]
    level = "#" if len(results) == 1 else "##"
    for result in results:
        lines += _submission(result, level)
    return "\n".join(lines).rstrip("\n") + "\n"


def _submission(result: SubmissionResult, level: str) -> list[str]:
    passed = sum(e.status == "passed" for e in result.exercises)
    mark = "✅" if result.passed else "❌"
    lines = [
        f"{level} {mark} {escape(result.submission)}: {points(result.score, result.max_score)}", "",
        f"{passed}/{len(result.exercises)} exercises passed · score **{points(result.score, result.max_score)}**",
        "",
    ]
    if result.exercises:
        lines += ["| status | exercise | title | score |", "|---|---|---|---:|"]
        lines += [
            f"| {MARKS.get(e.status, escape(e.status))} | {_code(e.id)} | {escape(e.title)} "
            f"| {points(e.score, e.max_score)} |"
            for e in result.exercises
        ]
        lines.append("")
    for exercise in result.exercises:
        if exercise.status != "passed":
            lines += render_exercise_markdown(exercise, level + "#").rstrip("\n").split("\n")
            lines.append("")
    lines += [f"> **note:** {escape(note)}" for note in result.notes]
    if result.notes:
        lines.append("")
    return lines


def render_exercise_markdown(exercise: ExerciseResult, level: str = "###") -> str:
    """One exercise: headline, diagnoses with hints, then the terminal report in a details block.

    Also Gradescope's per-test output (``output_format: md``).
    """
    lines = [f"{level} {MARKS.get(exercise.status, escape(exercise.status))}: {_code(exercise.id)} · "
             f"{escape(exercise.title)} ({points(exercise.score, exercise.max_score)})", ""]
    if exercise.message:
        lines += [f"**{escape(exercise.message)}**", ""]
    for diagnosis in exercise.diagnoses:
        where = f"line {diagnosis.line}: " if diagnosis.line is not None else ""
        lines.append(f"- {where}{escape(diagnosis.message)}")
        if diagnosis.hint:
            lines.append(f"  - *hint:* {escape(diagnosis.hint)}")
    lines += [f"- *hint:* {escape(hint)}" for hint in exercise.hints]
    if exercise.diagnoses or exercise.hints:
        lines.append("")
    if exercise.status != "passed":
        details = render_exercise(exercise, color=False, width=100)
        lines += ["<details><summary>Details</summary>", "", *_fenced(details), "", "</details>"]
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
