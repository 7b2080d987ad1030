"""Elementwise comparison of a student's tensor with an expected one, reported like gradcheck does.

Everything is compared in float64 so that the student's float32 rounding is the only rounding that
matters. The report always says *what* disagrees (which element, got vs expected) and *by how much*,
because "not close" alone teaches a student nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from grader.i18n import ENGLISH, Translator
from grader.results import VALUES_CAP, Mismatch, Values

TINY = torch.finfo(torch.float64).tiny  # denominator floor for relative errors (expected == 0)


@dataclass
class Comparison:
    passed: bool
    reason: str  # "" when passed, else "shape" | "dtype" | "nonfinite" | "tolerance"
    message: str  # what was compared and by how much (also set when passed)
    mismatch: Mismatch | None  # filled whenever numbers could be compared, also when passed
    values: Values | None = None  # elements around the worst one, when numbers were compared and failed


# --------------------------------------------------------------------------- formatting


def format_number(x: float, digits: int = 4) -> str:
    """Compact rendering with ``digits`` significant digits that still reads as a float ("6.0", "1e-05")."""
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    text = f"{x:.{digits}g}"
    if text.lstrip("-").isdigit():
        text += ".0"
    return text


def format_pair(a: float, b: float) -> tuple[str, str]:
    """Render two numbers with as many digits as it takes to show that they differ (at least 4)."""
    for digits in range(4, 18):
        sa, sb = format_number(a, digits), format_number(b, digits)
        if sa != sb or float(a) == float(b):
            return sa, sb
    return format_number(a, 17), format_number(b, 17)


def format_index(index: list[int]) -> str:
    return "[" + ", ".join(str(i) for i in index) + "]"


def _format_element(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, complex):
        return f"{value:.4g}"
    return format_number(value)


def _format_nested(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_format_nested(v) for v in value) + "]"
    return _format_element(value)


def shorten(t: torch.Tensor, edge: int = 3) -> str:
    """One line for a tensor of any size: nested lists when short, else the first and last ``edge``
    elements (flattened) with the shape, e.g. ``[0.0, 4.0, 8.0, …, 28.0, 32.0, 36.0] (shape [10])``."""
    t = t.detach().cpu()
    if t.dim() == 0:
        return _format_element(t.item())
    shape = list(t.shape)
    flat = t.reshape(-1)
    if flat.numel() <= 2 * edge + 1:
        text = _format_nested(t.tolist())
        return text if flat.numel() > 0 else f"{text} (shape {shape})"
    head = [_format_element(v) for v in flat[:edge].tolist()]
    tail = [_format_element(v) for v in flat[flat.numel() - edge :].tolist()] if edge > 0 else []
    return "[" + ", ".join(head + ["…"] + tail) + f"] (shape {shape})"


def unravel(flat_index: int, shape: torch.Size | tuple[int, ...] | list[int]) -> list[int]:
    """Flat (row-major) position -> list of indices; ``[]`` for a 0-d shape."""
    index: list[int] = []
    for size in reversed(list(shape)):
        flat_index, i = divmod(flat_index, size)
        index.append(i)
    return index[::-1]


def element_values(got: torch.Tensor, expected: torch.Tensor, worst: int) -> Values:
    """At most ``VALUES_CAP`` consecutive flat elements of both tensors, the worst one among them."""
    n = got.numel()
    start = min(max(worst - VALUES_CAP // 2, 0), max(n - VALUES_CAP, 0))
    window = slice(start, start + VALUES_CAP)
    return Values(start, got.reshape(-1)[window].tolist(), expected.reshape(-1)[window].tolist())


def _at(index: list[int], tr: Translator) -> str:
    return tr(" at {index}", index=format_index(index)) if index else ""


# --------------------------------------------------------------------------- checks before numbers


def check_form(got: Any, shape: torch.Size | tuple[int, ...], tr: Translator = ENGLISH) -> Comparison | None:
    """Why ``got`` cannot be compared with numbers of ``shape`` at all (dtype, then shape), or None."""
    if not isinstance(got, torch.Tensor):
        return Comparison(False, "dtype", tr("got a {type}, expected a tensor", type=type(got).__name__), None)
    if got.dtype == torch.bool or got.dtype.is_complex:
        return Comparison(
            False, "dtype", tr("got a {dtype} tensor, expected real numbers",
                               dtype=str(got.dtype).removeprefix("torch.")), None
        )
    if tuple(got.shape) != tuple(shape):
        return Comparison(False, "shape", _shape_message(tuple(got.shape), tuple(shape), tr), None)
    return None


def _shape_message(got: tuple[int, ...], expected: tuple[int, ...], tr: Translator) -> str:
    message = tr("shape {got} but expected {expected}", got=list(got), expected=list(expected))
    if len(got) >= 2 and got == expected[::-1]:
        return message + tr(" (the transpose of the expected shape)")
    if math.prod(got) == math.prod(expected):
        return message + tr(" (same number of elements, arranged differently)")
    return message


def nonfinite_comparison(
    got: torch.Tensor, expected: torch.Tensor | None = None, *, expected_name: str | None = None,
    tr: Translator = ENGLISH,
) -> Comparison | None:
    """NaN/inf in ``got`` where ``expected`` is finite (everywhere when ``expected`` is None), or None."""
    expected_name = tr("expected") if expected_name is None else expected_name
    bad = ~torch.isfinite(got)
    if expected is not None:
        bad &= torch.isfinite(expected)
    count = int(bad.sum())
    if count == 0:
        return None
    first_flat = int(bad.reshape(-1).nonzero()[0])
    first = unravel(first_flat, got.shape)
    got_value = float(got.reshape(-1)[bad.reshape(-1)][0])
    expected_value = None if expected is None else float(expected.reshape(-1)[bad.reshape(-1)][0])
    what = tr("got {value}", value=format_number(got_value)) + (
        "" if expected_value is None else f", {expected_name} {format_number(expected_value)}"
    )
    if got.dim() == 0:
        message = tr("result is not finite ({what})", what=what)
    else:
        message = tr("{count} of {total} elements are not finite (first at {index}: {what})", count=count,
                     total=got.numel(), index=format_index(first), what=what)
    mismatch = Mismatch(
        max_abs_error=math.inf,
        max_rel_error=math.inf,
        index=first,
        got=got_value,
        expected=expected_value,
        mismatched=count,
        total=got.numel(),
    )
    values = None if expected is None else element_values(got, expected, first_flat)
    return Comparison(False, "nonfinite", message, mismatch, values)


# --------------------------------------------------------------------------- comparison


def compare(
    got: torch.Tensor,
    expected: torch.Tensor,
    *,
    rtol: float,
    atol: float,
    slack: torch.Tensor | float = 0.0,
    expected_name: str | None = None,
    tr: Translator = ENGLISH,
) -> Comparison:
    """Elementwise ``|got - expected| <= atol + rtol·|expected| (+ slack)`` in float64, numpy.allclose style.

    ``slack`` widens the tolerance where ``expected`` itself is uncertain (e.g. a finite-difference
    estimate's error bound); ``expected_name`` is the word used for ``expected`` in the message (default:
    "expected" in ``tr``'s language).
    """
    expected_name = tr("expected") if expected_name is None else expected_name
    form = check_form(got, expected.shape, tr)
    if form is not None:
        return form
    g = got.detach().to(torch.float64)
    e = expected.detach().to(torch.float64)
    nonfinite = nonfinite_comparison(g, e, expected_name=expected_name, tr=tr)
    if nonfinite is not None:
        return nonfinite
    n = g.numel()
    if n == 0:
        return Comparison(True, "", tr("nothing to compare (0 elements)"), Mismatch(0.0, 0.0, [], None, None, 0, 0))

    finite = torch.isfinite(g) & torch.isfinite(e)
    same_special = (torch.isnan(g) & torch.isnan(e)) | (torch.isinf(e) & (g == e))
    diff = torch.where(finite, (g - e).abs(), torch.where(same_special, 0.0, math.inf))
    bound = atol + rtol * e.abs() + torch.as_tensor(slack, dtype=torch.float64)
    bad = (diff > bound) | (~finite & ~same_special)
    # The element reported is the one furthest beyond its tolerance, which is what a student should
    # look at; max_abs_error is the overall maximum (often the same element).
    excess = torch.where(bound > 0, diff / bound.clamp_min(TINY), torch.where(diff > 0, math.inf, 0.0))
    worst = int(torch.argmax(torch.nan_to_num(excess, nan=math.inf).reshape(-1)))
    largest = int(torch.argmax(diff.reshape(-1)))
    rel = diff / e.abs().clamp_min(TINY)
    mismatch = Mismatch(
        max_abs_error=float(diff.max()),
        max_rel_error=float(rel.max()),
        index=unravel(worst, g.shape),
        got=float(g.reshape(-1)[worst]),
        expected=float(e.reshape(-1)[worst]),
        mismatched=int(bad.sum()),
        total=n,
    )
    tolerance = f"atol={format_number(atol)} + rtol={format_number(rtol)}·|{expected_name}|"
    if torch.as_tensor(slack).abs().max() > 0:
        tolerance += tr(" + its error (≤ {bound})", bound=format_number(float(torch.as_tensor(slack).max())))
    passed = mismatch.mismatched == 0
    if passed:
        message = tr("max abs error {error}{at}", error=format_number(mismatch.max_abs_error),
                     at=_at(unravel(largest, g.shape), tr))
        within = (tr(" (the element is within {tolerance})", tolerance=tolerance) if n == 1
                  else tr(" (all {n} elements are within {tolerance})", n=n, tolerance=tolerance))
        return Comparison(True, "", message + within, mismatch)

    got_text, expected_text = format_pair(mismatch.got, mismatch.expected)
    error = float(diff.reshape(-1)[worst])
    if worst == largest or error == mismatch.max_abs_error:
        head = tr("max abs error {error}{at}", error=format_number(error), at=_at(mismatch.index, tr))
    else:
        head = tr("abs error {error}{at}, the furthest beyond its tolerance (max abs error {largest}{largest_at})",
                  error=format_number(error), at=_at(mismatch.index, tr),
                  largest=format_number(mismatch.max_abs_error), largest_at=_at(unravel(largest, g.shape), tr))
    outside = (tr("(outside {tolerance})", tolerance=tolerance) if n == 1
               else tr("({mismatched} of {n} elements outside {tolerance})", mismatched=mismatch.mismatched, n=n,
                       tolerance=tolerance))
    message = tr("{head}: got {got}, {expected_name} {expected} {outside}", head=head, got=got_text,
                 expected_name=expected_name, expected=expected_text, outside=outside)
    return Comparison(False, "tolerance", message, mismatch, element_values(g, e, worst))
