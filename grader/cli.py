"""Command line: parse arguments, call the library, choose renderers. No grading logic lives here.

Exit codes: 0 every exercise passed (or validation succeeded), 1 something failed, 2 usage or spec
errors (click's own usage errors are 2 as well).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from grader.i18n import LANGUAGES, resolve_language

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _jobs_default() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def _fail(message: str) -> None:
    click.echo(f"grader: {message}", err=True)
    sys.exit(EXIT_USAGE)


def _output_targets(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list:
    """``--format`` values checked before anything is graded: a typo costs no torch import."""
    from grader.report.registry import ReportError, parse_targets

    try:
        return parse_targets(values)
    except ReportError as exc:
        raise click.BadParameter(str(exc)) from None


def _file_targets(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list:
    """``--format FMT:PATH`` of ``grade``: files only (a class on standard output helps nobody)."""
    from grader.report.registry import ReportError, parse_target

    try:
        targets = [parse_target(value) for value in values]
    except ReportError as exc:
        raise click.BadParameter(str(exc)) from None
    for target in targets:
        if target.path is None:
            raise click.BadParameter(f"{target.format}: give a file, as {target.format}:PATH")
    return targets


def _require_layers_here() -> None:
    """For commands whose sandboxes live in other processes: probe the layers here, refuse without one,
    and make every sandbox started from here on (the workers') refuse to run without them too."""
    import tempfile

    from grader.sandbox.layers import prepare
    from grader.sandbox.runner import REQUIRE_VARIABLE, chosen_layers

    with tempfile.TemporaryDirectory(prefix="grader-probe-") as probe:
        plan = prepare([], probe, chosen_layers())
    missing = [name for name, layer in plan.protections.items() if not layer.available]
    if missing:
        _fail(f"--require-sandbox: this machine lacks the {', '.join(missing)} layer(s) of the sandbox "
              "(`grader doctor` shows why)")
    os.environ[REQUIRE_VARIABLE] = "1"


def _format_option(default: str = "text"):
    """The ``--format FMT[:PATH]`` option of every command that reports (registry: grader/report/registry.py)."""
    from grader.report.registry import formats_help

    return click.option(
        "--format", "formats", multiple=True, metavar="FMT[:PATH]", callback=_output_targets,
        help=f"Report format, to stdout or with :PATH to a file; repeatable, at most one to stdout "
             f"(default: {default} to stdout). Formats: {formats_help()}.")


@contextmanager
def _sandbox(require: bool) -> Iterator[Any]:
    """The sandbox of a grading command: refuses to start without every protection layer when asked to,
    otherwise warns (after grading, when the zygote has long reported) about the layers this machine lacks."""
    from grader.sandbox.runner import Sandbox

    with Sandbox(required=require) as sandbox:  # forked before any exercise or submission is read
        if require and sandbox.missing_layers():
            _fail(f"--require-sandbox: this machine lacks the {', '.join(sandbox.missing_layers())} layer(s) "
                  "of the sandbox (`grader doctor` shows why)")
        yield sandbox
        if not require and sandbox.missing_layers():
            click.echo(f"grader: warning: student code ran without the {', '.join(sandbox.missing_layers())} "
                       "layer(s) of the sandbox here (`grader doctor` shows why; --require-sandbox refuses)",
                       err=True)


# Options several commands share, defined once.
_seed_option = click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random trials.")
_jobs_option = click.option("--jobs", type=click.IntRange(min=1), default=_jobs_default,
                            show_default="number of cores", help="Exercises graded at once.")
_verbose_option = click.option("-v", "--verbose", is_flag=True, help="Show every check and trial.")
_color_option = click.option("--color/--no-color", default=None,
                             help="Colour the text report (default: when a terminal).")
_require_option = click.option("--require-sandbox", is_flag=True,
                               help="Refuse to grade unless every protection layer is available (grader doctor).")
# Student-facing language (grader/i18n.py: standard library only, cheap to import here).
_lang_option = click.option("--lang", type=click.Choice(LANGUAGES), default=None,
                            help="Language of the feedback: en or zh (default: from LANGUAGE/LC_ALL/LC_MESSAGES/LANG, "
                                 "zh for a Chinese locale, else en).")


def _report(results: list, targets: list, *, verbose: bool = False, color: bool | None = None) -> None:
    """Write every chosen format: files, publish effects (e.g. GitHub's job summary), then stdout."""
    from grader.report.registry import RenderOptions, ReportError, emit

    try:
        click.echo(emit(results, targets, RenderOptions(verbose=verbose, color=color)), nl=False)
    except ReportError as exc:
        _fail(str(exc))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="autograd-grader", prog_name="grader")
