"""The only grader code that runs beside student code, inside the sandboxed child.

It executes the submission in a fresh namespace, calls the exercise's functions on fresh copies of the
inputs, and streams back what happened as frames (raw numbers and JSON, never pickles):

- ``load``: the submission's top level ran (or the error it raised, with its line);
- ``begin`` / ``end``: the calls of one exercise start / all answered (one child serves several
  exercises; the grader restarts the remaining ones in a fresh child when one of them kills it);
- ``call``: one function call: the returned tensor, or the exception, plus evidence for the checks:
  every ``backward``/``torch.autograd.grad`` the call made (with the gradients autograd produced), the
  forbidden torch operations it called (with the student's line);
- ``done``: every exercise finished.

Judging happens in the grader, against its own copies of the inputs; nothing here decides a verdict.
"""

from __future__ import annotations

import builtins
import os
import random
import sys
import traceback
import types
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch.overrides import TorchFunctionMode

from grader.sandbox.channel import TensorWriter, decode_tensor, dtypes, write_frame

MAX_RECORDS_PER_CALL = 32
MAX_RECORD_BYTES = 64 * 1024 * 1024
MAX_MESSAGE = 2000
MAX_VALUE_BYTES = 64 * 1024 * 1024


@dataclass
class CallEvidence:
    """What the student's code did with autograd during one call (or while loading)."""

    filename: str
    records: list[dict[str, Any]] = field(default_factory=list)
    forbidden: list[dict[str, Any]] = field(default_factory=list)
    writer: TensorWriter = field(default_factory=TensorWriter)


class _State:
    evidence: CallEvidence | None = None
    forbidden: frozenset[str] = frozenset()
    filename: str = ""
    exercise: str = ""
    result_fd: int = -1
    tamper_reported: int = 0
    audit_installed: bool = False
    torch_snapshot: dict[str, Any] = {}
    auditing: bool = False  # re-entrancy guard: the audit hook's own frame lookups are audited too


MAX_TAMPER_FRAMES = 20

# Audit events that let code reach into the grader's machinery (its recorders, its evidence, torch's
# patched functions). Raised by student code, they make provenance and forbidden-operation evidence
# untrustworthy, so the grader fails those checks; the same calls from torch or the stdlib are normal.
# A report names the event by code; the grader words it (grader/sandbox/evidence.py: TAMPERING).
_WATCHED_EVENTS = frozenset({"gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys._getframe",
                             "sys._current_frames", "sys.settrace", "sys.setprofile"})
_FRAME_ATTRIBUTES = {"tb_frame", "gi_frame", "cr_frame", "ag_frame"}
_HARNESS_FILES = frozenset({__file__, os.path.join(os.path.dirname(__file__), "trace_harness.py")})


def _from_student(depth: int) -> int | None:
    """The line, when the code ``depth`` frames up the stack is the student's (their file or exec'd text)."""
    try:
        frame = sys._getframe(depth + 1)
    except ValueError:
        return None
    name = frame.f_code.co_filename
    if name == _State.filename or (name.startswith("<") and not name.startswith("<frozen")):
        return frame.f_lineno or 0
    return None


_FRAME_EVENTS = frozenset({"sys._getframe", "sys._current_frames"})


def _from_harness(depth: int) -> bool:
    """Whether the code ``depth`` frames up the stack is the grader's own (its harnesses)."""
    try:
        return sys._getframe(depth + 1).f_code.co_filename in _HARNESS_FILES
    except ValueError:
        return False


def _tamper_event(event: str, args: tuple[Any, ...]) -> tuple[str, str] | None:
    """What the event means when the student's code raised it, as (code, detail), or None when harmless."""
    if event in _WATCHED_EVENTS:
        return event, ""
    if event.startswith("ctypes."):
        return "ctypes", event
    if event == "object.__getattr__" and len(args) > 1 and args[1] in _FRAME_ATTRIBUTES:
        return "frames", str(args[1])
    if event in ("object.__setattr__", "object.__delattr__") and args:
        owner = getattr(args[0], "__module__", "") or ""
        if isinstance(owner, str) and owner.split(".")[0] in ("torch", "grader"):
            name = getattr(args[0], "__qualname__", type(args[0]).__name__)
            return "patched", f"{owner}.{name}.{args[1] if len(args) > 1 else '?'}"
    if event == "import" and args and isinstance(args[0], str) and args[0].split(".")[0] == "grader":
        return "imported_grader", args[0]
    return None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    """Report tampering at once on the result pipe: a report already sent cannot be taken back."""
    if _State.auditing or _State.result_fd < 0 or _State.tamper_reported >= MAX_TAMPER_FRAMES:
        return
    _State.auditing = True
    try:
        what = _tamper_event(event, args)
        line = _from_student(1) if what else None
        if line is None and what and what[0] in _FRAME_EVENTS and not _from_harness(1):
            # inspect.currentframe(), inspect.stack(), traceback.walk_stack(): the standard library reaches
            # the frames for its caller (logging's own lookup of its caller, one level deeper, is fine).
            line = _from_student(2)
        if what and line is not None:
            _report_tampering(*what, line=line or None)
    except Exception:  # noqa: BLE001 - an audit hook must never break the code it watches
        pass
    finally:
        _State.auditing = False


