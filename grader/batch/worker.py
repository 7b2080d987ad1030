"""A warm grading worker: ``python -m grader.batch.worker``, spoken to over stdin/stdout in frames.

It imports torch once, forks its own sandbox zygote *before* it reads anything (so no spec, hidden
check or submission is ever in the zygote's memory), then receives the bundle and grades hand-ins one
at a time. Frames are ``grader.sandbox.channel`` frames (JSON header + raw body); nothing is pickled:

    in:  {"event": "setup"} + bundle JSON
         {"event": "task", "student": KEY, "files": [{"name", "offset", "nbytes"} | {"name", "error"}]} + bytes
    out: {"event": "ready"} | {"event": "setup_error", "message": ...}
         {"event": "result", "student": KEY, "transient": bool, "json_size": N}
             + the result JSON (``grader check --format json``, N bytes) + the feedback page (HTML, may be empty)

``transient`` marks a result that says the grader, not the student, failed: it is shown but not kept
for resuming, so a rerun tries again.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from collections.abc import Iterator

from grader.sandbox.channel import Frame, FrameReader, encode_frame

UNLIMITED = 1 << 62  # FrameReader caps the bytes it accepts over its life; a worker lives for a batch


def read_frames(fd: int) -> Iterator[Frame]:
    reader = FrameReader(UNLIMITED)
    while chunk := os.read(fd, 1 << 20):
        yield from reader.feed(chunk)


def write_frame(fd: int, header: dict, body: bytes = b"") -> None:
    data = memoryview(encode_frame(header, body))
    while data:
        data = data[os.write(fd, data):]


def encode_task(student: str, files: list[tuple[str, bytes | str]]) -> bytes:
    """A task frame: file contents in the body, or the reason a file could not be read."""
    entries, chunks, offset = [], [], 0
    for name, data in files:
        if isinstance(data, str):
            entries.append({"name": name, "error": data})
        else:
            entries.append({"name": name, "offset": offset, "nbytes": len(data)})
            chunks.append(data)
            offset += len(data)
    return encode_frame({"event": "task", "student": student, "files": entries}, b"".join(chunks))


def decode_task(frame: Frame):  # -> HandIn (imported lazily: see main)
    from grader.batch.grade import HandIn

    files = []
    for entry in frame.header["files"]:
        if "error" in entry:
            files.append((entry["name"], str(entry["error"])))
        else:
            files.append((entry["name"], frame.body[entry["offset"]:entry["offset"] + entry["nbytes"]]))
    return HandIn(str(frame.header["student"]), tuple(files))


def main() -> None:
    # The protocol owns the original stdin/stdout; anything printed by accident goes to stderr instead.
    proto_in, proto_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(2, 1)
    code = 0
    try:
        _serve(proto_in, proto_out)
    except BaseException:  # noqa: BLE001 - reported on stderr (the batch's worker log); the batch goes on
        traceback.print_exc()
        code = 70
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # no interpreter teardown: with torch loaded it costs a second per worker


def _serve(proto_in: int, proto_out: int) -> None:
    import torch

    torch.set_num_threads(1)  # parallelism comes from workers and exercises; threads would oversubscribe
    from grader.sandbox.runner import Sandbox

    with Sandbox() as sandbox:  # first: the zygote is forked before any spec or submission is read
        _grade_all(sandbox, proto_in, proto_out)


def _grade_all(sandbox, proto_in: int, proto_out: int) -> None:  # noqa: ANN001
    # Ctrl-C reaches the whole process group; the main process decides (it stops its workers), so a
    # worker does not die on it and report its submission as a grader failure.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    frames = read_frames(proto_in)
    setup = next(frames, None)
    if setup is None:
        return
    try:
        state = _State.load(setup.body, sandbox)
    except _SetupError as exc:
        write_frame(proto_out, {"event": "setup_error", "message": str(exc)})
        return
    write_frame(proto_out, {"event": "ready"})
    for frame in frames:
        hand_in = decode_task(frame)
        transient = False
        try:
            result = state.grade(hand_in)
        except Exception as exc:  # noqa: BLE001 - a grader bug costs this hand-in a row, not the batch
            traceback.print_exc()
            from grader.batch.grade import error_result

            from grader.i18n import N_, Message

            reason = Message(N_("the grader failed on this submission ({error}); not the student's fault"),
                             {"error": f"{type(exc).__name__}: {exc}"})
            result = error_result(hand_in.student, state.chosen, reason, seed=state.seed, lang=state.grader.tr.lang)
            transient = True
        from grader.report.json_report import render_json

        text = render_json(result, indent=None).encode()
        page = feedback_page(result).encode()
        header = {"event": "result", "student": hand_in.student, "transient": transient, "json_size": len(text)}
        write_frame(proto_out, header, text + page)


def feedback_page(result) -> str:  # noqa: ANN001
    """The student's HTML report, rendered here so that pages are made in parallel by the workers
    (50 ms each: a main process rendering 10,000 of them would take minutes). "" when unavailable."""
    try:
        from grader.report.html import render_html
    except ImportError:
        return ""
    try:
        return render_html(result)
    except Exception:  # noqa: BLE001 - a renderer bug costs the page (the main process retries), not the grade
        traceback.print_exc()
        return ""


class _SetupError(Exception):
    pass


class _State:
    """The loaded bundle and a Grader bound to this worker's sandbox."""

    def __init__(self, grader, catalog, chosen, hidden, seed: int) -> None:  # noqa: ANN001
        self.grader, self.catalog, self.chosen, self.hidden, self.seed = grader, catalog, chosen, hidden, seed

    @classmethod
    def load(cls, data: bytes, sandbox) -> _State:  # noqa: ANN001
        from grader.batch.bundle import Bundle
        from grader.catalog import SelectionError, select
        from grader.checks.reference import ReferenceError
        from grader.grading import Grader
        from grader.spec import SpecError, load_catalog
        from grader.spec.hidden import load_hidden

        bundle = Bundle.from_json(data)
        try:
            with bundle.materialized() as (catalog_dir, hidden_dir):  # removed before any student code runs
                catalog = load_catalog(catalog_dir)
                hidden = load_hidden(hidden_dir, catalog) if hidden_dir else {}
            chosen, _ = select(catalog, bundle.only)
        except (SpecError, SelectionError) as exc:
            raise _SetupError(str(exc)) from None
        hidden = {key: checks for key, checks in hidden.items() if key in {e.id for e in chosen}}
        grader = Grader(sandbox, seed=bundle.seed, jobs=bundle.exercise_jobs, lang=bundle.lang)
        for exercise, what in [*((e, "") for e in chosen), *((h.exercise, "hidden checks of ") for h in hidden.values())]:
            try:
                grader.prepare(exercise)  # references and trials once, and broken ones reported up front
            except ReferenceError as exc:
                raise _SetupError(f"{what}{exercise.id}: {exc}") from None
        return cls(grader, catalog, chosen, hidden, bundle.seed)

    def grade(self, hand_in):  # noqa: ANN001, ANN201
        from grader.batch.grade import grade_hand_in

        return grade_hand_in(self.grader, hand_in, self.catalog, self.chosen, self.hidden)


if __name__ == "__main__":
    main()
