"""Grader side of the sandbox: start the zygote, run a task in a fresh child, enforce the limits.

``Sandbox.run`` is thread-safe, so several exercises can run at once (one child each). A run always
returns a ``RunOutcome``; a child that hangs, floods its output, sends garbage or dies is described in
it, never raised.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty, Queue
from typing import Any

from grader.i18n import N_, Message
from grader.sandbox.channel import ChannelError, Frame, FrameReader, encode_frame


KILL_GRACE = 1.0  # seconds to wait for pipes to close after a kill
STARTUP_GRACE = 0.5  # seconds added to the first stage's wall limit for fork and harness set-up
ZYGOTE_START_TIMEOUT = 120.0  # importing torch on a cold, busy machine can take long


class SandboxError(Exception):
    """The sandbox itself failed (the zygote died or could not start): a grader problem, not a student's."""


@dataclass
class Limits:
    time: float = 10.0  # wall seconds; CPU seconds likewise
    memory: int = 1024  # MiB the student's code may allocate
    output: int = 65536  # bytes of stdout/stderr kept
    results: int = 256 * 1024 * 1024  # bytes of result frames accepted
    # Wall seconds of each stage (exercise) of a run, in order: the deadline restarts at every ``end``
    # frame, so a slow exercise never eats the time of the next one. Empty: one stage of ``time``.
    stages: tuple[float, ...] = ()

    @property
    def stage_times(self) -> tuple[float, ...]:
        return self.stages or (self.time,)

    @property
    def cpu(self) -> float:
        """CPU seconds for the whole run: a backstop behind the wall deadlines."""
        return sum(self.stage_times)


@dataclass
class RunOutcome:
    frames: list[Frame] = field(default_factory=list)
    # For each frame, the bytes of output captured and the monotonic time when it arrived: what lets
    # the grader split one child's output and time between the exercises it ran.
    marks: list[tuple[int, float]] = field(default_factory=list)
    output_bytes: bytes = b""
    output_truncated: bool = False
    timed_out: bool = False
    exit_code: int | None = None  # negative: killed by that signal
    channel_error: str | None = None  # a Message (English as a str)
    started: float = 0.0
    wall: float = 0.0

    @property
    def output(self) -> str:
        return self.output_bytes.decode("utf-8", errors="replace")

    @property
    def finished(self) -> bool:
        return any(f.header.get("event") == "done" for f in self.frames)


# Why a run's result channel broke, worded in the student's language where the result is written.
FOREIGN_WRITER = N_("malformed result from the submission's process: something else wrote on the grader's result "
                    "channel ({error})")
_PR_SET_DUMPABLE = 4
LAYERS_VARIABLE = "GRADER_SANDBOX_LAYERS"  # comma-separated kernel layers to use (default: all available)
REQUIRE_VARIABLE = "GRADER_REQUIRE_SANDBOX"  # "1": children refuse to run without every layer


