"""What every grading worker needs, as plain data: spec texts, selection, seed, feedback language.

Workers (local processes or Dask workers on other machines) receive the bundle as JSON, never paths:
a cluster worker need not share the instructor's file system, and the hidden specs never have to be
left on a worker's disk. The bundle's digest is part of every resume key, so editing a spec, the
selection, the seed or the language regrades everything it affects.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from grader import __version__

from grader.spec.loader import SPEC_FILE_SUFFIXES as SPEC_SUFFIXES


@dataclass(frozen=True)
class Bundle:
    catalog: dict[str, str]  # relative path -> YAML text of each exercise spec
    hidden: dict[str, str] = field(default_factory=dict)  # relative path -> YAML text of hidden checks
    only: tuple[str, ...] = ()
    seed: int = 0
    exercise_jobs: int = 2  # exercises of one submission graded at once inside a worker
    grader_version: str = __version__
    lang: str = "en"  # language of the results' messages (grader/i18n.py)

    @classmethod
    def from_dirs(cls, catalog: Path, hidden: Path | None, *, only: tuple[str, ...], seed: int,
                  exercise_jobs: int, lang: str = "en") -> Bundle:
        return cls(_spec_texts(catalog), _spec_texts(hidden) if hidden else {}, tuple(only), seed, exercise_jobs,
                   lang=lang)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True, ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Bundle:
        raw = json.loads(data)
        return cls(**{**raw, "only": tuple(raw["only"])})

    @property
    def digest(self) -> str:
        """Everything but ``exercise_jobs`` (it changes speed, not grades)."""
        identity = {**asdict(self), "exercise_jobs": None}
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()

    @contextmanager
    def materialized(self) -> Iterator[tuple[Path, Path | None]]:
        """The specs as folders for ``load_catalog``, removed as soon as the caller has loaded them."""
        root = Path(tempfile.mkdtemp(prefix="grader-bundle-"))  # mode 0700
        try:
            catalog = _write(root / "catalog", self.catalog)
            hidden = _write(root / "hidden", self.hidden) if self.hidden else None
            yield catalog, hidden
        finally:
            shutil.rmtree(root, ignore_errors=True)


def _spec_texts(root: Path) -> dict[str, str]:
    """Spec files under ``root`` by relative path (the topic folder matters: it orders the catalog)."""
    texts = {}
    for path in sorted(root.rglob("*")):
        if path.suffix in SPEC_SUFFIXES and path.is_file():
            texts[path.relative_to(root).as_posix()] = path.read_text(encoding="utf-8")
    return texts


def _write(root: Path, texts: dict[str, str]) -> Path:
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    for relative, text in texts.items():
        path = root / relative
        if ".." in Path(relative).parts or Path(relative).is_absolute():
            raise ValueError(f"bad spec path in bundle: {relative}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root
