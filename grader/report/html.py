"""The HTML report: one self-contained page per submission that a student can open, keep and print.

Self-contained means nothing is fetched when the page opens: CSS is inline, math is MathML (rendered
here, offline, from the prompt's LaTeX), plots are inline SVG, and a Content-Security-Policy forbids
scripts and every network load. Everything that comes from the student's program is text: jinja2
autoescapes it, and the only markup not written by the templates is the prompt's (Markdown with raw
HTML disabled, math through a MathML allow-list). The renderer reads a ``SubmissionResult`` only.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePath
from typing import Any

import jinja2
import latex2mathml.converter
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markupsafe import Markup
from mdit_py_plugins.dollarmath import dollarmath_plugin

from grader.files import write_atomic
from grader.i18n import N_, Translator, check_label, translator
from grader.report.common import clean_text, points
from grader.results import CheckResult, ExerciseResult, Mismatch, SubmissionResult, TrialOutcome, Values

WORST_ROWS = 5  # mismatch rows per exercise: the worst ones teach; the rest are counted
STATUS_WORDS = {"passed": ("✓", N_("Passed")), "failed": ("✗", N_("Failed")), "error": ("!", N_("Error"))}


def render_html(result: SubmissionResult) -> str:
    """The whole page as a string (UTF-8 text, ``<!doctype html>`` first), in the result's language:
    the templates' words through jinja2's i18n extension, ``<html lang>`` set to match."""
    tr = translator(result.lang)
    passed = sum(e.status == "passed" for e in result.exercises)
    return _environment(result.lang).get_template("report.html.j2").render(
        lang=result.lang,
        result=result,
        total=points(result.score, result.max_score),
        passed=passed,
        exercises=[_exercise_view(e, index, result.submission, tr) for index, e in enumerate(result.exercises, 1)],
        notes=[clean_text(note) for note in result.notes],
    )


def write_html(result: SubmissionResult, path: Path) -> None:
    """Render and write atomically: a reader (a browser reloading, an LMS upload) never sees half a page."""
    write_atomic(path, render_html(result))


@lru_cache(maxsize=None)  # one environment per language: gettext is installed into it
def _environment(lang: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("grader.report", "templates"),
        autoescape=True,  # every template, whatever its extension: student text is never markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    # newstyle: _("... %(n)s", n=...) formats and autoescapes its arguments.
    env.install_gettext_translations(translator(lang), newstyle=True)  # type: ignore[attr-defined]
    env.filters["num"] = _g
    env.filters["clean"] = clean_text  # for text that may quote the student's program
    env.filters["check_label"] = lambda name: check_label(name, translator(lang))
    env.filters["check_details"] = lambda check: _check_details(check, translator(lang))
    return env


def _check_details(check: CheckResult, tr: Translator) -> str:
    """A check's message when it says more than its pass count (the same words as the grader's summary)."""
    counts = tr("{passed}/{total} passed", passed=check.passed, total=check.total)
    return "" if check.message in ("", counts) else check.message


# --------------------------------------------------------------------------- view of one exercise


@dataclass
class MismatchRow:
    """One line of the worst-mismatches table, already formatted."""

    check: str
    trial: str
    where: str
    got: str
    expected: str
    abs_error: str
    outside: str


@dataclass
class ExerciseView:
    """What the template shows for one exercise; computed here so the template stays free of logic."""

    result: ExerciseResult
    anchor: str
    mark: str
    status_word: str
    score: str
    prompt: Markup
    message: str
    output: str
    line_numbers: bool  # false for notebooks: their lines number the cells joined, which no editor shows
    rows: list[MismatchRow] = field(default_factory=list)
    more_rows: int = 0
    plot: Plot | None = None


def _exercise_view(exercise: ExerciseResult, index: int, submission: str, tr: Translator) -> ExerciseView:
    mark, word = STATUS_WORDS.get(exercise.status, ("?", exercise.status.capitalize()))
    word = tr(word)
    failing = [(check.name, t) for check in exercise.checks for t in check.trials if not t.passed and not t.skipped]
    # One row per trial: the reference's numbers when it has them (exact), else another check's.
    by_trial: dict[str, tuple[str, TrialOutcome]] = {}
    for name, trial in sorted(failing, key=lambda pair: pair[0] != "reference"):
        if trial.mismatch is not None:
            by_trial.setdefault(trial.trial, (name, trial))
    with_numbers = sorted(by_trial.values(), key=lambda pair: _severity(pair[1].mismatch), reverse=True)
    rows = [_row(name, t, tr) for name, t in with_numbers[:WORST_ROWS]]
    # The plot shows one trial: the first the reference check failed, the exact comparison, if any.
    with_values = [(name, t) for name, t in failing if t.values is not None]
    plotted = min(with_values, key=lambda pair: pair[0] != "reference", default=None)
    return ExerciseView(
        result=exercise,
        anchor=f"exercise-{index}",
        mark=mark,
        status_word=word,
        score=points(exercise.score, exercise.max_score),
        prompt=render_markdown(exercise.prompt),
        message=clean_text(exercise.message),
        output=clean_text(exercise.output),
        line_numbers=PurePath(submission).suffix != ".ipynb",
        rows=rows,
        more_rows=len(with_numbers) - len(rows),  # trials with numbers beyond the table
        plot=_plot(plotted[1], plotted[0], f"plot-{index}", tr) if plotted else None,
    )


def _severity(m: Mismatch | None) -> float:
    """Sort key: the largest error first, NaN (no comparison possible) as bad as infinity."""
    assert m is not None
    return math.inf if math.isnan(m.max_abs_error) else m.max_abs_error


def _row(check: str, trial: TrialOutcome, tr: Translator) -> MismatchRow:
    m = trial.mismatch
    assert m is not None
    return MismatchRow(
        check=check_label(check, tr),
        trial=clean_text(trial.trial),
        where="[" + ", ".join(map(str, m.index)) + "]" if m.index else (tr("scalar") if m.total == 1 else "—"),
        got=_g(m.got),
        expected=_g(m.expected),
        abs_error=_g(m.max_abs_error, 3),
        outside=tr("{mismatched} of {total}", mismatched=m.mismatched, total=m.total),
    )


def _g(value: float | None, digits: int = 6) -> str:
    """A float as a student reads it: shortest of 6 significant digits, "—" for a missing value."""
    return "—" if value is None else format(value, f".{digits}g")


# --------------------------------------------------------------------------- Markdown and math


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    # html=False: raw HTML in a prompt is shown as text. Images are disabled because they would be
    # fetched when the page opens. $…$ needs no space inside and no digit after ("costs $5 and $6").
    md = MarkdownIt("commonmark", {"html": False}).disable("image")
    md.use(dollarmath_plugin, allow_labels=False, allow_space=False, allow_digits=False, double_inline=True)
    md.add_render_rule("math_inline", _math_rule(display=False))
    md.add_render_rule("math_inline_double", _math_rule(display=True))
    md.add_render_rule("math_block", _math_rule(display=True, block=True))
    return md


def _math_rule(*, display: bool, block: bool = False):  # noqa: ANN202 (markdown-it's rule signature)
    def rule(self: RendererHTML, tokens: list, idx: int, options: Any, env: Any) -> str:
        mathml = latex_to_mathml(tokens[idx].content.strip(), display=display)
        return f'<div class="math-block">{mathml}</div>\n' if block else str(mathml)

    return rule


@lru_cache(maxsize=256)  # prompts repeat on every page of a class: converting their LaTeX is most of a page's cost
def render_markdown(text: str) -> Markup:
    """A prompt's Markdown as HTML, its ``$…$`` and ``$$…$$`` math as MathML."""
    return Markup(_markdown().render(text))


