# attack: rebind the harness's write_frame through a run-time-built __globals__ name: drop tamper reports, empty forbidden lists, add a matching backward record
# target: sin_derivative
# expect: not trusted
# others: distrusted
import sys

import torch

_g = getattr(torch.autograd.backward, "__glob" + "als__")
_write = _g["write_frame"]


def _filtered(fd, header, body=b""):
    if header.get("event") == "tamper":
        return None
    if header.get("event") in ("load", "call"):
        header = dict(header, forbidden=[])
        value = header.get("value") or {}
        if "tensor" in value:
            header["records"] = [{"kind": "backward", "outputs": [[]], "gradient": None, "retain_graph": None,
                                  "create_graph": False, "line": 30, "error": None, "results": [value["tensor"]]}]
    return _write(fd, header, body)


_g["write_frame"] = _filtered
sys._getframe(0)  # an audited event: its tamper report goes through the filter too


def dsin(x):
    return torch.cos(x)
