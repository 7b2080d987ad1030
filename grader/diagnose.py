"""Name the mistake: from errors, returned values and the spec's structure to a message and a hint.

Two sources of evidence:
- the exception a call raised (torch's own autograd messages are precise: each maps to one mistake);
- for a wrong number, "what would the student have got if ...": the grader re-evaluates the reference
  with one thing changed (constants not frozen, the vector v ignored, backward once, first derivative
  only, the output itself) and names the variant the student's answer matches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from grader.checks.reference import Reference, ReferenceError, derivative
from grader.results import Diagnosis
from grader.sandbox.evidence import CallReport, ErrorInfo
from grader.spec.model import Target


@dataclass(frozen=True)
class ErrorPattern:
    code: str
    needle: str  # substring of the exception text
    message: str
    hint: str


ERROR_PATTERNS: tuple[ErrorPattern, ...] = (
    ErrorPattern("requires_grad_missing", "does not require grad and does not have a grad_fn",
                 "requires_grad was never set: autograd cannot differentiate with respect to x "
                 "(\"element 0 of tensors does not require grad\")",
                 "Call x.requires_grad_(True) before computing y from x."),
    ErrorPattern("retain_graph_missing", "backward through the graph a second time",
                 "backward ran twice through the same graph without retain_graph=True: the first call freed it",
                 "Pass retain_graph=True to every backward() call but the last."),
    ErrorPattern("nonscalar_backward", "grad can be implicitly created only for scalar outputs",
                 "backward() on a non-scalar output without a gradient argument "
                 "(\"grad can be implicitly created only for scalar outputs\")",
                 "Either reduce to a scalar (y.sum().backward()) or pass gradient=v to backward()."),
    ErrorPattern("integer_tensor", "Only Tensors of floating point",
                 "an integer tensor cannot require gradients (torch.arange(4) is int64; torch.arange(4.0) is float)",
                 "Use floating-point tensors: torch.arange(4.0) or x.float()."),
    ErrorPattern("inplace_leaf", "leaf Variable that requires grad is being used in an in-place operation",
                 "an in-place operation on a leaf that requires grad",
                 "Do in-place updates under torch.no_grad(), or use out-of-place operations."),
    ErrorPattern("inplace_modified", "modified by an inplace operation",
                 "a tensor needed for the backward pass was modified in place",
                 "Avoid in-place operations (x += ..., x.mul_()) on tensors autograd still needs."),
    ErrorPattern("numpy_requires_grad", "Can't call numpy() on Tensor that requires grad",
                 "numpy() on a tensor that requires grad",
                 "Detach first: t.detach().numpy()."),
    ErrorPattern("unused_input", "appears to not have been used in the graph",
                 "torch.autograd.grad was asked for a tensor the output does not depend on",
                 "Differentiate with respect to the tensor you computed y from."),
    ErrorPattern("not_implemented", "NotImplementedError",
                 "the function is still the starter's placeholder (it raises NotImplementedError)",
                 "Replace `raise NotImplementedError` with your solution."),
)


def diagnose_error(error: ErrorInfo, call: CallReport | None = None) -> Diagnosis:
    """The mistake behind an exception raised by the student's call (or by loading the file)."""
    text = f"{error.type}: {error.message}"
    for pattern in ERROR_PATTERNS:
        if pattern.needle.lower() in text.lower():
            if pattern.code == "requires_grad_missing" and call is not None and _second_derivative_without_graph(call):
                return Diagnosis("create_graph_missing",
                                 "second derivative without create_graph=True: the first gradient has no graph "
                                 "to differentiate again (\"does not require grad\")",
                                 "Use torch.autograd.grad(y, x, create_graph=True), then differentiate that.",
                                 error.line)
            return Diagnosis(pattern.code, pattern.message, pattern.hint, error.line)
    if error.type == "SystemExit":
        return Diagnosis("exit", f"the code called {error.message}: the grader counts that as a failed call",
                         "Remove sys.exit()/exit()/quit() from your functions.", error.line)
    if error.type in ("MemoryError",) or "can't allocate memory" in error.message:
        return Diagnosis("memory_limit", "the code ran out of memory (memory limit)", "", error.line)
    return Diagnosis("exception", f"your code raised {text}", "", error.line)


def _second_derivative_without_graph(call: CallReport) -> bool:
    return any(r.kind == "grad" and r.error is None and not r.create_graph for r in call.records)


def diagnose_none(call: CallReport, function: str) -> Diagnosis:
    """A ``None`` return value: usually ``.grad`` read from the wrong tensor."""
    got_gradient = any(not a.grad_is_none for a in call.arguments)
    if got_gradient:
        return Diagnosis("non_leaf_grad",
                         f"{function} returned None: it read .grad of a non-leaf tensor (for example after "
                         "x = x.requires_grad_() * 1.0). Autograd stores gradients only in leaf tensors, and "
                         "here the gradient went to the tensor you were given",
                         "Call requires_grad_() on the tensor itself and read .grad of that same tensor.")
    if call.arguments and not any(a.requires_grad for a in call.arguments):
        return Diagnosis("requires_grad_missing",
                         f"{function} returned None: x.grad is None because x never required grad",
                         "Call x.requires_grad_(True) before computing y, then y.backward().")
    return Diagnosis("returned_none", f"{function} returned None instead of a tensor",
                     "Return the gradient tensor (x.grad) at the end of the function.")


