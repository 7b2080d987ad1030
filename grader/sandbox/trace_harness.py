"""Trace mode, inside the sandboxed child: run a notebook or script as learners write it, and trace autograd.

Most learners write top-level cells, not the named functions function mode calls (``harness.run_task``).
This module runs their cells in file order in one namespace, as Jupyter would, and records what autograd
did, streaming one frame per cell (so a later hang or crash keeps the evidence of the cells before it):

- ``cell``: the cell ran, or the exception it raised (with its line); every ``backward()`` /
  ``torch.autograd.backward`` / ``torch.autograd.grad`` call it made: output shapes, the ``gradient``
  argument, ``retain_graph`` / ``create_graph``, each leaf reached with its value and gradient increment,
  and the error raised (also when the learner caught it); the curves it plotted;
- ``call``: after the cells, each version of a learner's function (``f`` is often redefined) called on
  the grader's inputs, when its signature fits (the frame of ``harness._run_call``);
- ``done``.

Recording only reads: leaf gradients are copied before and after the real call, which runs unchanged.
Like the harness, nothing here judges; the grader (``grader/trace/``) validates and judges every number.
Imported by the zygote before it hides the grader's modules: everything it needs is imported at the top.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import random
import signal
import sys
import types
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy
import torch

from grader.sandbox import harness
from grader.sandbox.channel import TensorWriter, decode_tensor, write_frame

MAX_RECORDS_PER_CELL = 64
MAX_RECORDS = 512
MAX_CURVES = 64
MAX_ELEMENTS = 1_000_000  # a leaf or curve larger than this is described by its shape only
MAX_CELL_BYTES = 64 * 1024 * 1024


class CellTimeout(BaseException):
    """A cell ran past its share of the time: interrupt it and go on with the next (BaseException, so
    the learner's ``except Exception`` does not swallow it)."""


@dataclass
class _Cell:
    """What one cell did: its autograd records and plotted curves, with their tensors."""

    records: list[dict[str, Any]] = field(default_factory=list)
    curves: list[dict[str, Any]] = field(default_factory=list)
    writer: TensorWriter = field(default_factory=TensorWriter)

    def tensor(self, value: Any) -> dict[str, Any] | None:
        """A copy of ``value`` for the frame, or None when it is not a sendable tensor or too large."""
        if not isinstance(value, torch.Tensor):
            return None
        with torch.no_grad(), torch._C.DisableTorchFunctionSubclass():
            plain = torch.Tensor.detach(value)
            if plain.numel() > MAX_ELEMENTS or plain.is_complex() or plain.dtype not in _SENDABLE:
                return None
            if self.writer.size + plain.numel() * plain.element_size() > MAX_CELL_BYTES:
                return None
            return self.writer.add(plain.clone())


_SENDABLE = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


class _Trace:
    cell: _Cell | None = None
    cell_index: int = 0
    total: int = 0
    filename: str = ""
    seen_lines: dict[int, Any] = {}  # matplotlib lines already recorded (see _collect_matplotlib_lines)
    leaf_ids: dict[int, tuple[weakref.ref, int]] = {}
    graph_ids: dict[int, int] = {}


def _leaf_id(tensor: torch.Tensor) -> int:
    """A small number naming one tensor object for the whole run (ids of dead tensors are reused)."""
    known = _Trace.leaf_ids.get(id(tensor))
    if known is not None and known[0]() is tensor:
        return known[1]
    number = len(_Trace.leaf_ids) + 1
    try:
        _Trace.leaf_ids[id(tensor)] = (weakref.ref(tensor), number)
    except TypeError:
        pass
    return number


def _graph_id(tensors: tuple[Any, ...]) -> int | None:
    """Which graph a backward starts from: the first output's grad_fn (not weak-referenceable: by id)."""
    for t in tensors:
        if isinstance(t, torch.Tensor) and t.grad_fn is not None:
            return _Trace.graph_ids.setdefault(id(t.grad_fn), len(_Trace.graph_ids) + 1)
    return None


def _start(kind: str, outputs: Any, gradient: Any, retain_graph: Any, create_graph: Any) -> dict[str, Any] | None:
    cell = _Trace.cell
    if cell is None or len(cell.records) >= MAX_RECORDS_PER_CELL or _Trace.total >= MAX_RECORDS:
        return None
    _Trace.total += 1
    outs = harness._as_tuple(outputs)
    grads = harness._as_tuple(gradient)
    record: dict[str, Any] = {
        "kind": kind,
        "cell": _Trace.cell_index,
        "line": harness.student_line(_Trace.filename),
        "outputs": harness._shapes(outs),
        "gradient": [cell.tensor(g) for g in grads] if grads else None,
        "retain_graph": retain_graph if isinstance(retain_graph, bool) else None,
        "create_graph": bool(create_graph),
        "graph": _graph_id(outs),
        "error": None,
        "leaves": [],
    }
    cell.records.append(record)
    return record


def _grad_copy(tensor: torch.Tensor) -> torch.Tensor | None:
    grad = tensor.grad
    if grad is None:
        return None
    with torch.no_grad():
        return grad.detach().clone()


def _add_leaf(record: dict[str, Any], leaf: torch.Tensor, increment: Any, accumulated: bool) -> None:
    cell = _Trace.cell
    if cell is None or len(record["leaves"]) >= 16:
        return
    record["leaves"].append({
        "id": _leaf_id(leaf),
        "shape": list(leaf.shape),
        "value": cell.tensor(leaf),
        "increment": cell.tensor(increment),
        "accumulated": accumulated,
    })


def _failed(record: dict[str, Any] | None, exc: BaseException) -> None:
    if record is not None:
        record["error"] = f"{type(exc).__name__}: {exc}"[:harness.MAX_MESSAGE]


def _trace_backward(original: Callable[..., Any]) -> Callable[..., Any]:
    def backward(tensors: Any, grad_tensors: Any = None, retain_graph: Any = None, create_graph: bool = False,
                 grad_variables: Any = None, inputs: Any = None) -> Any:
        record = _start("backward", tensors, grad_tensors, retain_graph, create_graph)
        if record is None:
            return original(tensors, grad_tensors, retain_graph, create_graph, grad_variables, inputs)
        leaves = list(harness._as_tuple(inputs)) if inputs is not None else harness._leaves(harness._as_tuple(tensors))
        leaves = [leaf for leaf in leaves if isinstance(leaf, torch.Tensor)][:16]
        before = [_grad_copy(leaf) for leaf in leaves]
        try:
            result = original(tensors, grad_tensors, retain_graph, create_graph, grad_variables, inputs)
        except BaseException as exc:
            _failed(record, exc)
            raise
        with torch.no_grad():
            for leaf, old in zip(leaves, before):
                new = leaf.grad
                if new is None:
                    continue
                increment = new.detach() if old is None else new.detach() - old
                accumulated = old is not None and bool((old != 0).any())
                _add_leaf(record, leaf, increment, accumulated)
        return result

    backward.__wrapped__ = original  # type: ignore[attr-defined]
    backward.__doc__ = original.__doc__
    return backward


def _trace_grad(original: Callable[..., Any]) -> Callable[..., Any]:
    def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, *args: Any, **kwargs: Any) -> Any:
        options = dict(zip(("retain_graph", "create_graph"), args), **kwargs)
        record = _start("grad", outputs, grad_outputs, options.get("retain_graph"), options.get("create_graph"))
        try:
            result = original(outputs, inputs, grad_outputs, *args, **kwargs)
        except BaseException as exc:
            _failed(record, exc)
            raise
        if record is not None:
            for leaf, value in zip(harness._as_tuple(inputs), harness._as_tuple(result)):
                if isinstance(leaf, torch.Tensor):
                    _add_leaf(record, leaf, value, False)
        return result

    grad.__wrapped__ = original  # type: ignore[attr-defined]
    grad.__doc__ = original.__doc__
    return grad


