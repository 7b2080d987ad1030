"""Writing result files whole or not at all: what every output of the grader goes through.

A reader (a browser reloading a report, an LMS upload, a resumed batch) never sees half a file, even
after ``kill -9`` or a power cut: a temporary file beside the target, fsync, rename, fsync the folder.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

TEMPORARY = ".tmp"  # suffix of a write in progress; leftovers of an interrupted one can be swept by it


@contextmanager
def atomic_open(path: Path) -> Iterator[BinaryIO]:
    """A binary file that appears at ``path`` when the block ends without error (streamed, not held)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMPORARY)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp's 0600 would surprise whoever serves the file
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def write_atomic(path: Path, data: bytes | str) -> None:
    with atomic_open(path) as handle:
        handle.write(data.encode("utf-8") if isinstance(data, str) else data)
