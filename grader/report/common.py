"""Small helpers every renderer shares: making student text safe to show, and spelling points.

Text from the student's program (output, messages quoting it) may hold terminal escape sequences and
control characters; every format shows it only after ``clean_text``.
"""

from __future__ import annotations

import math
import re
from pathlib import PurePath

from grader.results import ExerciseResult

_ESCAPE_SEQUENCE = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_text(text: str) -> str:
    """Text safe to show: no escape sequences, a carriage return overwrites as on a terminal."""
    text = _ESCAPE_SEQUENCE.sub("", text).replace("\r\n", "\n")
    text = "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))
    return _CONTROL.sub("\ufffd", text)


def number(value: float) -> str:
    """Points: at most two decimals, no trailing zeros ("74.5", "10", "3.33")."""
    if not math.isfinite(value):
        return f"{value:.3g}"
    return f"{round(value, 2) + 0.0:.2f}".rstrip("0").rstrip(".")


def points(score: float, max_score: float) -> str:
    return f"{number(score)}/{number(max_score)}"


def headline(exercise: ExerciseResult) -> str:
    """One line saying why an exercise did not pass: its message, else its first diagnosis."""
    if exercise.message:
        return clean_text(exercise.message).split("\n", 1)[0]
    if exercise.diagnoses:
        return clean_text(exercise.diagnoses[0].message).split("\n", 1)[0]
    return exercise.status


def source_line(submission: str, exercise: ExerciseResult) -> int | None:
    """The line of the student's file a report can point at: a diagnosis's, for a ``.py`` file only.

    Diagnoses of a notebook name lines of the flattened program, which no editor shows.
    """
    if PurePath(submission).suffix != ".py":
        return None
    return next((d.line for d in exercise.diagnoses if d.line is not None), None)
