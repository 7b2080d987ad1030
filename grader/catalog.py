"""Where exercises and model answers live, and choosing which exercises a run grades."""

from __future__ import annotations

from pathlib import Path

from grader.i18n import ENGLISH, Translator
from grader.spec.model import Exercise

_PACKAGE = Path(__file__).resolve().parent


def default_catalog() -> Path:
    """``./exercises`` when present, else the catalog shipped inside the installed package."""
    for candidate in (Path.cwd() / "exercises", _PACKAGE / "_catalog", _PACKAGE.parent / "exercises"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("no exercises found: pass --exercises DIR")


def default_solutions(catalog: Path) -> Path:
    """Model answers sit in ``solutions/`` beside the catalog folder (or ``_solutions`` when installed)."""
    for candidate in (catalog.parent / "solutions", catalog.parent / "_solutions"):
        if candidate.is_dir():
            return candidate
    return catalog.parent / "solutions"


class SelectionError(Exception):
    """--only named an exercise the catalog does not have."""


def select(exercises: list[Exercise], only: tuple[str, ...] | list[str], submission_stem: str | None = None,
           tr: Translator = ENGLISH) -> tuple[list[Exercise], str | None]:
    """Exercises to grade, and a note when the choice was made for the student.

    ``--only`` wins. Otherwise a submission named after one exercise (``dot.py``, as the starter files
    are) is graded on that exercise alone; anything else is graded on the whole catalog's function-mode
    exercises (trace-mode ones, which grade whole notebooks, run when named, or when
    ``grader.trace.mode.choose_mode`` finds a submission that defines none of the functions).
    """
    by_id = {e.id: e for e in exercises}
    if only:
        unknown = [i for i in only if i not in by_id]
        if unknown:
            raise SelectionError(f"unknown exercise {', '.join(unknown)}; the catalog has: {', '.join(by_id)}")
        return [by_id[i] for i in only], None
    if submission_stem in by_id:
        return [by_id[submission_stem]], tr("graded exercise '{id}' only (the file is named after it; "
                                            "use --only to choose others)", id=submission_stem)
    functions = [e for e in exercises if e.mode != "trace"]
    return functions or exercises, None
