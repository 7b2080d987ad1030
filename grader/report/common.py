"""Small helpers every renderer shares: making student text safe to show, and spelling points.

Text from the student's program (output, messages quoting it) may hold terminal escape sequences and
control characters; every format shows it only after ``clean_text``.
"""

from __future__ import annotations

import math
import re
from pathlib import PurePath

from grader.i18n import ENGLISH, N_, Translator
from grader.results import ExerciseResult, Mismatch, Values

_ESCAPE_SEQUENCE = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
STATUS_LABELS = {"passed": N_("passed"), "failed": N_("failed"), "error": N_("error")}  # translated where shown


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


def status_word(status: str, tr: Translator) -> str:
    """A status as a student reads it ("failed", "未通过"); a status no renderer knows, as it is."""
    return tr(STATUS_LABELS[status]) if status in STATUS_LABELS else status


def headline(exercise: ExerciseResult, tr: Translator = ENGLISH) -> str:
    """One line saying why an exercise did not pass: its message, else its first diagnosis, else its
    status in the result's language (``tr``)."""
    if exercise.message:
        return clean_text(exercise.message).split("\n", 1)[0]
    if exercise.diagnoses:
        return clean_text(exercise.diagnoses[0].message).split("\n", 1)[0]
    return status_word(exercise.status, tr)


def source_line(submission: str, exercise: ExerciseResult) -> int | None:
    """The line of the student's file a report can point at: a diagnosis's, for a ``.py`` file only.

    Diagnoses of a notebook name lines of the flattened program, which no editor shows.
    """
    if PurePath(submission).suffix != ".py":
        return None
    return next((d.line for d in exercise.diagnoses if d.line is not None), None)


def worst_position(values: Values, mismatch: Mismatch | None) -> int | None:
    """Flat position of the worst element inside a ``Values`` window: the mismatch's got/expected pair,
    else the largest difference (a non-finite one first)."""
    pairs = list(zip(values.got, values.expected))
    if not pairs:
        return None
    if mismatch is not None and mismatch.got is not None and mismatch.expected is not None:
        for i, (g, e) in enumerate(pairs):
            if _same(g, mismatch.got) and _same(e, mismatch.expected):
                return values.start + i

    def error(pair: tuple[float, float]) -> float:
        difference = abs(pair[0] - pair[1])
        return math.inf if math.isnan(difference) else difference

    return values.start + max(range(len(pairs)), key=lambda i: error(pairs[i]))


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def shown_positions(values: Values, total: int, worst: int | None, edge: int = 3) -> list[int | None]:
    """Which elements of a long tensor to show: the window's first and last ``edge`` and the worst one,
    in order, with ``None`` wherever elements are left out (``[0.1, 0.2, …, 0.9]``)."""
    end = values.start + len(values.got)
    keep = set(range(values.start, min(values.start + edge, end))) | set(range(max(end - edge, values.start), end))
    if worst is not None:
        keep.add(worst)
    positions: list[int | None] = []
    following = 0  # the position shown next when nothing is left out
    for position in sorted(keep):
        if position != following:
            positions.append(None)
        positions.append(position)
        following = position + 1
    if following < total:
        positions.append(None)
    return positions


def say(tr: Translator, template: str, /, **fields: object) -> str:
    """``tr(template, **fields)`` for a template looked up in a table of ``N_`` msgids: calling ``tr`` with
    ``LABELS["key"]`` would make the extractor take the key for a message."""
    return tr(template, **fields)
