"""The terminal report: what a student sees, with and without colour."""

from __future__ import annotations

import io
import math
import sys

import pytest

from grader.report.text import render_text
from grader.results import Mismatch, SubmissionResult, Values
from test_report_json import sample_result  # one hand-built result for both renderers


@pytest.fixture
def result() -> SubmissionResult:
    return sample_result()


def lines_of(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()]


def test_summary_header_and_footer(result: SubmissionResult) -> None:
    text = render_text(result, color=False, width=100)
    lines = lines_of(text)
    assert lines[0] == "hw3.ipynb · score 14.5/30"
    assert "✓ passed  square_vjp  Backward for a non-scalar output" in text
    assert "✗ failed  chain_rule  The chain rule through a detached constant" in text
    assert "! error   hessian     Second derivatives" in text
    for score in ("10/10", "4.5/10", "0/10"):
        assert score in text
    assert "1/3 exercises passed · score 14.5/30" in lines
    assert "note: cell 3, line 1: skipped IPython magic `%matplotlib inline`" in lines


def test_details_of_failed_exercise(result: SubmissionResult) -> None:
    text = render_text(result, color=False, width=140)
    lines = lines_of(text)
    assert "The gradient is wrong for 3 of 5 trials." in lines
    assert "• line 12: The constant u still carries a gradient." in lines
    assert "hint: Use u = (x * x).detach() so backward() treats it as a constant." in lines
    assert "✗ reference 2/5 passed · 1.6/4 points: 3 of 5 trials differ from the reference" in lines
    assert "✗ random 1 (shape [2, 3]): gradient differs" in lines
    assert (
        "max abs error 0.5, max rel error 0.25 at index [1, 2]: got 1.5, expected 2 "
        "(3 of 6 elements outside tolerance)" in lines
    )
    assert "… 2 more failing trials not shown" in lines
    assert "random 2" not in text  # only the first failing trial unless verbose
    assert "hint: Only x should receive a gradient." in lines
    assert "output (truncated by the grader):" in lines
    assert "│ step 1" in lines
    # the error exercise: headline and traceback; the passed one has no detail section
    assert "NameError: name 'hvp' is not defined" in lines
    assert "✓ passed  square_vjp ·" not in text
    assert "shape 5/5" not in text  # passing checks only in verbose


def test_verbose_shows_every_check_and_trial(result: SubmissionResult) -> None:
    text = render_text(result, verbose=True, color=False, width=100)
    lines = lines_of(text)
    assert "hw3.ipynb · score 14.5/30 · seed 7 · autograd-grader 0.1.0 · 2.5 s" in lines
    assert "✓ passed  square_vjp · Backward for a non-scalar output (10/10) ─" in text
    for line in [
        "✓ fixed 1",
        "✗ random 2 (shape [5]): gradient differs",
        "✗ random 3 (shape [1000]): gradient differs",
        "- skipped fixed 2",
        "✓ shape 5/5 passed · 1/1 points",
    ]:
        assert line in lines
    assert "more failing trial" not in text


def test_no_escape_codes_without_colour(result: SubmissionResult) -> None:
    result.exercises[2].output = "\x1b[31mred\x1b[0m\nprogress 10%\rprogress 100%\n\x07"
    text = render_text(result, color=False)
    assert "\x1b" not in text and "\x07" not in text
    assert "│ red" in lines_of(text) and "│ progress 100%" in lines_of(text)
    assert "\x1b[" in render_text(result, color=True)


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("no_color, coloured", [("1", False), (None, True), ("", True)])
def test_automatic_colour_follows_terminal_and_no_color(
    result: SubmissionResult, monkeypatch: pytest.MonkeyPatch, no_color: str | None, coloured: bool
) -> None:
    monkeypatch.setattr(sys, "stdout", FakeTerminal())
    if no_color is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", no_color)
    assert ("\x1b[" in render_text(result)) is coloured


