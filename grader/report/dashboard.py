"""The class dashboard (``index.html`` of ``grader grade``): one self-contained page for the instructor.

Score histogram, pass rate per exercise, the most common diagnoses per exercise, the slowest and the
failing submissions. Charts are inline SVG, CSS is inline, a Content-Security-Policy forbids scripts
and network loads. Tallies are kept as counts while results stream past (``ClassStats.add``), so a
class of any size costs the same memory. Like every renderer it reads Result JSON only.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass, field
from html import escape
from typing import Any

from grader.report.common import say
from grader.i18n import LANGUAGES, N_, Translator, translator

BINS = 10  # histogram of total/max in 10 % steps
LISTED = 20  # slowest and failing submissions shown


@dataclass
class ClassStats:
    exercises: list[tuple[str, str]]  # (id, title) in catalog order
    students: int = 0
    histogram: list[int] = field(default_factory=lambda: [0] * BINS)
    total_percent: float = 0.0
    passed: Counter = field(default_factory=Counter)  # exercise id -> students with full marks
    diagnoses: dict[str, Counter] = field(default_factory=dict)  # exercise id -> diagnosis code -> students
    examples: dict[tuple[str, str], str] = field(default_factory=dict)  # (exercise, code) -> first message
    slowest: list[tuple[float, str]] = field(default_factory=list)  # min-heap of (seconds, student)
    failing: list[tuple[str, str, int]] = field(default_factory=list)  # (student, why, more), the first LISTED
    failing_count: int = 0
    absent: int = 0  # students of the student map with no hand-in (not in any tally above)
    lang: str | None = None  # the course's language: that of the first result (grader/i18n.py)

    def add(self, student: str, result: dict[str, Any]) -> None:
        self.students += 1
        if self.lang is None and result.get("lang") in LANGUAGES:
            self.lang = result["lang"]
        maximum = float(result.get("max_score") or 0)
        percent = 100 * float(result.get("score") or 0) / maximum if maximum else 0.0
        self.total_percent += percent
        self.histogram[min(BINS - 1, int(percent // (100 / BINS)))] += 1
        errors = []
        for exercise in result.get("exercises", []):
            key = exercise["id"]
            if exercise.get("status") == "passed":
                self.passed[key] += 1
            elif exercise.get("status") == "error":
                errors.append(f"{key}: {exercise.get('message', '')}")
            for diagnosis in exercise.get("diagnoses", []):
                self.diagnoses.setdefault(key, Counter())[diagnosis["code"]] += 1
                self.examples.setdefault((key, diagnosis["code"]), diagnosis.get("message", ""))
        heapq.heappush(self.slowest, (float(result.get("duration") or 0), student))
        if len(self.slowest) > LISTED:
            heapq.heappop(self.slowest)
        if errors:
            self.failing_count += 1
            if len(self.failing) < LISTED:
                self.failing.append((student, errors[0], len(errors) - 1))

    def observer(self, student: Any, result: dict[str, Any] | None) -> None:
        """For ``write_outputs``: called with each (Student, result) as the outputs stream past; None for a
        student of the student map who handed nothing in."""
        if result is None:
            self.absent += 1
        else:
            self.add(student.key, result)


# The dashboard's words, in the course's language (the results'): grader/i18n.py.
LABELS = {
    "title": N_("Class results"),
    "summary": N_("{students} submissions · mean score {mean} %"),
    "absent": N_(" · {absent} students of the student map handed nothing in"),
    "scores": N_("Scores"),
    "exercises": N_("Exercises"),
    "could_not_run": N_("Submissions that could not run"),
    "slowest": N_("Slowest submissions"),
    "bar_title": N_("{count} submissions"),
    "histogram": N_("score histogram"),
    "exercise": N_("exercise"),
    "exercise_title": N_("title"),
    "passed_full": N_("passed (full marks)"),
    "no_mistakes": N_("No mistakes diagnosed."),
    "common_diagnoses": N_("Most common diagnoses"),
    "diagnosis": N_("diagnosis"),
    "students": N_("students"),
    "example": N_("example message"),
    "none": N_("None."),
    "and_more": N_("{why} (and {more} more)"),
    "more_failing": N_("… and {more} more (see grades.csv)."),
}


def render_dashboard(stats: ClassStats, *, title: str | None = None, lang: str | None = None) -> str:
    """The page, in ``lang`` (default: the language of the results it tallied, else English)."""
    tr = translator(lang or stats.lang or "en")
    title = title if title is not None else say(tr, LABELS["title"])
    mean = stats.total_percent / stats.students if stats.students else 0.0
    parts = [_HEAD.format(title=escape(title), lang=tr.lang), f"<h1>{escape(title)}</h1>",
             "<p>" + escape(say(tr, LABELS["summary"], students=stats.students, mean=f"{mean:.1f}"))
             + (escape(say(tr, LABELS["absent"], absent=stats.absent)) if stats.absent else "") + "</p>",
             f"<h2>{escape(say(tr, LABELS['scores']))}</h2>", _histogram(stats.histogram, tr),
             f"<h2>{escape(say(tr, LABELS['exercises']))}</h2>", _pass_rates(stats, tr), _diagnoses(stats, tr),
             f"<h2>{escape(say(tr, LABELS['could_not_run']))}</h2>", _failing(stats, tr),
             f"<h2>{escape(say(tr, LABELS['slowest']))}</h2>", _slowest(stats, tr), "</main></body></html>\n"]
    return "\n".join(parts)


_HEAD = """<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #222; }}
table {{ border-collapse: collapse; margin: .5rem 0 1.5rem; }}
td, th {{ padding: .2rem .6rem; border-bottom: 1px solid #ddd; text-align: left; vertical-align: top; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
svg text {{ font-size: 11px; fill: #444; }}
.bar {{ fill: #4a7bd0; }} .ok {{ fill: #3a9a5b; }} .track {{ fill: #eee; }}
</style></head><body><main>"""


def _histogram(counts: list[int], tr: Translator) -> str:
    width, height, top = 600, 180, max(counts) or 1
    step = width / BINS
    bars = []
    for i, count in enumerate(counts):
        h = (height - 30) * count / top
        x = i * step
        bars.append(f'<rect class="bar" x="{x + 4:.1f}" y="{height - 20 - h:.1f}" width="{step - 8:.1f}" '
                    f'height="{h:.1f}"><title>{escape(say(tr, LABELS["bar_title"], count=count))}</title></rect>'
                    f'<text x="{x + step / 2:.1f}" y="{height - 24 - h:.1f}" text-anchor="middle">{count}</text>'
                    f'<text x="{x + step / 2:.1f}" y="{height - 5}" text-anchor="middle">'
                    f'{i * 100 // BINS}–{(i + 1) * 100 // BINS}%</text>')
    return (f'<svg role="img" aria-label="{escape(say(tr, LABELS["histogram"]))}" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}">{"".join(bars)}</svg>')


def _pass_rates(stats: ClassStats, tr: Translator) -> str:
    rows = []
    for key, title in stats.exercises:
        rate = stats.passed[key] / stats.students if stats.students else 0.0
        bar = (f'<svg width="160" height="12" aria-hidden="true"><rect class="track" width="160" height="12"/>'
               f'<rect class="ok" width="{160 * rate:.1f}" height="12"/></svg>')
        rows.append(f"<tr><td>{escape(key)}</td><td>{escape(title)}</td><td>{bar}</td>"
                    f'<td class="n">{100 * rate:.0f} %</td><td class="n">{stats.passed[key]}/{stats.students}</td></tr>')
    return (f"<table><tr><th>{escape(say(tr, LABELS['exercise']))}</th><th>{escape(say(tr, LABELS['exercise_title']))}</th>"
            f"<th colspan=2>{escape(say(tr, LABELS['passed_full']))}</th><th></th></tr>" + "".join(rows) + "</table>")


def _diagnoses(stats: ClassStats, tr: Translator) -> str:
    rows = []
    for key, _ in stats.exercises:
        for code, count in sorted(stats.diagnoses.get(key, Counter()).items(), key=lambda kv: (-kv[1], kv[0]))[:3]:
            rows.append(f'<tr><td>{escape(key)}</td><td>{escape(code)}</td><td class="n">{count}</td>'
                        f"<td>{escape(stats.examples[(key, code)])}</td></tr>")
    if not rows:
        return f"<p>{escape(say(tr, LABELS['no_mistakes']))}</p>"
    head = "".join(f"<th>{escape(say(tr, LABELS[key]))}</th>" for key in ("exercise", "diagnosis", "students", "example"))
    return (f"<h3>{escape(say(tr, LABELS['common_diagnoses']))}</h3><table><tr>{head}</tr>" + "".join(rows) + "</table>")


def _link(student: str) -> str:
    return f'<a href="feedback/{escape(student)}.html">{escape(student)}</a>'


def _failing(stats: ClassStats, tr: Translator) -> str:
    if not stats.failing:
        return f"<p>{escape(say(tr, LABELS['none']))}</p>"
    more = stats.failing_count - len(stats.failing)
    rows = "".join(f"<tr><td>{_link(s)}</td><td>{escape(say(tr, LABELS['and_more'], why=why, more=n) if n else why)}</td></tr>"
                   for s, why, n in stats.failing)
    return f"<table>{rows}</table>" + (f"<p>{escape(say(tr, LABELS['more_failing'], more=more))}</p>" if more > 0 else "")


def _slowest(stats: ClassStats, tr: Translator) -> str:
    rows = "".join(f'<tr><td>{_link(s)}</td><td class="n">{seconds:.2f} s</td></tr>'
                   for seconds, s in sorted(stats.slowest, reverse=True))
    return f"<table>{rows}</table>" if rows else f"<p>{escape(say(tr, LABELS['none']))}</p>"
