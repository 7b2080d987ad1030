"""Judge a trace against an exercise's expectations: validated evidence in, an ExerciseResult out.

Every number is judged at the values the learner's own code used: the expected increment of a traced
leaf is the grader's float64 reference autograd of the expectation's ``output`` *at that leaf's value*,
confirmed by finite differences at the same point. Exact ``==`` checks the learner printed play no part.
Each expectation becomes one check of the result (its weight, its outcomes), so every renderer shows it
unchanged; passed checks name the cell and line that provided the evidence, failed ones what was missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import torch

from grader.checks.compare import Comparison, compare, shorten
from grader.checks.finite_diff import check_gradient, is_stable
from grader.checks.provenance import _same
from grader.checks.reference import Reference, ReferenceError
from grader.diagnose import diagnose_error
from grader.grading import _quote_lines, _run_failure, _unique
from grader.i18n import ENGLISH, N_, Translator, localized
from grader.results import CheckResult, Diagnosis, ExerciseResult, TrialOutcome
from grader.sandbox.evidence import ErrorInfo
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
    tr: Translator = ENGLISH  # every message, label and place is worded in the result's language

    @property
    def tolerance(self) -> Tolerance:
        return self.exercise.tolerance

    def where(self, cell: int, line: int | None) -> str:
        return self.submission.locate(line, self.tr) if line else self.tr("cell {cell}", cell=cell)


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


_NO_LEAF = {  # which leaves the expectation accepts (Expectation.leaf)
    "any": N_("no backward() or autograd.grad() reached a leaf to which {output} applies"),
    "scalar": N_("no backward() or autograd.grad() reached a leaf to which {output} applies (a scalar leaf)"),
    "nonscalar": N_("no backward() or autograd.grad() reached a leaf to which {output} applies (a vector or matrix "
                    "leaf)"),
}


def _leaf_fits(expectation: Expectation, leaf: Leaf) -> bool:
    if leaf.value is None or leaf.increment is None:
        return False
    if expectation.leaf == "scalar":
        return leaf.value.numel() == 1
    if expectation.leaf == "nonscalar":
        return leaf.value.numel() > 1
    return True


def _leaf_gradient(expectation: Expectation, ctx: _Context) -> _Verdict:
    tol, tr = ctx.tolerance, ctx.tr
    wrt = expectation.wrt
    labels = (tr("reference autograd at the traced {name}", name=wrt),
              tr("finite differences at the traced {name}", name=wrt))
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
            comparison = compare(leaf.increment, expected, rtol=tol.rtol, atol=tol.atol, tr=tr)
            # The learner's own name for the leaf is unknown (x is often rebound): name it by its shape.
            where = tr("{where}: {call}() gave a leaf of shape {shape}", where=ctx.where(record.cell, record.line),
                       call=record.kind, shape=leaf.shape)
            if comparison.passed:
                evidence = tr("{where} the gradient of {output}: {comparison}", where=where,
                              output=expectation.output, comparison=comparison.message)
                return _Verdict([TrialOutcome(labels[0], True, evidence),
                                 _finite_differences(ctx, target, inputs, leaf.increment, labels[1], where)],
                                record.line)
            miss = _miss_size(comparison)
            if closest is None or miss < closest[0]:
                closest = (miss, tr("closest: {where} an increment off by {comparison}", where=where,
                                    comparison=comparison.message), record.line)
    if closest is None:
        message = tr(_NO_LEAF.get(expectation.leaf, _NO_LEAF["any"]), output=expectation.output)
        return _Verdict([TrialOutcome(label, False, message) for label in labels])
    message = tr("no traced leaf got the gradient of {output}; {closest}", output=expectation.output,
                 closest=closest[1])
    return _Verdict([TrialOutcome(label, False, message) for label in labels], closest[2])


def _miss_size(comparison: Comparison) -> float:
    mismatch = comparison.mismatch
    if mismatch is None:
        return float("inf")
    return mismatch.mismatched / max(mismatch.total, 1) + min(mismatch.max_rel_error, 1e6) * 1e-9


def _finite_differences(ctx: _Context, target: Target, inputs: dict[str, torch.Tensor], increment: torch.Tensor,
                        label: str, where: str) -> TrialOutcome:
    """The same increment against float64 central differences of the reference at the traced leaf value."""
    tol, tr = ctx.tolerance, ctx.tr
    problem = ctx.reference.problem(target, inputs)
    generator = torch.Generator().manual_seed(increment.numel())
    if not is_stable(problem.function, problem.x, order=1, generator=generator):
        return TrialOutcome(label, True, tr("not judged: a jump or kink lies within the finite-difference step at "
                                            "the traced value"), skipped=True)
    verdict = check_gradient(problem.function, problem.x, increment.to(torch.float64), rtol=tol.rtol, atol=tol.atol,
                             generator=generator, tr=tr)
    if not verdict.stable:
        return TrialOutcome(label, True, verdict.message, skipped=True)
    return TrialOutcome(label, verdict.passed, tr("{where}: {message}", where=where, message=verdict.message),
                        verdict.mismatch)


# --- calls ---------------------------------------------------------------------------------------------


def _second_backward(expectation: Expectation, ctx: _Context) -> _Verdict:
    tr = ctx.tr
    label = tr("a second backward through one graph")
    retained: set[int] = set()
    for record in ctx.evidence.records:
        where = ctx.where(record.cell, record.line)
        if record.kind == "backward" and record.error and SECOND_TIME in record.error:
            return _Verdict([TrialOutcome(label, True, tr("{where}: the second backward() raised \"Trying to "
                                                          "backward through the graph a second time\"", where=where))],
                            record.line)
        if record.kind != "backward" or record.error or record.graph is None:
            continue
        if record.graph in retained and any(leaf.accumulated for leaf in record.leaves):
            return _Verdict([TrialOutcome(label, True, tr("{where}: backward() ran again through a graph kept by "
                                                          "retain_graph=True, and the gradient accumulated",
                                                          where=where))], record.line)
        if record.retain_graph:
            retained.add(record.graph)
    return _Verdict([TrialOutcome(label, False, tr("no backward() ran through the same graph twice: call "
                                                   "y.backward() again right after the first (it raises, or with "
                                                   "retain_graph=True the gradients accumulate)"))])


def _no_autograd(ctx: _Context) -> str:
    return ctx.tr("not from autograd: no backward() or torch.autograd.grad() ran anywhere in the notebook, so its "
                  "gradients were computed some other way (by hand? sympy? finite differences?)")


def _autograd_call(expectation: Expectation, ctx: _Context) -> _Verdict:
    tr = ctx.tr
    calls = {"backward": "backward()", "grad": "torch.autograd.grad()"}
    wanted = calls.get(expectation.call) or tr("{first} or {second}", first=calls["backward"], second=calls["grad"])
    if expectation.create_graph:
        wanted = tr("{call} with create_graph=True", call=wanted)
    label = tr("{call} ran", call=wanted)
    records = ctx.evidence.records
    for record in records:
        if record.error is None and expectation.call in ("any", record.kind) and (
                expectation.create_graph is None or record.create_graph == expectation.create_graph):
            ran = f"{record.kind}()"
            ran = tr("{call} with create_graph=True", call=ran) if record.create_graph else ran
            return _Verdict([TrialOutcome(label, True, tr("{where}: {call} ran", where=ctx.where(record.cell, record.line),
                                                          call=ran))], record.line)
    if not any(r.error is None for r in records):
        return _Verdict([TrialOutcome(label, False, _no_autograd(ctx))])
    return _Verdict([TrialOutcome(label, False, tr("autograd ran, but no {call} did", call=wanted))])


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
    tol, tr = ctx.tolerance, ctx.tr
    curves = [c for c in ctx.evidence.curves if _usable(c, expectation.min_points)]
    labels = [tr("a curve ≈ {expression} over the same x", expression=e) if i else tr("a curve ≈ {expression}",
                                                                                       expression=e)
              for i, e in enumerate(expectation.curves)]
    labels += [tr("{expression} obtained by autograd", expression=expectation.curves[i]) for i in expectation.autograd]
    if not curves:
        message = tr("no figure with a curve of at least {points} points was plotted (d2l.plot, plt.plot)",
                     points=expectation.min_points)
        return _Verdict([TrialOutcome(label, False, message) for label in labels])

    def matches(curve: Curve, expression: str) -> bool:
        assert curve.x is not None and curve.y is not None
        try:
            expected = torch.as_tensor(ctx.reference.evaluate(expression, {"x": curve.x.to(torch.float64)}))
        except ReferenceError:
            return False
        return expected.shape == curve.y.shape and compare(curve.y, expected, rtol=tol.rtol, atol=tol.atol, tr=tr).passed

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
            outcomes.append(TrialOutcome(label, True, tr("{where} ({source}): {points} points ≈ {expression}",
                                                         where=ctx.where(curve.cell, curve.line), source=curve.source,
                                                         points=curve.y.numel(),  # type: ignore[union-attr]
                                                         expression=expression)))
        else:
            outcomes.append(TrialOutcome(label, False, tr("no plotted curve ≈ {expression} over the same x",
                                                          expression=expression) + _against_other_curve(ctx, curves)))
    for label, index in zip(labels[len(expectation.curves):], expectation.autograd):
        curve = best[index]
        if curve is None:
            outcomes.append(TrialOutcome(label, False, tr("no curve ≈ {expression} to check",
                                                          expression=expectation.curves[index])))
            continue
        record = _from_autograd(curve, ctx.evidence.records)
        outcomes.append(TrialOutcome(label, record is not None, (
            tr("the plotted values are the gradient {call}() produced at {where}", call=record.kind,
               where=ctx.where(record.cell, record.line))
            if record is not None else
            tr("not from autograd: the curve plotted at {where} matches no gradient backward() or autograd.grad() "
               "produced (was it typed as a formula, e.g. cos?)", where=ctx.where(curve.cell, curve.line)))))
    line = next((c.line for c in best if c is not None), None)
    return _Verdict(outcomes, line)


def _against_other_curve(ctx: _Context, curves: list[Curve]) -> str:
    """A curve drawn against another curve's values (cos against sin) rather than against x."""
    for curve in curves:
        for other in curves:
            if other is not curve and other.y is not None and curve.x is not None and \
                    other.y.shape == curve.x.shape and torch.allclose(other.y.double(), curve.x.double()):
                return ctx.tr(" (the curve plotted at {where} uses another curve's values as its x: plot both "
                              "against x)", where=ctx.where(curve.cell, curve.line))
    return ""


