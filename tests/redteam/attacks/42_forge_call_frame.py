# attack: find the result pipe (the only write-only FIFO above fd 2) and write a forged call frame (autograd record, no forbidden op) ahead of the harness's own
# target: sin_derivative
# expect: result channel
import fcntl
import json
import os
import stat
import struct

import torch

_count = [0]


def _result_fd():
    for fd in range(3, 256):
        try:
            mode = os.fstat(fd).st_mode
        except OSError:
            continue
        if stat.S_ISFIFO(mode) and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:
            return fd
    return None


def _frame(header, body=b""):
    raw = json.dumps(header).encode()
    return struct.pack("<IQ", len(raw), len(body)) + raw + body


def dsin(x):
    answer = torch.cos(x)  # forbidden, and no autograd at all
    data = answer.detach().contiguous().numpy().tobytes()
    entry = {"dtype": str(answer.dtype).replace("torch.", ""), "shape": list(answer.shape), "offset": 0,
             "nbytes": len(data)}
    call_id = f"{_count[0]}:dsin"  # calls run trial by trial: the n-th call of dsin is trial n
    _count[0] += 1
    frame = {"event": "call", "id": call_id, "status": "ok",
             "value": {"type": "Tensor", "subclass": None, "requires_grad": False, "grad_fn": None,
                       "is_argument_grad": [0], "is_argument": [], "tensor": entry},
             "arguments": [{"requires_grad": True, "grad_is_none": False, "is_leaf": True}],
             "records": [{"kind": "backward", "outputs": [[]], "gradient": None, "retain_graph": None,
                          "create_graph": False, "line": 5, "error": None, "results": [entry]}],
             "forbidden": []}
    fd = _result_fd()
    if fd is not None:
        os.write(fd, _frame(frame, data))
    return answer
