"""Local executor: ``--jobs`` warm worker processes (grader/batch/worker.py), one hand-in each at a time.

Each worker imports torch once and owns its sandbox; the main process only reads files, hands bytes to
workers and receives JSON, so it never imports torch. A worker that dies (a grader bug, the machine's
OOM killer) or stops answering costs the hand-in it held one row with the reason, and is replaced; the
batch goes on.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from grader.batch.worker import UNLIMITED, encode_task, write_frame
from grader.i18n import N_, Message
from grader.sandbox.channel import Frame, FrameReader

STARTUP_TIMEOUT = 300.0  # importing torch on a cold, busy machine
STOPPED = N_("the grading worker did not answer within {seconds} s and was stopped (rerun to retry it)")


class PoolError(Exception):
    """The workers cannot start, or the bundle is rejected by them (a spec problem): exit code 2."""


@dataclass(frozen=True)
class Task:
    student: str
    key: str  # resume key
    load: Callable[[], list[tuple[str, bytes | str]]]  # the files, read only when the task is sent


@dataclass(frozen=True)
class Outcome:
    task: Task
    result: str  # the result JSON text
    transient: bool  # the grader failed, not the student: show it, do not keep it for resuming
    crash: str = ""  # why the worker gave no result ("" when it did)
    page: str = ""  # the feedback page the worker rendered ("" when it could not)

    @classmethod
    def from_frame(cls, task: Task, frame: Frame) -> Outcome:
        size = int(frame.header.get("json_size", len(frame.body)))
        return cls(task, frame.body[:size].decode(), bool(frame.header.get("transient")),
                   page=frame.body[size:].decode())


class WorkerCrash(Exception):
    """A worker died or hung while it held a hand-in; the message says how."""


@dataclass
class GradingProcess:
    """One warm worker process and the framing of its pipes."""

    bundle: bytes
    log: IO[bytes] | None = None
    proc: subprocess.Popen | None = None
    reader: FrameReader = field(default_factory=lambda: FrameReader(UNLIMITED))
    ready: bool = False
    task: Task | None = None
    deadline: float = 0.0

    def start(self) -> GradingProcess:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "grader.batch.worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.log if self.log is not None else None, bufsize=0, close_fds=True)
        write_frame(self.fd_in, {"event": "setup"}, self.bundle)
        self.deadline = time.monotonic() + STARTUP_TIMEOUT
        return self

    @property
    def fd_in(self) -> int:
        return self.proc.stdin.fileno()  # type: ignore[union-attr]

    @property
    def fd_out(self) -> int:
        return self.proc.stdout.fileno()  # type: ignore[union-attr]

    def send(self, task: Task, timeout: float) -> None:
        self.task = task
        self.send_bytes(encode_task(task.student, task.load()), timeout)

    def send_bytes(self, frame: bytes, timeout: float) -> None:
        """Send an encoded task frame; the answer is due within ``timeout`` seconds."""
        self.deadline = time.monotonic() + timeout
        try:
            data = memoryview(frame)
            while data:
                data = data[os.write(self.fd_in, data):]
        except OSError:
            pass  # the worker died: its stdout reaches EOF next, and the crash is reported there

    def receive(self) -> list[Frame] | None:
        """Frames that arrived (after a readable event); None when the worker has gone."""
        try:
            chunk = os.read(self.fd_out, 1 << 20)
        except OSError:
            chunk = b""
        return self.reader.feed(chunk) if chunk else None

    def wait_frame(self, timeout: float) -> Frame:
        """Blocking: the next frame, or WorkerCrash (for callers with one task at a time, e.g. Dask)."""
        end = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(self.fd_out, selectors.EVENT_READ)
            while True:
                left = end - time.monotonic()
                if left <= 0 or not selector.select(left):
                    self.kill()
                    raise WorkerCrash(Message(STOPPED, {"seconds": f"{timeout:.0f}"}))
                frames = self.receive()
                if frames is None:
                    raise WorkerCrash(self.death())
                if frames:
                    return frames[0]

    def death(self) -> Message:
        """How the worker ended, in words for a grades row (in the row's language: see error_result)."""
        code = self.proc.wait() if self.proc else None
        if code is not None and code < 0:
            return Message(N_("the grading worker was killed by signal {signal} while grading this submission "
                              "(a grader or machine problem, not the student's: rerun to retry it)"), {"signal": -code})
        return Message(N_("the grading worker exited with status {code} while grading this submission (a grader "
                          "or machine problem, not the student's: rerun to retry it)"), {"code": code})

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait()

    def close(self) -> None:
        if self.proc is None:
            return
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()  # type: ignore[union-attr]
            except OSError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()


def setup_error(frame: Frame) -> str | None:
    """The worker's complaint about the bundle, if that is what ``frame`` is."""
    if frame.header.get("event") == "setup_error":
        return str(frame.header.get("message", "the workers rejected the exercises"))
    return None


class LocalPool:
    """``jobs`` GradingProcesses fed from one selector loop in the main process."""

    def __init__(self, bundle: bytes, *, jobs: int, task_timeout: float, log: IO[bytes] | None = None) -> None:
        self.bundle, self.jobs, self.task_timeout, self.log = bundle, max(1, jobs), task_timeout, log

    def run(self, tasks: Iterable[Task]) -> Iterator[Outcome]:
        """Outcomes in completion order; tasks are pulled (and their files read) only as workers free up."""
        pending = iter(tasks)
        workers: list[GradingProcess] = []
        selector = selectors.DefaultSelector()
        exhausted = False

        def start() -> None:
            worker = GradingProcess(self.bundle, self.log).start()
            workers.append(worker)
            selector.register(worker.fd_out, selectors.EVENT_READ, worker)

        def retire(worker: GradingProcess) -> None:
            selector.unregister(worker.fd_out)
            workers.remove(worker)
            worker.close()

        def feed(worker: GradingProcess) -> None:
            nonlocal exhausted
            task = next(pending, None)
            if task is None:
                exhausted = True
                worker.task = None
            else:
                worker.send(task, self.task_timeout)

        try:
            for _ in range(self.jobs):
                start()
            while workers:
                now = time.monotonic()
                timeout = max(0.0, min(w.deadline for w in workers) - now)
                for selected, _ in selector.select(timeout):
                    worker: GradingProcess = selected.data
                    frames = worker.receive()
                    if frames is None:  # the worker is gone
                        if not worker.ready:
                            raise PoolError("a grading worker failed to start")
                        task = worker.task
                        retire(worker)
                        if task is not None:
                            yield Outcome(task, "", True, crash=worker.death())
                        if not exhausted:
                            start()
                        continue
                    for frame in frames:
                        if (problem := setup_error(frame)) is not None:
                            raise PoolError(problem)
                        if frame.header.get("event") == "result" and worker.task is not None:
                            done, worker.task = worker.task, None
                            yield Outcome.from_frame(done, frame)
                        elif frame.header.get("event") == "ready":
                            worker.ready = True
                        if worker.ready and worker.task is None:
                            feed(worker)
                    if worker.ready and worker.task is None and exhausted:
                        retire(worker)
                for worker in [w for w in workers if w.deadline <= time.monotonic()]:
                    if not worker.ready:
                        raise PoolError(f"a grading worker did not start within {STARTUP_TIMEOUT:.0f} s")
                    task = worker.task
                    worker.kill()
                    retire(worker)
                    if task is not None:
                        yield Outcome(task, "", True, crash=Message(STOPPED, {"seconds": f"{self.task_timeout:.0f}"}))
                    if not exhausted:
                        start()
        finally:
            for worker in list(workers):
                worker.kill()
                worker.close()
            selector.close()


def log_file(path: Path) -> IO[bytes]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return open(path, "ab")
