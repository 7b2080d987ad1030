"""Name the mistake: from errors, returned values and the spec's structure to a message and a hint.

A layer between verdicts and renderers, made of pure functions of the spec, the inputs, the student's
result, the reference and the error the child raised. Three sources of evidence:
- the exception a call raised (torch's own autograd messages are precise: each maps to one mistake),
  refined by what the student's function visibly does (``no_grad``, ``.data``, ``.detach()``);
- for a wrong number, "what would the student have got if ...": the grader re-evaluates the reference
  with one thing changed (constants not frozen, the vector v ignored, backward once, first derivative
  only, the output itself, or a mistake the spec describes) and names the variant the answer matches;
- what autograd did during the call (the harness records every backward and the gradients it left),
  e.g. an earlier gradient still in ``.grad``.
A failure nothing explains still gets a diagnosis that shows expected vs got.

Every student-facing text is in ``TEXTS`` below: English ``str.format`` templates marked with ``N_`` for
gettext's catalog (grader/i18n.py), translated when a diagnosis is made with the run's ``Translator``.
Quoted torch errors stay in English inside the translations: they are what the student's traceback says.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import torch

from grader.checks.reference import Reference, ReferenceError, derivative
from grader.i18n import ENGLISH, N_, Translator
from grader.results import Diagnosis
from grader.sandbox.evidence import CallReport, ErrorInfo
from grader.spec.model import KnownMistake, Target
from grader.syntax import syntax_tree


@dataclass(frozen=True)
class Text:
    """What a diagnosis says: a stable code, a message naming the mistake, a hint saying what to do."""

    code: str
    message: str  # str.format template, a gettext msgid
    hint: str = ""

    def __call__(self, tr: Translator, line: int | None = None, **fields: object) -> Diagnosis:
        return Diagnosis(self.code, tr(self.message, **fields), tr(self.hint, **fields) if self.hint else "", line)


# Keys are unique; codes repeat where one mistake shows in several ways (an error, or a wrong number).
TEXTS: dict[str, Text] = {
    # ---- from exceptions
    "requires_grad_missing": Text(
        "requires_grad_missing",
        N_("requires_grad was never set: autograd cannot differentiate with respect to x "
           '("element 0 of tensors does not require grad")'),
        N_("Call x.requires_grad_(True) before computing y from x.")),
    "no_grad": Text(
        "no_grad",
        N_("y was computed inside torch.no_grad() (or inference_mode / set_grad_enabled(False)): nothing there is "
           "recorded, so y has no graph to backpropagate through "
           '("element 0 of tensors does not require grad")'),
        N_("Compute y outside the no_grad block: no_grad is for updates that autograd must not track.")),
    "data_misuse_error": Text(
        "data_misuse",
        N_(".data misused: x.data is x's numbers without autograd's tracking, so what is computed from it has no "
           'graph ("element 0 of tensors does not require grad")'),
        N_("Compute with x itself, not x.data (and use .detach() where you want a constant).")),
    "detached_everything": Text(
        "detached_everything",
        N_(".detach() cut every path from the output back to x, so there is no graph to backpropagate through "
           '("element 0 of tensors does not require grad")'),
        N_("Detach only the sub-expression to hold constant (u = y.detach()) and keep computing with x itself.")),
    "create_graph_missing": Text(
        "create_graph_missing",
        N_("second derivative without create_graph=True: the first gradient has no graph to differentiate again "
           '("does not require grad")'),
        N_("Use torch.autograd.grad(y, x, create_graph=True), then differentiate that.")),
    "retain_graph_missing": Text(
        "retain_graph_missing",
        N_("backward ran twice through the same graph without retain_graph=True: the first call freed it "
           '("Trying to backward through the graph a second time")'),
        N_("Pass retain_graph=True to every backward() call but the last.")),
    "nonscalar_backward": Text(
        "nonscalar_backward",
        N_("backward() on a non-scalar output without a gradient argument "
           '("grad can be implicitly created only for scalar outputs")'),
        N_("Either reduce to a scalar (y.sum().backward()) or pass gradient=v to backward().")),
    "gradient_shape": Text(
        "gradient_shape",
        N_('the gradient passed to backward() does not have the output\'s shape ("Mismatch in shape")'),
        N_("gradient= must have y's shape: torch.ones_like(y), or the exercise's vector v.")),
    "integer_tensor": Text(
        "integer_tensor",
        N_("an integer tensor cannot require gradients (torch.arange(4) is int64; torch.arange(4.0) is float) "
           '("Only Tensors of floating point dtype can require gradients")'),
        N_("Use floating-point tensors: torch.arange(4.0) or x.float().")),
    "inplace_leaf": Text(
        "inplace_leaf",
        N_("an in-place operation on a leaf that requires grad (x += ..., x *= ..., or y = x; y *= ...: "
           '"a leaf Variable that requires grad is being used in an in-place operation")'),
        N_("Use out-of-place operations (y = x * x); change x in place only under torch.no_grad().")),
    "inplace_modified": Text(
        "inplace_modified",
        N_("a tensor the backward pass needs was modified in place after it was used "
           '("modified by an inplace operation")'),
        N_("Do not change tensors in place (x -= ..., x.mul_()) between computing y and the backward() that needs "
           "them; compute a new tensor instead.")),
    "numpy_requires_grad": Text(
        "numpy_requires_grad",
        N_('numpy() on a tensor that requires grad ("Can\'t call numpy() on Tensor that requires grad")'),
        N_("Detach first: t.detach().numpy().")),
    "math_on_tensor": Text(
        "math_on_tensor",
        N_("a function for single Python numbers (math.log, math.sin, float()) was given a tensor of several elements "
           '("only one element tensors can be converted to Python scalars")'),
        N_("Use torch's functions on tensors (torch.log, torch.sin): math.* sees single numbers, and autograd "
           "cannot see it at all.")),
    "none_value_used": Text(
        "none_value_used",
        N_("a value your code used is None ({error}): a function returned None, for example from a branch that "
           "ends without return, or .grad was read before any backward()"),
        N_("Make every path through your functions end with a return of a tensor.")),
    "unused_input": Text(
        "unused_input",
        N_("torch.autograd.grad was asked for a tensor the output does not depend on"),
        N_("Differentiate with respect to the tensor you computed y from.")),
    "not_implemented": Text(
        "not_implemented",
        N_("the function is still the starter's placeholder (it raises NotImplementedError)"),
        N_("Replace `raise NotImplementedError` with your solution.")),
    "exit": Text("exit", N_("the code called {error}: the grader counts that as a failed call"),
                 N_("Remove sys.exit()/exit()/quit() from your functions.")),
    "memory_limit": Text("memory_limit", N_("the code ran out of memory (memory limit)"),
                         N_("Look for tensors that grow in a loop, or far larger than the inputs.")),
    "sandbox_refused": Text(
        "sandbox_refused",
        N_("the grader's sandbox refused what your code tried ({error}): while it is graded, code may not "
           "start processes or programs, use the network, or touch files outside its own folder"),
        N_("Compute the answer with torch alone: the exercise needs nothing else.")),
    "exception": Text("exception", N_("your code raised {error}"),
                      N_("Read the error and the line it points at; run the function on the exercise's example.")),
    # ---- from a None return value
    "requires_grad_missing_none": Text(
        "requires_grad_missing", N_("{function} returned None: x.grad is None because x never required grad"),
        N_("Call x.requires_grad_(True) before computing y, then y.backward().")),
    "non_leaf_grad": Text(
        "non_leaf_grad",
        N_("{function} returned None: it read .grad of a non-leaf tensor (for example after "
           "x = x.requires_grad_() * 1.0). Autograd stores gradients only in leaf tensors, and here the gradient "
           "went to the tensor you were given"),
        N_("Call requires_grad_() on the tensor itself and read .grad of that same tensor.")),
    "returned_none": Text("returned_none", N_("{function} returned None instead of a tensor"),
                          N_("End {function} with a return of a tensor (for a gradient: return x.grad).")),
    "none_on_some_inputs": Text(
        "none_on_some_inputs",
        N_("{function} returned None for some inputs ({trials}) but a tensor for others: a branch ends without return"),
        N_("Give every branch of {function} a return statement (an if without else falls through to None).")),
    # ---- from a wrong number
    "not_detached": Text("not_detached", N_("{names} was not detached: the gradient also flowed through {names}"),
                         N_("Use .detach() to treat a sub-expression as a constant.")),
    "detach_misplaced": Text(
        "detach_misplaced",
        N_("detach in the wrong place: {names} is only partly detached, so part of the gradient still flows "
           "through {names} (the result is {fraction} of the way from the right answer to the undetached one)"),
        N_("Detach the finished value, not a piece of its expression: {assignments}.")),
    "gradient_ignored": Text(
        "gradient_ignored",
        N_("the gradient argument {vector} was ignored (the answer matches backward with a vector of ones)"),
        N_("Pass gradient={vector} to backward().")),
    "not_accumulated": Text(
        "not_accumulated",
        N_("the gradient was computed once, but the exercise backpropagates {times} times without zeroing "
           "(gradients accumulate in .grad)"),
        N_("Call backward again (with retain_graph=True) without zeroing x.grad in between.")),
    "accumulated": Text(
        "accumulated",
        N_("the gradient was accumulated {times} times: .grad sums every backward() unless it is zeroed"),
        N_("Call x.grad.zero_() (or compute on a fresh tensor) before each backward().")),
    "accumulated_earlier": Text(
        "accumulated",
        N_("gradient accumulated: x.grad still held the gradient of an earlier backward(), so the result is "
           "the expected gradient plus that one (backward() adds into .grad)"),
        N_("Zero x.grad (x.grad.zero_()) before the backward() you want, or start from a fresh "
           "x = x.clone().requires_grad_(True).")),
    "accumulated_earlier_order2": Text(
        "accumulated",
        N_("gradient accumulated: x.grad still held the first derivative from an earlier backward(), so the "
           "result is the second derivative plus the first (backward() adds into .grad)"),
        N_("Take the first derivative with torch.autograd.grad(y, x, create_graph=True): it returns it without "
           "writing into x.grad.")),
    "first_derivative": Text("first_derivative", N_("this is the first derivative, not the second"),
                             N_("Differentiate twice: grad(y, x, create_graph=True), then backward/grad again.")),
    "returned_output": Text("returned_output", N_("the function returned y (the output), not the gradient"),
                            N_("Return x.grad after y.backward().")),
    "transposed": Text("transposed", N_("the result is transposed: shape {got} where x has shape {expected}"),
                       N_("Return a gradient shaped like x (x.grad already is); drop the .T / .t().")),
    "wrong_shape": Text("wrong_shape",
                        N_("wrong shape: the result has shape {got} but the {what} has shape {expected}"),
                        N_("x.grad always has x's shape: do not flatten, reshape or reduce it.")),
    "data_misuse_value": Text(
        "data_misuse",
        N_(".data misused: operations on x.data are invisible to autograd, so their part of the gradient is missing"),
        N_("Compute with x itself, not x.data (and use .detach() where you want a constant).")),
    "constant_factor": Text(
        "constant_factor", N_("off by a constant factor: the result is {factor} × the expected {what}"),
        N_("Check the constants in your y, and how many times backward() ran.")),
    "wrong_value": Text(
        "wrong_value", N_("the result differs from the expected {what}: {where}got {got}, expected {expected}{count}"),
        N_("Compare each step of your code with the exercise text; the numbers show where the result goes wrong.")),
    "not_from_autograd": Text(
        "not_from_autograd", N_("{function}: {detail}"),
        N_("Compute the gradient with y.backward() (or torch.autograd.grad) and return x.grad; do not type the "
           "derivative's formula.")),
}


# --------------------------------------------------------------------------- the student's function, read


@dataclass(frozen=True)
class FunctionFacts:
    """What a student's function visibly does (read from its source, never run): evidence for naming a
    mistake, never for scoring. Each field is the first line doing it, or None."""

    no_grad: int | None = None  # torch.no_grad(), inference_mode(), set_grad_enabled(False)
    data: int | None = None  # reads .data
    detach: int | None = None  # calls .detach()
    last_return: int | None = None  # the last return statement
    requires_grad: int | None = None  # requires_grad_() / requires_grad=True: the student asked for a graph


_NO_GRAD_NAMES = ("no_grad", "inference_mode")


@lru_cache(maxsize=256)
def function_facts(source: str, function: str) -> FunctionFacts:
    """Facts of the last top-level ``def function`` in ``source`` (empty when absent or unparsable)."""
    tree = syntax_tree(source)
    if tree is None:
        return FunctionFacts()
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == function]
    if not defs:
        return FunctionFacts()
    first: dict[str, int] = {}
    returns: list[int] = []

    def note(kind: str, node: ast.AST) -> None:
        first[kind] = min(first.get(kind, node.lineno), node.lineno)  # type: ignore[attr-defined]

    for node in ast.walk(defs[-1]):
        if isinstance(node, ast.Return):
            returns.append(node.lineno)
        elif isinstance(node, ast.Attribute) and node.attr == "data":
            note("data", node)
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in _NO_GRAD_NAMES or (name == "set_grad_enabled" and node.args
                                          and isinstance(node.args[0], ast.Constant) and node.args[0].value is False):
                note("no_grad", node)
            elif name == "detach":
                note("detach", node)
            if name == "requires_grad_" or any(k.arg == "requires_grad" for k in node.keywords):
                note("requires_grad", node)
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Attribute) and t.attr == "requires_grad"
                                                  for t in node.targets):
            note("requires_grad", node)
    for decorator in defs[-1].decorator_list:  # @torch.no_grad() on the function itself
        if any(isinstance(n, (ast.Attribute, ast.Name)) and getattr(n, "attr", getattr(n, "id", "")) in _NO_GRAD_NAMES
               for n in ast.walk(decorator)):
            note("no_grad", decorator)
    return FunctionFacts(first.get("no_grad"), first.get("data"), first.get("detach"),
                         max(returns) if returns else None, first.get("requires_grad"))


# --------------------------------------------------------------------------- exceptions


@dataclass(frozen=True)
class ErrorPattern:
    key: str  # into TEXTS
    needle: str  # substring of the exception text (case-insensitive)


ERROR_PATTERNS: tuple[ErrorPattern, ...] = (
    ErrorPattern("requires_grad_missing", "does not require grad and does not have a grad_fn"),
    ErrorPattern("retain_graph_missing", "backward through the graph a second time"),
    ErrorPattern("nonscalar_backward", "grad can be implicitly created only for scalar outputs"),
    ErrorPattern("gradient_shape", "Mismatch in shape: grad_output"),
    ErrorPattern("integer_tensor", "Only Tensors of floating point"),
    ErrorPattern("inplace_leaf", "leaf Variable that requires grad is being used in an in-place operation"),
    ErrorPattern("inplace_modified", "modified by an inplace operation"),
    ErrorPattern("numpy_requires_grad", "Can't call numpy() on Tensor that requires grad"),
    ErrorPattern("math_on_tensor", "only one element tensors can be converted to Python scalars"),
    ErrorPattern("none_value_used", "'NoneType' object"),
    ErrorPattern("unused_input", "appears to not have been used in the graph"),
    ErrorPattern("not_implemented", "NotImplementedError"),
)


def diagnose_error(error: ErrorInfo, call: CallReport | None = None,
                   facts: FunctionFacts = FunctionFacts(), tr: Translator = ENGLISH) -> Diagnosis:
    """The mistake behind an exception raised by the student's call (or by loading the file)."""
    text = f"{error.type}: {error.message}"
    for pattern in ERROR_PATTERNS:
        if pattern.needle.lower() in text.lower():
            if pattern.key == "requires_grad_missing":
                return _no_graph(error, call, facts, tr)
            return TEXTS[pattern.key](tr, error.line, error=text)
    if error.type == "SystemExit":
        return TEXTS["exit"](tr, error.line, error=error.message)
    if error.type == "MemoryError" or "can't allocate memory" in error.message:
        return TEXTS["memory_limit"](tr, error.line)
    if error.type == "PermissionError":  # EPERM from seccomp, EACCES from Landlock
        return TEXTS["sandbox_refused"](tr, error.line, error=text)
    return TEXTS["exception"](tr, error.line, error=text)