def main() -> None:
    """Grade PyTorch autograd exercises: reference autograd, finite differences, sandboxed student code."""


@main.command()
@click.argument("submission", type=click.Path(exists=True, path_type=Path))
@click.option("--exercises", "exercises_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Catalog folder (default: ./exercises, else the bundled catalog).")
@click.option("--only", multiple=True, metavar="ID", help="Grade only this exercise (repeatable).")
@_format_option()
@_seed_option
@_jobs_option
@_verbose_option
@_color_option
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a self-contained HTML report to this file.")
@_require_option
@_lang_option
def check(submission: Path, exercises_dir: Path | None, only: tuple[str, ...], formats: list, seed: int,
          jobs: int, verbose: bool, color: bool | None, html_path: Path | None, require_sandbox: bool,
          lang: str | None) -> None:
    """Grade one SUBMISSION (.py or .ipynb) and print feedback."""
    if html_path is not None and not html_path.absolute().parent.is_dir():
        _fail(f"cannot write {html_path}: no such directory")  # said before grading, not after

    with _sandbox(require_sandbox) as sandbox:
        from grader.session import CheckError, check_submission

        try:
            result = check_submission(submission, sandbox, exercises_dir=exercises_dir, only=only, seed=seed,
                                      jobs=jobs, lang=resolve_language(lang))
        except CheckError as exc:
            _fail(str(exc))
            return
    _report([result], formats, verbose=verbose, color=color)
    if html_path is not None:
        from grader.report.html import write_html

        try:
            write_html(result, html_path)
        except OSError as exc:
            _fail(f"cannot write {html_path}: {exc.strerror or exc}")
    sys.exit(EXIT_OK if result.passed else EXIT_FAILED)


@main.command()
@click.option("--root", type=click.Path(exists=True, file_okay=False, path_type=Path), default=Path("."),
              help="The homework repository (default: the current folder).")
@click.option("--exercises", "exercises_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Catalog folder; overrides the repository's configuration (pin the course's copy in CI).")
@_format_option()
@_seed_option
@_jobs_option
@_verbose_option
@_color_option
@_require_option
@_lang_option
def ci(root: Path, exercises_dir: Path | None, formats: list, seed: int, jobs: int, verbose: bool,
       color: bool | None, require_sandbox: bool, lang: str | None) -> None:
    """Grade a homework repository's submissions (see grader.toml in docs/integrations.md).

    On GitHub Actions (GITHUB_ACTIONS=true) it also annotates failures and writes the job summary.
    """
    from grader.homework import HomeworkError, grade_homework, read_config
    from grader.report.registry import OutputTarget

    try:
        config = read_config(root)
    except HomeworkError as exc:
        _fail(str(exc))
        return
    with _sandbox(require_sandbox) as sandbox:
        from grader.session import CheckError

        try:
            results = grade_homework(config, sandbox, exercises_dir=exercises_dir, seed=seed, jobs=jobs,
                                     lang=resolve_language(lang))
        except (HomeworkError, CheckError) as exc:
            _fail(str(exc))
            return
    if os.environ.get("GITHUB_ACTIONS") == "true" and all(t.format != "github" for t in formats):
        formats = [*formats, OutputTarget("github")]  # after the log's text report, on stdout too
    _report(results, formats, verbose=verbose, color=color)
    sys.exit(EXIT_OK if all(r.passed for r in results) else EXIT_FAILED)


