""""Comes from autograd": the returned gradient must be one autograd produced during the call.

The harness records, for every ``backward()`` and ``torch.autograd.grad`` the student's call made, the
gradients autograd produced (each reached leaf's ``.grad`` afterwards, or what ``grad`` returned). A
returned value passes when it equals one of those. A formula typed by hand, or a ``.grad`` assigned by
hand, has no such record and fails, whatever its numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from grader.i18n import ENGLISH, Translator
from grader.sandbox.evidence import CallReport

# Tight: the values must be autograd's own, allowing only a dtype round trip (float32 -> float64).
_RTOL = 1e-6
_ATOL = 1e-12


@dataclass
class Provenance:
    passed: bool
    message: str


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    if a.shape != b.shape or a.is_complex() or b.is_complex():
        return False
    if a.dtype == b.dtype and torch.equal(a, b):  # the usual case, autograd's own tensor: a tenth of the cost
        return True
    a64, b64 = a.to(torch.float64), b.to(torch.float64)
    return bool(torch.allclose(a64, b64, rtol=_RTOL, atol=_ATOL, equal_nan=True))


def check_provenance(call: CallReport, got: torch.Tensor, tr: Translator = ENGLISH) -> Provenance:
    ran = [r for r in call.records if r.error is None]
    if not call.records:
        return Provenance(False, tr("not from autograd: no backward() or torch.autograd.grad() ran during the call, "
                                    "so the returned values were computed some other way (a formula?)"))
    if not ran:
        return Provenance(False, tr("not from autograd: every backward()/autograd.grad() call during the call raised"))
    for record in ran:
        if any(_same(got, result) for result in record.results):
            return Provenance(True, tr("produced by {call}()", call=record.kind)
                              + (tr(" at line {line}", line=record.line) if record.line else ""))
    return Provenance(False, tr("not from autograd: autograd ran, but the returned values differ from every gradient "
                                "it produced during the call (was the result changed or written by hand?)"))