def _no_graph(error: ErrorInfo, call: CallReport | None, facts: FunctionFacts, tr: Translator) -> Diagnosis:
    """"does not require grad" has several causes: the function's own code tells which, pointing at its line."""
    if call is not None and any(r.kind == "grad" and r.error is None and not r.create_graph for r in call.records):
        return TEXTS["create_graph_missing"](tr, error.line)
    if facts.requires_grad is None:
        return TEXTS["requires_grad_missing"](tr, error.line)
    for key, line in (("data_misuse_error", facts.data), ("no_grad", facts.no_grad),
                      ("detached_everything", facts.detach)):
        if line is not None:
            return TEXTS[key](tr, line)
    return TEXTS["requires_grad_missing"](tr, error.line)


def diagnose_none(call: CallReport, function: str, kind: str = "gradient", tr: Translator = ENGLISH) -> Diagnosis:
    """A ``None`` return value: for a gradient usually ``.grad`` read from the wrong tensor."""
    if kind != "gradient":
        return TEXTS["returned_none"](tr, function=function)
    if any(not a.grad_is_none for a in call.arguments):
        return TEXTS["non_leaf_grad"](tr, function=function)
    if call.arguments and not any(a.requires_grad for a in call.arguments):
        return TEXTS["requires_grad_missing_none"](tr, function=function)
    return TEXTS["returned_none"](tr, function=function)