# MathML presentation elements and attributes latex2mathml writes. Anything else (a script, an
# element smuggled in through \text{<…>}, an event handler) makes the formula fall back to its source.
_MATHML_ELEMENTS = frozenset(
    "math semantics annotation mrow mi mn mo ms mtext mspace mfrac msqrt mroot msub msup msubsup munder mover"
    " munderover mmultiscripts mprescripts none mtable mtr mtd mlabeledtr mstyle mpadded mphantom menclose"
    " merror maligngroup malignmark".split()
)
_MATHML_ATTRIBUTES = frozenset(
    "display mathvariant stretchy fence separator separators lspace rspace accent accentunder columnalign"
    " columnspacing columnlines rowspacing rowlines rowalign displaystyle scriptlevel minsize maxsize"
    " symmetric largeop movablelimits width height depth voffset linethickness form notation frame"
    " framespacing equalrows equalcolumns align mathsize bevelled numalign denomalign columnspan rowspan"
    " open close encoding".split()
)


def latex_to_mathml(tex: str, *, display: bool = False) -> Markup:
    """LaTeX to MathML, offline; LaTeX the converter cannot handle is shown as code instead."""
    try:
        tree = ET.fromstring(latex2mathml.converter.convert(tex, display="block" if display else "inline"))
        if all(_allowed(element) for element in tree.iter()):
            return Markup(ET.tostring(tree, encoding="unicode", short_empty_elements=False))
    except Exception:  # noqa: BLE001 (latex2mathml raises many types on bad input; the source is shown)
        pass
    dollars = "$$" if display else "$"
    return Markup('<code class="tex">{}</code>').format(f"{dollars}{tex}{dollars}")


