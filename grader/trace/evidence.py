"""Validate what a trace-mode child sent (untrusted JSON and bytes) into typed evidence.

Same rules as ``grader.sandbox.evidence``, whose field validators this reuses: every field is
type-checked, every tensor decoded through ``channel.decode_tensor`` (dtype allow-list, size caps), and a
malformed frame ends the parsing with ``channel_error`` set, keeping the cells parsed before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from grader.sandbox.channel import ChannelError, decode_tensor
from grader.sandbox.evidence import (CallReport, ErrorInfo, RunStatus, Tampering, Violation, _call, _error, _line,
                                     _shapes, _text, channel_failure, tamper_report)
from grader.sandbox.runner import RunOutcome

MAX_CELLS = 2000


@dataclass
class Leaf:
    """One leaf a traced autograd call reached: its value then, and what the call added to its gradient
    (for ``autograd.grad``: the gradient it returned)."""

    id: int
    shape: list[int]
    value: torch.Tensor | None
    increment: torch.Tensor | None
    accumulated: bool  # its .grad held non-zero values before (backward without zeroing)


@dataclass
class TraceRecord:
    kind: str  # backward | grad
    cell: int
    line: int | None
    outputs: list[list[int] | None]
    gradient: list[torch.Tensor | None] | None  # the gradient / grad_outputs argument, when given
    retain_graph: bool | None
    create_graph: bool
    graph: int | None  # which graph the call started from (same number: same graph)
    error: str | None
    leaves: list[Leaf]


@dataclass
class Curve:
    source: str  # d2l.plot | matplotlib | matplotlib stand-in
    cell: int
    line: int | None
    x: torch.Tensor | None
    y: torch.Tensor | None


@dataclass
class CellReport:
    index: int
    status: str  # ok | error
    error: ErrorInfo | None
    records: list[TraceRecord]
    curves: list[Curve]


@dataclass
class VersionCall:
    """One call of one version of a learner's function (the ``version``-th object bound to its name)."""

    version: int
    cell: int  # the cell after which that version existed
    line: int | None  # where it was defined
    report: CallReport


@dataclass(kw_only=True)
class TraceEvidence(RunStatus):
    """Trace mode: each cell's report and the versions of the learner's functions it defined."""

    cells: list[CellReport]
    calls: dict[str, list[VersionCall]]
    substituted: list[str]  # stand-ins the child used (matplotlib, d2l)

    @property
    def records(self) -> list[TraceRecord]:
        return [r for cell in self.cells for r in cell.records]

    @property
    def curves(self) -> list[Curve]:
        return [c for cell in self.cells for c in cell.curves]