@main.group()
def gradescope() -> None:
    """Gradescope autograder bundles (docs/integrations.md)."""


@gradescope.command(name="build")
@click.option("--exercises", "exercises_dir", required=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path), help="The catalog to grade with.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("autograder.zip"),
              show_default=True, help="The zip to upload to Gradescope.")
@click.option("--hidden", "hidden_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Hidden checks (as for grade --hidden): tests students see only after publication.")
@click.option("--lang", type=click.Choice(LANGUAGES), default=None,
              help="Default language of the feedback in the bundle (GRADER_LANG on Gradescope wins; "
                   "default: the container's locale).")
def gradescope_build(exercises_dir: Path, out: Path, hidden_dir: Path | None, lang: str | None) -> None:
    """Write an autograder zip: setup.sh (pinned dependencies), run_autograder, the grader and the catalog."""
    from grader.gradescope_bundle import BundleError, build_bundle

    try:
        click.echo(f"wrote {build_bundle(exercises_dir, out, hidden_dir, lang)}")
    except BundleError as exc:
        _fail(str(exc))


@gradescope.command(name="run")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Gradescope's /autograder folder (default: $GRADER_AUTOGRADER_ROOT, else /autograder).")
@click.option("--lang", type=click.Choice(LANGUAGES), default=None, envvar="GRADER_LANG", show_envvar=True,
              help="Language of the feedback: en or zh (default: $GRADER_LANG, else from the locale).")
def gradescope_run(root: Path | None, lang: str | None) -> None:
    """What run_autograder calls: grade ROOT/submission into ROOT/results/results.json (always written)."""
    from grader.gradescope_bundle import DEFAULT_ROOT, run_autograder
    from grader.sandbox.runner import Sandbox

    root = root or Path(os.environ.get("GRADER_AUTOGRADER_ROOT") or DEFAULT_ROOT)
    with Sandbox() as sandbox:  # forked before any exercise or submission is read
        _, report = run_autograder(root, sandbox, lang=resolve_language(lang))
    click.echo(report.rstrip("\n"))  # Gradescope keeps stdout for the course staff