def _allowed(element: ET.Element) -> bool:
    """Keep an element if MathML allows it; strip its namespace (HTML needs none) and unknown attributes."""
    element.tag = str(element.tag).rpartition("}")[2]
    for name in [name for name in element.attrib if name not in _MATHML_ATTRIBUTES]:
        del element.attrib[name]
    return element.tag in _MATHML_ELEMENTS


# --------------------------------------------------------------------------- the plot

# SVG user units: a value panel above a difference panel, sharing the element axis.
_WIDTH, _LEFT, _RIGHT = 640.0, 70.0, 12.0
_VALUES_TOP, _VALUES_BOTTOM = 34.0, 190.0
_DIFF_TOP, _DIFF_BOTTOM = 222.0, 310.0
_HEIGHT = 340.0


@dataclass
class Tick:
    y: float
    label: str


@dataclass
class Mark:
    """One plotted element: where it is, and a label instead when the value is not finite."""

    x: float
    y: float | None  # None: not finite, drawn as a label at the panel's edge
    label: str = ""


@dataclass
class Bar:
    x: float
    y: float
    height: float
    label: str = ""  # "NaN", "inf" when the difference is not finite


@dataclass
class Plot:
    """Geometry of the expected-vs-got plot in SVG units; the template only draws it."""

    id: str
    title: str
    description: str
    width: float
    height: float
    left: float
    right: float
    values_top: float
    values_bottom: float
    diff_top: float
    diff_bottom: float
    step: float
    marker: float  # marker radius, smaller when many elements share the width
    expected: list[Mark]
    got: list[Mark]
    expected_line: str  # polyline points of the finite expected values
    got_line: str
    value_ticks: list[Tick]
    diff_ticks: list[Tick]
    diff_zero: float
    bars: list[Bar]
    x_labels: list[tuple[float, str]]
    worst_x: float | None


