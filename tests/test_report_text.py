"""The terminal report: what a student sees, with and without colour."""

from __future__ import annotations

import io
import math
import sys

import pytest

from grader.report.text import render_text
from grader.results import Mismatch, SubmissionResult
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