@main.command()
@click.argument("path", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--solutions", "solutions_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Model answers (default: solutions/ beside the catalog).")
@click.option("--seed", type=int, default=0, show_default=True)
def validate(path: Path | None, solutions_dir: Path | None, seed: int) -> None:
    """Check the catalog at PATH: schema, model answers score full marks, finite differences agree."""
    from grader.sandbox.runner import Sandbox

    with Sandbox() as sandbox:
        from grader.validate import validate_catalog

        report = validate_catalog(path, sandbox, solutions=solutions_dir, seed=seed)
    for line in report.lines:
        click.echo(line)
    sys.exit(EXIT_OK if report.ok else (EXIT_USAGE if report.spec_errors else EXIT_FAILED))


@main.command(name="list")
@click.option("--exercises", "exercises_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
def list_exercises(exercises_dir: Path | None) -> None:
    """List the exercises of the catalog and the functions each expects."""
    from grader.catalog import default_catalog
    from grader.spec import SpecError, load_catalog

    try:
        exercises = load_catalog(exercises_dir or default_catalog())
    except (SpecError, FileNotFoundError) as exc:
        _fail(str(exc))
        return
    for exercise in exercises:
        signatures = ", ".join(f.signature for f in exercise.functions)
        click.echo(f"{exercise.id:22} {exercise.points:>5g} pts  {signatures:34} {exercise.title}")


@main.command()
@click.argument("submissions_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--exercises", "exercises_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Catalog folder (default: ./exercises, else the bundled catalog).")
@click.option("--hidden", "hidden_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Hidden checks: extra trials never shown to students (docs/batch.md).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("grades"),
              show_default=True, help="Where grades.csv, results.jsonl and feedback/ go.")
@click.option("--jobs", type=click.IntRange(min=1), default=_jobs_default, show_default="number of cores",
              help="Worker processes (each imports torch once and owns a sandbox).")
@click.option("--cluster", metavar="ADDRESS", help="Grade on a Dask cluster, e.g. tcp://host:8786.")
@click.option("--resume/--no-resume", default=True, show_default=True,
              help="Reuse stored results of unchanged submissions.")
@click.option("--only", multiple=True, metavar="ID", help="Grade only this exercise (repeatable).")
@_seed_option
@click.option("--student-map", "student_map", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSV joining hand-ins to LMS student ids (columns: docs/batch.md).")
@click.option("--assignment", default="Autograd exercises", show_default=True,
              help="Grade column of canvas.csv, e.g. 'Homework 3 (4711)' as in Canvas' gradebook export.")
@_lang_option
@click.option("--format", "formats", multiple=True, metavar="FMT:PATH", callback=_file_targets,
              help="Also write the class in this format to PATH after grading (repeatable), e.g. "
                   "junit:grades.xml or markdown:grades.md.")
@_require_option
def grade(submissions_dir: Path, exercises_dir: Path | None, hidden_dir: Path | None, out_dir: Path, jobs: int,
          cluster: str | None, resume: bool, only: tuple[str, ...], seed: int, student_map: Path | None,
          assignment: str, lang: str | None, formats: list, require_sandbox: bool) -> None:
    """Grade a class: every submission in SUBMISSIONS_DIR (folders, files, Canvas or Moodle exports).

    Exits 0 when grading succeeded, whatever the students scored.
    """
    from grader.batch.run import BatchError, BatchOptions, grade_batch, summary_lines

    if require_sandbox:
        _require_layers_here()

    options = BatchOptions(submissions=submissions_dir, out=out_dir, exercises=exercises_dir, hidden=hidden_dir,
                           jobs=jobs, resume=resume, only=only, seed=seed, cluster=cluster,
                           student_map=student_map, assignment=assignment, lang=resolve_language(lang))
    try:
        summary = grade_batch(options)
    except BatchError as exc:
        _fail(str(exc))
        return
    except KeyboardInterrupt:
        click.echo("grader: interrupted; finished submissions are kept: rerun the same command to resume",
                   err=True)
        sys.exit(130)
    for line in summary_lines(summary, out_dir):
        click.echo(line)
    if formats:
        from grader.results import submission_from_json

        with open(out_dir / "results.jsonl", encoding="utf-8") as lines:
            results = [submission_from_json(json.loads(line)) for line in lines if line.strip()]
        _report(results, formats)
    sys.exit(EXIT_OK)


@main.command()
@click.option("--by-layer", is_flag=True, help="Also try each kernel layer on its own (what each one blocks).")
@click.option("--require-sandbox", is_flag=True, help="Exit 1 unless every layer is available and blocks.")
def doctor(by_layer: bool, require_sandbox: bool) -> None:
    """Show which protections student code gets on this machine, checked live in a sandboxed child."""
    from grader.sandbox.runner import Sandbox

    with Sandbox() as sandbox:
        from grader.report.doctor import render_doctor
        from grader.sandbox.doctor import by_layer as per_layer, diagnose

        diagnosis = diagnose(sandbox)
    click.echo(render_doctor(diagnosis, per_layer() if by_layer else None), nl=False)
    sys.exit(EXIT_FAILED if require_sandbox and not diagnosis.healthy else EXIT_OK)


def entry() -> None:
    """Console entry point: run the command, then leave without interpreter teardown.

    Tearing down an interpreter that has torch loaded takes about a second here, longer than grading
    the whole catalog; nothing is left to clean up (the sandbox is closed, output flushed), so skip it.
    """
    try:
        main()
        code = EXIT_OK
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (EXIT_OK if exc.code is None else EXIT_FAILED)
        if isinstance(exc.code, str):
            click.echo(exc.code, err=True)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or EXIT_FAILED
    os._exit(code)


if __name__ == "__main__":
    entry()