def hide_grader_modules() -> dict[str, types.ModuleType]:
    """Take the grader's modules out of ``sys.modules``: ``import grader...`` in student code must load
    from disk, which the sandbox refuses. Returns them, to be kept referenced: freeing them in every
    child would touch (and so copy) their memory. Called once in the zygote, before any fork."""
    return {name: sys.modules.pop(name) for name in [n for n in sys.modules if n.split(".")[0] == "grader"]}


def _trap_forbidden(names: frozenset[str]) -> None:
    """Wrap each forbidden function where students reach it (``torch.cos``, ``x.cos()``, ``x.cos_()``),
    so disabling torch-function modes does not hide a call from the trace."""
    for owner in (torch, torch.Tensor, torch.special, torch.nn.functional):
        for name in names:
            for attribute in (name, name + "_"):
                original = getattr(owner, attribute, None)
                if callable(original) and not hasattr(original, "__grader_trap__"):
                    setattr(owner, attribute, _trap(attribute, original))


def _trap(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    def trapped(*args: Any, **kwargs: Any) -> Any:
        _note_forbidden(name)
        return original(*args, **kwargs)

    trapped.__grader_trap__ = True  # type: ignore[attr-defined]
    trapped.__doc__ = getattr(original, "__doc__", None)
    return trapped


def _note_forbidden(name: str) -> None:
    evidence = _State.evidence
    if evidence is not None and name.rstrip("_") in _State.forbidden and len(evidence.forbidden) < 100:
        evidence.forbidden.append({"op": name, "line": student_line(evidence.filename)})


def student_line(filename: str, tb: types.TracebackType | None = None) -> int | None:
    """Line of the innermost frame in the student's file (from a traceback, else the current stack)."""
    line = None
    if tb is not None:
        for frame, lineno in traceback.walk_tb(tb):
            if frame.f_code.co_filename == filename:
                line = lineno
        return line
    # Frames are told apart by their module's __file__ (the student's namespace has it): reading
    # f_code raises an audit event, and this runs for every backward and forbidden call.
    auditing, _State.auditing = _State.auditing, True  # the audit hook has nothing to say about the harness
    try:
        frame = sys._getframe(1)
        while frame is not None:
            if frame.f_globals.get("__file__") == filename:
                return frame.f_lineno
            frame = frame.f_back  # type: ignore[assignment]
        return None
    finally:
        _State.auditing = auditing


def _leaves(tensors: tuple[torch.Tensor, ...], limit: int = 100_000) -> list[torch.Tensor]:
    """Leaf tensors a backward pass from ``tensors`` accumulates into (via AccumulateGrad nodes)."""
    leaves: list[torch.Tensor] = []
    seen: set[Any] = set()  # the nodes themselves (cached, hashable): id() raises an audit event
    stack = []
    for t in tensors:
        if not isinstance(t, torch.Tensor):
            continue
        if t.grad_fn is None:
            if t.requires_grad:
                leaves.append(t)
        else:
            stack.append(t.grad_fn)
    while stack and len(seen) < limit:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        variable = getattr(node, "variable", None)
        if isinstance(variable, torch.Tensor):
            leaves.append(variable)
            continue
        stack.extend(next_node for next_node, _ in node.next_functions)
    return leaves


def _as_tuple(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, torch.Tensor):
        return (value,)
    try:
        return tuple(value)
    except TypeError:
        return (value,)


def _shapes(tensors: tuple[Any, ...]) -> list[list[int] | None]:
    return [list(t.shape) if isinstance(t, torch.Tensor) else None for t in tensors]


def _record(kind: str, outputs: Any, gradient: Any, options: dict[str, Any]) -> dict[str, Any] | None:
    evidence = _State.evidence
    if evidence is None or len(evidence.records) >= MAX_RECORDS_PER_CALL:
        return None
    outs = _as_tuple(outputs)
    grads = _as_tuple(gradient)
    record: dict[str, Any] = {
        "kind": kind,
        "outputs": _shapes(outs),
        "gradient": _shapes(grads) if grads else None,
        "retain_graph": options.get("retain_graph"),
        "create_graph": bool(options.get("create_graph")),
        "line": student_line(evidence.filename),
        "error": None,
        "results": [],
    }
    evidence.records.append(record)
    return record


def _add_result(record: dict[str, Any] | None, tensor: Any) -> None:
    evidence = _State.evidence
    if record is None or evidence is None or not isinstance(tensor, torch.Tensor):
        return
    if evidence.writer.size + tensor.numel() * tensor.element_size() > MAX_RECORD_BYTES:
        return
    record["results"].append(evidence.writer.add(tensor))  # its bytes, copied now: later changes do not show


def _recorded(record: dict[str, Any] | None, call: Callable[[], Any]) -> Any:
    """Run an autograd entry point, noting in ``record`` the error it raises (caught by the student or not)."""
    try:
        return call()
    except BaseException as exc:
        if record is not None:
            record["error"] = f"{type(exc).__name__}: {exc}"[:MAX_MESSAGE]
        raise


def _wrap_backward(original: Callable[..., Any]) -> Callable[..., Any]:
    def backward(tensors: Any, grad_tensors: Any = None, retain_graph: Any = None,
                 create_graph: bool = False, grad_variables: Any = None, inputs: Any = None) -> Any:
        record = _record("backward", tensors, grad_tensors,
                         {"retain_graph": retain_graph, "create_graph": create_graph})
        leaves = list(_as_tuple(inputs)) if inputs is not None else _leaves(_as_tuple(tensors))
        result = _recorded(record, lambda: original(tensors, grad_tensors, retain_graph, create_graph,
                                                    grad_variables, inputs))
        for leaf in leaves:
            _add_result(record, leaf.grad)
        return result

    backward.__wrapped__ = original  # type: ignore[attr-defined]
    backward.__doc__ = original.__doc__
    return backward


def _wrap_grad(original: Callable[..., Any]) -> Callable[..., Any]:
    def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, *args: Any, **kwargs: Any) -> Any:
        options = dict(kwargs)
        names = ("retain_graph", "create_graph")
        options.update(zip(names, args))
        record = _record("grad", outputs, grad_outputs, options)
        result = _recorded(record, lambda: original(outputs, inputs, grad_outputs, *args, **kwargs))
        for tensor in _as_tuple(result):
            _add_result(record, tensor)
        return result

    grad.__wrapped__ = original  # type: ignore[attr-defined]
    grad.__doc__ = original.__doc__
    return grad


