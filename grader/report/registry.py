"""Every output format by name, and writing several at once: what ``--format FMT[:PATH]`` chooses from.

One table for every command that reports (``check``, ``ci``, later ``grade``), so a format added here
is available everywhere. Renderers are imported when used: choosing ``text`` never imports XML code.

Rules of a command line's formats (``parse_targets``): each is ``FMT`` (standard output) or
``FMT:PATH`` (a file); standard output gets at most one, and when every format goes to a file the
text report still goes to standard output, so a terminal or a CI log is never left empty.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.files import write_atomic
from grader.results import SubmissionResult


class ReportError(Exception):
    """A format cannot be chosen or written: usage errors with a message, never a traceback."""


@dataclass(frozen=True)
class RenderOptions:
    verbose: bool = False
    color: bool | None = None  # text on standard output only: files are never coloured
    width: int | None = None


Render = Callable[[Sequence[SubmissionResult], RenderOptions], str]


@dataclass(frozen=True)
class Renderer:
    name: str
    summary: str  # one line for --help and the docs
    render: Render
    several: bool = True  # one document can hold several submissions (``ci``, ``grade``)
    # An effect beyond the document, e.g. GitHub's job summary; run once whenever the format is chosen.
    publish: Callable[[Sequence[SubmissionResult]], None] | None = None


def _text(results: Sequence[SubmissionResult], options: RenderOptions) -> str:
    from grader.report.text import render_text

    return "\n".join(render_text(r, verbose=options.verbose, color=options.color, width=options.width)
                     for r in results)


def _json(results: Sequence[SubmissionResult], options: RenderOptions) -> str:
    from grader.report.json_report import render_json

    return render_json(results[0]) + "\n"


def _junit(results: Sequence[SubmissionResult], options: RenderOptions) -> str:
    from grader.report.junit import render_junit_many

    return render_junit_many(results)


def _github(results: Sequence[SubmissionResult], options: RenderOptions) -> str:
    from grader.report.github import render_github_many

    return render_github_many(results)


def _github_summary(results: Sequence[SubmissionResult]) -> None:
    from grader.report.github import append_step_summary

    append_step_summary(results)


def _markdown(results: Sequence[SubmissionResult], options: RenderOptions) -> str:
    from grader.report.markdown import render_markdown_many

    return render_markdown_many(results)


def _html(results: Sequence[SubmissionResult], options: RenderOptions) -> str:
    from grader.report.html import render_html

    return render_html(results[0])


def _gradescope(results: Sequence[SubmissionResult], options: RenderOptions) -> str:
    from grader.report.gradescope import render_gradescope

    return render_gradescope(results[0]) + "\n"


RENDERERS: dict[str, Renderer] = {r.name: r for r in [
    Renderer("text", "the terminal report (coloured on a terminal)", _text),
    Renderer("json", "the result document (docs/results.md)", _json, several=False),
    Renderer("junit", "JUnit XML for GitLab, Jenkins and test reporters", _junit),
    Renderer("github", "GitHub Actions annotations, plus the job summary when $GITHUB_STEP_SUMMARY is set",
             _github, publish=_github_summary),
    Renderer("markdown", "a Markdown report", _markdown),
    Renderer("gradescope", "Gradescope's results.json", _gradescope, several=False),
    Renderer("html", "a self-contained HTML page (math, plots, no network needed)", _html, several=False),
]}


@dataclass(frozen=True)
class OutputTarget:
    format: str
    path: Path | None = None  # None: standard output

    def __str__(self) -> str:
        return self.format if self.path is None else f"{self.format}:{self.path}"


def parse_target(spec: str) -> OutputTarget:
    """``FMT`` or ``FMT:PATH``."""
    name, colon, path = spec.partition(":")
    name = name.strip().lower()
    if name not in RENDERERS:
        raise ReportError(f"unknown format {name!r} in {spec!r}; formats: {', '.join(RENDERERS)}")
    if colon and not path:
        raise ReportError(f"{spec!r}: a path must follow the colon (FMT:PATH)")
    return OutputTarget(name, Path(path) if path else None)


def parse_targets(specs: Sequence[str], default: str = "text") -> list[OutputTarget]:
    """The formats of a command line, checked together; ``default`` goes to stdout when nothing else does."""
    targets = [parse_target(spec) for spec in specs]
    on_stdout = [t for t in targets if t.path is None]
    if len(on_stdout) > 1:
        raise ReportError(f"only one format can go to standard output, got {', '.join(map(str, on_stdout))}; "
                          "write the others to files with FMT:PATH")
    paths = [t.path.resolve() for t in targets if t.path is not None]
    if len(set(paths)) != len(paths):
        raise ReportError("two formats would write the same file")
    if not on_stdout:
        targets.insert(0, OutputTarget(default))
    return targets


def emit(results: Sequence[SubmissionResult], targets: Sequence[OutputTarget],
         options: RenderOptions = RenderOptions()) -> str:
    """Write the file targets and run each chosen format's ``publish``; return what goes to stdout."""
    stdout = ""
    for target in targets:
        renderer = RENDERERS[target.format]
        if len(results) != 1 and not renderer.several:
            raise ReportError(f"format {target.format} holds one submission, and {len(results)} were graded")
        if target.path is None:
            stdout += renderer.render(results, options)
        else:
            file_options = RenderOptions(verbose=options.verbose, color=False, width=options.width or 100)
            document = renderer.render(results, file_options)
            try:
                write_atomic(target.path, document)
            except OSError as exc:
                raise ReportError(f"cannot write the {target.format} report to {target.path}: "
                                  f"{exc.strerror or exc}") from None
        if renderer.publish is not None:
            try:
                renderer.publish(results)
            except OSError as exc:
                raise ReportError(f"cannot write the {target.format} summary: {exc}") from None
    return stdout


def formats_help() -> str:
    """The formats for --help: one line each."""
    return "; ".join(f"{r.name}: {r.summary}" for r in RENDERERS.values())
