"""Turn the frames a child sent (untrusted JSON and bytes) into validated, typed evidence.

Every field is type-checked and every tensor goes through ``channel.decode_tensor``; anything
malformed ends the parsing with ``channel_error`` set, so a submission that scribbles on its result
pipe only loses its own remaining results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from grader.sandbox.channel import ChannelError, decode_tensor
from grader.sandbox.runner import RunOutcome

MAX_TEXT = 4000


@dataclass
class ErrorInfo:
    type: str
    message: str
    line: int | None = None
    frames: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.type}: {self.message}" if self.message else self.type


@dataclass
class AutogradRecord:
    """One ``backward()`` or ``torch.autograd.grad`` call made by the student's code."""

    kind: str  # backward | grad
    outputs: list[list[int] | None]
    gradient: list[list[int] | None] | None
    retain_graph: bool | None
    create_graph: bool
    line: int | None
    error: str | None
    results: list[torch.Tensor]  # leaf .grad after a backward, or what autograd.grad returned


@dataclass
class Returned:
    type: str  # Tensor, None, float, int, bool, or another type's name
    tensor: torch.Tensor | None = None
    subclass: str | None = None
    requires_grad: bool = False
    grad_fn: str | None = None
    is_argument_grad: bool = False
    is_argument: bool = False
    dtype: str | None = None  # set when the tensor's dtype could not be sent (complex, ...)
    too_large: int = 0  # bytes of a returned tensor the harness refused to send


@dataclass
class ArgumentState:
    requires_grad: bool
    grad_is_none: bool
    is_leaf: bool


@dataclass
class ForbiddenUse:
    op: str
    line: int | None


@dataclass
class CallReport:
    id: str
    status: str  # ok | missing | not_callable | error | not_run
    value: Returned | None = None
    error: ErrorInfo | None = None
    arguments: list[ArgumentState] = field(default_factory=list)
    records: list[AutogradRecord] = field(default_factory=list)
    forbidden: list[ForbiddenUse] = field(default_factory=list)


@dataclass
class LoadReport:
    error: ErrorInfo | None
    forbidden: list[ForbiddenUse]
    defined: list[str]


@dataclass
class RunEvidence:
    load: LoadReport | None
    calls: dict[str, CallReport]
    finished: bool
    timed_out: bool
    exit_code: int | None
    channel_error: str | None
    output: str
    output_truncated: bool
    wall: float


def _text(value: Any, default: str = "") -> str:
    return value[:MAX_TEXT] if isinstance(value, str) else default


def _line(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _shapes(value: Any) -> list[list[int] | None]:
    if not isinstance(value, list):
        return []
    return [s if isinstance(s, list) and all(isinstance(d, int) for d in s) else None for s in value[:64]]


def _error(value: Any) -> ErrorInfo | None:
    if not isinstance(value, dict):
        return None
    frames = value.get("frames")
    return ErrorInfo(
        type=_text(value.get("type"), "Error")[:100],
        message=_text(value.get("message")),
        line=_line(value.get("line")),
        frames=[_text(f) for f in frames[:20]] if isinstance(frames, list) else [],
    )


def _forbidden(value: Any) -> list[ForbiddenUse]:
    if not isinstance(value, list):
        return []
    return [ForbiddenUse(_text(v.get("op"))[:100], _line(v.get("line"))) for v in value[:100] if isinstance(v, dict)]


def _returned(value: Any, body: bytes) -> Returned:
    if not isinstance(value, dict):
        raise ChannelError("returned value is not described")
    tensor = decode_tensor(value["tensor"], body) if "tensor" in value else None
    indexes = value.get("is_argument_grad")
    return Returned(
        type=_text(value.get("type"), "?")[:100],
        tensor=tensor,
        subclass=_text(value.get("subclass")) or None,
        requires_grad=value.get("requires_grad") is True,
        grad_fn=_text(value.get("grad_fn")) or None,
        is_argument_grad=bool(indexes) if isinstance(indexes, list) else False,
        is_argument=bool(value.get("is_argument")) if isinstance(value.get("is_argument"), list) else False,
        dtype=_text(value.get("dtype")) or None,
        too_large=value["too_large"] if isinstance(value.get("too_large"), int) else 0,
    )


def _record(value: Any, body: bytes) -> AutogradRecord:
    if not isinstance(value, dict):
        raise ChannelError("autograd record is not an object")
    results = value.get("results")
    retain = value.get("retain_graph")
    return AutogradRecord(
        kind="grad" if value.get("kind") == "grad" else "backward",
        outputs=_shapes(value.get("outputs")),
        gradient=_shapes(value.get("gradient")) if value.get("gradient") is not None else None,
        retain_graph=retain if isinstance(retain, bool) else None,
        create_graph=value.get("create_graph") is True,
        line=_line(value.get("line")),
        error=_text(value.get("error")) or None,
        results=[decode_tensor(r, body) for r in results[:64]] if isinstance(results, list) else [],
    )


def _call(header: dict[str, Any], body: bytes) -> CallReport:
    status = header.get("status")
    if status not in ("ok", "missing", "not_callable", "error"):
        raise ChannelError(f"unknown call status {status!r}")
    arguments = header.get("arguments")
    records = header.get("records")
    return CallReport(
        id=_text(header.get("id")),
        status=status,
        value=_returned(header.get("value"), body) if status == "ok" else None,
        error=_error(header.get("error")),
        arguments=[
            ArgumentState(a.get("requires_grad") is True, a.get("grad_is_none") is not False, a.get("is_leaf") is not False)
            for a in arguments[:16] if isinstance(a, dict)
        ] if isinstance(arguments, list) else [],
        records=[_record(r, body) for r in records[:64]] if isinstance(records, list) else [],
        forbidden=_forbidden(header.get("forbidden")),
    )


def parse_run(outcome: RunOutcome, call_ids: list[str]) -> RunEvidence:
    """Validate every frame; calls that never reported come back with status ``not_run``."""
    load: LoadReport | None = None
    calls: dict[str, CallReport] = {}
    channel_error = outcome.channel_error
    finished = False
    for frame in outcome.frames:
        try:
            event = frame.header.get("event")
            if event == "load" and load is None:
                defined = frame.header.get("defined")
                load = LoadReport(
                    error=_error(frame.header.get("error")),
                    forbidden=_forbidden(frame.header.get("forbidden")),
                    defined=[d for d in defined if isinstance(d, str)] if isinstance(defined, list) else [],
                )
            elif event == "call":
                report = _call(frame.header, frame.body)
                if report.id in call_ids and report.id not in calls:
                    calls[report.id] = report
            elif event == "done":
                finished = True
            else:
                raise ChannelError(f"unexpected frame {event!r}")
        except (ChannelError, KeyError, TypeError, ValueError) as exc:
            channel_error = f"malformed result from the submission's process ({exc})"
            finished = False
            break
    for call_id in call_ids:
        calls.setdefault(call_id, CallReport(id=call_id, status="not_run"))
    return RunEvidence(
        load=load, calls=calls, finished=finished, timed_out=outcome.timed_out, exit_code=outcome.exit_code,
        channel_error=channel_error, output=outcome.output, output_truncated=outcome.output_truncated,
        wall=outcome.wall,
    )
