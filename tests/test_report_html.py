"""The HTML report: escaping, math, plots, self-containment, accessibility basics, and a real browser.

The results are real: a copy of the bundled example submission (three typical mistakes) with hostile
output printed at import and one function that raises, graded once for the whole module.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest
import torch
from click.testing import CliRunner
from markupsafe import escape

import browser
from conftest import EXERCISES, ROOT
from grader.checks.compare import compare
from grader.cli import main
from grader.report.html import latex_to_mathml, render_html, render_markdown
from grader.report.json_report import parse_json, render_json
from grader.results import VALUES_CAP, SubmissionResult, Values
from grader.session import check_submission

EXAMPLES = ROOT / "examples" / "submissions"
SCHEMA = json.loads((ROOT / "grader" / "results.schema.json").read_text("utf-8"))

# What a student's program might print: each line would run or load something if it were markup.
HOSTILE = [
    "<script>document.title='pwned'</script>",
    "</textarea></pre></code><script>document.body.appendChild(document.createElement('aside')).id='pwned'</script>",
    "<img src=x onerror=\"document.title='pwned'\"><iframe src=\"https://example.com/\"></iframe>",
]
RAISING = """

def grad_sum(x):  # replaces the correct one above: an integer tensor cannot require gradients
    x = torch.arange(4)
    x.requires_grad_(True)
    return x
"""


@pytest.fixture(scope="module")
def hostile_submission(tmp_path_factory) -> Path:
    prints = "".join(f"print({line!r})\n" for line in HOSTILE)
    path = tmp_path_factory.mktemp("hostile") / "mallory.py"
    path.write_text((EXAMPLES / "grace.py").read_text() + "\n" + prints + RAISING)
    return path


@pytest.fixture(scope="module")
def result(sandbox, hostile_submission: Path) -> SubmissionResult:
    return check_submission(hostile_submission, sandbox, exercises_dir=EXERCISES)


@pytest.fixture(scope="module")
def page(result: SubmissionResult) -> str:
    return render_html(result)


class Tags(HTMLParser):
    """Every start tag of a page, with its attributes, in document order."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def named(self, name: str) -> list[dict[str, str | None]]:
        return [attrs for tag, attrs in self.tags if tag == name]


def card(page: str, exercise_id: str) -> str:
    """The HTML of one exercise's card."""
    cards = re.findall(r'<section class="card.*?</section>', page, flags=re.S)
    return next(c for c in cards if re.search(rf'<span class="title"[^>]*><code>{exercise_id}</code>', c))


# --------------------------------------------------------------------------- the results carry what it needs


def test_results_carry_prompt_values_and_line_text(result: SubmissionResult) -> None:
    detach = next(e for e in result.exercises if e.id == "detach")
    assert "$" in detach.prompt and "detach" in detach.prompt
    failing = [t for c in detach.checks if c.name == "reference" for t in c.trials if not t.passed]
    assert failing and all(t.values is not None for t in failing)
    for trial in failing:
        assert 0 < len(trial.values.got) == len(trial.values.expected) <= VALUES_CAP
    grad_sum = next(e for e in result.exercises if e.id == "sum")
    lines = [d for d in grad_sum.diagnoses if d.line is not None]
    assert lines and lines[0].line_text == "x.requires_grad_(True)"
    # the optional fields validate and survive the JSON round trip, NaN and all
    document = json.loads(render_json(result))
    jsonschema.validate(document, SCHEMA, cls=jsonschema.Draft202012Validator)
    assert parse_json(render_json(result)) == result


def test_values_are_a_window_around_the_worst_element() -> None:
    expected = torch.zeros(1000, dtype=torch.float64)
    got = expected.clone()
    got[700] = 5.0
    comparison = compare(got, expected, rtol=1e-4, atol=1e-5)
    values = comparison.values
    assert values is not None and len(values.got) == VALUES_CAP
    assert values.start <= 700 < values.start + VALUES_CAP and values.got[700 - values.start] == 5.0
    assert compare(expected, expected, rtol=1e-4, atol=1e-5).values is None  # nothing to plot when passed


