"""Command line: parse arguments, call the library, choose renderers. No grading logic lives here.

Exit codes: 0 every exercise passed (or validation succeeded), 1 something failed, 2 usage or spec
errors (click's own usage errors are 2 as well).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _jobs_default() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def _fail(message: str) -> None:
    click.echo(f"grader: {message}", err=True)
    sys.exit(EXIT_USAGE)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="autograd-grader", prog_name="grader")
def main() -> None:
    """Grade PyTorch autograd exercises: reference autograd, finite differences, sandboxed student code."""


@main.command()
@click.argument("submission", type=click.Path(exists=True, path_type=Path))
@click.option("--exercises", "exercises_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Catalog folder (default: ./exercises, else the bundled catalog).")
@click.option("--only", multiple=True, metavar="ID", help="Grade only this exercise (repeatable).")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random trials.")
@click.option("--jobs", type=click.IntRange(min=1), default=_jobs_default, show_default="number of cores",
              help="Exercises graded at once.")
@click.option("-v", "--verbose", is_flag=True, help="Show every check and trial.")
@click.option("--color/--no-color", default=None, help="Colour the text report (default: when a terminal).")
def check(submission: Path, exercises_dir: Path | None, only: tuple[str, ...], output_format: str, seed: int,
          jobs: int, verbose: bool, color: bool | None) -> None:
    """Grade one SUBMISSION (.py or .ipynb) and print feedback."""
    from grader.sandbox.runner import Sandbox

    with Sandbox() as sandbox:  # forked before any exercise or submission is read
        from grader.session import CheckError, check_submission

        try:
            result = check_submission(submission, sandbox, exercises_dir=exercises_dir, only=only, seed=seed,
                                      jobs=jobs)
        except CheckError as exc:
            _fail(str(exc))
            return
    if output_format == "json":
        from grader.report.json_report import render_json

        click.echo(render_json(result))
    else:
        from grader.report.text import render_text

        click.echo(render_text(result, verbose=verbose, color=color), nl=False)
    sys.exit(EXIT_OK if result.passed else EXIT_FAILED)


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