# --- the harness's own exceptions ----------------------------------------------------------------------

CELL_TIMEOUT = "CellTimeout"  # grader/sandbox/trace_harness.py: a cell or call ran past its share of the time


def _harness_error(error: ErrorInfo, tr: Translator) -> ErrorInfo:
    """An exception as the student reads it: the harness's own (a cell interrupted for its time) is worded
    here, from its type, since the child has no catalog; the learner's exceptions keep Python's words."""
    if error.type != CELL_TIMEOUT:
        return error
    return replace(error, message=tr("it ran longer than its share of the time limit (an infinite loop, or "
                                     "input()?)"))


# --- the learner's functions ---------------------------------------------------------------------------


def _function_value(expectation: Expectation, ctx: _Context) -> _Verdict:
    tol, tr = ctx.tolerance, ctx.tr
    function = expectation.function
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
                outcome = TrialOutcome(label, False, tr("{function} takes other parameters: not called",
                                                        function=function))
            elif report.status == "error" and report.error is not None:
                outcome = TrialOutcome(label, False, tr("raised {error}", error=_harness_error(report.error, tr)))
            elif report.value is None or report.value.tensor is None:
                outcome = TrialOutcome(label, False, tr("returned {type}, not a tensor", type=report.value.type)
                                       if report.value else tr("returned nothing, not a tensor"))
            else:
                comparison = compare(report.value.tensor, expected, rtol=tol.rtol, atol=tol.atol, tr=tr)
                outcome = TrialOutcome(label, comparison.passed, comparison.message, comparison.mismatch,
                                       values=comparison.values)
            per_version.setdefault(version.version, []).append(outcome)
    if not per_version:
        message = tr("{function} was never defined as a function, so it could not be compared with the book's",
                     function=function)
        return _Verdict([TrialOutcome(label, False, message) for label in labels])
    # The learner may redefine the name later (f = sin): the best version counts, the latest on a tie.
    version = max(per_version, key=lambda v: (sum(o.passed for o in per_version[v]), v))
    where, line = defined[version]
    outcomes = [TrialOutcome(o.trial, o.passed, tr("the {function} defined at {where}: {message}", function=function,
                                                   where=where, message=o.message), o.mismatch, values=o.values)
                for o in per_version[version]]
    return _Verdict(outcomes, line)


