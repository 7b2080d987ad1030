"""Dask executor: the same warm sandboxed grading, on the workers of a dask.distributed cluster.

Each Dask worker process keeps warm GradingProcesses (grader/batch/worker.py, as in the local pool),
started on its first task and reused for the rest of the batch: torch is imported once per grading
process, student code runs in that process's sandbox, never in the Dask worker itself. Hand-ins travel
as one bytes frame each, results come back as JSON text. The bundle (specs, hidden checks) is sent
to every worker once. Workers need ``autograd-grader`` installed (docs/batch.md).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Any

from grader.batch.bundle import Bundle
from grader.batch.pool import STARTUP_TIMEOUT, GradingProcess, Outcome, Task, WorkerCrash, setup_error
from grader.batch.worker import encode_task
from grader.i18n import N_, Message
from grader.sandbox.channel import Frame


class ClusterError(Exception):
    """The cluster cannot be used (not installed, unreachable, workers reject the exercises)."""


class DaskExecutor:
    def __init__(self, address: str, bundle: Bundle, *, task_timeout: float) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise ClusterError("--cluster needs dask.distributed: pip install 'autograd-grader[cluster]'") from None
        try:
            self.client = Client(address, timeout="30s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        self.bundle, self.task_timeout = bundle, task_timeout

    def run(self, tasks: Iterable[Task]) -> Iterator[Outcome]:
        """Outcomes in completion order, with a bounded number of hand-ins in flight (memory stays flat)."""
        from distributed import as_completed

        bundle = self.client.scatter(self.bundle.to_json(), broadcast=True, hash=False)
        slots = max(2, 2 * sum(self.client.nthreads().values()))
        pending = iter(tasks)
        running: dict[Any, Task] = {}
        completed = as_completed()

        def submit() -> bool:
            task = next(pending, None)
            if task is None:
                return False
            future = self.client.submit(grade_remote, bundle, self.bundle.digest, encode_task(task.student, task.load()),
                                        self.task_timeout, key=f"grade-{task.key}", pure=False, retries=0)
            running[future] = task
            completed.add(future)
            return True

        for _ in range(slots):
            if not submit():
                break
        for future in completed:
            task = running.pop(future)
            try:
                reply = future.result()
            except Exception as exc:  # noqa: BLE001 - a lost Dask worker costs this hand-in a row
                yield Outcome(task, "", True, crash=Message(
                    N_("the Dask worker failed while grading this submission ({error}); rerun to retry it"),
                    {"error": f"{type(exc).__name__}: {exc}"}))
            else:
                if "setup_error" in reply:
                    raise ClusterError(reply["setup_error"])
                if "crash" in reply:
                    yield Outcome(task, "", True, crash=Message(reply["crash"]["template"], reply["crash"]["fields"]))
                else:
                    yield Outcome.from_frame(task, Frame(reply["frame_header"], reply["frame_body"]))
            submit()

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- on the Dask worker ------------------------------------------------------------------------------

_idle: list[GradingProcess] = []  # warm processes of the current bundle, free for the next task
_idle_digest = ""
_lock = threading.Lock()


def grade_remote(bundle: bytes, digest: str, frame: bytes, timeout: float) -> dict[str, Any]:
    """Runs in a Dask worker: grade one hand-in in a warm grading process. Returns plain data only."""
    global _idle_digest
    with _lock:
        if digest != _idle_digest:  # a new batch: the old bundle's processes are of no use
            for stale in _idle:
                stale.kill()
                stale.close()
            _idle.clear()
            _idle_digest = digest
        process = _idle.pop() if _idle else None
    try:
        if process is None:
            process = GradingProcess(bundle).start()
            first = process.wait_frame(STARTUP_TIMEOUT)
            if (problem := setup_error(first)) is not None:
                process.kill()
                return {"setup_error": problem}
        process.send_bytes(frame, timeout)
        answer = process.wait_frame(timeout)
    except WorkerCrash as exc:
        if process is not None:
            process.kill()
        reason = exc.args[0] if exc.args and isinstance(exc.args[0], Message) else Message("{reason}", {"reason": str(exc)})
        return {"crash": {"template": reason.template, "fields": reason.fields}, "transient": True}  # worded client-side
    with _lock:
        if digest == _idle_digest:
            _idle.append(process)
        else:
            process.kill()
    return {"frame_header": answer.header, "frame_body": answer.body}
