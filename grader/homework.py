"""A student's homework repository: which files to grade, against which catalog (``grader ci``).

The convention, in order:

1. ``grader.toml`` at the repository's root, or a ``[tool.grader]`` table in its ``pyproject.toml``:

   ```toml
   submissions = ["homework.py"]   # files (or folders holding one .py/.ipynb) to grade, from this file's folder
   exercises = "course/exercises"  # the catalog (``--exercises`` on the command line wins)
   only = ["dot", "detach"]        # grade these exercises only
   ```

2. Without ``submissions``: every file named after an exercise of the catalog (``dot.py``,
   ``detach.ipynb``, as the starter files are named) anywhere in the repository, each graded on that
   exercise only. Hidden folders, virtual environments and the catalog's own folder are not searched.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.results import SubmissionResult

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CONFIG_FILE = "grader.toml"
KEYS = ("submissions", "exercises", "only")
SUFFIXES = (".py", ".ipynb")
SKIPPED_DIRS = frozenset({"venv", "env", "node_modules", "site-packages", "__pycache__", "build", "dist"})


class HomeworkError(Exception):
    """The repository's configuration or layout is unusable: a usage error naming the file."""


@dataclass(frozen=True)
class HomeworkConfig:
    root: Path
    submissions: tuple[Path, ...] = ()
    exercises: Path | None = None
    only: tuple[str, ...] = ()
    source: Path | None = None  # the file the configuration came from, for messages


def read_config(root: Path) -> HomeworkConfig:
    """``grader.toml``, else ``[tool.grader]`` of ``pyproject.toml``, else the defaults."""
    root = Path(root)
    candidates = [(root / CONFIG_FILE, ()), (root / "pyproject.toml", ("tool", "grader"))]
    for path, keys in candidates:
        if not path.is_file():
            continue
        try:
            data: Any = tomllib.loads(path.read_text("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise HomeworkError(f"{path}: not valid TOML: {exc}") from None
        for key in keys:
            data = data.get(key) if isinstance(data, dict) else None
        if data is None:
            continue
        return _config(root, path, data, "[tool.grader]" if keys else "")
    return HomeworkConfig(root)


def _config(root: Path, path: Path, data: Any, table: str) -> HomeworkConfig:
    where = f"{path}{' ' + table if table else ''}"
    if not isinstance(data, dict):
        raise HomeworkError(f"{where}: expected a table of {', '.join(KEYS)}")
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise HomeworkError(f"{where}: unknown key {', '.join(unknown)}; the keys are {', '.join(KEYS)}")
    base = path.parent

    def strings(key: str) -> tuple[str, ...]:
        value = data.get(key, [])
        value = [value] if isinstance(value, str) else value
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise HomeworkError(f"{where}: {key} must be a string or a list of strings")
        return tuple(value)

    exercises = data.get("exercises")
    if exercises is not None and (not isinstance(exercises, str) or not exercises):
        raise HomeworkError(f"{where}: exercises must be a path")
    return HomeworkConfig(root, tuple(base / s for s in strings("submissions")),
                          base / exercises if exercises else None, strings("only"), path)


def find_submissions(config: HomeworkConfig, exercise_ids: Sequence[str], catalog: Path) -> list[Path]:
    """The configured files, else one file per exercise found by name; an error when there are none."""
    if config.submissions:
        missing = [str(p) for p in config.submissions if not p.exists()]
        if missing:
            raise HomeworkError(f"{config.source}: submission not found: {', '.join(missing)}")
        return list(config.submissions)
    wanted = {f"{i}{suffix}" for i in exercise_ids for suffix in SUFFIXES}
    found: dict[str, list[Path]] = {}
    for path in _files(config.root, catalog.resolve()):
        if path.name in wanted:
            found.setdefault(path.stem, []).append(path)
    twice = {stem: paths for stem, paths in found.items() if len(paths) > 1}
    if twice:
        listed = "; ".join(", ".join(str(p) for p in paths) for paths in twice.values())
        raise HomeworkError(f"several files for one exercise ({listed}): name the one to grade in "
                            f"{CONFIG_FILE} (submissions = [...])")
    if not found:
        raise HomeworkError(f"no submission found in {config.root}: name files after the exercises "
                            f"({', '.join(list(exercise_ids)[:3])}, ... with .py or .ipynb) or list them in "
                            f"{CONFIG_FILE} (submissions = [...])")
    order = {i: n for n, i in enumerate(exercise_ids)}
    return sorted((paths[0] for paths in found.values()), key=lambda p: order[p.stem])


def _files(root: Path, catalog: Path) -> Iterator[Path]:
    for path in sorted(root.iterdir()):
        if path.name.startswith(".") or path.name in SKIPPED_DIRS:
            continue
        if path.is_dir():
            if path.resolve() != catalog and not (path / "pyvenv.cfg").exists():
                yield from _files(path, catalog)
        elif path.suffix in SUFFIXES:
            yield path


def grade_homework(config: HomeworkConfig, sandbox: Any, *, exercises_dir: Path | None = None, seed: int = 0,
                   jobs: int = 2, lang: str = "en") -> list[SubmissionResult]:
    """Grade every submission of the repository; paths in the results are relative to its root."""
    from grader.session import grade_submission, load_exercises

    catalog, exercises = load_exercises(exercises_dir or config.exercises)
    ids = [e.id for e in exercises]
    unknown = [i for i in config.only if i not in ids]
    if unknown:
        raise HomeworkError(f"{config.source}: only names unknown exercise {', '.join(unknown)}; "
                            f"the catalog has: {', '.join(ids)}")
    files = find_submissions(config, [i for i in ids if not config.only or i in config.only], catalog)
    results = []
    for path in files:
        # A file found by its name is graded on that exercise: said explicitly, so no note says it again.
        only = config.only if config.submissions else (path.stem,)
        result = grade_submission(path, sandbox, exercises, only=only, seed=seed, jobs=jobs, lang=lang)
        result.submission = _relative(path, config.root)
        results.append(result)
    return results


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
