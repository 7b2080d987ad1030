"""pytest plugin: in a homework repository, ``pytest`` grades the student's file, one test per exercise.

Configure it in the homework repository (command line options win over ini keys)::

    [tool.pytest.ini_options]
    grader_submission = ["homework.py"]     # or: pytest --grader-submission homework.py
    grader_exercises = "course/exercises"   # or: pytest --grader-exercises DIR (default: as grader check)
    grader_lang = "zh"                      # or: pytest --grader-lang zh (default: from the locale, as --lang)

Each configured file becomes a collector with one item per exercise (a file named after an exercise,
``dot.py``, has that exercise only, as with ``grader check``), so ``-k dot``, ``-x`` and ``--junitxml``
work as for any test. A failure shows the grader's diagnosis (the terminal report of that exercise),
never a traceback of the grader.

Cost when not configured: nothing. This module imports only pytest; the grader, torch and the sandbox
are imported when a configured file is collected. One sandbox serves the whole session: it is
started when the first configured file is collected, *before* the catalog is read (as in ``grader
check``, the zygote must not hold the specs in its memory), and closed when pytest ends.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from grader.results import ExerciseResult
    from grader.sandbox.runner import Sandbox

_SANDBOX = pytest.StashKey["Sandbox"]()
_SUBMISSIONS = pytest.StashKey["set[Path]"]()
_LANGUAGES = ("en", "zh")  # grader.i18n.LANGUAGES, not imported here: see the module's docstring


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("grader", "autograd-grader")
    group.addoption("--grader-submission", action="append", default=[], metavar="PATH",
                    help="Student file (.py/.ipynb) to grade, one test per exercise (repeatable).")
    group.addoption("--grader-exercises", metavar="DIR", help="Exercise catalog (default: as grader check).")
    group.addoption("--grader-lang", choices=_LANGUAGES, default=None,
                    help="Language of the feedback: en or zh (default: from the locale, as grader check --lang).")
    parser.addini("grader_submission", type="paths", default=[],
                  help="Student files to grade, one test per exercise (autograd-grader).")
    parser.addini("grader_exercises", type="string", default="", help="Exercise catalog (autograd-grader).")
    parser.addini("grader_lang", type="string", default="",
                  help="Language of the feedback, en or zh (autograd-grader; default: from the locale).")


def pytest_configure(config: pytest.Config) -> None:
    """Remember the configured files; nothing else happens in a repository that configures none."""
    given = config.getoption("grader_submission") or []
    paths = [Path(config.invocation_params.dir, p) for p in given] or list(config.getini("grader_submission"))
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise pytest.UsageError(f"grader_submission: {', '.join(missing)} not found")
    config.stash[_SUBMISSIONS] = {p.resolve() for p in paths}
    ini_lang = config.getini("grader_lang").strip()
    if ini_lang and ini_lang not in _LANGUAGES:
        raise pytest.UsageError(f"grader_lang: {ini_lang!r} is not one of {', '.join(_LANGUAGES)}")


def _language(config: pytest.Config) -> str:
    """--grader-lang, else the grader_lang ini key, else the locale's language."""
    from grader.i18n import resolve_language

    return resolve_language(config.getoption("grader_lang") or config.getini("grader_lang").strip() or None)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    submissions = parent.config.stash.get(_SUBMISSIONS, None)
    if submissions and file_path.resolve() in submissions:
        return SubmissionFile.from_parent(parent, path=file_path)
    return None


def pytest_unconfigure(config: pytest.Config) -> None:
    sandbox = config.stash.get(_SANDBOX, None)
    if sandbox is not None:
        del config.stash[_SANDBOX]
        sandbox.close()


def _sandbox(config: pytest.Config) -> Sandbox:
    """The session's sandbox, started on first use."""
    if _SANDBOX not in config.stash:
        from grader.sandbox.runner import Sandbox

        config.stash[_SANDBOX] = Sandbox()
    return config.stash[_SANDBOX]


def _catalog_dir(config: pytest.Config) -> Path | None:
    option = config.getoption("grader_exercises")
    if option:
        return Path(config.invocation_params.dir, option)
    ini = config.getini("grader_exercises")
    return Path(config.rootpath, ini) if ini else None


class SubmissionFile(pytest.File):
    """A student's file: one item per exercise it is graded on."""

    def collect(self) -> Any:
        from grader.catalog import SelectionError, select
        from grader.session import CheckError, load_exercises
        from grader.submission import SubmissionError, read_submission

        from grader.i18n import translator
        from grader.spec.model import localize

        _sandbox(self.config)  # before the catalog is read: see the module's docstring
        tr = translator(_language(self.config))
        try:
            _, exercises = load_exercises(_catalog_dir(self.config))
            chosen, _ = select(exercises, (), read_submission(self.path).path.stem)
        except SubmissionError as exc:  # the student's file: they read why, in their language
            raise self.CollectError(f"grader: {exc.text(tr)}") from None
        except (CheckError, SelectionError) as exc:  # the repository's configuration
            raise self.CollectError(f"grader: {exc}") from None
        for exercise in chosen:
            title = localize(exercise, tr.lang).title
            yield ExerciseItem.from_parent(self, name=exercise.id, exercise=exercise,
                                           title=f"{exercise.id}{tr(': ')}{title}")


class ExerciseFailed(Exception):
    """An exercise did not pass: carries its result, which ``repr_failure`` shows."""

    def __init__(self, result: ExerciseResult) -> None:
        super().__init__(result.message)
        self.result = result


class ExerciseItem(pytest.Item):
    def __init__(self, *, exercise: Any, title: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.exercise = exercise
        self.title = title  # "detach: Detaching computation", in the feedback's language

    def runtest(self) -> None:
        from grader.session import grade_submission

        result = grade_submission(self.path, _sandbox(self.config), [self.exercise], only=(self.exercise.id,),
                                  jobs=1, lang=_language(self.config))
        exercise = result.exercises[0]
        if exercise.status != "passed":
            raise ExerciseFailed(exercise)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        from grader.session import CheckError

        if isinstance(excinfo.value, ExerciseFailed):
            from grader.report.text import render_exercise

            return render_exercise(excinfo.value.result, color=False, width=100,
                                   lang=_language(self.config)).rstrip("\n")
        if isinstance(excinfo.value, CheckError):
            return f"grader: {excinfo.value}"
        return super().repr_failure(excinfo, style)  # a grader bug: its traceback helps fix it

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.title
