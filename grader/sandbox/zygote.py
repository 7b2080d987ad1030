"""The zygote: a process that imports torch once and forks a fresh child per task.

Forked by ``grader.sandbox.runner.Sandbox`` right after the grader imported torch, before it loads
any exercise or submission. It holds no secrets: it never sees a task's inputs or the
student's code. Each request over its SEQPACKET control socket is a tiny JSON message (task id, limits,
working directory) with three file descriptors attached: the pipe the child reads its task from, the
pipe it writes results to, and the pipe that becomes its stdout and stderr. The zygote hands them to a
spare child it forked ahead of time, replies with that child's pid (later with its exit status), and
forks the next spare.

Forking from a warm process is what makes a sandboxed run cost milliseconds instead of the second a
fresh interpreter needs to import torch.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import resource
import selectors
import signal
import socket
import sys
from dataclasses import dataclass
from typing import Any

import torch

import grader.sandbox.harness as harness
import grader.sandbox.trace_harness as trace_harness
from grader.sandbox import layers as sandbox_layers
from grader.sandbox.channel import read_frame_blocking

MAX_TASK_BYTES = 512 * 1024 * 1024
EXIT_SANDBOX_FAILED = 71  # a required protection layer could not be applied in the child
_PR_SET_PDEATHSIG = 1
_PR_SET_NAME = 15
SPARE_NAME, CHILD_NAME = b"grader-spare", b"grader-child"  # what ps and /proc/<pid>/comm show
_PR_SET_CHILD_SUBREAPER = 36
_ADDRESS_SPACE_SLACK = 2 * 1024 * 1024 * 1024  # thread stacks and mappings beyond the data limit


class _Zygote:
    """What every child inherits: the layers this machine offers and the process limit."""

    plan = sandbox_layers.Plan()
    nproc: int | None = None  # RLIMIT_NPROC for children; None when running as root (the kernel ignores it)
    grader_modules: dict = {}  # out of sys.modules (students cannot import them), kept alive here


def _warm_up() -> None:
    """Touch the lazily-initialised parts of torch once, so children inherit them ready."""
    torch.set_num_threads(1)  # before any fork: an OpenMP pool does not survive fork
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    x = torch.arange(4.0, requires_grad=True)
    y = (2 * torch.dot(x, x) + torch.sin(x).sum() + torch.log(x * x + 1).sum())
    (g,) = torch.autograd.grad(y, x, create_graph=True)
    g.sum().backward()
    # A non-scalar backward with a gradient argument lazily imports sympy (symbolic shapes): pay once here.
    z = torch.ones(3, requires_grad=True)
    (z * z).backward(torch.ones(3))
    torch.autograd.grad(z * 2, z, grad_outputs=torch.ones(3))
    harness.install_autograd_recorder()
    harness.seed_everything("warm-up")  # NumPy's first seeding imports its random module: 7 ms a child


def _status_bytes(field: str) -> int:
    """A size from /proc/self/status: VmData is what RLIMIT_DATA counts, VmSize what RLIMIT_AS counts."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _processes_of(uid: int) -> int:
    count = 0
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and os.stat(f"/proc/{entry}").st_uid == uid:
                count += 1
        except OSError:
            pass
    return count


def _set_limit(which: int, soft: int, hard: int | None = None) -> None:
    hard = soft if hard is None else hard
    try:
        _, current_hard = resource.getrlimit(which)
        if current_hard != resource.RLIM_INFINITY:
            soft, hard = min(soft, current_hard), min(hard, current_hard)
        resource.setrlimit(which, (soft, hard))
    except (ValueError, OSError):
        pass