def _plot(trial: TrialOutcome, check: str, plot_id: str, tr: Translator) -> Plot:
    values = trial.values
    assert values is not None
    n = len(values.got)
    step = (_WIDTH - _LEFT - _RIGHT) / max(n, 1)
    xs = [_LEFT + (i + 0.5) * step for i in range(n)]
    finite = [v for v in values.got + values.expected if math.isfinite(v)]
    to_value_y, value_ticks = _axis(finite, _VALUES_TOP, _VALUES_BOTTOM)
    diffs = [g - e for g, e in zip(values.got, values.expected)]
    to_diff_y, diff_ticks = _axis([d for d in diffs if math.isfinite(d)] + [0.0], _DIFF_TOP, _DIFF_BOTTOM)
    zero = to_diff_y(0.0)

    def marks(series: list[float]) -> list[Mark]:
        return [Mark(x, to_value_y(v), "") if math.isfinite(v) else Mark(x, None, _g(v)) for x, v in zip(xs, series)]

    bars = []
    for x, d in zip(xs, diffs):
        if math.isfinite(d):
            y = to_diff_y(d)
            bars.append(Bar(x - step * 0.3, min(y, zero), abs(zero - y)))
        else:
            bars.append(Bar(x, zero, 0.0, _g(d)))
    worst = _worst_position(trial.mismatch, values)
    last = values.start + n - 1
    x_labels = [(xs[0], str(values.start))] + ([(xs[-1], str(last))] if n > 1 else [])
    return Plot(
        id=plot_id,
        title=tr("Expected and got, element by element ({check}, {trial})", check=check_label(check, tr),
                 trial=clean_text(trial.trial)),
        description=_describe(trial, values, tr),
        width=_WIDTH, height=_HEIGHT, left=_LEFT, right=_WIDTH - _RIGHT,
        values_top=_VALUES_TOP, values_bottom=_VALUES_BOTTOM, diff_top=_DIFF_TOP, diff_bottom=_DIFF_BOTTOM,
        step=step, marker=max(1.5, min(4.0, step / 3)),
        expected=marks(values.expected), got=marks(values.got),
        expected_line=_polyline(xs, values.expected, to_value_y),
        got_line=_polyline(xs, values.got, to_value_y),
        value_ticks=value_ticks, diff_ticks=diff_ticks, diff_zero=zero, bars=bars,
        x_labels=x_labels,
        worst_x=xs[worst - values.start] if worst is not None and 0 <= worst - values.start < n else None,
    )


def _axis(data: list[float], top: float, bottom: float):  # noqa: ANN202 (a scale and its ticks)
    """A linear scale from data to SVG y (up is larger), with ticks at the extremes and at zero."""
    low, high = (min(data), max(data)) if data else (0.0, 1.0)
    if high - low <= 1e-12 * max(abs(low), abs(high), 1e-300):
        pad = abs(high) * 0.1 or 1.0
        low, high = low - pad, high + pad

    def to_y(v: float) -> float:
        return round(bottom - (v - low) / (high - low) * (bottom - top), 2)

    ticks = [Tick(to_y(low), _g(low, 3)), Tick(to_y(high), _g(high, 3))]
    if low < 0 < high:
        ticks.append(Tick(to_y(0.0), "0"))
    return to_y, ticks


def _polyline(xs: list[float], series: list[float], to_y) -> str:  # noqa: ANN001
    return " ".join(f"{x:.2f},{to_y(v)}" for x, v in zip(xs, series) if math.isfinite(v))


def _worst_position(mismatch: Mismatch | None, values: Values) -> int | None:
    """Flat index of the worst element: the value where got and expected are the mismatch's."""
    if mismatch is None:
        return None
    for offset, (g, e) in enumerate(zip(values.got, values.expected)):
        if _same(g, mismatch.got) and _same(e, mismatch.expected):
            return values.start + offset
    return None


def _same(a: float, b: float | None) -> bool:
    return b is not None and (a == b or (math.isnan(a) and math.isnan(b)))


def _describe(trial: TrialOutcome, values: Values, tr: Translator) -> str:
    """The plot in words, for screen readers (the table above gives the same numbers)."""
    n = len(values.got)
    text = tr("Elements {first} to {last} (flat index) of trial {trial}.", first=values.start,
              last=values.start + n - 1, trial=clean_text(trial.trial))
    m = trial.mismatch
    if m is not None:
        text += tr(" {mismatched} of {total} elements are outside the tolerance", mismatched=m.mismatched,
                   total=m.total)
        if m.index:
            text += tr("; the worst is at [{index}]", index=", ".join(map(str, m.index)))
        text += tr(": got {got}, expected {expected}.", got=_g(m.got), expected=_g(m.expected))
    return text
