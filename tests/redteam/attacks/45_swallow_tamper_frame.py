# attack: announce a frame whose body is as long as the tamper report about to come, so the report is swallowed; then reach the recorder through sys._getframe
# target: sin_derivative
# expect: result channel
import fcntl
import sys
import json
import os
import stat
import struct

import torch


def _result_fd():
    for fd in range(3, 256):
        try:
            mode = os.fstat(fd).st_mode
        except OSError:
            continue
        if stat.S_ISFIFO(mode) and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:
            return fd


def _encode(header, body=b""):
    raw = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<IQ", len(raw), len(body)) + raw + body


def _swallow_next(fd, header):
    """Write only the prefix and header of an ignorable frame whose body is ``header``'s frame."""
    coming = len(_encode(header))
    cover = {"event": "call", "id": "not-a-call", "status": "missing"}  # an id of no call: parsed, then ignored
    raw = json.dumps(cover, separators=(",", ":")).encode()
    os.write(fd, struct.pack("<IQ", len(raw), coming) + raw)


def dsin(x):
    fd = _result_fd()
    line = 42  # the line of sys._getframe below
    _swallow_next(fd, {"event": "tamper", "what": "inspected the interpreter's frames (sys._getframe)", "line": line})
    state = sys._getframe(1).f_globals["_State"]
    evidence = state.evidence
    answer = torch.sin(x + torch.pi / 2)
    evidence.records.append({"kind": "backward", "outputs": [[]], "gradient": None, "retain_graph": None,
                             "create_graph": False, "line": 9, "error": None,
                             "results": [evidence.writer.add(answer)]})
    return answer
