"""`grader doctor`: which protections this machine gives student code, checked live.

The zygote reports the kernel layers it could set up (``grader.sandbox.layers``); then a real child,
hardened exactly as a student's would be, tries a handful of things a hostile submission would, and
each attempt is reported as blocked or allowed, with the error that stopped it.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field

from grader.sandbox.channel import TensorWriter
from grader.sandbox.runner import Limits, Sandbox

ALWAYS = ("fork per task from a warm zygote; setsid and a process-group kill after every run; "
          "rlimits: CPU, data, address space, file size, open files, no core dumps; stdin closed; "
          "empty environment and own HOME/TMPDIR/cwd; non-dumpable grader; orphans swept (subreaper)")


@dataclass
class Attempt:
    """One hostile action tried in a sandboxed child."""

    name: str
    blocked: bool
    detail: str


@dataclass
class Diagnosis:
    system: str
    layers: dict[str, dict[str, object]]
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        return [name for name, layer in self.layers.items() if not layer.get("available")]

    @property
    def healthy(self) -> bool:
        return not self.missing and all(a.blocked for a in self.attempts)


# Run in the child: each probe prints "name<TAB>what happened" and returns 1.0 when the action was refused.
_HELPERS = """
import os, socket

def _report(name, action):
    try:
        action()
    except (ConnectionRefusedError, FileNotFoundError) as exc:  # got through; nobody answered
        print(f"{name}\\tsucceeded in reaching the system ({exc})", flush=True)
        return 0.0
    except Exception as exc:
        print(f"{name}\\t{type(exc).__name__}: {exc}", flush=True)
        return 1.0
    print(f"{name}\\tsucceeded", flush=True)
    return 0.0

def _write_outside():
    with open(WRITE_OUTSIDE, "w") as handle:
        handle.write("escaped")
    os.remove(WRITE_OUTSIDE)

def _read_memory():
    try:
        open(f"/proc/{GRADER_PID}/mem", "rb").read(1)
    except FileNotFoundError:  # the grader is running: its /proc entry is missing only where /proc is empty
        raise PermissionError("/proc is empty here: no process of the host is visible") from None

def _reopen_output():
    try:
        open("/proc/self/fd/1", "wb").close()
    except FileNotFoundError:
        raise PermissionError("/proc is empty here: no /proc/self/fd to reopen") from None

def _fork():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
"""

# (function, what a hostile submission tries, how); exec last: when it works, the child is gone.
PROBES = (
    ("network", "open a network connection",
     "lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM).connect(('127.0.0.1', 9))"),
    ("unix_socket", "connect to a local service (unix socket)",
     "lambda: socket.socket(socket.AF_UNIX).connect('/run/docker.sock')"),
    ("read_grader", "read the grader's own files (references, catalogs)", "lambda: open(GRADER_FILE).read()"),
    ("read_cwd", "list the folder the grader runs in (other submissions)", "lambda: os.listdir(GRADER_CWD)"),
    ("write_outside", "write a file outside its own folder", "_write_outside"),
    ("start_process", "start a process (fork)", "_fork"),
    ("signal_grader", "send a signal to the grader", "lambda: os.kill(GRADER_PID, 0)"),
    ("read_memory", "read the grader's memory (/proc/<pid>/mem)", "_read_memory"),
    ("copy_descriptor", "copy a descriptor (to put something else in the result pipe's place)",
     "lambda: os.close(os.dup(1))"),
    ("reopen_pipe", "reopen a pipe through /proc/self/fd (the same, without dup)", "_reopen_output"),
    ("run_program", "run another program (exec)", "lambda: os.execv('/bin/true', ['true'])"),  # last: it replaces the child
)


def _source(grader_file: str, cwd: str, pid: int, outside: str) -> str:
    probes = "".join(f"\ndef {function}():\n    return _report({name!r}, {action})\n"
                     for function, name, action in PROBES)
    constants = (f"\nGRADER_FILE = {grader_file!r}\nGRADER_CWD = {cwd!r}\nGRADER_PID = {pid}\n"
                 f"WRITE_OUTSIDE = {outside!r}\n")
    return _HELPERS + constants + probes


def diagnose(sandbox: Sandbox) -> Diagnosis:
    """Layers as probed by the zygote, then every probe tried once in a hardened child."""
    import grader

    layers = sandbox.layers()
    outside = os.path.join(os.path.dirname(sandbox.workdir_root), f"grader-doctor-{os.getpid()}")
    source = _source(grader.__file__, os.getcwd(), os.getpid(), outside)
    calls = [{"id": f"0:{function}", "function": function, "args": []} for function, _, _ in PROBES]
    header = {"inputs": [], "programs": [{
        "source": source, "filename": "doctor.py",
        "exercises": [{"id": "doctor", "calls": calls, "functions": [f for f, _, _ in PROBES], "forbidden": []}]}]}
    outcome = sandbox.run(header, TensorWriter().body(), Limits(time=20.0), filename="doctor.py")
    reports = dict(line.split("\t", 1) for line in outcome.output.splitlines() if "\t" in line)
    attempts = []
    for _, name, _ in PROBES:
        detail = reports.get(name, "succeeded (the child was replaced or died before reporting)")
        attempts.append(Attempt(name, not detail.startswith("succeeded"), detail))
    if os.path.exists(outside):
        os.remove(outside)
    system = f"{platform.system()} {platform.release()} ({platform.machine()}), running as uid {os.geteuid()}"
    return Diagnosis(system=system, layers=layers, attempts=attempts)


def by_layer(hidden: tuple[str, ...] = ()) -> dict[str, Diagnosis]:
    """The probes under each kernel layer alone, under none, and under all: what each layer blocks."""
    from grader.sandbox.layers import LAYERS

    results = {}
    for label, layers in [("none", ()), *((name, (name,)) for name in LAYERS), ("all", None)]:
        with Sandbox(layers=layers, hidden=list(hidden)) as sandbox:
            results[label] = diagnose(sandbox)
    return results
