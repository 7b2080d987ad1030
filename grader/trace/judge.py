"""Judge a trace against an exercise's expectations: validated evidence in, an ExerciseResult out.

Every number is judged at the values the learner's own code used: the expected increment of a traced
leaf is the grader's float64 reference autograd of the expectation's ``output`` *at that leaf's value*,
confirmed by finite differences at the same point. Exact ``==`` checks the learner printed play no part.
Each expectation becomes one check of the result (its weight, its outcomes), so every renderer shows it
unchanged; passed checks name the cell and line that provided the evidence, failed ones what was missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from grader.checks.compare import Comparison, compare, shorten
from grader.checks.finite_diff import check_gradient, is_stable
from grader.checks.provenance import _same
from grader.checks.reference import Reference, ReferenceError
from grader.diagnose import diagnose_error
from grader.grading import _quote_lines, _run_failure, _unique
from grader.results import CheckResult, Diagnosis, ExerciseResult, TrialOutcome
from grader.sandbox.runner import Limits
from grader.spec.model import Exercise, Expectation, Target, Tolerance
from grader.submission import Submission
from grader.trace.evidence import Curve, Leaf, TraceEvidence, TraceRecord
from grader.trace.task import call_id, expectation_inputs

SECOND_TIME = "backward through the graph a second time"
_COTANGENT = "__cotangent"  # name under which the traced `gradient` argument enters the reference


@dataclass
class _Context:
    exercise: Exercise
    reference: Reference
    evidence: TraceEvidence
    submission: Submission

    @property
    def tolerance(self) -> Tolerance:
        return self.exercise.tolerance

    def where(self, cell: int, line: int | None) -> str:
        return self.submission.locate(line) if line else f"cell {cell}"


@dataclass
class _Verdict:
    outcomes: list[TrialOutcome]
    line: int | None = None  # of the evidence, or of the closest miss (for the diagnosis)


Judge = Callable[[Expectation, _Context], _Verdict]


# --- leaf gradients ------------------------------------------------------------------------------------


def _target(expectation: Expectation, vjp: bool) -> Target:
    return Target(function="", kind="gradient", output=expectation.output, wrt=expectation.wrt,
                  constants=expectation.constants, gradient=_COTANGENT if vjp else None)


def _problem_inputs(ctx: _Context, expectation: Expectation, record: TraceRecord, leaf: Leaf
                    ) -> tuple[Target, dict[str, torch.Tensor]] | None:
    """The reference target and inputs for this leaf: a vector-Jacobian product with the call's gradient
    argument (or ones) when the output is not a scalar; None when the output does not apply to it."""
    assert leaf.value is not None
    value = leaf.value.to(torch.float64)
    names = {expectation.wrt: value}
    try:
        with torch.no_grad():
            for name, expression in expectation.constants:
                names[name] = ctx.reference.evaluate(expression, {expectation.wrt: value})
            out = torch.as_tensor(ctx.reference.evaluate(expectation.output, names))
    except ReferenceError:
        return None
    inputs = {expectation.wrt: value}
    if out.numel() == 1:
        return _target(expectation, vjp=False), inputs
    given = record.gradient[0] if record.gradient else None
    vector = given if given is not None and given.shape == out.shape else torch.ones_like(out)
    return _target(expectation, vjp=True), {**inputs, _COTANGENT: vector.to(torch.float64)}


def _leaf_fits(expectation: Expectation, leaf: Leaf) -> bool:
    if leaf.value is None or leaf.increment is None:
        return False
    if expectation.leaf == "scalar":
        return leaf.value.numel() == 1
    if expectation.leaf == "nonscalar":
        return leaf.value.numel() > 1
    return True


def _leaf_gradient(expectation: Expectation, ctx: _Context) -> _Verdict:
    tol = ctx.tolerance
    wrt = expectation.wrt
    labels = (f"reference autograd at the traced {wrt}", f"finite differences at the traced {wrt}")
    closest: tuple[float, str, int | None] | None = None
    for record in ctx.evidence.records:
        if record.error is not None or expectation.call not in ("any", record.kind):
            continue
        for leaf in record.leaves:
            if not _leaf_fits(expectation, leaf):
                continue
            problem_inputs = _problem_inputs(ctx, expectation, record, leaf)
            if problem_inputs is None:
                continue
            target, inputs = problem_inputs
            try:
                expected = ctx.reference.expected(target, inputs)
            except (ReferenceError, RuntimeError):
                continue
            assert leaf.increment is not None
            comparison = compare(leaf.increment, expected, rtol=tol.rtol, atol=tol.atol)
            # The learner's own name for the leaf is unknown (x is often rebound): name it by its shape.
            where = f"{ctx.where(record.cell, record.line)}: {record.kind}() gave a leaf of shape {leaf.shape}"
            if comparison.passed:
                evidence = f"{where} the gradient of {expectation.output}: {comparison.message}"
                return _Verdict([TrialOutcome(labels[0], True, evidence),
                                 _finite_differences(ctx, target, inputs, leaf.increment, labels[1], where)],
                                record.line)
            miss = _miss_size(comparison)
            if closest is None or miss < closest[0]:
                closest = (miss, f"closest: {where} an increment off by {comparison.message}", record.line)
    if closest is None:
        message = (f"no backward() or autograd.grad() reached a leaf to which {expectation.output} applies"
                   + {"scalar": " (a scalar leaf)", "nonscalar": " (a vector or matrix leaf)"}.get(expectation.leaf, ""))
        return _Verdict([TrialOutcome(label, False, message) for label in labels])
    message = f"no traced leaf got the gradient of {expectation.output}; {closest[1]}"
    return _Verdict([TrialOutcome(label, False, message) for label in labels], closest[2])


def _miss_size(comparison: Comparison) -> float:
    mismatch = comparison.mismatch
    if mismatch is None:
        return float("inf")
    return mismatch.mismatched / max(mismatch.total, 1) + min(mismatch.max_rel_error, 1e6) * 1e-9


def _finite_differences(ctx: _Context, target: Target, inputs: dict[str, torch.Tensor], increment: torch.Tensor,
                        label: str, where: str) -> TrialOutcome:
    """The same increment against float64 central differences of the reference at the traced leaf value."""
    tol = ctx.tolerance
    problem = ctx.reference.problem(target, inputs)
    generator = torch.Generator().manual_seed(increment.numel())
    if not is_stable(problem.function, problem.x, order=1, generator=generator):
        return TrialOutcome(label, True, "not judged: a jump or kink lies within the finite-difference step at "
                                         "the traced value", skipped=True)
    verdict = check_gradient(problem.function, problem.x, increment.to(torch.float64), rtol=tol.rtol, atol=tol.atol,
                             generator=generator)
    if not verdict.stable:
        return TrialOutcome(label, True, verdict.message, skipped=True)
    return TrialOutcome(label, verdict.passed, f"{where}: {verdict.message}", verdict.mismatch)


# --- calls ---------------------------------------------------------------------------------------------


def _second_backward(expectation: Expectation, ctx: _Context) -> _Verdict:
    label = "a second backward through one graph"
    retained: set[int] = set()
    for record in ctx.evidence.records:
        where = ctx.where(record.cell, record.line)
        if record.kind == "backward" and record.error and SECOND_TIME in record.error:
            return _Verdict([TrialOutcome(label, True, f"{where}: the second backward() raised \"Trying to "
                                                       "backward through the graph a second time\"")], record.line)
        if record.kind != "backward" or record.error or record.graph is None:
            continue
        if record.graph in retained and any(leaf.accumulated for leaf in record.leaves):
            return _Verdict([TrialOutcome(label, True, f"{where}: backward() ran again through a graph kept by "
                                                       "retain_graph=True, and the gradient accumulated")],
                            record.line)
        if record.retain_graph:
            retained.add(record.graph)
    return _Verdict([TrialOutcome(label, False, "no backward() ran through the same graph twice: call y.backward() "
                                                "again right after the first (it raises, or with retain_graph=True "
                                                "the gradients accumulate)")])


def _no_autograd(ctx: _Context) -> str:
    return ("not from autograd: no backward() or torch.autograd.grad() ran anywhere in the notebook, so its "
            "gradients were computed some other way (by hand? sympy? finite differences?)")


def _autograd_call(expectation: Expectation, ctx: _Context) -> _Verdict:
    wanted = {"any": "backward() or torch.autograd.grad()", "backward": "backward()",
              "grad": "torch.autograd.grad()"}[expectation.call]
    if expectation.create_graph:
        wanted += " with create_graph=True"
    label = f"{wanted} ran"
    records = ctx.evidence.records
    for record in records:
        if record.error is None and expectation.call in ("any", record.kind) and (
                expectation.create_graph is None or record.create_graph == expectation.create_graph):
            return _Verdict([TrialOutcome(label, True, f"{ctx.where(record.cell, record.line)}: {record.kind}() ran"
                                          + (" with create_graph=True" if record.create_graph else ""))], record.line)
    if not any(r.error is None for r in records):
        return _Verdict([TrialOutcome(label, False, _no_autograd(ctx))])
    return _Verdict([TrialOutcome(label, False, f"autograd ran, but no {wanted} did")])


# --- plots ---------------------------------------------------------------------------------------------


def _usable(curve: Curve, minimum: int) -> bool:
    return (curve.x is not None and curve.y is not None and curve.x.numel() >= minimum
            and curve.x.numel() == curve.y.numel())


def _same_x(a: Curve, b: Curve) -> bool:
    assert a.x is not None and b.x is not None
    return a.x.shape == b.x.shape and bool(torch.allclose(a.x.double(), b.x.double(), rtol=1e-6, atol=1e-9))


def _from_autograd(curve: Curve, records: list[TraceRecord]) -> TraceRecord | None:
    """The traced call whose gradient these plotted values are (a tight match: autograd's own numbers)."""
    assert curve.y is not None
    for record in records:
        for leaf in record.leaves:
            if leaf.increment is not None and leaf.increment.numel() == curve.y.numel() and \
                    _same(leaf.increment.reshape(-1), curve.y):
                return record
    return None


def _plot(expectation: Expectation, ctx: _Context) -> _Verdict:
    tol = ctx.tolerance
    curves = [c for c in ctx.evidence.curves if _usable(c, expectation.min_points)]
    labels = [f"a curve ≈ {e}" + (" over the same x" if i else "") for i, e in enumerate(expectation.curves)]
    labels += [f"{expectation.curves[i]} obtained by autograd" for i in expectation.autograd]
    if not curves:
        message = (f"no figure with a curve of at least {expectation.min_points} points was plotted "
                   "(d2l.plot, plt.plot)")
        return _Verdict([TrialOutcome(label, False, message) for label in labels])

    def matches(curve: Curve, expression: str) -> bool:
        assert curve.x is not None and curve.y is not None
        try:
            expected = torch.as_tensor(ctx.reference.evaluate(expression, {"x": curve.x.to(torch.float64)}))
        except ReferenceError:
            return False
        return expected.shape == curve.y.shape and compare(curve.y, expected, rtol=tol.rtol, atol=tol.atol).passed

    best: list[Curve | None] = []
    for anchor in curves:  # the figure (curves over one x) that satisfies the most of the expectation
        group = [c for c in curves if _same_x(anchor, c)]
        found = [next((c for c in group if matches(c, e)), None) for e in expectation.curves]
        if sum(f is not None for f in found) > sum(f is not None for f in best):
            best = found
    best = best or [None] * len(expectation.curves)
    outcomes = []
    for label, expression, curve in zip(labels, expectation.curves, best):
        if curve is not None:
            outcomes.append(TrialOutcome(label, True, f"{ctx.where(curve.cell, curve.line)} ({curve.source}): "
                                                      f"{curve.y.numel()} points ≈ {expression}"))  # type: ignore[union-attr]
        else:
            outcomes.append(TrialOutcome(label, False, f"no plotted curve ≈ {expression} over the same x"
                                                       + _against_other_curve(ctx, curves)))
    for label, index in zip(labels[len(expectation.curves):], expectation.autograd):
        curve = best[index]
        if curve is None:
            outcomes.append(TrialOutcome(label, False, f"no curve ≈ {expectation.curves[index]} to check"))
            continue
        record = _from_autograd(curve, ctx.evidence.records)
        outcomes.append(TrialOutcome(label, record is not None, (
            f"the plotted values are the gradient {record.kind}() produced at {ctx.where(record.cell, record.line)}"
            if record is not None else
            f"not from autograd: the curve plotted at {ctx.where(curve.cell, curve.line)} matches no gradient "
            "backward() or autograd.grad() produced (was it typed as a formula, e.g. cos?)")))
    line = next((c.line for c in best if c is not None), None)
    return _Verdict(outcomes, line)


def _against_other_curve(ctx: _Context, curves: list[Curve]) -> str:
    """A curve drawn against another curve's values (cos against sin) rather than against x."""
    for curve in curves:
        for other in curves:
            if other is not curve and other.y is not None and curve.x is not None and \
                    other.y.shape == curve.x.shape and torch.allclose(other.y.double(), curve.x.double()):
                return (f" (the curve plotted at {ctx.where(curve.cell, curve.line)} uses another curve's values "
                        "as its x: plot both against x)")
    return ""


# --- the learner's functions ---------------------------------------------------------------------------


def _function_value(expectation: Expectation, ctx: _Context) -> _Verdict:
    tol = ctx.tolerance
    inputs = expectation_inputs(ctx.reference, expectation)
    labels = [f"{expectation.function}(" + ", ".join(f"{k}={shorten(v)}" for k, v in entry.items()) + ")"
              for entry in inputs]
    per_version: dict[int, list[TrialOutcome]] = {}
    defined: dict[int, tuple[str, int | None]] = {}
    for index, (label, entry) in enumerate(zip(labels, inputs)):
        expected = torch.as_tensor(ctx.reference.evaluate(expectation.output, {k: v.to(torch.float64)
                                                                                for k, v in entry.items()}))
        for version in ctx.evidence.calls.get(call_id(expectation, index), []):
            defined[version.version] = (ctx.where(version.cell, version.line), version.line)
            report = version.report
            if report.status == "not_callable":
                outcome = TrialOutcome(label, False, f"{expectation.function} takes other parameters: not called")
            elif report.status == "error" and report.error is not None:
                outcome = TrialOutcome(label, False, f"raised {report.error}")
            elif report.value is None or report.value.tensor is None:
                outcome = TrialOutcome(label, False, f"returned {report.value.type if report.value else 'nothing'}, "
                                                     "not a tensor")
            else:
                comparison = compare(report.value.tensor, expected, rtol=tol.rtol, atol=tol.atol)
                outcome = TrialOutcome(label, comparison.passed, comparison.message, comparison.mismatch,
                                       values=comparison.values)
            per_version.setdefault(version.version, []).append(outcome)
    if not per_version:
        message = f"{expectation.function} was never defined as a function, so it could not be compared with the book's"
        return _Verdict([TrialOutcome(label, False, message) for label in labels])
    # The learner may redefine the name later (f = sin): the best version counts, the latest on a tie.
    version = max(per_version, key=lambda v: (sum(o.passed for o in per_version[v]), v))
    where, line = defined[version]
    outcomes = [TrialOutcome(o.trial, o.passed, f"the {expectation.function} defined at {where}: {o.message}",
                             o.mismatch, values=o.values) for o in per_version[version]]
    return _Verdict(outcomes, line)


JUDGES: dict[str, Judge] = {
    "leaf_gradient": _leaf_gradient,
    "second_backward": _second_backward,
    "autograd_call": _autograd_call,
    "plot": _plot,
    "function_value": _function_value,
}


# --- the exercise --------------------------------------------------------------------------------------


def _summary(outcomes: list[TrialOutcome]) -> str:
    judged = [o for o in outcomes if not o.skipped]
    passed = sum(o.passed for o in judged)
    failed = [o for o in judged if not o.passed]
    shown = failed[0] if failed else (judged[0] if judged else None)
    return f"{passed}/{len(judged)} passed" + (f": {shown.message}" if shown else "")


def _cell_diagnoses(ctx: _Context, passed: set[str]) -> list[Diagnosis]:
    """The exceptions the cells raised, named like function mode's (an error the exercise asked for,
    backward twice, is left out once it served as evidence)."""
    second_backward_shown = any(e.kind == "second_backward" and e.id in passed for e in ctx.exercise.expectations)
    diagnoses = []
    for cell in ctx.evidence.cells:
        if cell.error is None:
            continue
        diagnosis = diagnose_error(cell.error)
        if diagnosis.code == "retain_graph_missing" and second_backward_shown:
            continue
        diagnosis.message = f"{ctx.where(cell.index, cell.error.line)} raised: {diagnosis.message}"
        diagnoses.append(diagnosis)
    return diagnoses


def judge_trace(exercise: Exercise, reference: Reference, evidence: TraceEvidence, submission: Submission,
                limits: Limits) -> ExerciseResult:
    """Checks (one per expectation), diagnoses and score from a validated trace (pure: no processes)."""
    ctx = _Context(exercise, reference, evidence, submission)
    failure = _run_failure(evidence, limits)
    checks: list[CheckResult] = []
    diagnoses: list[Diagnosis] = []
    passed_ids: set[str] = set()
    for expectation in exercise.expectations:
        verdict = JUDGES[expectation.kind](expectation, ctx)
        outcomes = verdict.outcomes
        if evidence.tampering and expectation.kind != "function_value":  # everything else is the child's record
            first = evidence.tampering[0]
            reason = f"not trusted: the code {first.what}, which can fake what the grader records"
            outcomes = [TrialOutcome(o.trial, False, reason) for o in outcomes]
        judged = [o for o in outcomes if not o.skipped]
        fraction = sum(o.passed for o in judged) / len(judged) if judged else 1.0
        checks.append(CheckResult(name=expectation.id, weight=expectation.weight, passed=sum(o.passed for o in judged),
                                  total=len(judged), score=expectation.weight * fraction,
                                  max_score=expectation.weight, message=_summary(outcomes), trials=outcomes))
        if fraction == 1.0:
            passed_ids.add(expectation.id)
        else:
            failed = next(o for o in judged if not o.passed)
            diagnoses.append(Diagnosis(f"trace_{expectation.id}", f"{expectation.name}: {failed.message}",
                                       expectation.hint, verdict.line))
    weights = sum(c.max_score for c in checks) or 1.0
    score = exercise.points * sum(c.score for c in checks) / weights
    for check in checks:
        check.score = round(exercise.points * check.score / weights, 6)
        check.max_score = round(exercise.points * check.max_score / weights, 6)
    if evidence.tampering:
        first = evidence.tampering[0]
        diagnoses.append(Diagnosis("tampering", f"your code {first.what}", "Solve the exercise with autograd alone.",
                                   first.line))

    status, message = "passed", ""
    if not evidence.cells and failure:
        status, message = "error", failure
    elif score < exercise.points - 1e-9:
        status = "failed"
        failed_check = next(c for c in checks if c.passed < c.total)
        message = failure or f"{failed_check.name}: {failed_check.message}"
    if status != "passed":
        diagnoses = _cell_diagnoses(ctx, passed_ids) + diagnoses
    return ExerciseResult(
        id=exercise.id, title=exercise.title, status=status,  # type: ignore[arg-type]
        score=round(score, 6) if status != "error" else 0.0, max_score=exercise.points, checks=checks,
        diagnoses=_quote_lines(_unique(diagnoses), submission.source), message=message,
        hints=list(exercise.hints) if status != "passed" else [], output=evidence.output,
        output_truncated=evidence.output_truncated, duration=evidence.wall, prompt=exercise.prompt)
