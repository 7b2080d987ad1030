"""`grader check` as a library call: read the submission, load and select exercises, grade."""

from __future__ import annotations

from pathlib import Path

from grader.catalog import SelectionError, default_catalog, select
from grader.results import SubmissionResult
from grader.sandbox.runner import Sandbox
from grader.spec import SpecError, load_catalog
from grader.spec.model import Exercise
from grader.submission import SubmissionError, read_submission


class CheckError(Exception):
    """Usage or spec problems: exit code 2, with a message that names the file."""


def check_submission(path: Path, sandbox: Sandbox, *, exercises_dir: Path | None = None,
                     only: tuple[str, ...] = (), seed: int = 0, jobs: int = 2, lang: str = "en") -> SubmissionResult:
    _, exercises = load_exercises(exercises_dir)
    return grade_submission(path, sandbox, exercises, only=only, seed=seed, jobs=jobs, lang=lang)


def load_exercises(exercises_dir: Path | None = None) -> tuple[Path, list[Exercise]]:
    """The catalog folder used and its exercises. Call it after the sandbox forked its zygote, so the
    zygote (and every child) holds no spec in its memory."""
    try:
        catalog = exercises_dir or default_catalog()
        exercises = load_catalog(catalog)
    except (SpecError, FileNotFoundError) as exc:
        raise CheckError(str(exc)) from None
    if not exercises:
        raise CheckError(f"no exercises in {catalog}")
    return catalog, exercises


def grade_submission(path: Path, sandbox: Sandbox, exercises: list[Exercise], *, only: tuple[str, ...] = (),
                     seed: int = 0, jobs: int = 2, lang: str = "en") -> SubmissionResult:
    """One file against a loaded catalog: what ``check``, ``ci`` and the pytest plugin share; every text of
    the result in ``lang`` (grader/i18n.py)."""
    from grader.grading import Grader
    from grader.i18n import translator
    from grader.trace.mode import choose_mode

    tr = translator(lang)
    try:
        submission = read_submission(path)
    except SubmissionError as exc:
        raise CheckError(exc.text(tr)) from None  # the student reads why their file was refused
    try:
        chosen, note = select(exercises, only, submission.path.stem, tr)
    except SelectionError as exc:
        raise CheckError(str(exc)) from None
    mode_notes: list[str] = []
    if not only and note is None:  # nothing named: function or trace mode, from what the file defines
        chosen, mode_notes = choose_mode(submission, exercises, chosen, tr)
    result = Grader(sandbox, seed=seed, jobs=jobs, lang=lang).grade(submission, chosen)
    result.submission = str(path)
    result.notes[:0] = [*([note] if note else []), *mode_notes]
    return result