def test_non_finite_values_survive_json_and_are_labelled(result: SubmissionResult) -> None:
    trial = next(t for c in result.exercises[3].checks for t in c.trials if t.values is not None)
    original, trial.values = trial.values, Values(0, [math.nan, math.inf, 1.0], [1.0, 2.0, 3.0])
    try:
        back = parse_json(render_json(result)).exercises[3]
        again = next(t for c in back.checks for t in c.trials if t.values is not None).values
        assert math.isnan(again.got[0]) and again.got[1:] == [math.inf, 1.0]
        svg = re.search(r"<svg.*?</svg>", render_html(result).split('id="exercise-4"')[1], flags=re.S)
        assert svg is not None and ">nan</text>" in svg.group() and ">inf</text>" in svg.group()
    finally:
        trial.values = original  # the module's result is shared


# --------------------------------------------------------------------------- the page


def test_score_and_one_card_per_exercise(result: SubmissionResult, page: str) -> None:
    assert page.startswith("<!doctype html>")
    assert f'<strong id="total-score">{_points(result)}</strong>' in page
    assert page.count('<section class="card') == len(result.exercises) == 10
    for exercise in result.exercises:
        text = card(page, exercise.id)
        assert f"status-{exercise.status}" in text
        assert {"passed": "Passed", "failed": "Failed", "error": "Error"}[exercise.status] in text


def test_diagnosis_hint_and_line_of_code(page: str) -> None:
    detach = card(page, "detach")
    assert "u was not detached" in detach and "Hint:" in detach and ".detach()" in detach
    grad_sum = card(page, "sum")
    assert re.search(r"Line \d+:", grad_sum)
    assert "x.requires_grad_(True)</code>" in grad_sum


def test_student_output_stays_text(page: str) -> None:
    tags = Tags(page)
    assert not {"script", "img", "iframe", "textarea", "aside"} & {tag for tag, _ in tags.tags}
    assert not [name for _, attrs in tags.tags for name in attrs if name.startswith("on")]
    assert "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;" in page
    assert "&lt;/textarea&gt;&lt;/pre&gt;&lt;/code&gt;" in page
    # each output block holds every line, so the student's </pre> did not close it
    blocks = re.findall(r'<pre class="output"[^>]*><code>(.*?)</code></pre>', page, flags=re.S)
    assert len(blocks) == 10
    assert all(str(escape(line)) in block for block in blocks for line in HOSTILE)


def test_prompt_math_is_mathml(page: str) -> None:
    square = card(page, "square_vjp")
    assert square.count("<math") >= 5 and "<msup>" in square
    assert "\\mathbf" not in square and "$" not in re.sub(r"<pre.*?</pre>", "", square, flags=re.S)
    assert "<math" in card(page, "log_sin") and "<mfrac>" in card(page, "log_sin")


def test_markdown_and_math_cannot_inject_markup() -> None:
    html = render_markdown("Raw <script>alert(1)</script> and ![x](https://example.com/x.png) and $a<b$")
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "<img" not in html and "<mo>&lt;</mo>" in html
    # \text{} passes markup through latex2mathml unescaped: the allow-list falls back to the source
    smuggled = latex_to_mathml(r"\text{<script>alert(1)</script>}")
    assert "<script" not in smuggled and smuggled.startswith('<code class="tex">')
    assert latex_to_mathml(r"\frac{1}{x}", display=True).startswith('<math display="block">')