def install_tracer() -> None:
    """Route the autograd entry points through the tracer (Tensor.backward calls torch.autograd.backward)."""
    backward = getattr(torch.autograd.backward, "__wrapped__", torch.autograd.backward)
    grad = getattr(torch.autograd.grad, "__wrapped__", torch.autograd.grad)
    torch.autograd.backward = _trace_backward(backward)
    torch.autograd.grad = _trace_grad(grad)


# --- plots ---------------------------------------------------------------------------------------------


def _record_curve(x: Any, y: Any, source: str) -> None:
    """One plotted curve, as float64 arrays (converted like matplotlib would: np.asarray, so a tensor
    that requires grad raises here exactly as it would in a real plot)."""
    cell = _Trace.cell
    ys = numpy.asarray(y, dtype=numpy.float64)
    xs = numpy.arange(ys.shape[0] if ys.ndim else 1, dtype=numpy.float64) if x is None else numpy.asarray(x, dtype=numpy.float64)
    if cell is None or len(cell.curves) >= MAX_CURVES:
        return
    cell.curves.append({
        "source": source,
        "line": harness.student_line(_Trace.filename),
        "x": cell.tensor(torch.from_numpy(xs.reshape(-1).copy())),
        "y": cell.tensor(torch.from_numpy(ys.reshape(-1).copy())),
    })