class _ForbiddenOps(TorchFunctionMode):
    """Notes each call of a forbidden torch function (``torch.cos``, ``x.cos()``, ``cos_``) by name."""

    def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        if not hasattr(func, "__grader_trap__"):  # a trap notes its own calls
            _note_forbidden(getattr(func, "__name__", "") or "")
        return func(*args, **(kwargs or {}))


def install_autograd_recorder() -> None:
    """Route ``backward`` and ``torch.autograd.grad`` through recorders (Tensor.backward calls the former),
    and watch for tampering (audit hooks cannot be removed once added)."""
    if not hasattr(torch.autograd.backward, "__wrapped__"):
        torch.autograd.backward = _wrap_backward(torch.autograd.backward)
    if not hasattr(torch.autograd.grad, "__wrapped__"):
        torch.autograd.grad = _wrap_grad(torch.autograd.grad)
    if not _State.audit_installed:
        sys.addaudithook(_audit)
        _State.audit_installed = True


def _error(exc: BaseException, filename: str) -> dict[str, Any]:
    """An exception as plain data: type, message, the student's line, and the student's frames."""
    frames = [
        f"  line {lineno}, in {frame.f_code.co_name}"
        for frame, lineno in traceback.walk_tb(exc.__traceback__)
        if frame.f_code.co_filename == filename
    ]
    if isinstance(exc, SyntaxError) and exc.filename == filename:
        line = exc.lineno
    else:
        line = student_line(filename, exc.__traceback__)
    message = str(exc)
    if isinstance(exc, SystemExit):
        message = f"sys.exit({exc.code!r}) was called"
    return {"type": type(exc).__name__, "message": message[:MAX_MESSAGE], "line": line, "frames": frames[-10:]}


