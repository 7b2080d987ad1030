"""The report a student reads in a terminal: pytest-like, readable at a glance, then the details.

Status is always spelled out next to its mark ("✗ failed"), so nothing depends on colour. Text that
comes from the student's program (output, messages quoting it) is cleaned of terminal control
sequences: a report rendered without colour must contain no escape codes at all.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from io import StringIO

from rich.console import Console, RenderableType
from rich.padding import Padding
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from grader.report.common import clean_text as _clean
from grader.report.common import points as _points
from grader.report.common import shown_positions, worst_position
from grader.results import CheckResult, ExerciseResult, Mismatch, SubmissionResult, TrialOutcome, Values

MARKS = {"passed": ("✓", "green"), "failed": ("✗", "red"), "error": ("!", "yellow")}
MAX_AUTO_WIDTH = 120  # wider lines are hard to read, however wide the terminal
OUTPUT_HEAD, OUTPUT_TAIL = 10, 20  # lines of student output shown unless verbose
VALUES_EDGE = 3  # elements shown at each end of a long tensor, besides the worst one

# Every word of the report a student reads, in one place (str.format templates), for translation.
LABELS = {
    "score": " · score {score}",
    "seed": "seed {seed}",
    "version": "autograd-grader {version}",
    "footer": "{passed}/{total} exercises passed · score {score}",
    "note": "note: ",
    "review": "for review: ",
    "review_line": "line {line}: {message}",
    "line": "line {line}: ",
    "hint": "hint: ",
    "check": " {passed}/{total} passed · {points} points",
    "passed_count": "{passed}/{total} passed",
    "more_trials": "… {more} more failing trials not shown",
    "more_trial": "… 1 more failing trial not shown",
    "skipped": "- skipped ",
    "got": "got      ",
    "expected": "expected ",
    "max_error": "max abs error {abs}, max rel error {rel}",
    "at_index": " at index [{index}]",
    "got_value": "got {value}",
    "expected_value": "expected {value}",
    "outside": " ({mismatched} of {total} elements outside tolerance)",
    "output": "output:",
    "output_truncated": "output (truncated by the grader):",
    "lines_hidden": "… {hidden} lines not shown …",
    "took": "took {seconds}",
    "passed": "passed",
    "failed": "failed",
    "error": "error",
}


def render_text(
    result: SubmissionResult, *, verbose: bool = False, color: bool | None = None, width: int | None = None
) -> str:
    """The whole report as a string; ``color=None`` means colour only on a terminal without NO_COLOR."""
    return _print(_report(result, verbose), color=color, width=width)


def render_exercise(exercise: ExerciseResult, *, verbose: bool = False, color: bool | None = False,
                    width: int | None = 100) -> str:
    """One exercise's status line and details, as in the full report.

    For formats that embed the terminal report per exercise (a JUnit failure body, a pytest failure).
    """

    def lines() -> Iterator[RenderableType]:
        yield _status_line(exercise)
        for indent, line in _exercise_details(exercise, verbose):
            yield Padding(line, (0, 0, 0, indent), expand=False)

    return _print(lines(), color=color, width=width)


def _print(renderables: Iterator[RenderableType], *, color: bool | None, width: int | None) -> str:
    use_color = _color_wanted(color)
    buffer = StringIO()
    console = Console(
        file=buffer,
        width=width or min(shutil.get_terminal_size((100, 24)).columns, MAX_AUTO_WIDTH),
        color_system="standard" if use_color else None,
        force_terminal=use_color,
        force_jupyter=False,
        force_interactive=False,
        no_color=False,
        legacy_windows=False,
        markup=False,  # student text is never markup
        emoji=False,
        highlight=False,
    )
    for renderable in renderables:
        console.print(renderable)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


def _color_wanted(color: bool | None) -> bool:
    if color is not None:
        return color
    return not os.environ.get("NO_COLOR") and sys.stdout.isatty()  # https://no-color.org


def _report(result: SubmissionResult, verbose: bool) -> Iterator[RenderableType]:
    score = _points(result.score, result.max_score)
    header = Text.assemble((_clean(result.submission), "bold"), LABELS["score"].format(score=score))
    if verbose:
        version = LABELS["version"].format(version=result.grader_version).rstrip()
        extras = [LABELS["seed"].format(seed=result.seed), version, _seconds(result.duration)]
        header.append(" · " + " · ".join(extras), "dim")
    yield header
    yield ""
    yield _summary_table(result.exercises)
    for exercise in result.exercises:
        if verbose or exercise.status != "passed":
            yield ""
            yield Rule(_status_line(exercise), align="left", style="dim")
            for indent, line in _exercise_details(exercise, verbose):
                yield Padding(line, (0, 0, 0, indent), expand=False)
    yield ""
    passed = sum(e.status == "passed" for e in result.exercises)
    yield Text(LABELS["footer"].format(passed=passed, total=len(result.exercises), score=score), style="bold")
    for note in result.notes:
        yield _hang(Text(LABELS["note"], "dim"), _clean(note))
    for flag in result.review:  # not scored: the instructor sees what the student sees
        yield _hang(Text(LABELS["review"], "dim"), _clean(LABELS["review_line"].format(line=flag.line,
                                                                                     message=flag.message)))


def _summary_table(exercises: list[ExerciseResult]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True, style="bold")
    table.add_column(ratio=1, overflow="fold")
    table.add_column(no_wrap=True, justify="right")
    for exercise in exercises:
        table.add_row(_mark(exercise.status), exercise.id, _clean(exercise.title),
                      _points(exercise.score, exercise.max_score))
    return table


def _mark(status: str, word: str | None = None) -> Text:
    mark, style = MARKS.get(status, ("?", "magenta"))
    return Text(f"{mark} {word if word is not None else LABELS.get(status, status)}", style=style)


def _status_line(exercise: ExerciseResult) -> Text:
    return Text.assemble(
        _mark(exercise.status), "  ", (exercise.id, "bold"), " · ", _clean(exercise.title),
        f" ({_points(exercise.score, exercise.max_score)})",
    )


def _hang(head: Text | str, body: Text | str) -> Table:
    """``head`` then ``body``, wrapped lines of the body aligned under its first line."""
    table = Table.grid()
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    table.add_row(head, body)
    return table


Line = tuple[int, RenderableType]  # indentation and what to print there


def _exercise_details(exercise: ExerciseResult, verbose: bool) -> Iterator[Line]:
    if exercise.message:
        yield 2, Text(_clean(exercise.message), style="bold")
    for diagnosis in exercise.diagnoses:
        where = LABELS["line"].format(line=diagnosis.line) if diagnosis.line is not None else ""
        yield 2, _hang(Text("• ", "red"), Text.assemble((where, "bold"), _clean(diagnosis.message)))
        if diagnosis.line is not None and diagnosis.line_text:  # the student's own code, quoted
            yield 4, _hang(Text(f"{diagnosis.line} │ ", "dim"), Text(_clean(diagnosis.line_text), "yellow"))
        if diagnosis.hint:
            yield 4, _hang(Text(LABELS["hint"], "cyan"), _clean(diagnosis.hint))
    for check in exercise.checks:
        if verbose or not check.ok:
            yield from _check(check, verbose)
    for hint in exercise.hints:
        yield 2, _hang(Text(LABELS["hint"], "cyan"), _clean(hint))
    if exercise.output:
        yield from _output(exercise.output, exercise.output_truncated, verbose)
    if verbose:
        yield 2, Text(LABELS["took"].format(seconds=_seconds(exercise.duration)), style="dim")


def _check(check: CheckResult, verbose: bool) -> Iterator[Line]:
    summary = Text.assemble(
        (check.name, "bold"),
        LABELS["check"].format(passed=check.passed, total=check.total,
                               points=_points(check.score, check.max_score)),
    )
    counts = LABELS["passed_count"].format(passed=check.passed, total=check.total)
    if check.message and check.message != counts:
        summary.append(": " + _clean(check.message.removeprefix(counts).lstrip(":; ")))
    yield 2, _hang(_mark("passed" if check.ok else "failed", ""), summary)
    if verbose:
        for trial in check.trials:
            yield from _trial(trial)
        return
    failing = [t for t in check.trials if not t.passed and not t.skipped]
    if failing:
        yield from _trial(failing[0])
    if len(failing) > 1:
        more = len(failing) - 1
        yield 4, Text(LABELS["more_trials" if more > 1 else "more_trial"].format(more=more), style="dim")


def _trial(trial: TrialOutcome) -> Iterator[Line]:
    if trial.skipped:
        head = Text(LABELS["skipped"], "dim")
    else:
        head = _mark("passed" if trial.passed else "failed", "")
    body = Text(_clean(trial.trial), "bold")
    if trial.message:
        body.append(": " + _clean(trial.message))
    yield 4, _hang(head, body)
    # Checks' own messages usually state the errors already; the numbers line is for those that do not.
    if trial.mismatch is not None and "error" not in trial.message:
        yield 6, Text(_describe_mismatch(trial.mismatch), style="dim" if trial.passed else "")
    if trial.values is not None and len(trial.values.got) > 1 and not trial.passed:
        yield from _values(trial.values, trial.mismatch)


def _describe_mismatch(m: Mismatch) -> str:
    """One line: errors, where the worst one is, got vs expected there, how many elements are off."""
    text = LABELS["max_error"].format(abs=_g(m.max_abs_error, 3), rel=_g(m.max_rel_error, 3))
    if m.index:
        text += LABELS["at_index"].format(index=", ".join(map(str, m.index)))
    values = [LABELS[key].format(value=_g(v, 6)) for key, v in (("got_value", m.got), ("expected_value", m.expected))
              if v is not None]
    if values:
        text += ": " + ", ".join(values)
    if m.total > 1:
        text += LABELS["outside"].format(mismatched=m.mismatched, total=m.total)
    return text


def _values(values: Values, mismatch: Mismatch | None) -> Iterator[Line]:
    """Got and expected side by side, a long tensor shortened to its ends and the worst element
    (marked »like this«), so the shape of the mistake shows at a glance."""
    total = mismatch.total if mismatch is not None else values.start + len(values.got)
    worst = worst_position(values, mismatch)
    positions = shown_positions(values, total, worst, VALUES_EDGE)
    for key, numbers in (("got", values.got), ("expected", values.expected)):
        line = Text.assemble((LABELS[key], "dim"), "[")
        for i, position in enumerate(positions):
            if i:
                line.append(", ")
            if position is None:
                line.append("…", "dim")
            elif position == worst:
                line.append(f"»{_g(numbers[position - values.start], 4)}«", "bold red" if key == "got" else "bold")
            else:
                line.append(_g(numbers[position - values.start], 4))
        line.append("]")
        yield 6, line


def _output(output: str, truncated: bool, verbose: bool) -> Iterator[Line]:
    """The student's output behind a gutter; unless verbose, its head and tail only."""
    lines: list[str | None] = list(_clean(output).rstrip("\n").split("\n"))
    yield 2, Text(LABELS["output_truncated" if truncated else "output"], style="dim")
    hidden = len(lines) - OUTPUT_HEAD - OUTPUT_TAIL
    if not verbose and hidden > 0:
        lines = [*lines[:OUTPUT_HEAD], None, *lines[-OUTPUT_TAIL:]]
    table = Table.grid()
    table.add_column(no_wrap=True, style="dim")
    table.add_column(overflow="fold")
    for line in lines:
        if line is None:
            table.add_row("", Text(LABELS["lines_hidden"].format(hidden=hidden), style="dim"))
        else:
            table.add_row("│ ", line)
    yield 4, table


def _g(value: float, digits: int) -> str:
    return f"{value:.{digits}g}"  # also spells nan and inf


def _seconds(value: float) -> str:
    return f"{value:.2g} s" if value < 10 else f"{value:.0f} s"