def _plot_arguments(args: tuple[Any, ...], source: str) -> None:
    """``plot(y)``, ``plot(x, y)``, ``plot(x, y, fmt, x2, y2, fmt2, ...)`` as matplotlib reads them."""
    values = [a for a in args if not isinstance(a, str)]
    if len(values) == 1:
        _record_curve(None, values[0], source)
    for i in range(0, len(values) - 1, 2):
        _record_curve(values[i], values[i + 1], source)


def _has_one_axis(value: Any) -> bool:
    return (hasattr(value, "ndim") and value.ndim == 1) or (
        isinstance(value, list) and bool(value) and not hasattr(value[0], "__len__"))


def _d2l_plot(X: Any, Y: Any = None, *args: Any, **kwargs: Any) -> None:
    """The book's ``d2l.plot`` argument rules, recording each curve instead of drawing it."""
    if _has_one_axis(X):
        X = [X]
    if Y is None:
        X, Y = [None] * len(X), X
    elif _has_one_axis(Y):
        Y = [Y]
    if len(X) != len(Y):
        X = X * len(Y)
    for x, y in zip(X, Y):
        _record_curve(x if x is None or len(x) else None, y, "d2l.plot")


class _Ignored:
    """Stands for any matplotlib object the grader does not need: every attribute and call is a no-op."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self


class _Axes(_Ignored):
    def plot(self, *args: Any, **kwargs: Any) -> list[Any]:
        _plot_arguments(args, "matplotlib stand-in")
        return [_Ignored()]


def _subplots(nrows: int = 1, ncols: int = 1, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
    if nrows * ncols == 1:
        return _Ignored(), _Axes()
    axes = [_Axes() for _ in range(nrows * ncols)]
    grid = numpy.empty((nrows, ncols) if nrows > 1 and ncols > 1 else (nrows * ncols,), dtype=object)
    grid.reshape(-1)[:] = axes
    return _Ignored(), grid


def _ignored_attribute(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    return _Ignored()


def _stand_in_pyplot() -> types.ModuleType:
    pyplot = types.ModuleType("matplotlib.pyplot", "The grader's stand-in: records plt.plot curves, draws nothing.")
    axes = _Axes()
    pyplot.plot = axes.plot  # type: ignore[attr-defined]
    pyplot.subplots = _subplots  # type: ignore[attr-defined]
    pyplot.gca = lambda *a, **k: axes  # type: ignore[attr-defined]
    pyplot.__getattr__ = _ignored_attribute  # type: ignore[attr-defined]  # show, figure, legend, ...
    return pyplot


def _d2l_attribute(name: str) -> Any:
    """``d2l.plt`` is pyplot (imported when first used: it is slow to import); nothing else exists."""
    if name == "plt":
        return importlib.import_module("matplotlib.pyplot")
    raise AttributeError(f"module 'd2l' (the grader's stand-in: plot, set_figsize, use_svg_display, plt) "
                         f"has no attribute {name!r}")


def _stand_in_d2l() -> types.ModuleType:
    """What the autograd section uses of ``d2l`` (``from d2l import torch as d2l`` works too)."""
    d2l = types.ModuleType("d2l", "The grader's minimal stand-in for the d2l package (plot, set_figsize, use_svg_display).")
    d2l.plot = _d2l_plot  # type: ignore[attr-defined]
    d2l.set_figsize = lambda *a, **k: None  # type: ignore[attr-defined]
    d2l.use_svg_display = lambda *a, **k: None  # type: ignore[attr-defined]
    d2l.__getattr__ = _d2l_attribute  # type: ignore[attr-defined]
    d2l.torch = d2l  # type: ignore[attr-defined]
    d2l.__path__ = []  # type: ignore[attr-defined]  # a package: `import d2l.torch` finds the submodule
    return d2l


def install_stand_ins(matplotlib_stand_in: bool = False) -> list[str]:
    """Module objects for what this machine lacks (the child cannot read the grader's files: they are
    built here, not imported). Returns what was substituted, for the grader's notes.

    The real matplotlib, when installed, is not imported here: only a learner's own import pays for it
    (about 0.5 s in a child, font cache included). ``matplotlib_stand_in`` (the header's ``"matplotlib":
    "stand-in"``) substitutes the stand-in even so: the tests use it to keep both paths tested."""
    substituted = []
    if matplotlib_stand_in or importlib.util.find_spec("matplotlib") is None:
        matplotlib = types.ModuleType("matplotlib", "The grader's stand-in for matplotlib.")
        pyplot = _stand_in_pyplot()
        matplotlib.pyplot = pyplot  # type: ignore[attr-defined]
        matplotlib.use = lambda *a, **k: None  # type: ignore[attr-defined]
        matplotlib.rcParams = {}  # type: ignore[attr-defined]
        matplotlib.__path__ = []  # type: ignore[attr-defined]
        sys.modules.update({"matplotlib": matplotlib, "matplotlib.pyplot": pyplot})
        substituted.append("matplotlib")
    if importlib.util.find_spec("d2l") is None:
        d2l = _stand_in_d2l()
        sys.modules.update({"d2l": d2l, "d2l.torch": d2l})
        substituted.append("d2l")
    return substituted


class _FigureWatch(importlib.abc.MetaPathFinder):
    """Reads the open figures' curves just before the learner closes or clears a figure (``plt.close()``
    after ``plt.savefig()``, ``plt.clf()``): curves are otherwise read at the end of each cell, when such a
    figure is gone. Patches matplotlib's figure registry and Figure when they are first imported, by the
    learner's own ``import matplotlib.pyplot`` (importing them for every child would cost every run)."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        patch = {"matplotlib._pylab_helpers": _watch_registry, "matplotlib.figure": _watch_figure}.get(fullname)
        if patch is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.loader is None:
            return spec
        execute = spec.loader.exec_module

        def exec_module(module: types.ModuleType) -> None:
            execute(module)
            try:
                patch(module)
            except Exception:  # noqa: BLE001 - another matplotlib: curves are read at the end of the cell
                pass

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]  # this module's own loader
        return spec


