"""The batch's outputs, streamed from the store in student order: results.jsonl, grades.csv, feedback.

``grades.csv`` (documented in docs/batch.md) has one row per student::

    student,name,lms_id,<exercise id>...,total,max,note

``student`` is the key used for ``feedback/<student>.html``; ``name`` and ``lms_id`` come from the LMS
file-name convention (Canvas user id, Moodle participant id; empty for plain folders and files);
exercise columns hold points in catalog order; ``note`` gives the reason when nothing could be graded.
Numbers have at most four decimals and no trailing zeros, so the file is byte-stable across runs.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from grader.batch.discover import Student
from grader.files import atomic_open
from grader.spec.model import Exercise

FIXED_COLUMNS = ("student", "name", "lms_id")
TRAILING_COLUMNS = ("total", "max", "note")


@dataclass
class Written:
    students: int = 0
    feedback: int = 0  # feedback pages written (0 when no HTML renderer is available)
    feedback_note: str = ""  # why there is no per-student feedback, when there is none


def points(value: float) -> str:
    return f"{round(value, 4) + 0.0:.4f}".rstrip("0").rstrip(".")


def row_note(result: dict) -> str:
    """The reason for a row nobody could grade: every exercise errored for the same reason."""
    messages = {e.get("message", "") for e in result.get("exercises", [])}
    statuses = {e.get("status") for e in result.get("exercises", [])}
    return messages.pop() if statuses == {"error"} and len(messages) == 1 else ""


def write_outputs(out: Path, rows: Iterable[tuple[Student, str, str]], exercises: list[Exercise],
                  observers: Iterable[Callable[[Student, dict | None], None]] = (),
                  absent: Iterable[tuple[Student, str]] = ()) -> Written:
    """Write every output at once, reading each stored result once (memory stays flat for any class).

    ``rows`` are (student, result JSON, feedback page or "") in student-key order; a missing page is
    rendered here. ``observers`` see each parsed result (the dashboard's tallies, the LMS files).
    ``absent`` are students known without a hand-in (the student map's), with the reason: they get a
    grades.csv row with empty points after the others, and observers see them with ``None``.
    """
    written = Written()
    renderer, written.feedback_note = _html_renderer()
    feedback_dir = out / "feedback"
    if renderer is not None:
        feedback_dir.mkdir(parents=True, exist_ok=True)
    pages: set[str] = set()
    header = [*FIXED_COLUMNS, *(e.id for e in exercises), *TRAILING_COLUMNS]
    with atomic_open(out / "results.jsonl") as jsonl, atomic_open(out / "grades.csv") as grades:
        table = io.TextIOWrapper(grades, encoding="utf-8", newline="")
        writer = csv.writer(table, lineterminator="\n")
        writer.writerow(header)
        for student, text, page in rows:
            result = json.loads(text)
            jsonl.write(text.encode() + b"\n")
            by_id = {e["id"]: e for e in result.get("exercises", [])}
            scores = [points(float(by_id[e.id]["score"])) if e.id in by_id else "" for e in exercises]
            writer.writerow([student.key, student.name, student.lms_id, *scores, points(float(result["score"])),
                             points(float(result["max_score"])), row_note(result)])
            for observe in observers:
                observe(student, result)
            if renderer is not None:
                try:
                    page = page or renderer(text)
                except Exception as exc:  # noqa: BLE001 - a renderer bug costs a page, not the grades
                    written.feedback_note = f"no feedback page for {student.key}: the HTML report failed ({exc})"
                else:
                    _write_if_changed(feedback_dir / f"{student.key}.html", page)
                    pages.add(f"{student.key}.html")
                    written.feedback += 1
            written.students += 1
        for student, reason in absent:
            writer.writerow([student.key, student.name, student.lms_id, *("" for _ in exercises), "",
                             points(sum(e.points for e in exercises)), reason])
            for observe in observers:
                observe(student, None)
        table.flush()
        table.detach()  # the atomic writer closes the underlying file
    if renderer is not None:
        for stale in feedback_dir.glob("*.html"):  # students no longer in the class folder
            if stale.name not in pages:
                stale.unlink()
    return written


def _html_renderer() -> tuple[Callable[[str], str] | None, str]:
    """The per-student HTML renderer (grader/report/html.py), when it is installed and importable."""
    try:
        from grader.report.html import render_html
        from grader.report.json_report import parse_json
    except ImportError as exc:
        return None, f"no per-student feedback pages: the HTML report is not available ({exc})"
    return (lambda text: render_html(parse_json(text))), ""


def _write_if_changed(path: Path, text: str) -> None:
    """Feedback pages are derived and many: rewrite only what changed, so a resumed run stays cheap."""
    data = text.encode()
    try:
        if path.read_bytes() == data:
            return
    except OSError:
        pass
    path.write_bytes(data)