def _harden(request: dict[str, Any], task_fd: int, result_fd: int, output_fd: int) -> None:
    """Make this freshly forked child a place where student code can do little harm."""
    os.setsid()  # own process group: the grader kills the whole group on timeout
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        libc.prctl(_PR_SET_NAME, CHILD_NAME)
    except (OSError, AttributeError):
        pass
    signal.set_wakeup_fd(-1)
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    keep = sorted({0, 1, 2, task_fd, result_fd})
    low = 3
    for fd in keep:
        if fd >= low:
            os.closerange(low, fd)
            low = fd + 1
    os.closerange(low, 65536)

    workdir = request["workdir"]
    launch_dirs = {"", ".", os.getcwd(), os.path.dirname(os.path.abspath(sys.argv[0] or "."))}
    os.chdir(workdir)
    os.environ.clear()
    os.environ.update({"HOME": workdir, "TMPDIR": workdir, "PYTHONBREAKPOINT": "0", "MPLBACKEND": "Agg",
                       "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    sys.breakpointhook = lambda *args, **kwargs: None
    sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
    sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
    sys.stdin = open(0, encoding="utf-8", closefd=False)
    sys.argv = [request.get("filename", "submission.py")]
    # `python -I` semantics: nothing from where the grader was launched shadows the standard library.
    sys.path[:] = [p for p in sys.path if p not in launch_dirs]

    limits = request.get("limits", {})
    cpu = int(limits.get("cpu", 10)) + 1
    _set_limit(resource.RLIMIT_CPU, cpu, cpu + 1)
    memory = int(limits.get("memory", 1024)) * 1024 * 1024
    _set_limit(resource.RLIMIT_DATA, _status_bytes("VmData") + memory)
    _set_limit(resource.RLIMIT_AS, _status_bytes("VmSize") + memory + _ADDRESS_SPACE_SLACK)
    _set_limit(resource.RLIMIT_FSIZE, int(limits.get("file_size", 16 * 1024 * 1024)))
    _set_limit(resource.RLIMIT_CORE, 0)
    _set_limit(resource.RLIMIT_NOFILE, 256)
    if _Zygote.nproc is not None:
        _set_limit(resource.RLIMIT_NPROC, _Zygote.nproc)

    failed = _Zygote.plan.apply(workdir)
    if failed and _Zygote.plan.required:
        os.write(2, f"grader: the sandbox could not apply {', '.join(failed)} here\n".encode())
        os._exit(EXIT_SANDBOX_FAILED)


def _child(request: dict[str, Any], fds: list[int]) -> None:
    """Body of a forked child; never returns."""
    code = 0
    try:
        task_fd, result_fd, output_fd = fds
        _harden(request, task_fd, result_fd, output_fd)
        frame = read_frame_blocking(task_fd, MAX_TASK_BYTES)
        if frame is not None:  # the task pipe stays open: the grader acknowledges each exercise on it
            # "trace": run a notebook/script top to bottom and trace autograd; otherwise call functions.
            run = trace_harness.run_trace if frame.header.get("mode") == "trace" else harness.run_task
            run(frame.header, frame.body, result_fd, task_fd)
    except BaseException:  # noqa: BLE001 - a child must never fall back into the zygote's loop
        code = 70
        try:
            os.write(2, b"grader harness failure\n")
        except OSError:
            pass
    finally:
        os._exit(code)


@dataclass
class _Spare:
    """A child forked ahead of time, waiting for its request: a fork costs ~5 ms with torch loaded, and
    a spare takes that off the time a run waits (as Android's zygote keeps unspecialised processes)."""

    pid: int
    channel: socket.socket  # the zygote's end; the request and its file descriptors come through it


def _fork_spare(closing: list[int]) -> _Spare:
    """Fork a spare; in the child, close ``closing`` (the zygote's own descriptors) and wait."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid:
        theirs.close()
        return _Spare(pid, ours)
    code = 0
    try:
        ours.close()
        for fd in closing:
            os.close(fd)
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        libc.prctl(_PR_SET_NAME, SPARE_NAME)
        if os.getppid() == 1:  # the zygote died before the line above
            os._exit(0)
        data, fds, _, _ = socket.recv_fds(theirs, 65536, 8)
        theirs.close()
        if data and len(fds) == 3:
            _child(json.loads(data), fds)
    except BaseException:  # noqa: BLE001 - a spare must never fall back into the zygote's loop
        code = 70
    os._exit(code)


def serve(sock: socket.socket) -> None:
    """Hand each request to a spare child, reply with its pid, fork the next spare; until EOF."""
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    tasks: dict[int, str] = {}
    selector = selectors.DefaultSelector()
    selector.register(sock, selectors.EVENT_READ, "request")
    selector.register(wake_r, selectors.EVENT_READ, "child")
    zygote_fds = [sock.fileno(), wake_r, wake_w, selector.fileno()]
    spare: _Spare | None = None

    def send(message: dict[str, Any]) -> None:
        try:
            sock.send(json.dumps(message).encode())
        except OSError:
            pass

    while True:
        if spare is None:
            spare = _fork_spare(zygote_fds)
        for key, _ in selector.select():
            if key.data == "child":
                try:
                    os.read(wake_r, 4096)
                except BlockingIOError:
                    pass
                while True:  # the tasks' children, and orphans re-parented here (subreaper)
                    try:
                        pid, status = os.waitpid(-1, os.WNOHANG)
                    except ChildProcessError:
                        break
                    if pid == 0:
                        break
                    task = tasks.pop(pid, None)
                    if task is not None:
                        send({"task": task, "exit": os.waitstatus_to_exitcode(status)})
                    elif spare is not None and pid == spare.pid:  # a spare that died: fork another
                        spare.channel.close()
                        spare = None
                _kill_orphans(tasks, spare.pid if spare else None)
                continue
            data, fds, _, _ = socket.recv_fds(sock, 65536, 8)
            if not data:
                return
            request = json.loads(data)
            if len(fds) != 3:
                for fd in fds:
                    os.close(fd)
                send({"task": request.get("task"), "error": "expected 3 file descriptors"})
                continue
            if spare is None:
                spare = _fork_spare(zygote_fds)
            try:
                socket.send_fds(spare.channel, [data], fds)
            except OSError as exc:
                send({"task": request.get("task"), "error": f"could not start a child: {exc}"})
                continue
            finally:
                for fd in fds:
                    os.close(fd)
            pid = spare.pid
            spare.channel.close()
            spare = None
            tasks[pid] = request["task"]
            send({"task": request["task"], "pid": pid})


def _kill_orphans(tasks: dict[int, str], spare: int | None) -> None:
    """Kill processes re-parented to the zygote: they escaped a task's process group (double fork)."""
    me = os.getpid()
    try:
        with open(f"/proc/{me}/task/{me}/children") as handle:
            children = [int(pid) for pid in handle.read().split()]
    except OSError:
        return
    for pid in children:
        if pid not in tasks and pid != spare:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def main(fd: int, *, hidden: list[str], workdir_root: str, required: bool, layers: tuple[str, ...] | None) -> None:
    _warm_up()
    try:  # processes a task leaves behind are re-parented here, where they are found and killed
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    _Zygote.plan = sandbox_layers.prepare(hidden, workdir_root, layers)
    _Zygote.plan.required = required
    if os.geteuid() != 0:
        _Zygote.nproc = _processes_of(os.geteuid()) + 64
    _Zygote.grader_modules = harness.hide_grader_modules()
    # Every object so far is shared with the children copy-on-write: a garbage collection in a child
    # would touch (and so copy) all of them. Frozen, the collector skips them.
    gc.freeze()
    sock = socket.socket(fileno=fd)
    try:
        sock.send(json.dumps({"event": "layers", "layers": _Zygote.plan.to_json()}).encode())
        serve(sock)
    finally:
        sock.close()