def test_no_colour_when_not_a_terminal(result: SubmissionResult, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert "\x1b" not in render_text(result)


def test_long_messages_wrap_within_width(result: SubmissionResult) -> None:
    result.exercises[1].diagnoses[0].message = "word " * 40
    result.exercises[1].output = "y" * 200
    text = render_text(result, color=False, width=50)
    assert max(len(line) for line in text.splitlines()) <= 50
    wrapped = [line for line in text.splitlines() if line.strip().startswith("word")]
    assert len(wrapped) > 2 and all(line.startswith("    word") for line in wrapped)  # hanging indent


def test_long_output_shows_head_and_tail(result: SubmissionResult) -> None:
    result.exercises[2].output = "".join(f"step {i}\n" for i in range(100))
    lines = lines_of(render_text(result, color=False, width=100))
    assert "│ step 0" in lines and "│ step 99" in lines and "│ step 50" not in lines
    assert "… 70 lines not shown …" in lines
    assert "│ step 50" in lines_of(render_text(result, verbose=True, color=False, width=100))


def test_non_finite_mismatch(result: SubmissionResult) -> None:
    result.exercises[1].checks[0].trials[1].mismatch = Mismatch(math.nan, math.inf, [], math.nan, 1.0, 1, 1)
    assert "max abs error nan, max rel error inf: got nan, expected 1" in lines_of(
        render_text(result, color=False, width=100)
    )


def test_empty_result() -> None:
    text = render_text(SubmissionResult("empty.py", 0, 0), color=False, width=80)
    assert "0/0 exercises passed · score 0/0" in lines_of(text)


def test_diagnosis_quotes_the_line_of_code(result: SubmissionResult) -> None:
    result.exercises[1].diagnoses[0].line_text = "u = x * x"
    lines = lines_of(render_text(result, color=False, width=100))
    position = lines.index("• line 12: The constant u still carries a gradient.")
    assert lines[position + 1] == "12 │ u = x * x"  # right under the message, before the hint
    assert lines[position + 2].startswith("hint: Use u = (x * x).detach()")


def test_long_tensors_are_shortened_around_the_worst_element(result: SubmissionResult) -> None:
    trial = result.exercises[1].checks[0].trials[3]  # random 3 (shape [1000])
    got = [float(i) for i in range(64)]
    expected = list(got)
    got[40] = 123.5  # the worst element, flat index 500 + 40
    trial.mismatch = Mismatch(83.5, 2.09, [540], 123.5, 40.0, 1, 1000)
    trial.values = Values(500, got, expected)
    text = render_text(result, verbose=True, color=False, width=140)
    lines = lines_of(text)
    assert "got      […, 0, 1, 2, …, »123.5«, …, 61, 62, 63, …]" in lines
    assert "expected […, 0, 1, 2, …, »40«, …, 61, 62, 63, …]" in lines
    assert "max abs error 83.5, max rel error 2.09 at index [540]: got 123.5, expected 40 (1 of 1000 elements " \
           "outside tolerance)" in lines


def test_short_tensors_are_shown_whole(result: SubmissionResult) -> None:
    trial = result.exercises[1].checks[0].trials[1]  # the first failing trial: shown without -v
    trial.values = Values(0, [0.0, 1.0, 1.5, 3.0, 4.0, 5.0], [0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    lines = lines_of(render_text(result, color=False, width=100))
    assert "got      [0, 1, »1.5«, 3, 4, 5]" in lines
    assert "expected [0, 1, »2«, 3, 4, 5]" in lines
    # in colour the worst element stands out in bold red, not by its marks only
    coloured = render_text(result, color=True, width=100)
    assert "\x1b[1;31m»1.5«\x1b[0m" in coloured and "\x1b[2mgot      \x1b[0m[0, 1, " in coloured


def test_non_finite_worst_element_is_found(result: SubmissionResult) -> None:
    trial = result.exercises[1].checks[0].trials[1]
    trial.mismatch = Mismatch(math.nan, math.nan, [1, 0], math.nan, 2.0, 1, 6)
    trial.values = Values(0, [1.0, 1.0, 1.0, math.nan, 1.0, 1.0], [1.0, 1.0, 1.0, 2.0, 1.0, 1.0])
    assert "got      [1, 1, 1, »nan«, 1, 1]" in lines_of(render_text(result, color=False, width=100))


def test_labels_come_from_one_table(result: SubmissionResult, monkeypatch: pytest.MonkeyPatch) -> None:
    """The report's own words are in LABELS, the one place a translation replaces them."""
    from grader.report import text

    monkeypatch.setitem(text.LABELS, "hint", "提示：")
    monkeypatch.setitem(text.LABELS, "failed", "未通过")
    rendered = render_text(result, color=False, width=100)
    assert "提示：Only x should receive a gradient." in lines_of(rendered)
    assert "✗ 未通过  chain_rule" in rendered and "hint:" not in rendered
