"""Reference autograd: what each target should be, computed by the grader in float64.

The spec writes the mathematics as torch expressions; this module evaluates them (in the grader, never
in a student's process) and differentiates them with torch's autograd. It also hands the finite
difference check a plain scalar function of the ``wrt`` input, with constants frozen at the trial
point and the vector-Jacobian vector folded in, so both checks judge the same mathematical quantity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from types import CodeType
from typing import Any, Callable

import torch

from grader.spec.model import Exercise, Target

ScalarFunction = Callable[[torch.Tensor], torch.Tensor]


class ReferenceError(Exception):
    """The spec's reference could not be evaluated (a bug in the exercise, not the student's fault)."""


@dataclass(frozen=True)
class Problem:
    """What finite differences need: f (float64 scalar function of x), the point x and order/direction."""

    function: ScalarFunction
    x: torch.Tensor
    order: int
    direction: torch.Tensor | None


class Reference:
    """The compiled reference of one exercise."""

    def __init__(self, exercise: Exercise) -> None:
        self.exercise = exercise
        self._helpers: dict[str, Any] = {"torch": torch, "math": math}
        if exercise.reference_code:
            try:
                exec(compile(exercise.reference_code, f"<reference of {exercise.id}>", "exec"), self._helpers)
            except Exception as exc:  # noqa: BLE001 - reported as a spec problem
                raise ReferenceError(f"{exercise.id}: the reference code raised {type(exc).__name__}: {exc}") from exc
        self._code: dict[str, CodeType] = {}
        self._variants: dict[str, Reference] = {}

    def with_code(self, reference_code: str) -> Reference:
        """The same exercise with other reference code (a known mistake's), compiled once and kept."""
        variant = self._variants.get(reference_code)
        if variant is None:
            variant = self._variants[reference_code] = Reference(replace(self.exercise, reference_code=reference_code))
        return variant

    def evaluate(self, expression: str, names: dict[str, Any]) -> Any:
        code = self._code.get(expression)
        if code is None:
            code = self._code[expression] = compile(expression, f"<{self.exercise.id}>", "eval")
        try:
            return eval(code, {**self._helpers, **names})
        except Exception as exc:  # noqa: BLE001 - reported as a spec problem
            raise ReferenceError(f"{self.exercise.id}: evaluating {expression!r} raised {type(exc).__name__}: {exc}") from exc

    def _wrt(self, target: Target) -> str:
        if target.wrt:
            return target.wrt
        for function in self.exercise.functions:
            if function.name == target.function:
                return function.params[0]
        raise ReferenceError(f"{self.exercise.id}: target {target.name} has no input to differentiate")

    def problem(self, target: Target, inputs: dict[str, torch.Tensor], *, freeze: bool = True,
                cotangent: torch.Tensor | None = None) -> Problem:
        """The scalar function whose derivative (order 1) or Hessian-vector product (order 2) is expected.

        ``freeze=False`` and ``cotangent`` let the diagnosis layer ask "what if u were not detached" or
        "what if v were ignored" with the same machinery.
        """
        values = {name: t.detach().to(torch.float64) for name, t in inputs.items()}
        wrt = self._wrt(target)
        constants: dict[str, Any] = {}
        if freeze:
            with torch.no_grad():
                for name, expression in target.constants:
                    constants[name] = _detached(self.evaluate(expression, values))
        vector = cotangent if cotangent is not None else (values[target.gradient] if target.gradient else None)
        expanded = dict(target.constants) if not freeze else {}

        def function(x: torch.Tensor) -> torch.Tensor:
            names = {**values, wrt: x, **constants}
            for name, expression in expanded.items():
                names[name] = self.evaluate(expression, names)
            out = self.evaluate(target.output, names)
            if not isinstance(out, torch.Tensor):
                out = torch.as_tensor(out, dtype=torch.float64)
            if vector is not None:
                return (out * vector).sum()
            if out.numel() != 1:
                raise ReferenceError(
                    f"{self.exercise.id}: output {target.output!r} has shape {list(out.shape)}; a gradient target "
                    "needs a scalar output or a `gradient` input")
            return out.reshape(())

        direction = None
        if target.order == 2:
            direction = values[target.direction] if target.direction else torch.ones_like(values[wrt])
        return Problem(function, values[wrt], target.order, direction)

    def expected(self, target: Target, inputs: dict[str, torch.Tensor], **variant: Any) -> torch.Tensor:
        """The float64 value the student's function should return for this target and trial."""
        if target.kind == "value":
            values = {name: t.detach().to(torch.float64) for name, t in inputs.items()}
            with torch.no_grad():
                out = self.evaluate(target.output, values)
            return torch.as_tensor(out, dtype=torch.float64).detach()
        problem = self.problem(target, inputs, **variant)
        return derivative(problem) * target.accumulate


def derivative(problem: Problem) -> torch.Tensor:
    """∇f(x), or H(x)·w for order 2, by torch autograd in float64."""
    x = problem.x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        y = problem.function(x)
        if problem.order == 1:
            (g,) = torch.autograd.grad(y, x, allow_unused=True)
            return torch.zeros_like(x) if g is None else g.detach()
        (g,) = torch.autograd.grad(y, x, create_graph=True, allow_unused=True)
        if g is None or not g.requires_grad:
            return torch.zeros_like(x)
        assert problem.direction is not None
        (h,) = torch.autograd.grad((g * problem.direction).sum(), x, allow_unused=True)
        return torch.zeros_like(x) if h is None else h.detach()


def _detached(value: Any) -> Any:
    return value.detach() if isinstance(value, torch.Tensor) else value
