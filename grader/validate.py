"""`grader validate`: catch mistakes in exercises before students do.

Three layers: every spec loads against the schema; on every trial, float64 finite differences agree
with the reference autograd (a wrong `output`, a missing `constants` or a bad `avoid` shows up here);
every model answer in ``solutions/`` scores full marks through the real sandboxed grader.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from grader.catalog import default_catalog, default_solutions
from grader.checks.finite_diff import check_gradient
from grader.checks.reference import ReferenceError
from grader.grading import Grader
from grader.sandbox.runner import Sandbox
from grader.spec import SpecError, load_catalog
from grader.spec.model import Exercise
from grader.submission import SubmissionError, read_submission


@dataclass
class ValidationReport:
    lines: list[str] = field(default_factory=list)
    spec_errors: bool = False
    failures: int = 0

    @property
    def ok(self) -> bool:
        return not self.spec_errors and self.failures == 0

    def fail(self, line: str) -> None:
        self.failures += 1
        self.lines.append(f"  FAIL {line}")


def _check_reference(exercise: Exercise, grader: Grader, report: ValidationReport) -> None:
    """Finite differences against reference autograd, on every trial of every gradient target."""
    try:
        reference, trials = grader.prepare(exercise)  # the very trials the model answer is graded on
    except ReferenceError as exc:
        report.fail(str(exc))
        return
    tol = exercise.tolerance
    for target in exercise.targets:
        if target.kind != "gradient":
            continue
        for trial in trials:
            where = f"{exercise.id}: {target.name}, {trial.description}"
            try:
                problem = reference.problem(target, trial.inputs)
                expected = reference.expected(target, trial.inputs) / target.accumulate
            except ReferenceError as exc:
                report.fail(f"{where}: {exc}")
                continue
            if target.name in trial.fd_unstable:
                report.lines.append(f"  note {where}: finite differences unstable here (jump or kink); not judged")
                continue
            verdict = check_gradient(problem.function, problem.x, expected, order=problem.order,
                                     w=problem.direction, rtol=tol.rtol * 1e-2, atol=tol.atol * 1e-2,
                                     generator=torch.Generator().manual_seed(grader.seed))
            if not verdict.passed:
                report.fail(f"{where}: reference autograd and finite differences disagree: {verdict.message}")


def _solution_for(exercise: Exercise, solutions: Path) -> Path | None:
    for candidate in (solutions / exercise.topic / f"{exercise.id}.py", solutions / f"{exercise.id}.py",
                      solutions / exercise.topic / f"{exercise.id}.ipynb"):
        if candidate.is_file():
            return candidate
    return None


def validate_catalog(path: Path | None, sandbox: Sandbox, *, solutions: Path | None = None,
                     seed: int = 0) -> ValidationReport:
    report = ValidationReport()
    catalog = path or default_catalog()
    try:
        exercises = load_catalog(catalog)
    except SpecError as exc:
        report.spec_errors = True
        report.lines.append(str(exc))
        return report
    report.lines.append(f"{len(exercises)} exercises in {catalog}: specs valid")
    solutions = solutions or default_solutions(catalog)
    grader = Grader(sandbox, seed=seed)
    for exercise in exercises:
        before = report.failures
        _check_reference(exercise, grader, report)
        solution = _solution_for(exercise, solutions)
        if solution is None:
            report.fail(f"{exercise.id}: no model answer in {solutions}")
        else:
            try:
                result = grader.grade_exercise(read_submission(solution), exercise)
            except SubmissionError as exc:
                report.fail(f"{exercise.id}: {exc}")
            else:
                if result.status != "passed":
                    report.fail(f"{exercise.id}: model answer {solution} scored {result.score:g}/{result.max_score:g}: "
                                f"{result.message}")
        status = "ok  " if report.failures == before else "FAIL"
        report.lines.insert(len(report.lines) - (report.failures - before), f"{status} {exercise.id}")
    report.lines.append("all exercises valid" if report.ok else f"{report.failures} problem(s) found")
    return report