def diagnose_calls(function: str, calls: list[tuple[str, CallReport]], tr: Translator = ENGLISH) -> list[Diagnosis]:
    """What only shows across trials: a function that returns None for some inputs only (a branch
    without return). ``calls`` pairs each trial's label with its call."""
    def returned(call: CallReport) -> str | None:
        return call.value.type if call.status == "ok" and call.value is not None else None

    nones = [label for label, call in calls if returned(call) == "None"]
    if nones and any(returned(call) not in (None, "None") for _, call in calls):
        shown = ", ".join(nones[:3]) + (", …" if len(nones) > 3 else "")
        return [TEXTS["none_on_some_inputs"](tr, function=function, trials=shown)]
    return []


def diagnose_provenance(function: str, detail: str, facts: FunctionFacts, tr: Translator = ENGLISH) -> Diagnosis:
    """Values autograd did not produce, pointing at the function's return."""
    return TEXTS["not_from_autograd"](tr, facts.last_return, function=function, detail=detail)


# Less specific diagnoses give way when a more specific one names the same failure.
_SUPERSEDED_BY = {
    "returned_none": ("none_on_some_inputs",),
    "wrong_value": ("constant_factor",),  # a one-element trial cannot show its factor; the others did
}
_FALLBACK = "wrong_value"  # a trial nothing explained: last, after the mistakes that were recognised