def _describe_value(value: Any, arguments: list[torch.Tensor], writer: TensorWriter) -> dict[str, Any]:
    """The returned object as plain data: a tensor's numbers plus facts useful for diagnosis."""
    if value is None:
        return {"type": "None"}
    if isinstance(value, (bool, int, float)):
        return {"type": type(value).__name__, "tensor": writer.add(torch.tensor(float(value), dtype=torch.float64))}
    if not isinstance(value, torch.Tensor):
        return {"type": type(value).__name__}
    with torch._C.DisableTorchFunctionSubclass():
        facts = {
            "type": "Tensor",
            "subclass": None if type(value) is torch.Tensor else type(value).__name__,
            "requires_grad": bool(value.requires_grad),
            "grad_fn": type(value.grad_fn).__name__ if value.grad_fn is not None else None,
            "is_argument_grad": [i for i, a in enumerate(arguments) if a.grad is not None and a.grad is value],
            "is_argument": [i for i, a in enumerate(arguments) if a is value],
        }
        if value.dtype not in dtypes().values():
            facts["dtype"] = str(value.dtype).replace("torch.", "")
            return facts
        nbytes = value.numel() * value.element_size()
        if nbytes > MAX_VALUE_BYTES:
            facts["too_large"] = nbytes  # judged from here: copying it could exhaust the child's memory
            return facts
        facts["tensor"] = writer.add(value)
    return facts


def _arguments_after(arguments: list[torch.Tensor]) -> list[dict[str, Any]]:
    return [
        {"requires_grad": bool(a.requires_grad), "grad_is_none": a.grad is None, "is_leaf": bool(a.is_leaf)}
        for a in arguments
    ]


def _op_names(ops: list[str]) -> frozenset[str]:
    return frozenset(op.split(".")[-1].rstrip("_") for op in ops)


def run_task(header: dict[str, Any], body: bytes, result_fd: int, ack_fd: int) -> None:
    """Load each program of the task, then run its exercises' calls, streaming a frame per step.

    A task holds one or more programs (a student's files graded separately), each with its exercises;
    the inputs are shared. Every program is loaded in a fresh namespace, after the previous one's
    exercises, so its ``load`` frame and output follow theirs. After each load and after each exercise
    but the last, wait for the grader's acknowledgement on ``ack_fd``: by then it has taken every byte of
    output written so far, so output is attributed to the right program's loading or exercise.
    """
    programs = header["programs"]
    inputs = [decode_tensor(entry, body) for entry in header["inputs"]]
    install_autograd_recorder()
    every = [e for program in programs for e in program["exercises"]]
    # Forbidden operations are traced while loading too (any of the program's exercises'), and per
    # exercise in its calls.
    every_forbidden = _op_names([op for e in every for op in e.get("forbidden", [])])
    _trap_forbidden(every_forbidden)
    mode = _ForbiddenOps() if every_forbidden else None
    _State.result_fd = result_fd
    _State.torch_snapshot = _snapshot_torch()  # after the grader's own traps, before any student line
    last = every[-1] if every else None
    for program in programs:
        namespace = _load_program(program, mode)
        os.read(ack_fd, 1)  # what loading printed is in before any exercise prints (see the docstring)
        for exercise in program["exercises"]:
            _run_exercise(exercise, namespace, inputs, program["filename"], mode)
            if exercise is not last:
                os.read(ack_fd, 1)
    write_frame(result_fd, {"event": "done"})


def _load_program(program: dict[str, Any], mode: TorchFunctionMode | None) -> dict[str, Any]:
    """Run a program's top level in a fresh namespace and send its ``load`` frame."""
    filename = program["filename"]
    exercises = program["exercises"]
    _State.filename = filename
    _State.forbidden = _op_names([op for e in exercises for op in e.get("forbidden", [])])
    seed_everything("load")
    namespace: dict[str, Any] = {"__name__": "submission", "__file__": filename, "__builtins__": builtins}
    evidence = CallEvidence(filename)
    _State.evidence = evidence
    load: dict[str, Any] = {"event": "load", "error": None}
    try:
        code = compile(program["source"], filename, "exec")
        if mode is not None and _State.forbidden:
            with mode:
                exec(code, namespace)
        else:
            exec(code, namespace)
    except BaseException as exc:  # noqa: BLE001 - student code may raise anything, SystemExit included
        load["error"] = _error(exc, filename)
    finally:
        _State.evidence = None
    _check_torch(_State.torch_snapshot)
    load["forbidden"] = evidence.forbidden
    wanted = {name for e in exercises for name in e.get("functions", [])}
    load["defined"] = sorted(name for name in wanted if callable(namespace.get(name)))
    _flush_student_output()
    write_frame(_State.result_fd, load)
    return namespace


