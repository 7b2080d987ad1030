"""The resumable store: one file per finished hand-in, written atomically, named by its resume key.

A key is the SHA-256 of everything a result depends on: the bundle digest (spec texts, hidden checks,
selection, seed, grader version) and the student's key plus every file name and content. Rerunning the
same command therefore grades only hand-ins whose key has no record yet: the missing ones (the run was
interrupted: Ctrl-C, ``kill -9``, a reboot) and the changed ones. Records are written to a temporary
file, flushed to disk and renamed, so a record either exists whole or not at all.

The outputs (``results.jsonl``, ``grades.csv``, ...) are assembled from the records in student order at
the end of every run, so an interrupted-then-resumed run writes the same bytes as an uninterrupted one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from grader.batch.discover import Student
from grader.files import TEMPORARY, write_atomic

def read_files(student: Student) -> list[tuple[str, bytes | str]]:
    """The student's files as (name, bytes), or (name, reason) for one that cannot be read."""
    files: list[tuple[str, bytes | str]] = []
    for f in sorted(student.files, key=lambda f: f.name):
        try:
            files.append((f.name, f.path.read_bytes()))
        except OSError as exc:
            files.append((f.name, exc.strerror or str(exc)))
    return files


def resume_key(bundle_digest: str, student: Student, files: list[tuple[str, bytes | str]]) -> str:
    h = hashlib.sha256()
    for part in (bundle_digest, student.key, student.name, student.lms_id):
        h.update(part.encode() + b"\0")
    for name, data in files:
        h.update(name.encode() + b"\0")
        h.update(hashlib.sha256(data if isinstance(data, bytes) else b"unreadable:" + data.encode()).digest())
    return h.hexdigest()


class Store:
    """``<out>/.grader/results/<key>.json``: each record is one result, as one line of JSON, with the
    student's feedback page beside it as ``<key>.html`` when the worker rendered one."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root) / "results"
        self.root.mkdir(parents=True, exist_ok=True)
        for leftover in self.root.glob(f".*{TEMPORARY}"):  # a write cut short by kill -9 or a power cut
            leftover.unlink(missing_ok=True)
        self._known = {p.stem for p in self.root.glob("*.json")}

    def has(self, key: str) -> bool:
        return key in self._known

    def path(self, key: str) -> Path:
        return self.root / f"{key}.json"

    def get(self, key: str) -> str:
        return self.path(key).read_text(encoding="utf-8")

    def page(self, key: str) -> str:
        """The feedback page a worker rendered with the result ("" when there is none)."""
        try:
            return self.path(key).with_suffix(".html").read_text(encoding="utf-8")
        except OSError:
            return ""

    def put(self, key: str, text: str, page: str = "") -> None:
        """The page first: a record (the .json) only ever exists complete with its page."""
        if page:
            write_atomic(self.path(key).with_suffix(".html"), page.encode())
        write_atomic(self.path(key), text.encode())
        self._known.add(key)

    def forget(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)
        self.path(key).with_suffix(".html").unlink(missing_ok=True)
        self._known.discard(key)

    def prune(self, keep: Iterable[str]) -> int:
        """Remove records no current hand-in has (old versions of changed files): the store stays the
        size of the class, not of its history."""
        keep = set(keep)
        stale = self._known - keep
        for key in stale:
            self.forget(key)
        for orphan in self.root.glob("*.html"):  # a page whose record was never written (killed between)
            if orphan.stem not in keep:
                orphan.unlink(missing_ok=True)
        return len(stale)
