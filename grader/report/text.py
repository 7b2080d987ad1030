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

from grader.i18n import N_, Translator, check_label, translator
from grader.report.common import STATUS_LABELS
from grader.report.common import clean_text as _clean
from grader.report.common import points as _points
from grader.report.common import shown_positions, worst_position
from grader.results import CheckResult, ExerciseResult, Mismatch, SubmissionResult, TrialOutcome, Values

MARKS = {"passed": ("✓", "green"), "failed": ("✗", "red"), "error": ("!", "yellow")}
MAX_AUTO_WIDTH = 120  # wider lines are hard to read, however wide the terminal
OUTPUT_HEAD, OUTPUT_TAIL = 10, 20  # lines of student output shown unless verbose
VALUES_EDGE = 3  # elements shown at each end of a long tensor, besides the worst one

# Every word of the report a student reads, in one place: str.format templates and gettext msgids,
# translated with the result's language (grader/i18n.py).
LABELS = {
    "score": N_(" · score {score}"),
    "seed": N_("seed {seed}"),
    "version": N_("autograd-grader {version}"),
    "footer": N_("{passed}/{total} exercises passed · score {score}"),
    "note": N_("note: "),
    "review": N_("for review: "),
    "review_line": N_("line {line}: {message}"),
    "line": N_("line {line}: "),
    "hint": N_("hint: "),
    "check": N_(" {passed}/{total} passed · {points} points"),
    "passed_count": N_("{passed}/{total} passed"),
    "more_trials": N_("… {more} more failing trials not shown"),
    "more_trial": N_("… 1 more failing trial not shown"),
    "skipped": N_("- skipped "),
    "got": N_("got      "),
    "expected": N_("expected "),
    "max_error": N_("max abs error {abs}, max rel error {rel}"),
    "at_index": N_(" at index [{index}]"),
    "got_value": N_("got {value}"),
    "expected_value": N_("expected {value}"),
    "outside": N_(" ({mismatched} of {total} elements outside tolerance)"),
    "output": N_("output:"),
    "output_truncated": N_("output (truncated by the grader):"),
    "lines_hidden": N_("… {hidden} lines not shown …"),
    "took": N_("took {seconds}"),
    "separator": N_(": "),  # between a name and what is said about it (full-width in Chinese)
    **STATUS_LABELS,
}


def render_text(
    result: SubmissionResult, *, verbose: bool = False, color: bool | None = None, width: int | None = None
) -> str:
    """The whole report as a string, in the result's language; ``color=None`` means colour only on a
    terminal without NO_COLOR."""
    return _print(_report(result, verbose, translator(result.lang)), color=color, width=width)


def render_exercise(exercise: ExerciseResult, *, verbose: bool = False, color: bool | None = False,
                    width: int | None = 100, lang: str = "en") -> str:
    """One exercise's status line and details, as in the full report (``lang``: its result's language).

    For formats that embed the terminal report per exercise (a JUnit failure body, a pytest failure).
    """
    tr = translator(lang)

    def lines() -> Iterator[RenderableType]:
        yield _status_line(exercise, tr)
        for indent, line in _exercise_details(exercise, verbose, tr):
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


def _label(tr: Translator, key: str, **fields: object) -> str:
    return tr(LABELS[key], **fields)


def _report(result: SubmissionResult, verbose: bool, tr: Translator) -> Iterator[RenderableType]:
    score = _points(result.score, result.max_score)
    header = Text.assemble((_clean(result.submission), "bold"), _label(tr, "score", score=score))
    if verbose:
        version = _label(tr, "version", version=result.grader_version).rstrip()
        extras = [_label(tr, "seed", seed=result.seed), version, _seconds(result.duration)]
        header.append(" · " + " · ".join(extras), "dim")
    yield header
    yield ""
    yield _summary_table(result.exercises, tr)
    for exercise in result.exercises:
        if verbose or exercise.status != "passed":
            yield ""
            yield Rule(_status_line(exercise, tr), align="left", style="dim")
            for indent, line in _exercise_details(exercise, verbose, tr):
                yield Padding(line, (0, 0, 0, indent), expand=False)
    yield ""
    passed = sum(e.status == "passed" for e in result.exercises)
    yield Text(_label(tr, "footer", passed=passed, total=len(result.exercises), score=score), style="bold")
    for note in result.notes:
        yield _hang(Text(_label(tr, "note"), "dim"), _clean(note))
    for flag in result.review:  # not scored: the instructor sees what the student sees
        yield _hang(Text(_label(tr, "review"), "dim"), _clean(_label(tr, "review_line", line=flag.line,
                                                                      message=flag.message)))


def _summary_table(exercises: list[ExerciseResult], tr: Translator) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True, style="bold")
    table.add_column(ratio=1, overflow="fold")
    table.add_column(no_wrap=True, justify="right")
    for exercise in exercises:
        table.add_row(_mark(exercise.status, tr), exercise.id, _clean(exercise.title),
                      _points(exercise.score, exercise.max_score))
    return table


def _mark(status: str, tr: Translator, word: str | None = None) -> Text:
    mark, style = MARKS.get(status, ("?", "magenta"))
    if word is None:
        word = _label(tr, status) if status in LABELS else status
    return Text(f"{mark} {word}", style=style)