def prune(diagnoses: list[Diagnosis]) -> list[Diagnosis]:
    codes = {d.code for d in diagnoses}
    kept = [d for d in diagnoses if not codes & set(_SUPERSEDED_BY.get(d.code, ()))]
    return [d for d in kept if d.code != _FALLBACK] + [d for d in kept if d.code == _FALLBACK]


# --------------------------------------------------------------------------- wrong numbers

Compute = Callable[[Reference, Target, dict[str, torch.Tensor]], torch.Tensor]


@dataclass(frozen=True)
class Variant:
    """A plausible wrong answer, computed from the reference with one thing changed."""

    diagnosis: Diagnosis
    compute: Compute


def _gradient(freeze: bool = True, ones: bool = False, accumulate: int | None = None,
              order: int | None = None) -> Compute:
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


def _known(mistake: KnownMistake) -> Compute:
    def compute(reference: Reference, target: Target, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        return reference.with_code(mistake.reference).expected(target, inputs)
    return compute


def _successful_backwards(call: CallReport | None) -> int | None:
    return None if call is None else sum(r.kind == "backward" and r.error is None for r in call.records)


def _variants(reference: Reference, target: Target, call: CallReport | None, tr: Translator) -> list[Variant]:
    # The spec's own mistakes are already in the run's language (grader.spec.localize).
    variants = [Variant(Diagnosis(m.code, m.message, m.hint), _known(m)) for m in reference.exercise.mistakes]
    if target.kind != "gradient":
        return variants
    if target.constants:
        variants.append(Variant(TEXTS["not_detached"](tr, **_constants(target)), _gradient(freeze=False)))
    if target.gradient:
        variants.append(Variant(TEXTS["gradient_ignored"](tr, vector=target.gradient), _gradient(ones=True)))
    backwards = _successful_backwards(call)
    if target.accumulate > 1:
        variants.append(Variant(TEXTS["not_accumulated"](tr, times=target.accumulate), _gradient(accumulate=1)))
    # k × the gradient takes k backward passes: without a record of the call, assume the usual two.
    times = 2 * target.accumulate if backwards is None else backwards
    if times > target.accumulate:
        variants.append(Variant(TEXTS["accumulated"](tr, times=times), _gradient(accumulate=times)))
    if target.order == 2:
        variants.append(Variant(TEXTS["first_derivative"](tr), _gradient(order=1)))
    variants.append(Variant(TEXTS["returned_output"](tr), _output))
    return variants


def _constants(target: Target) -> dict[str, str]:
    return {"names": ", ".join(name for name, _ in target.constants),
            "assignments": "; ".join(f"{name} = ({expression}).detach()" for name, expression in target.constants)}


def diagnose_value(reference: Reference, target: Target, inputs: dict[str, torch.Tensor], got: torch.Tensor,
                   expected: torch.Tensor, rtol: float, atol: float, call: CallReport | None = None,
                   facts: FunctionFacts = FunctionFacts(), tr: Translator = ENGLISH) -> Diagnosis:
    """Name a wrong number: a known variant, an earlier gradient left in .grad, a misplaced detach, a
    transposed or wrong shape, .data, a constant factor; else show expected vs got."""
    got64 = got.detach().to(torch.float64)
    close: Callable[[torch.Tensor, torch.Tensor], bool] = lambda a, b: a.shape == b.shape and bool(
        torch.allclose(a, b, rtol=rtol, atol=atol))
    for variant in _variants(reference, target, call, tr):
        try:
            alternative = variant.compute(reference, target, inputs)
        except (ReferenceError, RuntimeError):
            continue
        if not close(alternative, expected) and close(got64, alternative):
            return variant.diagnosis
    what = tr("gradient") if target.kind == "gradient" else tr("value")
    if got64.shape == expected.shape:
        found = _earlier_gradient(target, got64, expected, call, close, tr) or _misplaced_detach(
            reference, target, inputs, got64, expected, close, tr)
        if found is not None:
            return found
    elif got64.dim() == 2 and got64.shape == expected.T.shape:
        return TEXTS["transposed"](tr, got=list(got64.shape), expected=list(expected.shape))
    else:
        return TEXTS["wrong_shape"](tr, got=list(got64.shape), expected=list(expected.shape), what=what)
    if facts.data is not None:
        return TEXTS["data_misuse_value"](tr, facts.data)
    factor = _constant_factor(got64, expected, rtol, atol)
    if factor is not None:
        return TEXTS["constant_factor"](tr, factor=f"{factor:.4g}", what=what)
    return _wrong_value(got64, expected, rtol, atol, what, tr)


def _earlier_gradient(target: Target, got: torch.Tensor, expected: torch.Tensor, call: CallReport | None,
                      close: Callable[[torch.Tensor, torch.Tensor], bool], tr: Translator) -> Diagnosis | None:
    """got = expected + a gradient an earlier backward() of the same call left in .grad."""
    if call is None or target.kind != "gradient":
        return None
    extra = got - expected
    for record in call.records[:-1]:
        if record.error is None and any(
                close(extra, r.to(torch.float64)) and not close(r.to(torch.float64), torch.zeros_like(extra))
                for r in record.results):
            key = "accumulated_earlier_order2" if target.order == 2 else "accumulated_earlier"
            return TEXTS[key](tr, record.line)
    return None


def _misplaced_detach(reference: Reference, target: Target, inputs: dict[str, torch.Tensor], got: torch.Tensor,
                      expected: torch.Tensor, close: Callable[[torch.Tensor, torch.Tensor], bool],
                      tr: Translator) -> Diagnosis | None:
    """got lies strictly between the frozen (right) and unfrozen gradients, by one constant fraction:
    some of the constant's dependence on x is detached, some is not."""
    if not target.constants or target.kind != "gradient":
        return None
    try:
        unfrozen = _gradient(freeze=False)(reference, target, inputs)
    except (ReferenceError, RuntimeError):
        return None
    through = unfrozen - expected  # the part that flows through the constants
    norm = float((through * through).sum())
    if not norm > 0 or not bool(torch.isfinite(got).all()):
        return None
    fraction = float(((got - expected) * through).sum()) / norm
    if 0.05 < fraction < 0.95 and close(got, expected + fraction * through):
        return TEXTS["detach_misplaced"](tr, fraction=f"{fraction:.2g}", **_constants(target))
    return None


def _constant_factor(got: torch.Tensor, expected: torch.Tensor, rtol: float, atol: float) -> float | None:
    """k when got = k × expected on at least two non-zero elements (one element is always some k × it)."""
    mask = expected.abs() > atol * 10
    if int(mask.sum()) < 2 or not bool(torch.isfinite(got).all()):
        return None
    ratios = got[mask] / expected[mask]
    k = float(ratios.median())
    if abs(k - 1) > rtol and torch.allclose(ratios, torch.full_like(ratios, k), rtol=max(rtol, 1e-3)) \
            and torch.allclose(got, expected * k, rtol=rtol, atol=atol):
        return k
    return None


def _wrong_value(got: torch.Tensor, expected: torch.Tensor, rtol: float, atol: float, what: str,
                 tr: Translator) -> Diagnosis:
    """Nothing recognised: the worst element, got vs expected, and how many elements are off."""
    error = (got - expected).abs().nan_to_num(nan=float("inf"))
    flat = int(error.reshape(-1).argmax()) if error.numel() else 0
    index = []
    for size in reversed(expected.shape):  # row-major flat position -> index
        flat, i = divmod(flat, size)
        index.append(i)
    where = tr("at [{index}] ", index=", ".join(map(str, reversed(index)))) if index else ""
    position = tuple(reversed(index))
    g, e = (float(t[position]) if t.numel() else float("nan") for t in (got, expected))
    off = int((error > atol + rtol * expected.abs()).sum())
    count = tr(" ({off} of {total} elements differ)", off=off, total=expected.numel()) if expected.numel() > 1 else ""
    return TEXTS["wrong_value"](tr, where=where, got=f"{g:.6g}", expected=f"{e:.6g}", count=count, what=what)