def test_plot_for_a_mismatch(page: str, result: SubmissionResult) -> None:
    detach = card(page, "detach")
    svg = re.search(r"<svg.*?</svg>", detach, flags=re.S)
    assert svg is not None
    assert 'role="img"' in svg.group() and "<title" in svg.group() and "<desc" in svg.group()
    shown = next(t.values for e in result.exercises if e.id == "detach" for c in e.checks if c.name == "reference"
                 for t in c.trials if not t.passed and t.values is not None)
    assert svg.group().count('<circle class="expected" cx') == len(shown.expected)  # not the legend's
    assert svg.group().count('<rect class="got" x') == len(shown.got)
    assert "Worst mismatches" in detach and "<svg" not in card(page, "dot")  # a passed exercise has no plot


def test_self_contained(page: str) -> None:
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, flags=re.I)
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert "default-src 'none'" in page  # and a policy that would refuse both, should one slip in


def test_accessibility_basics(page: str) -> None:
    tags = Tags(page)
    assert tags.named("html")[0].get("lang") == "en"
    levels = [int(tag[1]) for tag, _ in tags.tags if re.fullmatch(r"h[1-6]", tag)]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:])), "a heading level is skipped"
    assert all(th.get("scope") in ("col", "row") for th in tags.named("th"))
    assert all(svg.get("role") == "img" and svg.get("aria-labelledby") for svg in tags.named("svg"))
    assert "@media print" in page and "@media (max-width" in page and 'name="viewport"' in page


