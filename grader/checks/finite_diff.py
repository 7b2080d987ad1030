"""Float64 central finite differences that know their own error, to check a student's gradient.

Like ``torch.autograd.gradcheck`` but tuned for grading:

* steps are scaled to the input (relative steps), so large or small inputs are differentiated equally well;
* every estimate is made twice, with steps h and 2h. For a smooth f the two differ by the truncation
  error (O(h²), so the h-estimate is off by about a third of the difference) plus rounding; when they
  differ by much more, a jump or kink lies within the step and the point is reported as unstable
  rather than judged;
* order 1 also compares forward and backward slopes, which catches a kink exactly at x (where central
  differences just average the two slopes);
* large inputs are checked along random Gaussian directions u, with a tolerance built from
  ``rtol·‖got ⊙ u‖₂ + atol·‖u‖₂`` (what elementwise-tolerated errors contribute to ``<got, u>``),
  so a single wrong entry is not drowned by a tolerance that grows like ``Σ|got_i·u_i|``.

``f`` maps a float64 tensor shaped like ``x`` to a float64 0-d tensor. Order 1 checks ``got ≈ ∇f(x)``,
order 2 checks ``got ≈ H(x)·w`` (w defaults to ones).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass

import torch

from grader.checks.compare import (
    check_form,
    compare,
    format_index,
    format_number,
    format_pair,
    nonfinite_comparison,
    unravel,
)
from grader.i18n import ENGLISH, Translator
from grader.results import Mismatch

Function = Callable[[torch.Tensor], torch.Tensor]

EPS = torch.finfo(torch.float64).eps
TINY = torch.finfo(torch.float64).tiny
# Relative step per order: balances truncation (h²) against rounding (eps/h^order).
STEP = {1: EPS ** (1 / 3), 2: EPS ** (1 / 4)}
# Rounding in one evaluation of f, in ulps of |f|: generous, as f is usually a reduction of many terms.
ROUNDING_ULPS = 16.0
# The h and 2h estimates of a smooth f agree far better than this (relative to the largest estimate in
# the batch); then the h-estimate is within ~STABILITY_RTOL/3 of the truth, well below a grading rtol
# of 1e-4. A jump or kink inside the step makes them differ by O(1). Order 2 steps are ~20x longer, so
# its smooth truncation is ~400x larger and gets a looser bound.
STABILITY_RTOL = {1: 1e-5, 2: 1e-4}
# <got - grad, u> for errors within the elementwise tolerance has a spread of about
# ‖(atol + rtol·|got|) ⊙ u‖₂; allow twice that. Correct float32 answers sit ~1000x below it (error ~6e-8
# vs rtol 1e-4), so the margin only matters for answers already near the tolerance, while a larger
# factor would hide single wrong entries.
DIRECTIONAL_SIGMAS = 2.0
STABILITY_DIRECTIONS = 3  # used by is_stable

# Stencils as (coefficient along u, coefficient along w, weight): order 1 is the central difference
# (f(x+hu) - f(x-hu)) / 2h, order 2 the mixed difference for u^T H w, divided by 4·h_u·h_w.
_STENCILS: dict[int, tuple[tuple[int, int, float], ...]] = {
    1: ((1, 0, 0.5), (-1, 0, -0.5)),
    2: ((1, 1, 0.25), (1, -1, -0.25), (-1, 1, -0.25), (-1, -1, 0.25)),
}


@dataclass
class FDVerdict:
    passed: bool
    stable: bool  # False: a jump/kink is within the step (two step sizes disagree); the point was not judged
    method: str  # "elementwise" | "directional"
    evaluations: int  # how many times f was called
    message: str
    mismatch: Mismatch | None


# --------------------------------------------------------------------------- the one stencil helper


@dataclass
class _Estimates:
    """Finite-difference estimates of D_u f (order 1) or u^T H w (order 2) for a batch of directions u."""

    fine: torch.Tensor  # [k] with steps h: the estimate used
    coarse: torch.Tensor  # [k] with steps 2h: only to measure the error
    # Order 1: half the gap between forward and backward slopes, (f(x+hu) - 2f(x) + f(x-hu)) / 2h, at h and
    # 2h. Smooth f: ≈ h·f''/2, so it doubles with the step; a kink at x keeps it at half the slope jump.
    # (The central estimates alone cannot see a kink exactly at x: they average the two slopes.)
    gap_fine: torch.Tensor  # [k], zeros for order 2
    gap_coarse: torch.Tensor
    rounding: torch.Tensor  # [k] rounding-error bound of `fine`
    steps: torch.Tensor  # [k] h along u
    order: int
    evaluations: int

    @property
    def error(self) -> torch.Tensor:
        """Estimated error of `fine`: truncation (O(h²), so |fine - coarse| / 3) + rounding."""
        return (self.fine - self.coarse).abs() / 3 + self.rounding

    def _allowed(self) -> torch.Tensor:
        """What rounding (a few times the bound, for the several evaluations combined) and smooth
        truncation (STABILITY_RTOL of the largest estimate, plus h² for estimates near 0) explain."""
        values = torch.cat([self.fine, self.coarse]).abs()
        finite = values[torch.isfinite(values)]
        scale = float(finite.max()) if finite.numel() else 0.0
        return 6 * self.rounding + STABILITY_RTOL[self.order] * scale + STEP[self.order] ** 2

    @property
    def jumps(self) -> torch.Tensor:
        """[k] bool: h and 2h estimates disagree (a jump or kink within the step), or are not finite."""
        finite = torch.isfinite(self.fine) & torch.isfinite(self.coarse)
        return ~finite | ((self.fine - self.coarse).abs() > self._allowed())

    @property
    def kinks(self) -> torch.Tensor:
        """[k] bool: forward and backward slopes differ by an amount that does not grow with the step."""
        return (self.gap_coarse - 2 * self.gap_fine).abs() > self._allowed()

    def first_unstable(self) -> int | None:
        bad = (self.jumps | self.kinks).nonzero()
        return int(bad[0]) if len(bad) else None

    def explain(self, i: int, tr: Translator = ENGLISH) -> str:
        h = float(self.steps[i])
        if bool(self.jumps[i]):
            fine, coarse = format_pair(float(self.fine[i]), float(self.coarse[i]))
            return tr("estimate {fine} with h={h} but {coarse} with 2h={h2}", fine=fine, h=format_number(h, 2),
                      coarse=coarse, h2=format_number(2 * h, 2))
        forward = float(self.fine[i] + self.gap_fine[i])
        backward = float(self.fine[i] - self.gap_fine[i])
        right, left = format_pair(forward, backward)
        return tr("slope {right} on one side but {left} on the other, h={h}", right=right, left=left,
                  h=format_number(h, 2))


def _scale(x: torch.Tensor, u: torch.Tensor, order: int) -> float:
    """Largest move of any coordinate: STEP·max(1, |x_i|) over the coordinates u moves (relative steps).

    u = e_i gives gradcheck's per-element h_i; a dense u gives STEP·max(1, ‖x‖∞).
    """
    magnitude = float(torch.where(u != 0, x.abs(), 0.0).max()) if x.numel() else 0.0
    return STEP[order] * max(1.0, magnitude)


def _norm_inf(v: torch.Tensor) -> float:
    return max(float(v.abs().max()), TINY) if v.numel() else 1.0


@dataclass(frozen=True)
class _Problem:
    """What is differentiated: f at x (float64), order 1 (∇f) or 2 (H·w)."""

    f: Function
    x: torch.Tensor
    order: int
    w: torch.Tensor

    @classmethod
    def make(cls, f: Function, x: torch.Tensor, order: int, w: torch.Tensor | None) -> _Problem:
        if order not in _STENCILS:
            raise ValueError(f"order must be 1 or 2, not {order}")
        x = x.detach().to(torch.float64).contiguous()
        w = torch.ones_like(x) if w is None else w.detach().to(torch.float64).expand_as(x)
        return cls(f, x, order, w)


def _estimate(problem: _Problem, directions: Iterable[torch.Tensor]) -> _Estimates:
    """Evaluate the order's stencil along each direction at steps h and 2h (plus f(x) once for order 1)."""
    f, x, order, w = problem.f, problem.x, problem.order, problem.w
    stencil = _STENCILS[order]
    w_norm = _norm_inf(w)
    center = float(f(x)) if order == 1 else 0.0
    evaluations = 1 if order == 1 else 0
    names = ("fine", "coarse", "gap_fine", "gap_coarse", "rounding", "steps")
    columns: dict[str, list[float]] = {name: [] for name in names}
    for u in directions:
        scale_u = _scale(x, u, order)  # w moves as far as u: only the coordinates u probes set the scale
        h_u, h_w = scale_u / _norm_inf(u), scale_u / w_norm
        largest = abs(center)
        for scale, name in ((1.0, "fine"), (2.0, "coarse")):
            hu, hw = scale * h_u, scale * h_w
            total, even = 0.0, -2.0 * center
            for a, b, weight in stencil:
                value = float(f(x + (a * hu) * u + (b * hw) * w if b else x + (a * hu) * u))
                total += weight * value
                even += value
                largest = max(largest, abs(value))
                evaluations += 1
            denominator = hu if order == 1 else hu * hw
            columns[name].append(total / denominator)
            columns[f"gap_{name}"].append(even / (2 * hu) if order == 1 else 0.0)
        columns["rounding"].append(ROUNDING_ULPS * EPS * largest / (h_u if order == 1 else h_u * h_w))
        columns["steps"].append(h_u)
    tensors = {name: torch.tensor(values, dtype=torch.float64) for name, values in columns.items()}
    return _Estimates(**tensors, order=order, evaluations=evaluations)


