"""Turn the frames a child sent (untrusted JSON and bytes) into validated, typed evidence.

Every field is type-checked and every tensor goes through ``channel.decode_tensor``; anything
malformed ends the parsing with ``channel_error`` set, so a submission that scribbles on its result
pipe only loses its own remaining results.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import torch

from grader.i18n import N_, Message
from grader.sandbox.channel import ChannelError, decode_tensor
from grader.sandbox.runner import RunOutcome

MAX_TEXT = 4000
MALFORMED = N_("malformed result from the submission's process ({error})")


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
class Tampering:
    """The student's code reached into the grader's machinery: its evidence cannot be trusted."""

    what: str  # completes "your code ...": a Message when the harness reported it (worded per language)
    line: int | None


# What each tamper report of the harness means (grader/sandbox/harness.py: _tamper_event), by its code.
TAMPERING = {
    "gc.get_objects": N_("looked through every live object (gc.get_objects)"),
    "gc.get_referrers": N_("looked for the objects referring to another (gc.get_referrers)"),
    "gc.get_referents": N_("looked inside objects (gc.get_referents)"),
    "sys._getframe": N_("inspected the interpreter's frames (sys._getframe)"),
    "sys._current_frames": N_("inspected the interpreter's frames (sys._current_frames)"),
    "sys.settrace": N_("installed a tracer (sys.settrace)"),
    "sys.setprofile": N_("installed a profiler hook (sys.setprofile)"),
    "ctypes": N_("used ctypes ({detail})"),
    "frames": N_("reached interpreter frames ({detail})"),
    "patched": N_("patched {detail}"),
    "imported_grader": N_("imported the grader's own module {detail}"),
}


def tamper_report(header: dict[str, Any]) -> Tampering:
    """A tamper report of the harness; one with a code it does not know still counts, worded generically."""
    code, detail = header.get("code"), _text(header.get("detail"))[:200]
    template = TAMPERING.get(code) if isinstance(code, str) else None
    what = Message(template, {"detail": detail}) if template else Message(
        N_("reached into the grader's machinery ({detail})"), {"detail": _text(code, "?")[:80]})
    return Tampering(what, _line(header.get("line")))


@dataclass
class RunStatus:
    """How a child's run (or its share for one exercise) ended: what every kind of evidence carries."""

    finished: bool
    timed_out: bool
    exit_code: int | None
    channel_error: str | None
    output: str
    output_truncated: bool
    wall: float
    tampering: list[Tampering] = field(default_factory=list)


@dataclass(kw_only=True)
class RunEvidence(RunStatus):
    """Function mode: the submission's loading and each call of one exercise."""

    load: LoadReport | None
    calls: dict[str, CallReport]


def channel_failure(outcome: RunOutcome, error: Exception | None = None) -> str | None:
    """Why the result channel broke, as a Message a student reads in their language: ``error`` when a
    frame failed validation here, else the runner's own report (already a Message)."""
    if error is not None:
        return Message(MALFORMED, {"error": str(error)})
    return outcome.channel_error


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


@dataclass
class _Segment:
    """Where one exercise's frames sit in a run."""

    calls: dict[str, CallReport] = field(default_factory=dict)
    begin: tuple[int, float] = (0, 0.0)  # output offset and time at ``begin``
    end: tuple[int, float] | None = None
    tampering: list[Tampering] = field(default_factory=list)


def split_run(outcome: RunOutcome, exercises: dict[str, list[str]]) -> tuple[dict[str, RunEvidence], list[str]]:
    """Validate every frame of a run that served several exercises and split it per exercise.

    ``exercises`` maps each exercise id, in the order the child runs them, to its call ids. Returns the
    evidence of every exercise the child got to (finished, or the one it died in), and the ids of those
    it never began, which deserve a fresh child. If it died before beginning any, each gets that failure.
    """
    load: LoadReport | None = None
    load_mark = boundary = 0
    segments: dict[str, _Segment] = {}
    current: str | None = None
    loading_tampering: list[Tampering] = []
    channel_error = channel_failure(outcome)
    for frame, mark in zip(outcome.frames, outcome.marks):
        try:
            event = frame.header.get("event")
            if event == "tamper":
                note = tamper_report(frame.header)
                (segments[current].tampering if current is not None else loading_tampering).append(note)
            elif event == "load" and load is None:
                defined = frame.header.get("defined")
                load = LoadReport(
                    error=_error(frame.header.get("error")),
                    forbidden=_forbidden(frame.header.get("forbidden")),
                    defined=[d for d in defined if isinstance(d, str)] if isinstance(defined, list) else [],
                )
                load_mark = boundary = mark[0]
            elif event == "begin" and current is None and load is not None:
                exercise = frame.header.get("exercise")
                if exercise not in exercises or exercise in segments:
                    raise ChannelError(f"unexpected exercise {exercise!r}")
                current = str(exercise)
                # Output is split at acknowledged marks only (load, each end): frames read together
                # share one mark, so a begin's own mark can come after the output of the calls it opens.
                segments[current] = _Segment(begin=(boundary, mark[1]))
            elif event == "call" and current is not None:
                report = _call(frame.header, frame.body)
                segment = segments[current]
                if report.id in exercises[current] and report.id not in segment.calls:
                    segment.calls[report.id] = report
            elif event == "end" and current is not None and frame.header.get("exercise") == current:
                segments[current].end = mark
                boundary = mark[0]
                current = None
            elif event == "done" and current is None:
                pass
            else:
                raise ChannelError(f"unexpected frame {event!r}")
        except (ChannelError, KeyError, TypeError, ValueError) as exc:
            channel_error = channel_failure(outcome, exc)
            break

    output = outcome.output_bytes
    loading = output[:load_mark]
    evidence: dict[str, RunEvidence] = {}
    for exercise_id, call_ids in exercises.items():
        segment = segments.get(exercise_id)
        if segment is None and segments:
            continue  # never began: the grader gives it a fresh child
        segment = segment or _Segment(begin=(load_mark, outcome.started))
        ended = segment.end is not None
        stop = segment.end or (len(output), outcome.started + outcome.wall)
        first = not segments or next(iter(segments)) == exercise_id  # loading counts towards the first
        began = outcome.started if first else segment.begin[1]
        text = (loading + output[segment.begin[0]:stop[0]]).decode("utf-8", errors="replace")
        calls = dict(segment.calls)
        for call_id in call_ids:
            calls.setdefault(call_id, CallReport(id=call_id, status="not_run"))
        evidence[exercise_id] = RunEvidence(
            load=load, calls=calls, finished=ended,
            timed_out=outcome.timed_out and not ended, exit_code=None if ended else outcome.exit_code,
            channel_error=None if ended else channel_error, output=text,
            output_truncated=outcome.output_truncated and stop[0] >= len(output),
            wall=max(0.0, stop[1] - began),
            tampering=loading_tampering + segment.tampering,
        )
    pending = [e for e in exercises if e not in evidence]
    return evidence, pending