JUDGES: dict[str, Judge] = {
    "leaf_gradient": _leaf_gradient,
    "second_backward": _second_backward,
    "autograd_call": _autograd_call,
    "plot": _plot,
    "function_value": _function_value,
}


# --- the exercise --------------------------------------------------------------------------------------


def _summary(outcomes: list[TrialOutcome], tr: Translator) -> str:
    judged = [o for o in outcomes if not o.skipped]
    passed = sum(o.passed for o in judged)
    failed = [o for o in judged if not o.passed]
    shown = failed[0] if failed else (judged[0] if judged else None)
    return tr("{passed}/{total} passed", passed=passed, total=len(judged)) + (tr(": ") + shown.message if shown else "")


def _cell_diagnoses(ctx: _Context, passed: set[str]) -> list[Diagnosis]:
    """The exceptions the cells raised, named like function mode's (an error the exercise asked for,
    backward twice, is left out once it served as evidence)."""
    second_backward_shown = any(e.kind == "second_backward" and e.id in passed for e in ctx.exercise.expectations)
    diagnoses = []
    for cell in ctx.evidence.cells:
        if cell.error is None:
            continue
        diagnosis = diagnose_error(_harness_error(cell.error, ctx.tr), tr=ctx.tr)
        if diagnosis.code == "retain_graph_missing" and second_backward_shown:
            continue
        diagnosis.message = ctx.tr("{where} raised: {message}", where=ctx.where(cell.index, cell.error.line),
                                   message=diagnosis.message)
        diagnoses.append(diagnosis)
    return diagnoses