def _status_line(exercise: ExerciseResult, tr: Translator) -> Text:
    return Text.assemble(
        _mark(exercise.status, tr), "  ", (exercise.id, "bold"), " · ", _clean(exercise.title),
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


def _exercise_details(exercise: ExerciseResult, verbose: bool, tr: Translator) -> Iterator[Line]:
    if exercise.message:
        yield 2, Text(_clean(exercise.message), style="bold")
    for diagnosis in exercise.diagnoses:
        where = _label(tr, "line", line=diagnosis.line) if diagnosis.line is not None else ""
        yield 2, _hang(Text("• ", "red"), Text.assemble((where, "bold"), _clean(diagnosis.message)))
        if diagnosis.line is not None and diagnosis.line_text:  # the student's own code, quoted
            yield 4, _hang(Text(f"{diagnosis.line} │ ", "dim"), Text(_clean(diagnosis.line_text), "yellow"))
        if diagnosis.hint:
            yield 4, _hang(Text(_label(tr, "hint"), "cyan"), _clean(diagnosis.hint))
    for check in exercise.checks:
        if verbose or not check.ok:
            yield from _check(check, verbose, tr)
    for hint in exercise.hints:
        yield 2, _hang(Text(_label(tr, "hint"), "cyan"), _clean(hint))
    if exercise.output:
        yield from _output(exercise.output, exercise.output_truncated, verbose, tr)
    if verbose:
        yield 2, Text(_label(tr, "took", seconds=_seconds(exercise.duration)), style="dim")


def _check(check: CheckResult, verbose: bool, tr: Translator) -> Iterator[Line]:
    summary = Text.assemble(
        (check_label(check.name, tr), "bold"),
        _label(tr, "check", passed=check.passed, total=check.total, points=_points(check.score, check.max_score)),
    )
    counts = _label(tr, "passed_count", passed=check.passed, total=check.total)
    if check.message and check.message != counts:
        summary.append(_label(tr, "separator") + _clean(check.message.removeprefix(counts).lstrip(":;： ")))
    yield 2, _hang(_mark("passed" if check.ok else "failed", tr, ""), summary)
    if verbose:
        for trial in check.trials:
            yield from _trial(trial, tr)
        return
    failing = [t for t in check.trials if not t.passed and not t.skipped]
    if failing:
        yield from _trial(failing[0], tr)
    if len(failing) > 1:
        more = len(failing) - 1
        yield 4, Text(_label(tr, "more_trials" if more > 1 else "more_trial", more=more), style="dim")


def _trial(trial: TrialOutcome, tr: Translator) -> Iterator[Line]:
    if trial.skipped:
        head = Text(_label(tr, "skipped"), "dim")
    else:
        head = _mark("passed" if trial.passed else "failed", tr, "")
    body = Text(_clean(trial.trial), "bold")
    if trial.message:
        body.append(_label(tr, "separator") + _clean(trial.message))
    yield 4, _hang(head, body)
    # Checks' own messages usually state the errors already; the numbers line is for those that do not.
    if trial.mismatch is not None and not _states_errors(trial.message, tr):
        yield 6, Text(_describe_mismatch(trial.mismatch, tr), style="dim" if trial.passed else "")
    if trial.values is not None and len(trial.values.got) > 1 and not trial.passed:
        yield from _values(trial.values, trial.mismatch, tr)


def _states_errors(message: str, tr: Translator) -> bool:
    """Whether a check's message already gives the error (its own word for it, in the result's language)."""
    return "error" in message or tr.pgettext("numerical error", "error") in message


def _describe_mismatch(m: Mismatch, tr: Translator) -> str:
    """One line: errors, where the worst one is, got vs expected there, how many elements are off."""
    text = _label(tr, "max_error", abs=_g(m.max_abs_error, 3), rel=_g(m.max_rel_error, 3))
    if m.index:
        text += _label(tr, "at_index", index=", ".join(map(str, m.index)))
    values = [_label(tr, key, value=_g(v, 6)) for key, v in (("got_value", m.got), ("expected_value", m.expected))
              if v is not None]
    if values:
        text += _label(tr, "separator") + ", ".join(values)
    if m.total > 1:
        text += _label(tr, "outside", mismatched=m.mismatched, total=m.total)
    return text


def _values(values: Values, mismatch: Mismatch | None, tr: Translator) -> Iterator[Line]:
    """Got and expected side by side, a long tensor shortened to its ends and the worst element
    (marked »like this«), so the shape of the mistake shows at a glance."""
    total = mismatch.total if mismatch is not None else values.start + len(values.got)
    worst = worst_position(values, mismatch)
    positions = shown_positions(values, total, worst, VALUES_EDGE)
    for key, numbers in (("got", values.got), ("expected", values.expected)):
        line = Text.assemble((_label(tr, key), "dim"), "[")
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


def _output(output: str, truncated: bool, verbose: bool, tr: Translator) -> Iterator[Line]:
    """The student's output behind a gutter; unless verbose, its head and tail only."""
    lines: list[str | None] = list(_clean(output).rstrip("\n").split("\n"))
    yield 2, Text(_label(tr, "output_truncated" if truncated else "output"), style="dim")
    hidden = len(lines) - OUTPUT_HEAD - OUTPUT_TAIL
    if not verbose and hidden > 0:
        lines = [*lines[:OUTPUT_HEAD], None, *lines[-OUTPUT_TAIL:]]
    table = Table.grid()
    table.add_column(no_wrap=True, style="dim")
    table.add_column(overflow="fold")
    for line in lines:
        if line is None:
            table.add_row("", Text(_label(tr, "lines_hidden", hidden=hidden), style="dim"))
        else:
            table.add_row("│ ", line)
    yield 4, table


def _g(value: float, digits: int) -> str:
    return f"{value:.{digits}g}"  # also spells nan and inf


def _seconds(value: float) -> str:
    return f"{value:.2g} s" if value < 10 else f"{value:.0f} s"