@dataclass(frozen=True)
class Variant:
    """A plausible wrong answer, computed from the reference with one thing changed."""

    code: str
    message: str
    hint: str
    compute: Callable[[Reference, Target, dict[str, torch.Tensor]], torch.Tensor]


def _gradient(freeze: bool = True, ones: bool = False, accumulate: int | None = None,
              order: int | None = None) -> Callable[[Reference, Target, dict[str, torch.Tensor]], torch.Tensor]:
    def compute(reference: Reference, target: Target, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        cotangent = None
        if ones and target.gradient:
            cotangent = torch.ones_like(inputs[target.gradient], dtype=torch.float64)
        problem = reference.problem(target, inputs, freeze=freeze, cotangent=cotangent)
        if order == 1 and problem.order == 2:
            problem = type(problem)(problem.function, problem.x, 1, None)
        return derivative(problem) * (target.accumulate if accumulate is None else accumulate)
    return compute


def _output(reference: Reference, target: Target, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
    values = {name: t.to(torch.float64) for name, t in inputs.items()}
    with torch.no_grad():
        return torch.as_tensor(reference.evaluate(target.output, values), dtype=torch.float64)


def _variants(target: Target) -> list[Variant]:
    variants = []
    if target.constants:
        names = ", ".join(name for name, _ in target.constants)
        variants.append(Variant("not_detached", f"{names} was not detached: the gradient also flowed through {names}",
                                "Use .detach() to treat a sub-expression as a constant.", _gradient(freeze=False)))
    if target.gradient:
        variants.append(Variant("gradient_ignored", f"the gradient argument {target.gradient} was ignored "
                                "(the answer matches backward with a vector of ones)",
                                f"Pass gradient={target.gradient} to backward().", _gradient(ones=True)))
    if target.accumulate > 1:
        variants.append(Variant("not_accumulated", f"the gradient was computed once, but the exercise backpropagates "
                                f"{target.accumulate} times without zeroing (gradients accumulate in .grad)",
                                "Call backward again (with retain_graph=True) without zeroing x.grad in between.",
                                _gradient(accumulate=1)))
    elif target.kind == "gradient":
        variants.append(Variant("accumulated", "the gradient was accumulated twice: .grad sums every backward() "
                                "unless it is zeroed", "Call x.grad.zero_() (or compute on a fresh tensor) "
                                "before each backward().", _gradient(accumulate=2 * target.accumulate)))
    if target.order == 2:
        variants.append(Variant("first_derivative", "this is the first derivative, not the second",
                                "Differentiate twice: grad(y, x, create_graph=True), then backward/grad again.",
                                _gradient(order=1)))
    if target.kind == "gradient":
        variants.append(Variant("returned_output", "the function returned y (the output), not the gradient",
                                "Return x.grad after y.backward().", _output))
    return variants


def diagnose_value(reference: Reference, target: Target, inputs: dict[str, torch.Tensor], got: torch.Tensor,
                   expected: torch.Tensor, rtol: float, atol: float) -> Diagnosis | None:
    """Name a wrong number: a known variant, a transposed shape, or a constant factor."""
    got64 = got.detach().to(torch.float64)
    for variant in _variants(target):
        try:
            alternative = variant.compute(reference, target, inputs)
        except (ReferenceError, RuntimeError):
            continue
        if alternative.shape == got64.shape and not torch.allclose(alternative, expected, rtol=rtol, atol=atol) \
                and torch.allclose(got64, alternative, rtol=rtol, atol=atol):
            return Diagnosis(variant.code, variant.message, variant.hint)
    if got64.dim() == 2 and got64.shape == expected.T.shape and got64.shape != expected.shape:
        return Diagnosis("transposed", "the result is transposed", "Return a gradient shaped like x.")
    if got64.shape != expected.shape:
        return Diagnosis("wrong_shape", f"the result has shape {list(got64.shape)} but the gradient has the shape "
                         f"of x, {list(expected.shape)}", "x.grad always has x's shape.")
    mask = expected.abs() > atol * 10
    if bool(mask.any()) and bool(torch.isfinite(got64).all()):
        ratios = got64[mask] / expected[mask]
        k = float(ratios.median())
        if abs(k - 1) > rtol and torch.allclose(ratios, torch.full_like(ratios, k), rtol=max(rtol, 1e-3)) \
                and torch.allclose(got64, expected * k, rtol=rtol, atol=atol):
            return Diagnosis("constant_factor", f"off by a constant factor: the result is {k:.4g} × the expected "
                             "gradient", "Check the constants in your y, and how many times backward() ran.")
    return None