def _run_exercise(exercise: dict[str, Any], namespace: dict[str, Any], inputs: list[torch.Tensor], filename: str,
                  mode: TorchFunctionMode | None) -> None:
    _State.exercise = exercise["id"]
    write_frame(_State.result_fd, {"event": "begin", "exercise": exercise["id"]})
    _State.forbidden = _op_names(exercise.get("forbidden", []))
    for call in exercise["calls"]:
        frame, payload = _run_call(call, namespace, inputs, filename, mode if _State.forbidden else None)
        _flush_student_output()
        write_frame(_State.result_fd, frame, payload)
    write_frame(_State.result_fd, {"event": "end", "exercise": exercise["id"]})


def _run_call(call: dict[str, Any], namespace: dict[str, Any], inputs: list[torch.Tensor], filename: str,
              mode: TorchFunctionMode | None) -> tuple[dict[str, Any], bytes]:
    frame: dict[str, Any] = {"event": "call", "id": call["id"], "status": "ok"}
    function = namespace.get(call["function"])
    if function is None:
        frame["status"] = "missing"
        return frame, b""
    if not callable(function):
        frame["status"] = "not_callable"
        frame["type"] = type(function).__name__
        return frame, b""
    arguments = [inputs[i].clone() for i in call["args"]]
    seed_everything(f"{_State.exercise}/{call['id']}")
    evidence = CallEvidence(filename)
    _State.evidence = evidence
    value: Any = None
    try:
        if mode is not None:
            with mode:
                value = function(*arguments)
        else:
            value = function(*arguments)
    except BaseException as exc:  # noqa: BLE001 - reported, never re-raised
        frame["status"] = "error"
        frame["error"] = _error(exc, filename)
    finally:
        _State.evidence = None
    _check_torch(_State.torch_snapshot)
    if frame["status"] == "ok":
        frame["value"] = _describe_value(value, arguments, evidence.writer)
    frame["arguments"] = _arguments_after(arguments)
    frame["records"] = evidence.records
    frame["forbidden"] = evidence.forbidden
    return frame, evidence.writer.body()


def _report_tampering(code: str, detail: str = "", line: int | None = None) -> None:
    if _State.result_fd >= 0 and _State.tamper_reported < MAX_TAMPER_FRAMES:
        _State.tamper_reported += 1
        write_frame(_State.result_fd, {"event": "tamper", "code": code, "detail": detail[:200], "line": line})


def _snapshot_torch() -> dict[str, Any]:
    """What a call must leave as it found it: torch.Tensor's methods and the autograd entry points.
    (Assigning a class attribute raises no audit event, so the harness compares after each call.)"""
    return {**{f"Tensor.{k}": v for k, v in vars(torch.Tensor).items()},
            "autograd.backward": torch.autograd.backward, "autograd.grad": torch.autograd.grad}


def seed_everything(key: str) -> None:
    """Seed torch, random and NumPy from ``key`` before student code runs: code that draws its own random
    numbers gets the same ones on every machine and every rerun, so its grade does too."""
    seed = zlib.crc32(key.encode())
    torch.default_generator.manual_seed(seed)  # the CPU generator only: torch.manual_seed also visits CUDA
    random.seed(seed)
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        try:
            numpy.random.seed(seed)
        except Exception:  # noqa: BLE001 - a student may have replaced numpy.random
            pass


def _check_torch(snapshot: dict[str, Any]) -> None:
    """Patching torch is tampering (reported); the originals are put back for the calls that follow."""
    now = _snapshot_torch()
    if now == snapshot or not snapshot:  # no baseline yet: nothing to compare with
        return
    for key, original in snapshot.items():
        if now.get(key, _MISSING) is original:
            continue
        _report_tampering("patched", f"torch.{key}")
        owner, name = (torch.Tensor, key[7:]) if key.startswith("Tensor.") else (torch.autograd, key[9:])
        setattr(owner, name, original)
    # New attributes may be torch's own lazy set-up; one that hides a method of the C tensor type
    # (``torch.Tensor.sum = ...``) is a patch.
    for key in now.keys() - snapshot.keys():
        name = key[7:]
        if key.startswith("Tensor.") and hasattr(torch._C.TensorBase, name):
            _report_tampering("patched", f"torch.{key}")
            delattr(torch.Tensor, name)


_MISSING = object()


def _flush_student_output() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a student may have replaced or closed the stream
            pass