def _basis(x: torch.Tensor) -> Iterable[torch.Tensor]:
    for i in range(x.numel()):
        e = torch.zeros(x.numel(), dtype=torch.float64)
        e[i] = 1.0
        yield e.reshape(x.shape)


def _gaussian(x: torch.Tensor, count: int, generator: torch.Generator | None) -> list[torch.Tensor]:
    if generator is None:  # deterministic even when the caller did not seed anything; never the global RNG
        generator = torch.Generator().manual_seed(0)
    return [torch.randn(x.shape, generator=generator, dtype=torch.float64) for _ in range(count)]


def _label(order: int, tr: Translator, h: float | None = None) -> str:
    step = "" if h is None else tr(", h={h}", h=format_number(h, 2))
    if order == 1:
        return tr("finite differences (float64, central{step})", step=step)
    return tr("second-order finite differences of u^T·H·w (float64, 4-point central{step})", step=step)


# --------------------------------------------------------------------------- public API


def fd_gradient(
    f: Function, x: torch.Tensor, *, order: int = 1, w: torch.Tensor | None = None
) -> tuple[torch.Tensor, bool]:
    """Full elementwise estimate of ∇f(x) (order 1) or H(x)·w (order 2), and whether it is stable.

    Costs 4·numel + 1 (order 1) or 8·numel (order 2) evaluations of f.
    """
    problem = _Problem.make(f, x, order, w)
    estimates = _estimate(problem, _basis(problem.x))
    return estimates.fine.reshape(problem.x.shape), estimates.first_unstable() is None