def test_cli_writes_the_page_atomically(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    run = CliRunner().invoke(main, ["check", str(EXAMPLES / "grace.py"), "--exercises", str(EXERCISES),
                                    "--only", "dot", "--only", "detach", "--html", str(out)])
    assert run.exit_code == 1, run.output
    assert "detach" in run.stdout and not run.stdout.lstrip().startswith("<")  # text still on stdout
    assert out.read_text("utf-8").count('<section class="card') == 2
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary file left behind


def test_cli_refuses_a_missing_folder_before_grading(tmp_path: Path) -> None:
    run = CliRunner().invoke(main, ["check", str(EXAMPLES / "grace.py"), "--html", str(tmp_path / "no" / "r.html")])
    assert run.exit_code == 2 and "no such directory" in run.output


# --------------------------------------------------------------------------- a real browser


@pytest.fixture(scope="module")
def browser_dom(page: str, tmp_path_factory) -> str:
    """The DOM chromium built from the page (one launch for the module)."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium is not installed (scripts/install-test-deps installs Debian's package)")
    folder = tmp_path_factory.mktemp("browser")
    path = folder / "report.html"
    path.write_text(page, encoding="utf-8")
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={folder / 'profile'}", "--dump-dom", path.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0 and "<html" in done.stdout, done.stderr[-2000:]
    return done.stdout


def test_browser_shows_the_report(browser_dom: str, result: SubmissionResult) -> None:
    assert re.search(rf'<strong id="total-score">{re.escape(_points(result))}</strong>', browser_dom)
    assert browser_dom.count('<section class="card') == len(result.exercises)
    assert "u was not detached" in browser_dom and "<math" in browser_dom and "<svg" in browser_dom


def test_browser_ran_no_student_script(browser_dom: str, result: SubmissionResult) -> None:
    title = re.search(r"<title>(.*?)</title>", browser_dom, flags=re.S)
    assert title is not None and "pwned" not in title.group(1)
    assert title.group(1).startswith("Grading report: ")
    assert "<aside" not in browser_dom and "<script" not in browser_dom and "<img" not in browser_dom
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in browser_dom  # shown as text instead


def _points(result: SubmissionResult) -> str:
    from grader.report.common import points

    return points(result.score, result.max_score)


# --------------------------------------------------------------------------- artefacts and accessibility

ARTIFACTS = ROOT / "test-artifacts"  # git-ignored: kept after the run for people (and CI uploads) to look at
AXE = ROOT / "tests" / "a11y" / "node_modules" / "axe-core" / "axe.min.js"  # scripts/install-test-deps
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


@pytest.fixture(scope="module")
def page_file(page: str, tmp_path_factory) -> Path:
    if browser.chromium() is None:
        pytest.skip("chromium is not installed (scripts/install-test-deps installs Debian's package)")
    path = tmp_path_factory.mktemp("page") / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


def test_browser_screenshot_of_a_mixed_submission(page_file: Path, result: SubmissionResult, tmp_path: Path) -> None:
    """A PNG of the report as a desktop browser shows it: passed and failed cards together."""
    assert {"passed", "failed"} <= {e.status for e in result.exercises}
    ARTIFACTS.mkdir(exist_ok=True)
    out = ARTIFACTS / "report-mixed.png"
    out.unlink(missing_ok=True)
    browser.screenshot(page_file, out, tmp_path / "profile", size=(1280, 2000))
    png = out.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    assert (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")) == (1280, 2000)
    assert len(png) > 50_000, "the screenshot looks blank"


@pytest.fixture(scope="module")
def axe_results(page_file: Path, tmp_path_factory) -> dict:
    """axe-core's verdict on the rendered page (WCAG 2.2 A/AA and best practices)."""
    if not AXE.exists():
        pytest.skip("axe-core is not installed: scripts/install-test-deps (npm ci --prefix tests/a11y)")
    with browser.DevTools(tmp_path_factory.mktemp("axe-profile")) as tab:
        tab.open(page_file)
        tab.evaluate(AXE.read_text("utf-8"))
        results = tab.evaluate(f"axe.run(document, {{runOnly: {{type: 'tag', values: {json.dumps(AXE_TAGS)}}}}})"
                               ".then(r => JSON.parse(JSON.stringify(r)))", wait=True)
    ARTIFACTS.mkdir(exist_ok=True)
    summary = {"axe": results["testEngine"]["version"], "violations": results["violations"],
               "incomplete": [{"id": r["id"], "help": r["help"], "nodes": len(r["nodes"])}
                              for r in results["incomplete"]],
               "passes": [r["id"] for r in results["passes"]]}
    (ARTIFACTS / "axe-report.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    return results


def test_axe_finds_no_accessibility_violation(axe_results: dict) -> None:
    violations = [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
                  for v in axe_results["violations"]]
    assert violations == []
    assert len(axe_results["passes"]) >= 20  # the rules did run: landmarks, headings, names, contrast, ...


# WCAG 2.x relative luminance and contrast ratio, for the palette of report.css.
def _luminance(colour: str) -> float:
    colour = colour.lstrip("#")
    if len(colour) == 3:
        colour = "".join(c * 2 for c in colour)
    channels = [int(colour[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    lighter, darker = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_contrast_function_matches_wcag_examples() -> None:
    assert contrast("#000", "#fff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic just-fails grey


def test_palette_contrast_meets_wcag_aa() -> None:
    """Text ≥ 4.5:1 on every background it is drawn on; plot marks ≥ 3:1 (non-text contrast)."""
    css = (ROOT / "grader" / "report" / "templates" / "report.css").read_text("utf-8")
    root = re.search(r":root\s*{(.*?)}", css, flags=re.S)
    assert root is not None
    palette = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{3,6})", root.group(1)))
    output = re.search(r"\.output\s*{[^}]*background:\s*(#[0-9a-fA-F]+);\s*color:\s*(#[0-9a-fA-F]+)", css)
    assert output is not None
    text_pairs = [(fg, bg) for fg in ("text", "muted", "passed", "failed", "error", "expected")
                  for bg in ("bg", "card", "code-bg")]
    text_pairs += [("text", "worst")]
    low = [f"{fg} on {bg}: {contrast(palette[fg], palette[bg]):.2f}" for fg, bg in text_pairs
           if contrast(palette[fg], palette[bg]) < 4.5]
    low += [f"output: {contrast(*output.groups()):.2f}"] if contrast(*output.groups()) < 4.5 else []
    low += [f"{mark} mark on card: {contrast(palette[mark], palette['card']):.2f}"
            for mark in ("expected", "got", "diff") if contrast(palette[mark], palette["card"]) < 3.0]
    assert low == []