def _reading_first(method: Any) -> Any:
    def read_then(*args: Any, **kwargs: Any) -> Any:
        _collect_matplotlib_lines(_Trace.seen_lines)
        return method(*args, **kwargs)

    return read_then


def _watch_registry(helpers: types.ModuleType) -> None:
    gcf = helpers.Gcf
    gcf.destroy = classmethod(_reading_first(gcf.destroy.__func__))
    gcf.destroy_all = classmethod(_reading_first(gcf.destroy_all.__func__))


def _watch_figure(figure: types.ModuleType) -> None:
    figure.Figure.clear = _reading_first(figure.Figure.clear)  # clf() and Figure.clf() clear through it


def _collect_matplotlib_lines(seen: dict[int, Any]) -> None:
    """With the real matplotlib: the lines of every open figure not recorded yet (Agg keeps them open).

    Reads the figure registry directly (``pyplot.figure(n)`` would change the learner's current figure);
    ``seen`` keeps the recorded lines alive, so a closed figure's line ids are never reused by new ones."""
    helpers = sys.modules.get("matplotlib._pylab_helpers")  # imported by the real pyplot only
    if helpers is None:
        return
    try:
        for manager in helpers.Gcf.get_all_fig_managers():
            for axes in manager.canvas.figure.axes:
                for line in axes.get_lines():
                    if seen.get(id(line)) is not line:
                        seen[id(line)] = line
                        _record_curve(line.get_xdata(), line.get_ydata(), "matplotlib")
    except Exception:  # noqa: BLE001 - a learner's odd figure must not cost the trace
        pass


# --- running cells -------------------------------------------------------------------------------------


def _run_cell(source: str, first_line: int, namespace: dict[str, Any]) -> None:
    """Compile at the cell's own lines of the program; a trailing expression is shown as Jupyter would."""
    tree = ast.parse("\n" * (first_line - 1) + source, _Trace.filename, "exec")
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    if last is not None:
        tree.body.pop()
    exec(compile(tree, _Trace.filename, "exec"), namespace)
    if last is not None:
        value = eval(compile(ast.Expression(last.value), _Trace.filename, "eval"), namespace)
        if value is not None and not isinstance(value, _Ignored):  # plt.show() shows nothing
            namespace["_"] = value
            print(repr(value))