def is_stable(
    f: Function,
    x: torch.Tensor,
    *,
    order: int = 1,
    w: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> bool:
    """Cheap test (a few random directions) that no jump or kink of f lies within the step around x."""
    problem = _Problem.make(f, x, order, w)
    return _estimate(problem, _gaussian(problem.x, STABILITY_DIRECTIONS, generator)).first_unstable() is None


def check_gradient(
    f: Function,
    x: torch.Tensor,
    got: torch.Tensor,
    *,
    order: int = 1,
    w: torch.Tensor | None = None,
    rtol: float = 1e-4,
    atol: float = 1e-5,
    generator: torch.Generator | None = None,
    max_elementwise: int = 64,
    directions: int = 8,
    memo: MutableMapping[str, tuple[list[torch.Tensor], _Estimates]] | None = None,
    tr: Translator = ENGLISH,
) -> FDVerdict:
    """Judge ``got`` against finite differences of f at x: elementwise for small x, along
    ``directions`` random Gaussian directions (drawn from ``generator``) for large x.

    The estimates depend on f, x, w and the directions only, never on ``got``: a caller judging many
    answers at the same point passes the same ``memo`` and pays for them once.
    """
    problem = _Problem.make(f, x, order, w)
    if directions < 1:
        raise ValueError(f"directions must be at least 1, not {directions}")
    x = problem.x
    method = "elementwise" if x.numel() <= max_elementwise else "directional"
    form = check_form(got, x.shape, tr)
    if form is not None:
        return FDVerdict(False, True, method, 0, f"{_label(order, tr)}: {form.message}", None)
    g = got.detach().to(torch.float64)
    nonfinite = nonfinite_comparison(g, tr=tr)  # the gradient of a finite f at a stable point is finite
    if nonfinite is not None:
        return FDVerdict(False, True, method, 0, f"{_label(order, tr)}: {nonfinite.message}", nonfinite.mismatch)
    if x.numel() == 0:
        empty = Mismatch(0.0, 0.0, [], None, None, 0, 0)
        return FDVerdict(True, True, method, 0, tr("nothing to compare (0 elements)"), empty)
    memo = {} if memo is None else memo
    if method == "elementwise":
        if method not in memo:
            memo[method] = ([], _estimate(problem, _basis(x)))
        return _check_elementwise(problem, g, rtol, atol, memo[method][1], tr)
    key = f"{method}/{directions}"
    if key not in memo:
        chosen = _gaussian(x, directions, generator)
        memo[key] = (chosen, _estimate(problem, chosen))
    chosen, estimates = memo[key]
    return _check_directional(problem, g, rtol, atol, chosen, estimates, tr)


# --------------------------------------------------------------------------- the two methods


def _unstable_verdict(estimates: _Estimates, i: int, method: str, where: str, tr: Translator) -> FDVerdict:
    message = tr("not judged: finite differences are unreliable here, a jump, kink or sharp bend of f lies within "
                 "the step ({where}: {explanation})", where=where, explanation=estimates.explain(i, tr))
    return FDVerdict(False, False, method, estimates.evaluations, message, None)


def _check_elementwise(problem: _Problem, g: torch.Tensor, rtol: float, atol: float,
                       estimates: _Estimates, tr: Translator = ENGLISH) -> FDVerdict:
    method, x = "elementwise", problem.x
    unstable = estimates.first_unstable()
    if unstable is not None:
        index = unravel(unstable, x.shape)
        where = tr("at {index}", index=format_index(index)) if index else tr("at the point")
        return _unstable_verdict(estimates, unstable, method, where, tr)
    expected, error = estimates.fine.reshape(x.shape), estimates.error.reshape(x.shape)
    comparison = compare(g, expected, rtol=rtol, atol=atol, slack=error, expected_name=tr("estimated"), tr=tr)
    worst = comparison.mismatch.index if comparison.mismatch else []
    h = float(estimates.steps[_flat(worst, x)])
    label = _label(problem.order, tr, h)
    message = (tr("{label} agree: {comparison}", label=label, comparison=comparison.message) if comparison.passed
               else tr("{label} disagree: {comparison}", label=label, comparison=comparison.message))
    return FDVerdict(comparison.passed, True, method, estimates.evaluations, message, comparison.mismatch)


def _check_directional(
    problem: _Problem, g: torch.Tensor, rtol: float, atol: float, directions: list[torch.Tensor],
    estimates: _Estimates, tr: Translator = ENGLISH,
) -> FDVerdict:
    method = "directional"
    k = len(directions)
    unstable = estimates.first_unstable()
    if unstable is not None:
        return _unstable_verdict(estimates, unstable, method,
                                 tr("along random direction {i} of {k}", i=unstable + 1, k=k), tr)
    projected = torch.stack([(g * u).sum() for u in directions])
    # What errors within the elementwise tolerance add to <got, u>: Σ e_i·u_i with |e_i| <= atol + rtol·|got_i|
    # has a spread of about ‖(atol + rtol·|got|) ⊙ u‖₂ <= rtol·‖got ⊙ u‖₂ + atol·‖u‖₂, not Σ|got_i·u_i|.
    student = torch.stack([rtol * (g * u).norm() + atol * u.norm() for u in directions])
    allowed = estimates.error + DIRECTIONAL_SIGMAS * student
    diff = (projected - estimates.fine).abs()
    excess = diff / allowed.clamp_min(TINY)
    worst = int(torch.argmax(excess))
    failed = int((diff > allowed).sum())
    mismatch = Mismatch(
        max_abs_error=float(diff.max()),
        max_rel_error=float((diff / estimates.fine.abs().clamp_min(TINY)).max()),
        index=[],
        got=float(projected[worst]),
        expected=float(estimates.fine[worst]),
        mismatched=failed,
        total=k,
    )
    got_text, expected_text = format_pair(mismatch.got, mismatch.expected)
    detail = tr(
        "along random direction {i} of {k}: <got, u> = {got}, estimated {expected} (difference {difference}, "
        "allowed {allowed} = {sigmas}·(rtol·‖got⊙u‖ + atol·‖u‖) + estimate error {error})",
        i=worst + 1, k=k, got=got_text, expected=expected_text, difference=format_number(float(diff[worst])),
        allowed=format_number(float(allowed[worst])), sigmas=format_number(DIRECTIONAL_SIGMAS),
        error=format_number(float(estimates.error[worst])))
    label = _label(problem.order, tr, float(estimates.steps[worst]))
    if failed == 0:
        message = tr("{label} agree along {k} random directions; closest call {detail}", label=label, k=k,
                     detail=detail)
        return FDVerdict(True, True, method, estimates.evaluations, message, mismatch)
    message = tr("{label} disagree in {failed} of {k} directions; worst {detail}. The error is in the directional "
                 "derivative along a random direction, so no single element can be named", label=label,
                 failed=failed, k=k, detail=detail)
    return FDVerdict(False, True, method, estimates.evaluations, message, mismatch)


def _flat(index: list[int], x: torch.Tensor) -> int:
    """Inverse of ``unravel`` (row-major)."""
    flat = 0
    for i, size in zip(index, x.shape, strict=True):
        flat = flat * size + i
    return flat