def judge_trace(exercise: Exercise, reference: Reference, evidence: TraceEvidence, submission: Submission,
                limits: Limits, tr: Translator = ENGLISH) -> ExerciseResult:
    """Checks (one per expectation), diagnoses and score from a validated trace (pure: no processes),
    worded by ``tr``."""
    ctx = _Context(exercise, reference, evidence, submission, tr)
    failure = _run_failure(evidence, limits, tr)
    failure = localized(failure, tr) if failure else failure  # a broken result channel is worded in the sandbox
    checks: list[CheckResult] = []
    diagnoses: list[Diagnosis] = []
    passed_ids: set[str] = set()
    for expectation in exercise.expectations:
        verdict = JUDGES[expectation.kind](expectation, ctx)
        outcomes = verdict.outcomes
        if evidence.tampering and expectation.kind != "function_value":  # everything else is the child's record
            first = evidence.tampering[0]
            reason = tr("not trusted: the code {what}{where}, which can fake what the grader records", what=localized(first.what, tr),
                        where="")
            outcomes = [TrialOutcome(o.trial, False, reason) for o in outcomes]
        judged = [o for o in outcomes if not o.skipped]
        fraction = sum(o.passed for o in judged) / len(judged) if judged else 1.0
        checks.append(CheckResult(name=expectation.id, weight=expectation.weight, passed=sum(o.passed for o in judged),
                                  total=len(judged), score=expectation.weight * fraction,
                                  max_score=expectation.weight, message=_summary(outcomes, tr), trials=outcomes))
        if fraction == 1.0:
            passed_ids.add(expectation.id)
        else:
            failed = next(o for o in judged if not o.passed)
            diagnoses.append(Diagnosis(f"trace_{expectation.id}", tr("{check}: {message}", check=expectation.name,
                                                                     message=failed.message),
                                       expectation.hint, verdict.line))
    weights = sum(c.max_score for c in checks) or 1.0
    score = exercise.points * sum(c.score for c in checks) / weights
    for check in checks:
        check.score = round(exercise.points * check.score / weights, 6)
        check.max_score = round(exercise.points * check.max_score / weights, 6)
    if evidence.tampering:
        first = evidence.tampering[0]
        diagnoses.append(Diagnosis("tampering", tr("your code {what}", what=localized(first.what, tr)),
                                   tr("Solve the exercise with autograd alone."), first.line))

    status, message = "passed", ""
    if not evidence.cells and failure:
        status, message = "error", failure
    elif score < exercise.points - 1e-9:
        status = "failed"
        failed_check = next(c for c in checks if c.passed < c.total)
        message = failure or tr("{check}: {message}", check=failed_check.name, message=failed_check.message)
    if status != "passed":
        diagnoses = _cell_diagnoses(ctx, passed_ids) + diagnoses
    return ExerciseResult(
        id=exercise.id, title=exercise.title, status=status,  # type: ignore[arg-type]
        score=round(score, 6) if status != "error" else 0.0, max_score=exercise.points, checks=checks,
        diagnoses=_quote_lines(_unique(diagnoses), submission.source), message=message,
        hints=list(exercise.hints) if status != "passed" else [], output=evidence.output,
        output_truncated=evidence.output_truncated, duration=evidence.wall, prompt=exercise.prompt)