def split_programs(outcome: RunOutcome, programs: list[dict[str, list[str]]]) -> list[RunOutcome]:
    """Cut a run that served several programs into one run per program, for ``split_run``.

    ``programs`` lists, per program in run order, its exercise ids in run order. A program's part ends
    with the ``end`` frame of its last exercise (the child waited for the grader's acknowledgement
    there, so the output so far is all in); the next program's loading comes after. Only the programs
    the child got to are returned (always the first): the last of them carries how the run ended, the
    ones after it never loaded and deserve a fresh child.
    """
    parts: list[RunOutcome] = []
    frame_start, output_start, time_start = 0, 0, outcome.started
    for exercises in programs:
        last = list(exercises)[-1] if exercises else None
        stop = next((i for i in range(frame_start, len(outcome.frames))
                     if outcome.frames[i].header.get("event") == "end"
                     and outcome.frames[i].header.get("exercise") == last), None)
        final = stop is None or len(parts) == len(programs) - 1
        frame_stop = len(outcome.frames) if final else stop + 1
        output_stop, time_stop = ((len(outcome.output_bytes), outcome.started + outcome.wall) if final
                                  else outcome.marks[stop])
        parts.append(RunOutcome(
            frames=outcome.frames[frame_start:frame_stop],
            marks=[(offset - output_start, moment) for offset, moment in outcome.marks[frame_start:frame_stop]],
            output_bytes=outcome.output_bytes[output_start:output_stop],
            output_truncated=outcome.output_truncated and output_stop >= len(outcome.output_bytes),
            timed_out=outcome.timed_out and final, exit_code=outcome.exit_code if final else None,
            channel_error=outcome.channel_error if final else None,
            started=time_start, wall=max(0.0, time_stop - time_start)))
        if final:
            break
        frame_start, output_start, time_start = frame_stop, output_stop, time_stop
    return parts


FORGED = N_("the code wrote on the grader's result channel ({frame}): nothing its process reported can be trusted")


@dataclass(frozen=True)
class Violation:
    """A frame the harness did not write: where it sits in the run, and what it was."""

    index: int
    frame: str

    @property
    def reason(self) -> Message:
        return Message(FORGED, {"frame": self.frame})


def protocol_violation(outcome: RunOutcome, programs: list[dict[str, list[str]]]) -> Violation | None:
    """The first frame out of the order the harness writes in, or None.

    The harness writes, per program, ``load``, then per exercise ``begin``, each call in order, ``end``;
    ``done`` last; ``tamper`` reports anywhere. A run may stop early (the child died), but any other
    frame was written by the student's code on the result channel: a forged result, a second answer
    for a call, an early ``end``, a length prefix meant to swallow a tamper report.
    """
    expected: list[tuple[str, str | None]] = []
    for exercises in programs:
        expected.append(("load", None))
        for exercise_id, call_ids in exercises.items():
            expected += [("begin", exercise_id), *(("call", c) for c in call_ids), ("end", exercise_id)]
    expected.append(("done", None))
    position = 0
    for index, frame in enumerate(outcome.frames):
        event = frame.header.get("event")
        if event == "tamper":
            continue
        field_name = {"begin": "exercise", "end": "exercise", "call": "id"}.get(str(event))
        got = (event, frame.header.get(field_name) if field_name else None)
        if position >= len(expected) or got != expected[position]:
            due = " ".join(filter(None, expected[position])) if position < len(expected) else "nothing"
            shown = " ".join(str(part)[:40] for part in got if part is not None)
            return Violation(index, f"a {shown} frame where {due} was due")
        position += 1
    return None


def before(outcome: RunOutcome, index: int) -> RunOutcome:
    """The run as it stood before frame ``index``: what came after is not the harness's word."""
    return replace(outcome, frames=outcome.frames[:index], marks=outcome.marks[:index])