def _interrupt(signum: int, frame: Any) -> None:
    # The child has no message catalog: the grader words a CellTimeout from its type (grader/trace/judge.py).
    raise CellTimeout("the cell ran longer than its share of the time limit")


def _versions(namespace: dict[str, Any], wanted: list[str], seen: dict[str, list[tuple[Any, int, int]]]) -> None:
    """Keep each function object the learner bound to a wanted name, with the cell that defined it."""
    for name in wanted:
        value = namespace.get(name)
        if isinstance(value, types.FunctionType) and value.__code__.co_filename == _Trace.filename:
            versions = seen.setdefault(name, [])
            if all(value is not known for known, _, _ in versions):
                versions.append((value, _Trace.cell_index, value.__code__.co_firstlineno))


def _fits(function: Any, count: int) -> bool:
    try:
        inspect.signature(function).bind(*([None] * count))
        return True
    except (TypeError, ValueError):
        return False


def run_trace(header: dict[str, Any], body: bytes, result_fd: int, ack_fd: int) -> None:
    """Run every cell, streaming a frame per cell, then each function version's calls; then ``done``."""
    _Trace.filename = filename = header["filename"]
    harness._State.filename, harness._State.result_fd = filename, result_fd  # tampering is reported as usual
    inputs = [decode_tensor(entry, body) for entry in header["inputs"]]
    install_tracer()
    substituted = install_stand_ins(header.get("matplotlib") == "stand-in")
    if "matplotlib" not in substituted:
        sys.meta_path.insert(0, _FigureWatch())
    seed = int(header.get("seed", 0))
    torch.manual_seed(seed)
    random.seed(seed)
    numpy.random.seed(seed)
    sys.argv = [filename.rsplit("/", 1)[-1]]
    module = types.ModuleType("__main__")
    module.__file__ = filename
    namespace = module.__dict__
    namespace["__builtins__"] = builtins
    sys.modules["__main__"] = module  # unittest.main() and pickling look for the learner's classes here
    snapshot = harness._State.torch_snapshot = harness._snapshot_torch()  # what each call is checked against
    cell_time = float(header.get("cell_time", 0)) or None
    signal.signal(signal.SIGALRM, _interrupt)
    wanted = [str(name) for name in header.get("functions", [])]
    seen_lines = _Trace.seen_lines
    versions: dict[str, list[tuple[Any, int, int]]] = {}
    write_frame(result_fd, {"event": "start", "substituted": substituted})

    for cell_header in header["cells"]:
        cell = _Cell()
        _Trace.cell, _Trace.cell_index = cell, int(cell_header["index"])
        frame: dict[str, Any] = {"event": "cell", "index": _Trace.cell_index, "status": "ok", "error": None}
        try:
            if cell_time:
                signal.setitimer(signal.ITIMER_REAL, cell_time)
            _run_cell(cell_header["source"], int(cell_header["first_line"]), namespace)
        except BaseException as exc:  # noqa: BLE001 - recorded, and the next cell runs (as in Jupyter)
            frame["status"] = "error"
            frame["error"] = harness._error(exc, filename)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        _collect_matplotlib_lines(seen_lines)
        _Trace.cell = None
        harness._check_torch(snapshot)
        _versions(namespace, wanted, versions)
        frame["records"] = cell.records
        frame["curves"] = cell.curves
        harness._flush_student_output()
        write_frame(result_fd, frame, cell.writer.body())

    for call in header.get("calls", []):
        for number, (function, cell_index, line) in enumerate(versions.get(call["function"], [])):
            frame_id = {"id": call["id"], "version": number, "cell": cell_index, "line": line}
            if not _fits(function, len(call["args"])):
                frame = {"event": "call", **frame_id, "status": "not_callable", "type": "signature"}
                write_frame(result_fd, frame)
                continue
            signal.setitimer(signal.ITIMER_REAL, cell_time or 0)
            try:
                frame, payload = harness._run_call(call, {call["function"]: function}, inputs, filename, None)
            except CellTimeout:
                frame, payload = {"status": "error", "error": {"type": "CellTimeout", "message": "took too long"}}, b""
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            harness._flush_student_output()
            write_frame(result_fd, {**frame, "event": "call", **frame_id}, payload)
    write_frame(result_fd, {"event": "done"})