def _int(value: Any, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _tensor(entry: Any, body: bytes) -> torch.Tensor | None:
    return None if entry is None else decode_tensor(entry, body)


def _leaf(value: Any, body: bytes) -> Leaf:
    if not isinstance(value, dict):
        raise ChannelError("leaf is not an object")
    shape = value.get("shape")
    return Leaf(
        id=_int(value.get("id")),
        shape=shape if isinstance(shape, list) and all(isinstance(d, int) for d in shape) else [],
        value=_tensor(value.get("value"), body),
        increment=_tensor(value.get("increment"), body),
        accumulated=value.get("accumulated") is True,
    )


def _record(value: Any, body: bytes, cell: int) -> TraceRecord:
    if not isinstance(value, dict):
        raise ChannelError("trace record is not an object")
    gradient = value.get("gradient")
    leaves = value.get("leaves")
    retain = value.get("retain_graph")
    return TraceRecord(
        kind="grad" if value.get("kind") == "grad" else "backward",
        cell=cell,
        line=_line(value.get("line")),
        outputs=_shapes(value.get("outputs")),
        gradient=[_tensor(g, body) for g in gradient[:64]] if isinstance(gradient, list) else None,
        retain_graph=retain if isinstance(retain, bool) else None,
        create_graph=value.get("create_graph") is True,
        graph=_int(value.get("graph")) or None,
        error=_text(value.get("error")) or None,
        leaves=[_leaf(leaf, body) for leaf in leaves[:16]] if isinstance(leaves, list) else [],
    )


def _curve(value: Any, body: bytes, cell: int) -> Curve:
    if not isinstance(value, dict):
        raise ChannelError("curve is not an object")
    return Curve(_text(value.get("source"), "?")[:40], cell, _line(value.get("line")),
                 _tensor(value.get("x"), body), _tensor(value.get("y"), body))


def _cell(header: dict[str, Any], body: bytes) -> CellReport:
    index = _int(header.get("index"))
    status = header.get("status")
    if status not in ("ok", "error"):
        raise ChannelError(f"unknown cell status {status!r}")
    records, curves = header.get("records"), header.get("curves")
    return CellReport(
        index=index, status=status, error=_error(header.get("error")),
        records=[_record(r, body, index) for r in records[:64]] if isinstance(records, list) else [],
        curves=[_curve(c, body, index) for c in curves[:64]] if isinstance(curves, list) else [],
    )


def trace_violation(outcome: RunOutcome, header: dict[str, Any]) -> Violation | None:
    """The first frame out of the order the trace harness writes in (``start``, each cell of the task in
    order, each call's versions 0, 1, ... in the task's call order, ``done``; ``tamper`` anywhere), or None:
    anything else was written by the student's code on the result channel."""
    cells = [int(c["index"]) for c in header.get("cells", [])]
    calls = [str(c["id"]) for c in header.get("calls", [])]
    stage, cell, call, version = "start", 0, 0, 0  # where the run is: what may come next
    for index, frame in enumerate(outcome.frames):
        event = frame.header.get("event")
        if event == "tamper":
            continue
        ok = False
        if stage == "start":
            ok, stage = event == "start", "cells"
        elif stage == "cells" and event == "cell" and cell < len(cells):
            ok, cell = frame.header.get("index") == cells[cell], cell + 1
        elif stage in ("cells", "calls") and event == "call" and cell == len(cells):
            stage, ident, number = "calls", frame.header.get("id"), frame.header.get("version")
            if call < len(calls) and ident == calls[call] and number == version:
                ok, version = True, version + 1  # the next version of the same call
            elif ident in calls[call + 1:] and number == 0:
                ok, call, version = True, calls.index(ident, call + 1), 1  # a later call (the ones between had no version)
        elif event == "done" and cell == len(cells):
            ok, stage = True, "done"
        if not ok:
            shown = " ".join(str(frame.header.get(key))[:40] for key in ("event", "index", "id", "version")
                             if frame.header.get(key) is not None)
            return Violation(index, f"a {shown} frame out of order")
    return None


def parse_trace(outcome: RunOutcome, header: dict[str, Any] | None = None) -> TraceEvidence:
    """Every frame of a trace run, validated. Frames after a malformed one are dropped; a frame out of the
    harness's order (checked when the task's ``header`` is given) voids the whole run."""
    forged = trace_violation(outcome, header) if header is not None else None
    if forged is not None:
        return TraceEvidence(
            cells=[], calls={}, substituted=[], finished=False, timed_out=outcome.timed_out,
            exit_code=outcome.exit_code, channel_error=forged.reason, output=outcome.output,
            output_truncated=outcome.output_truncated, wall=outcome.wall, tampering=[])
    cells: list[CellReport] = []
    calls: dict[str, list[VersionCall]] = {}
    tampering: list[Tampering] = []
    substituted: list[str] = []
    channel_error = channel_failure(outcome)
    for frame in outcome.frames:
        try:
            event = frame.header.get("event")
            if event == "tamper":
                tampering.append(tamper_report(frame.header))
            elif event == "start":
                names = frame.header.get("substituted")
                substituted = [n for n in names if isinstance(n, str)][:4] if isinstance(names, list) else []
            elif event == "cell" and len(cells) < MAX_CELLS:
                cells.append(_cell(frame.header, frame.body))
            elif event == "call":
                report = _call({**frame.header, "id": _text(frame.header.get("id"))}, frame.body)
                version = VersionCall(_int(frame.header.get("version")), _int(frame.header.get("cell")),
                                      _line(frame.header.get("line")), report)
                calls.setdefault(report.id, []).append(version)
            elif event != "done":
                raise ChannelError(f"unexpected frame {event!r}")
        except (ChannelError, KeyError, TypeError, ValueError) as exc:
            channel_error = channel_failure(outcome, exc)
            break
    return TraceEvidence(
        cells=cells, calls=calls, substituted=substituted, finished=outcome.finished,
        timed_out=outcome.timed_out, exit_code=outcome.exit_code, channel_error=channel_error,
        output=outcome.output, output_truncated=outcome.output_truncated, wall=outcome.wall, tampering=tampering)
