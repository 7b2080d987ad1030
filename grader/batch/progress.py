"""Progress of a batch: a rich bar with rate and ETA on a terminal, a plain line now and then otherwise.

Logs of CI jobs and cluster schedulers are not terminals; there a bar would be thousands of carriage
returns, so a line is printed every ``interval`` seconds (and at the end) instead.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn
from rich.progress import TimeElapsedColumn, TimeRemainingColumn
from rich.text import Text


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:.1f}/s" if task.speed else "–/s", style="cyan")


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


@dataclass
class BatchProgress:
    """``start(total, done)``, ``advance()`` per graded hand-in, ``close()``; a context manager."""

    stream: TextIO = field(default_factory=lambda: sys.stderr)
    tty: bool | None = None  # None: ask the stream
    interval: float = 10.0
    total: int = 0
    done: int = 0
    _started: float = 0.0
    _last_line: float = 0.0
    _graded: int = 0  # in this run (the rate and ETA count these, not resumed ones)
    _bar: Progress | None = None
    _task: int | None = None

    def start(self, total: int, reused: int, unrunnable: int = 0) -> None:
        """``reused``: results already in the store; ``unrunnable``: rows written without running anything."""
        done = reused + unrunnable
        self.total, self.done = total, done
        self._started = self._last_line = time.monotonic()
        if self.tty if self.tty is not None else self.stream.isatty():
            console = Console(file=self.stream)
            self._bar = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), _RateColumn(),
                                 TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=console,
                                 transient=False)
            self._bar.start()
            self._task = self._bar.add_task("grading", total=total, completed=done)
        else:
            already = [f"{reused} already graded"] if reused else []
            already += [f"{unrunnable} that cannot run"] if unrunnable else []
            print(f"grading {total - done} of {total} submissions" + (f" ({', '.join(already)})" if already else ""),
                  file=self.stream, flush=True)

    def advance(self) -> None:
        self.done += 1
        self._graded += 1
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task)
            return
        now = time.monotonic()
        if now - self._last_line >= self.interval:
            self._last_line = now
            print(self._line(now), file=self.stream, flush=True)

    def _line(self, now: float) -> str:
        elapsed = max(now - self._started, 1e-9)
        rate = self._graded / elapsed
        left = self.total - self.done
        eta = _duration(left / rate) if rate > 0 else "unknown"
        percent = 100 * self.done / self.total if self.total else 100
        return f"graded {self.done}/{self.total} ({percent:.0f}%), {rate:.1f}/s, ETA {eta}"

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        elif self._started and self._graded:
            print(self._line(time.monotonic()), file=self.stream, flush=True)
        self._started = 0.0

    def __enter__(self) -> BatchProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