class Sandbox:
    """One zygote, forking a hardened child per ``run``.

    ``hidden``: paths no child may read even where they lie inside the Python installation (the
    grader's own package, which may carry catalogs with references, is always hidden). ``required``
    (default: $GRADER_REQUIRE_SANDBOX is 1): children refuse to run student code without every layer
    (callers check ``missing_layers`` for those it lacks). ``layers``: which kernel layers to use
    (default: $GRADER_SANDBOX_LAYERS, else every one, see ``grader.sandbox.layers``); ``()`` leaves
    fork, limits and rlimits only.
    """

    def __init__(self, *, hidden: list[str] | tuple[str, ...] = (), required: bool | None = None,
                 layers: tuple[str, ...] | None = None) -> None:
        _make_undumpable()
        self.workdir_root = tempfile.mkdtemp(prefix="grader-sandbox-")
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        hidden = [str(Path(__file__).resolve().parents[1]), *hidden]  # the grader package
        if required is None:  # how `grade --require-sandbox` reaches the sandboxes of its workers
            required = os.environ.get(REQUIRE_VARIABLE) == "1"
        layers = layers if layers is not None else chosen_layers()
        self.zygote_pid = _fork_zygote(child, hidden=hidden, workdir_root=self.workdir_root, required=required,
                                       layers=layers)
        child.close()
        self._layers: dict[str, dict[str, Any]] | None = None
        self._layers_ready = threading.Event()
        self._sock = parent
        self._send_lock = threading.Lock()
        self._waiting: dict[str, Queue[dict[str, Any]]] = {}
        self._waiting_lock = threading.Lock()
        self._counter = 0
        self._closed = False
        self._reader = threading.Thread(target=self._read_replies, name="zygote-replies", daemon=True)
        self._reader.start()

    def _read_replies(self) -> None:
        while True:
            try:
                data = self._sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                with self._waiting_lock:
                    for queue in self._waiting.values():
                        queue.put({"error": "zygote exited"})
                    self._closed = True
                self._layers_ready.set()
                return
            message = json.loads(data)
            if message.get("event") == "layers":
                self._layers = message.get("layers") or {}
                self._layers_ready.set()
                continue
            with self._waiting_lock:
                queue = self._waiting.get(str(message.get("task")))
            if queue is not None:
                queue.put(message)

    def layers(self, timeout: float = ZYGOTE_START_TIMEOUT) -> dict[str, dict[str, Any]]:
        """Each protection layer: ``{"available": bool, "detail": str}`` as probed by the zygote."""
        if not self._layers_ready.wait(timeout) or self._layers is None:
            raise SandboxError("the sandbox's zygote did not start")
        return self._layers

    def missing_layers(self) -> list[str]:
        return [name for name, layer in self.layers().items() if not layer.get("available")]

    def run(self, header: dict[str, Any], body: bytes, limits: Limits, *, filename: str) -> RunOutcome:
        """Run one task (see ``harness.run_task`` for the header) in a fresh child."""
        with self._waiting_lock:
            if self._closed:
                raise SandboxError("the sandbox's zygote process is not running")
            self._counter += 1
            task_id = str(self._counter)
            replies: Queue[dict[str, Any]] = Queue()
            self._waiting[task_id] = replies
        workdir = tempfile.mkdtemp(prefix="child-", dir=self.workdir_root)
        task_r, task_w = os.pipe()
        result_r, result_w = os.pipe()
        output_r, output_w = os.pipe()
        start = time.monotonic()
        try:
            request = {"task": task_id, "workdir": workdir, "filename": filename,
                       "limits": {"cpu": limits.cpu, "memory": limits.memory}}
            with self._send_lock:
                socket.send_fds(self._sock, [json.dumps(request).encode()], [task_r, result_w, output_w])
            for fd in (task_r, result_w, output_w):
                os.close(fd)
            reply = self._get(replies, ZYGOTE_START_TIMEOUT)
            if "pid" not in reply:
                raise SandboxError(f"the zygote could not start a child: {reply.get('error')}")
            pid = int(reply["pid"])
            start = time.monotonic()  # the first request also waits for the zygote to import torch
            writer = threading.Thread(target=_write_all, args=(task_w, encode_frame(header, body)), daemon=True)
            writer.start()
            outcome = _collect(pid, result_r, output_r, task_w, limits, start)
            _kill_group(pid)  # whatever the student's code left running in its group dies with the run
            if not outcome.finished:  # why it stopped matters only when it did not finish
                exit_message = self._get(replies, KILL_GRACE + 1.0, default={})
                if "exit" in exit_message:
                    outcome.exit_code = int(exit_message["exit"])
            writer.join(timeout=1.0)
            outcome.wall = time.monotonic() - start
            return outcome
        finally:
            with self._waiting_lock:
                self._waiting.pop(task_id, None)
            for fd in (task_w, result_r, output_r):
                _close_quietly(fd)
            shutil.rmtree(workdir, ignore_errors=True)

    @staticmethod
    def _get(replies: Queue[dict[str, Any]], timeout: float, default: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            return replies.get(timeout=timeout)
        except Empty:
            if default is not None:
                return default
            raise SandboxError("the zygote did not answer") from None

    def close(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the reply thread; the zygote sees EOF and exits
        except OSError:
            pass
        self._sock.close()
        # The zygote holds nothing worth a clean exit, and its interpreter teardown (torch loaded) costs
        # half a second; its children die with it (parent-death signal).
        try:
            os.kill(self.zygote_pid, signal.SIGKILL)
            os.waitpid(self.zygote_pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        shutil.rmtree(self.workdir_root, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def chosen_layers() -> tuple[str, ...] | None:
    """The kernel layers $GRADER_SANDBOX_LAYERS names (to reproduce a machine without one), else None: all."""
    if LAYERS_VARIABLE not in os.environ:
        return None
    return tuple(name.strip() for name in os.environ[LAYERS_VARIABLE].split(",") if name.strip())


def _make_undumpable() -> None:
    """No core dumps and no /proc/<pid>/mem or ptrace for processes without privileges over us."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _fork_zygote(sock: socket.socket, *, hidden: list[str], workdir_root: str, required: bool,
                 layers: tuple[str, ...] | None) -> int:
    """Import torch here, once, and fork the zygote from this process.

    The grader needs torch itself (references, finite differences), so forking shares that one import
    with every child instead of paying it twice. Call this before loading exercises or submissions: the
    zygote inherits this process's memory as it is now, and must hold no secrets.
    """
    import torch  # noqa: F401 - the point: loaded before the fork

    from grader.sandbox import zygote

    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:
        os.setsid()
        fd = sock.fileno()
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        os.closerange(3, fd)
        os.closerange(fd + 1, 65536)
        zygote.main(fd, hidden=hidden, workdir_root=workdir_root, required=required, layers=layers)
    except BaseException:  # noqa: BLE001 - the zygote must never return into the grader's code
        code = 70
    finally:
        os._exit(code)


def _write_all(fd: int, data: bytes) -> None:
    """Feed the task to the child; a child that died early just closes the pipe."""
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except OSError:
        pass


def _close_quietly(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _drain(fd: int, output: bytearray, cap: int) -> int:
    """Take what is already waiting in a pipe without blocking; returns the bytes dropped over ``cap``."""
    dropped = 0
    while True:
        try:
            data = os.read(fd, 1 << 20)
        except (BlockingIOError, OSError):
            return dropped
        if not data:
            return dropped
        dropped += _keep(output, data, cap)


def _keep(output: bytearray, data: bytes, cap: int) -> int:
    """Append student output up to ``cap`` bytes in all; returns how many bytes were dropped."""
    room = max(0, cap - len(output))
    output += data[:room]
    return len(data) - min(room, len(data))


def _take(outcome: RunOutcome, frames: list[Frame], output_length: int, now: float | None = None) -> None:
    """Keep frames with the output length and time at their arrival (the marks that split a run)."""
    now = time.monotonic() if now is None else now
    for frame in frames:
        outcome.frames.append(frame)
        outcome.marks.append((output_length, now))


def _collect(pid: int, result_r: int, output_r: int, ack_w: int, limits: Limits, start: float) -> RunOutcome:
    """Read results and output until the child is done or its pipes close, killing it at a deadline.

    At ``load`` and at each exercise's ``end`` the child waits for a byte on ``ack_w``: its output so
    far is all in, so the mark recorded for the frame splits output between exercises exactly.
    """
    outcome = RunOutcome(started=start)
    stages = limits.stage_times
    stage = 0
    deadline = start + stages[0] + STARTUP_GRACE
    reader = FrameReader(limits.results)
    output = bytearray()
    dropped = 0
    selector = selectors.DefaultSelector()
    for fd in (result_r, output_r):
        os.set_blocking(fd, False)
        selector.register(fd, selectors.EVENT_READ)
    open_fds = {result_r, output_r}
    killed_at: float | None = None
    try:
        while open_fds:
            now = time.monotonic()
            if killed_at is None and now >= deadline:
                outcome.timed_out = True
                _kill_group(pid)
                killed_at = now
            if killed_at is not None and now - killed_at > KILL_GRACE:
                break
            limit = deadline if killed_at is None else killed_at + KILL_GRACE
            for key, _ in selector.select(max(0.0, limit - now)):
                fd = key.fd
                try:
                    data = os.read(fd, 1 << 20)
                except BlockingIOError:
                    continue
                if not data:
                    selector.unregister(fd)
                    open_fds.discard(fd)
                    continue
                if fd == output_r:
                    dropped += _keep(output, data, limits.output)
                    continue
                try:
                    frames = reader.feed(data)
                except ChannelError as exc:
                    _take(outcome, exc.frames, len(output))
                    outcome.channel_error = Message(FOREIGN_WRITER, {"error": str(exc)})
                    _kill_group(pid)
                    killed_at = killed_at or time.monotonic()
                    selector.unregister(fd)
                    open_fds.discard(fd)
                    continue
                if frames:
                    dropped += _drain(output_r, output, limits.output)  # output written before the frames
                    now = time.monotonic()
                for frame in frames:
                    _take(outcome, [frame], len(output), now)
                    event = frame.header.get("event")
                    if event == "end" and stage + 1 < len(stages):
                        stage += 1
                        deadline = now + stages[stage]
                    if event in ("load", "end"):
                        try:
                            os.write(ack_w, b"\x01")
                        except OSError:
                            pass
                if killed_at is None and any(f.header.get("event") == "done" for f in frames):
                    # Every call answered: waiting for the pipes to close would wait for the kernel to
                    # tear down a torch-sized address space (several ms), or for a stray grandchild.
                    _kill_group(pid)
                    dropped += _drain(output_r, output, limits.output)
                    open_fds.clear()
    finally:
        selector.close()
    outcome.output_bytes = bytes(output)
    outcome.output_truncated = dropped > 0
    return outcome
