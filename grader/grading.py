"""One submission × its exercises -> ExerciseResults: run in the sandbox, check, diagnose, score.

The flow: trials (the grader's own inputs) -> a sandboxed child loads the submission once and runs
every call of its share of the exercises -> evidence validated and split per exercise -> per
(target, trial) checks -> diagnoses -> weighted score. A crash, exit or hang costs only the exercise it
happened in: the exercises its child never reached run again in a fresh child.
"""

from __future__ import annotations

import functools
import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable

import torch

from grader import __version__
from grader.checks.compare import compare
from grader.checks.finite_diff import check_gradient
from grader.checks.forbidden import static_uses
from grader.checks.provenance import check_provenance
from grader.checks.review import flags_reaching, review as _review_source
from grader.checks.reference import Reference, ReferenceError
from grader.diagnose import (diagnose_calls, diagnose_error, diagnose_none, diagnose_provenance, diagnose_value,
                             function_facts, prune)
from grader.i18n import ENGLISH, Translator, check_label, localized, translator
from grader.results import CheckResult, Diagnosis, ExerciseResult, ReviewFlag, SubmissionResult, TrialOutcome
from grader.sandbox.channel import TensorWriter
from grader.sandbox.evidence import (CallReport, RunEvidence, RunStatus, Tampering, Violation, before,
                                     protocol_violation, split_programs, split_run)
from grader.sandbox.runner import Limits, Sandbox
from grader.sandbox.zygote import EXIT_SANDBOX_FAILED
from grader.spec.model import Exercise, Target, localize
from grader.submission import Submission
from grader.trials import Trial, make_trials

_FLOATING = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


@functools.lru_cache(maxsize=64)
def _review_cached(source: str) -> tuple[tuple[str, str, int], ...]:
    return tuple((f.code, f.message, f.line) for f in _review_source(source))


def review(source: str) -> list[ReviewFlag]:
    """``grader.checks.review.review``, parsed once per source: judging asks for every exercise of a
    submission (a parse and a tree walk each, a third of judging's time). Fresh flags every call."""
    return [ReviewFlag(code, message, line) for code, message, line in _review_cached(source)]


@dataclass
class _Tally:
    """Per-check bookkeeping while an exercise is judged."""

    outcomes: dict[str, list[TrialOutcome]] = field(default_factory=dict)

    def add(self, check: str, outcome: TrialOutcome) -> None:
        self.outcomes.setdefault(check, []).append(outcome)


def call_id(trial_index: int, function: str) -> str:
    return f"{trial_index}:{function}"


def build_task(programs: list[tuple[Submission, list[tuple[Exercise, list[Trial]]]]]
               ) -> tuple[dict, bytes, list[dict[str, list[str]]]]:
    """One child's task: each program's source and its exercises' calls, every trial's inputs as raw bytes.

    Returns the header, the body and, per program in run order, its exercise ids (in run order) with
    the ids of their calls.
    """
    writer = TensorWriter()
    entries: list[dict] = []
    header_programs: list[dict] = []
    calls_by_program: list[dict[str, list[str]]] = []
    for submission, exercises in programs:
        tasks: list[dict] = []
        for exercise, trials in exercises:
            calls: list[dict] = []
            targeted = [f for f in exercise.functions if any(t.function == f.name for t in exercise.targets)]
            for index, trial in enumerate(trials):
                slots = {}
                for name, tensor in trial.inputs.items():
                    slots[name] = len(entries)
                    entries.append(writer.add(tensor))
                for function in targeted:
                    calls.append({"id": call_id(index, function.name), "function": function.name,
                                  "args": [slots[p] for p in function.params]})
            forbidden_check = exercise.check("forbidden")
            tasks.append({
                "id": exercise.id,
                "calls": calls,
                "functions": list(exercise.function_names),
                "forbidden": list(forbidden_check.option("ops", [])) if forbidden_check else [],  # type: ignore[arg-type]
            })
        header_programs.append({"source": submission.source, "filename": str(submission.path), "exercises": tasks})
        calls_by_program.append({t["id"]: [c["id"] for c in t["calls"]] for t in tasks})
    return {"inputs": entries, "programs": header_programs}, writer.body(), calls_by_program


def exercise_limits(exercise: Exercise) -> Limits:
    return Limits(time=exercise.limits.time, memory=exercise.limits.memory, output=exercise.limits.output)


def shared_limits(exercises: list[Exercise]) -> Limits:
    """Limits of one child serving several exercises: each keeps its own wall time (a stage each)."""
    each = [exercise_limits(e) for e in exercises]
    return Limits(time=max(l.time for l in each), memory=max(l.memory for l in each),
                  output=sum(l.output for l in each), stages=tuple(l.time for l in each))


def _run_failure(evidence: RunStatus, limits: Limits, tr: Translator = ENGLISH) -> str | None:
    """Why the child stopped before finishing, in words a student understands."""
    if evidence.finished:
        return None
    if evidence.timed_out:
        return tr("time limit: the code did not finish within {seconds} s (an infinite loop, or input()?)",
                  seconds=f"{limits.time:g}")
    if evidence.channel_error:
        return localized(evidence.channel_error, tr)  # a Message, when the grader worded it
    code = evidence.exit_code
    if code is None:
        return tr("the code's process stopped unexpectedly")
    if code == EXIT_SANDBOX_FAILED:
        return tr("the grader could not set up its sandbox for this code (not your fault): "
                  "tell your instructor; `grader doctor` shows what is missing")
    if code == -9:
        return tr("the code's process was killed (memory or CPU time limit)")
    if code == -24:
        return tr("CPU time limit: the code used more than {seconds} s of CPU", seconds=f"{limits.time:g}")
    if code < 0:
        return tr("the code's process crashed (signal {signal})", signal=-code)
    return tr("the code's process exited with status {code} (os._exit or a crash) before finishing", code=code)


class Grader:
    """Grades submissions against exercises with one warm sandbox.

    ``lang`` is the language of every message in the results it makes (grader/i18n.py): messages hold
    numbers formatted as they are judged, so they are written in the student's language right then.
    """

    def __init__(self, sandbox: Sandbox, *, seed: int = 0, jobs: int = 2, lang: str = "en") -> None:
        self.sandbox = sandbox
        self.seed = seed
        self.jobs = max(1, jobs)
        self.tr = translator(lang)
        self._prepared: dict[str, tuple[Reference, list[Trial]] | ReferenceError] = {}

    def prepare(self, exercise: Exercise) -> tuple[Reference, list[Trial]]:
        """Reference and trials of an exercise, computed once and reused for every submission."""
        cached = self._prepared.get(exercise.id)
        if cached is None:
            try:
                # Localized here too: callers may prepare the spec as loaded (the known mistakes it names
                # are read from the reference's exercise).
                reference = Reference(localize(exercise, self.tr.lang))
                cached = (reference, make_trials(exercise, reference, self.seed))
            except ReferenceError as exc:
                cached = exc
            self._prepared[exercise.id] = cached
        if isinstance(cached, ReferenceError):
            raise cached
        return cached

    def grade(self, submission: Submission, exercises: Iterable[Exercise]) -> SubmissionResult:
        """Every exercise of a submission: ``jobs`` children at once, each serving a share of them."""
        return self.grade_programs([(submission, list(exercises))])[0]

    def grade_programs(self, programs: list[tuple[Submission, list[Exercise]]]) -> list[SubmissionResult]:
        """Several programs, each with its own exercises (one student's files, graded separately),
        sharing children: a child costs ~10 ms to start and load, a program in a child already running
        costs its own code. ``jobs`` children at once, each serving a share of the function-mode
        exercises; each program's trace-mode exercises share one child that runs its cells."""
        start = time.monotonic()
        units = [(index, submission, exercise) for index, (submission, exercises) in enumerate(programs)
                 for exercise in exercises if exercise.mode != "trace"]
        shares: list[Callable[[], dict[tuple[int, str], ExerciseResult]]] = [
            functools.partial(self._grade_traced, index, submission, traced)
            for index, (submission, exercises) in enumerate(programs)
            if (traced := [e for e in exercises if e.mode == "trace"])]
        shares += [functools.partial(self._grade_share, units[i::self.jobs]) for i in range(min(self.jobs, len(units)))]
        graded: dict[tuple[int, str], ExerciseResult] = {}
        if len(shares) <= 1:  # the batch's usual case (one job per worker): no thread to start
            for share in shares:
                graded.update(share())
        else:
            with ThreadPoolExecutor(max_workers=len(shares)) as pool:
                for part in pool.map(lambda share: share(), shares):
                    graded.update(part)
        duration = time.monotonic() - start
        submissions = []
        for index, (submission, exercises) in enumerate(programs):
            results = [graded[(index, e.id)] for e in exercises]
            submissions.append(SubmissionResult(
                submission=str(submission.path), score=round(sum(r.score for r in results), 6),
                max_score=sum(r.max_score for r in results), exercises=results,
                notes=[localized(note, self.tr) for note in submission.notes],
                review=[ReviewFlag(f.code, localized(f.message, self.tr), f.line) for f in review(submission.source)],
                seed=self.seed, grader_version=__version__, duration=duration, lang=self.tr.lang))
        return submissions

    def grade_exercise(self, submission: Submission, exercise: Exercise) -> ExerciseResult:
        return self.grade_together(submission, [exercise])[exercise.id]

    def grade_together(self, submission: Submission, exercises: list[Exercise]) -> dict[str, ExerciseResult]:
        """Several exercises of one submission in one child, which loads the submission once.

        A child per submission costs a fifth of the CPU of a child per exercise
        (benchmarks/child_strategy.py). Isolation is kept where it matters: when the code kills its
        child (exit, crash, time or memory limit), that exercise fails with the reason and the ones it
        never reached get a fresh child.
        """
        traced = [e for e in exercises if e.mode == "trace"]
        graded = self._grade_traced(0, submission, traced) if traced else {}
        graded.update(self._grade_share([(0, submission, e) for e in exercises if e.mode != "trace"]))
        return {exercise_id: result for (_, exercise_id), result in graded.items()}

    def _grade_traced(self, index: int, submission: Submission, exercises: list[Exercise]
                      ) -> dict[tuple[int, str], ExerciseResult]:
        """Trace mode (grader/trace/): the cells run once, each trace exercise is judged from that trace."""
        from grader.trace.grade import grade_trace

        translated = [localize(e, self.tr.lang) for e in exercises]
        return {(index, exercise_id): result for exercise_id, result in grade_trace(self, submission, translated).items()}

    def _grade_share(self, units: list[tuple[int, Submission, Exercise]]) -> dict[tuple[int, str], ExerciseResult]:
        """Function-mode exercises of one or more programs (``index`` tells them apart) in one child;
        the exercises a child never reached (it died in an earlier one) run again in a fresh child."""
        results: dict[tuple[int, str], ExerciseResult] = {}
        pending: list[_Unit] = []
        for index, submission, exercise in units:
            exercise = localize(exercise, self.tr.lang)  # titles, prompts, hints, mistakes
            try:
                pending.append(_Unit(index, submission, exercise, *self.prepare(exercise)))
            except ReferenceError as exc:
                results[(index, exercise.id)] = ExerciseResult(
                    exercise.id, exercise.title, "error", 0.0, exercise.points,
                    message=self.tr("this exercise's spec is broken (not your fault): {error}", error=exc))
        while pending:
            groups = _by_program(pending)
            header, body, calls = build_task([(g[0].submission, [(u.exercise, u.trials) for u in g]) for g in groups])
            outcome = self.sandbox.run(header, body, shared_limits([u.exercise for u in pending]),
                                       filename=str(pending[0].submission.path))
            forged = protocol_violation(outcome, calls)
            if forged is not None:  # exercises begun before it are untrusted, the others get a fresh child
                outcome = before(outcome, forged.index)
            for group, part, program_calls in zip(groups, split_programs(outcome, calls), calls):
                evidence, _ = split_run(part, program_calls)
                for unit in (u for u in group if u.exercise.id in evidence):
                    run = evidence[unit.exercise.id]
                    results[(unit.index, unit.exercise.id)] = self._judge_unit(
                        unit, run if forged is None else _untrusted(run, forged))
            pending = [u for u in pending if (u.index, u.exercise.id) not in results]
        return results

    def _judge_unit(self, unit: _Unit, run: RunEvidence) -> ExerciseResult:
        judging = time.monotonic()
        limits = exercise_limits(unit.exercise)
        run = _capped_output(run, limits.output)
        result = judge(unit.exercise, unit.reference, unit.trials, run, unit.submission, limits, self.tr)
        result.duration = run.wall + time.monotonic() - judging
        return result


@dataclass
class _Unit:
    """One exercise of one program, with what judging it needs."""

    index: int
    submission: Submission
    exercise: Exercise
    reference: Reference
    trials: list[Trial]


def _by_program(units: list[_Unit]) -> list[list[_Unit]]:
    """Consecutive units of the same program, grouped: each group is one program of a task."""
    groups: list[list[_Unit]] = []
    for unit in units:
        if groups and groups[-1][0].index == unit.index:
            groups[-1].append(unit)
        else:
            groups.append([unit])
    return groups


def _untrusted(evidence: RunEvidence, forged: Violation) -> RunEvidence:
    """Evidence from a child whose result channel carried frames the harness did not write: every
    exercise that child got to fails with the reason (its answers, records and reports may be forged)."""
    return replace(evidence, finished=False, channel_error=forged.reason,
                   calls={call: CallReport(id=call, status="not_run") for call in evidence.calls})


def _capped_output(evidence: RunEvidence, cap: int) -> RunEvidence:
    """One exercise's share of a shared child's output, within that exercise's own cap."""
    data = evidence.output.encode("utf-8", errors="replace")
    if len(data) <= cap:
        return evidence
    return replace(evidence, output=data[:cap].decode("utf-8", errors="replace"), output_truncated=True)


def judge(exercise: Exercise, reference: Reference, trials: list[Trial], evidence: RunEvidence,
          submission: Submission, limits: Limits, tr: Translator = ENGLISH) -> ExerciseResult:
    """Checks, diagnoses and score from validated evidence (pure: no processes here), worded by ``tr``."""
    tally = _Tally()
    diagnoses: list[Diagnosis] = []
    failure = _run_failure(evidence, limits, tr)
    load_error = evidence.load.error if evidence.load else None

    for target in exercise.targets:
        diagnoses.extend(diagnose_calls(target.function, [
            (trial.describe(tr), evidence.calls[call_id(index, target.function)])
            for index, trial in enumerate(trials)], tr))
        for index, trial in enumerate(trials):
            call = evidence.calls[call_id(index, target.function)]
            outcomes = _judge_call(exercise, reference, target, trial, call, failure, diagnoses, submission.source, tr)
            for check, outcome in outcomes.items():
                if exercise.check(check) is not None:
                    tally.add(check, outcome)

    forbidden = exercise.check("forbidden")
    if forbidden is not None:
        tally.add("forbidden", _forbidden_outcome(exercise, evidence, submission, diagnoses, tr))
    # Code that can reach the recorders' state in ways no audit event reports (read statically) is
    # distrusted like caught tampering, where it can act on this exercise's calls: in its functions, the
    # helpers they call, or top-level code.
    flags = [f for f in review(submission.source) if f.code in STATE_REACHERS]
    reaching = [Tampering(f.message, f.line)
                for f in (flags_reaching(submission.source, exercise.function_names, flags) if flags else [])]
    if evidence.tampering or reaching:
        _distrust(tally, evidence.tampering + reaching, diagnoses, tr)

    checks = []
    for config in exercise.checks:
        outcomes = tally.outcomes.get(config.name, [])
        judged = [o for o in outcomes if not o.skipped]
        passed = sum(o.passed for o in judged)
        total = len(judged)
        fraction = passed / total if total else 1.0
        checks.append(CheckResult(name=config.name, weight=config.weight, passed=passed, total=total,
                                  score=config.weight * fraction, max_score=config.weight,
                                  message=_summary(config.name, outcomes, tr), trials=outcomes))
    weights = sum(c.max_score for c in checks) or 1.0
    score = exercise.points * sum(c.score for c in checks) / weights
    for check in checks:  # report check scores in the exercise's points
        check.score = round(exercise.points * check.score / weights, 6)
        check.max_score = round(exercise.points * check.max_score / weights, 6)

    missing = [name for name in exercise.function_names
               if evidence.load is not None and name not in evidence.load.defined]
    status, message = "passed", ""
    calls_ran = any(c.status in ("ok", "error") for c in evidence.calls.values())
    if load_error is not None and load_error.type in ("SyntaxError", "IndentationError", "TabError"):
        status, message = "error", tr("your file could not be read: {error} (line {line})", error=load_error,
                                      line=load_error.line)
    elif missing and not calls_ran:
        defined_hint = tr(" (the file raised {error} at line {line} while loading)", error=load_error,
                          line=load_error.line) if load_error else ""
        status, message = "error", tr("{names} is not defined in your file{loading}", names=", ".join(missing),
                                      loading=defined_hint)
    elif failure and not calls_ran:
        status, message = "error", failure
    elif score < exercise.points - 1e-9:
        status = "failed"
        message = failure or _headline(checks, tr)
    if load_error is not None and status != "error":
        diagnoses.insert(0, Diagnosis("load_error", tr("loading your file raised {error}", error=load_error), "",
                                      load_error.line))

    return ExerciseResult(
        id=exercise.id, title=exercise.title, status=status,  # type: ignore[arg-type]
        score=round(score, 6) if status != "error" else 0.0, max_score=exercise.points, checks=checks,
        diagnoses=_quote_lines(_unique(prune(diagnoses)), submission.source), message=message,
        hints=list(exercise.hints) if status != "passed" else [],
        output=evidence.output, output_truncated=evidence.output_truncated, duration=evidence.wall,
        prompt=exercise.prompt)


def _judge_call(exercise: Exercise, reference: Reference, target: Target, trial: Trial, call: CallReport,
                failure: str | None, diagnoses: list[Diagnosis], source: str = "",
                tr: Translator = ENGLISH) -> dict[str, TrialOutcome]:
    """Every per-trial check for one target on one call."""
    facts = function_facts(source, target.function)  # what the function's code visibly does, for diagnoses
    label = trial.describe(tr)
    names = ["shape", "reference"] + (["finite_differences", "autograd"] if target.kind == "gradient" else [])

    def all_fail(message: str) -> dict[str, TrialOutcome]:
        return {name: TrialOutcome(label, False, message) for name in names}

    function = target.function
    if call.status == "not_run":
        return all_fail(tr("not run: {reason}", reason=failure or tr("the process stopped before this call")))
    if call.status == "missing":
        return all_fail(tr("{function} is not defined", function=function))
    if call.status == "not_callable":
        return all_fail(tr("{function} is not a function", function=function))
    if call.status == "error" and call.error is not None:
        diagnosis = diagnose_error(call.error, call, facts, tr)
        diagnoses.append(diagnosis)
        where = tr(" (line {line})", line=call.error.line) if call.error.line else ""
        return all_fail(tr("{function} raised {error}{where}", function=function, error=call.error, where=where))
    value = call.value
    assert value is not None
    if value.type == "None":
        diagnoses.append(diagnose_none(call, function, target.kind, tr))
        return all_fail(tr("{function} returned None", function=function))
    if value.too_large:
        return all_fail(tr("{function} returned a tensor of {size} MiB, far larger than the answer (the grader "
                           "does not accept more than 64 MiB)", function=function,
                           size=f"{value.too_large / 2**20:.0f}"))
    if value.tensor is None:
        return all_fail(tr("{function} returned a {type}, not a tensor", function=function,
                           type=value.dtype or value.type))

    got = value.tensor
    expected = remember(trial, ("expected", target.name), lambda: reference.expected(target, trial.inputs))
    answer = (target.name, _fingerprint(got), tr.lang)  # verdicts on these exact numbers are reused
    tol = exercise.tolerance
    outcomes: dict[str, TrialOutcome] = {}
    shape_ok = tuple(got.shape) == tuple(expected.shape) and got.dtype in _FLOATING
    shape_message = "" if shape_ok else (
        tr("returned dtype {dtype}, expected a floating-point tensor", dtype=str(got.dtype).replace("torch.", ""))
        if got.dtype not in _FLOATING else tr("returned shape {got}, expected {expected}", got=list(got.shape),
                                              expected=list(expected.shape)))
    outcomes["shape"] = TrialOutcome(label, shape_ok, shape_message)

    comparison = remember(trial, ("compare", *answer),
                          lambda: compare(got, expected, rtol=tol.rtol, atol=tol.atol, tr=tr))
    outcomes["reference"] = TrialOutcome(label, comparison.passed, comparison.message, comparison.mismatch,
                                         values=comparison.values)
    if not comparison.passed:
        diagnoses.append(diagnose_value(reference, target, trial.inputs, got, expected, tol.rtol, tol.atol,
                                        call, facts, tr))
    if target.kind != "gradient":
        return outcomes

    if target.name in trial.fd_unstable:
        outcomes["finite_differences"] = TrialOutcome(label, True, tr("not judged: a jump or kink lies within the "
                                                                      "finite-difference step at this input"),
                                                      skipped=True)
    elif got.shape != expected.shape:
        outcomes["finite_differences"] = TrialOutcome(label, False, shape_message)
    else:
        problem = reference.problem(target, trial.inputs)
        # Seeded from the English description, so every language draws the same directions.
        generator = torch.Generator().manual_seed(len(trial.description) * 1009 + int(got.numel()))
        scale = 1.0 / target.accumulate
        verdict = remember(trial, ("finite_differences", *answer), lambda: check_gradient(
            problem.function, problem.x, got.to(torch.float64) * scale, order=problem.order, w=problem.direction,
            rtol=tol.rtol, atol=tol.atol * scale, generator=generator,
            memo=trial.fd_memo.setdefault(target.function, {}), tr=tr))
        if not verdict.stable:
            outcomes["finite_differences"] = TrialOutcome(label, True, verdict.message, skipped=True)
        else:
            outcomes["finite_differences"] = TrialOutcome(label, verdict.passed, verdict.message, verdict.mismatch)

    provenance = check_provenance(call, got, tr)
    outcomes["autograd"] = TrialOutcome(label, provenance.passed, provenance.message)
    if not provenance.passed:
        diagnoses.append(diagnose_provenance(target.function, provenance.message, facts, tr))
    return outcomes


MEMO_LIMIT = 512  # verdicts kept per trial: the distinct answers of a class, bounded


def remember(trial: Trial, key: tuple, compute: Callable[[], Any]) -> Any:
    """A value judged once per trial and key (pure functions of the reference, the inputs and the answer)."""
    if key in trial.memo:
        return trial.memo[key]
    value = compute()
    if len(trial.memo) < MEMO_LIMIT:
        trial.memo[key] = value
    return value


def _fingerprint(tensor: torch.Tensor) -> tuple:
    """The exact numbers of an answer: dtype, shape and a digest of its bytes."""
    data = tensor.detach().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b""
    return str(tensor.dtype), tuple(tensor.shape), hashlib.blake2b(data, digest_size=16).digest()


def _forbidden_outcome(exercise: Exercise, evidence: RunEvidence, submission: Submission,
                       diagnoses: list[Diagnosis], tr: Translator = ENGLISH) -> TrialOutcome:
    config = exercise.check("forbidden")
    ops = [str(op) for op in (config.option("ops", []) if config else [])]  # type: ignore[union-attr]
    names = {op.split(".")[-1].rstrip("_") for op in ops}
    # Loading traces the forbidden operations of every exercise sharing the child: keep this one's.
    uses = [u for u in evidence.load.forbidden if u.op.rstrip("_") in names] if evidence.load else []
    for call in evidence.calls.values():
        uses.extend(call.forbidden)
    bypasses = [flag for flag in review(submission.source) if flag.code in TRACE_BYPASSES]
    whole = tr("whole exercise")
    listed = ", ".join(ops)
    if not uses and bypasses:  # a clean trace means nothing if the code can switch the tracing off
        first = bypasses[0]
        diagnoses.append(Diagnosis("trace_bypass", tr("your code {what} (line {line})", what=localized(first.message, tr),
                                                      line=first.line),
                                   tr("This exercise must not use {ops}; code that goes around the "
                                      "grader's tracing of torch calls fails this check.", ops=listed), first.line))
        return TrialOutcome(whole, False,
                            tr("not trusted: the code {what} at line {line}, which hides torch "
                               "calls from the forbidden-operation trace", what=localized(first.message, tr), line=first.line))
    if not uses:
        static = static_uses(submission.source, ops)
        if static and not any(c.status == "ok" for c in evidence.calls.values()):
            uses_text = ", ".join(tr("{op} (line {line})", op=op, line=line) for op, line in static)
            return TrialOutcome(whole, False, tr("forbidden operation in the code: {uses}", uses=uses_text))
        return TrialOutcome(whole, True, tr("none of {ops} was called", ops=listed))
    seen = sorted({(u.op, u.line) for u in uses}, key=lambda u: (u[1] or 0, u[0]))
    where = ", ".join(tr("{op} at line {line}", op=op, line=line) if line else op for op, line in seen)
    diagnoses.append(Diagnosis("forbidden_operation", tr("used a forbidden operation: {where}", where=where),
                               tr("This exercise must not use {ops}: let autograd do the work.", ops=listed),
                               seen[0][1]))
    return TrialOutcome(whole, False, tr("forbidden operation called: {where}", where=where))


UNTRUSTED_CHECKS = ("autograd", "forbidden")  # judged from evidence recorded inside the child
# Review flags of code that can call torch functions past both the traps and the torch-function mode.
TRACE_BYPASSES = {"disables_torch_function", "pops_modes", "torch_internals"}
# Review flags of code that can reach the recorders' state in the child without an audit event (gc, frames,
# ctypes and importing the grader are reported at run time): attributes behind objects, names built at run
# time, reflection and code-building modules, torch's private modules.
STATE_REACHERS = {"reads_globals", "reads_closure", "sys_modules", "reaches_internals", "dynamic_attribute",
                  "reflection", "dynamic_code", "torch_private", "inspects_frames"}


def _distrust(tally: _Tally, tampering: list[Tampering], diagnoses: list[Diagnosis],
              tr: Translator = ENGLISH) -> None:
    """Code that reached into the grader's machinery could have faked what the child recorded: the checks
    that rest on that record fail (the numbers are still judged, from the grader's own copies)."""
    first = tampering[0]
    where = tr(" at line {line}", line=first.line) if first.line else ""
    reason = tr("not trusted: the code {what}{where}, which can fake what the grader records", what=localized(first.what, tr),
                where=where)
    for name in UNTRUSTED_CHECKS:
        if name in tally.outcomes:
            tally.outcomes[name] = [TrialOutcome(o.trial, False, reason) for o in tally.outcomes[name]]
    diagnoses.append(Diagnosis(
        "tampering", tr("your code {what}", what=localized(first.what, tr)),
        tr("Solve the exercise with autograd alone: code that inspects or patches the grader's machinery "
           "fails the autograd and forbidden-operation checks."), first.line))


def _summary(name: str, outcomes: list[TrialOutcome], tr: Translator = ENGLISH) -> str:
    judged = [o for o in outcomes if not o.skipped]
    failed = [o for o in judged if not o.passed]
    skipped = len(outcomes) - len(judged)
    note = tr(" ({skipped} not judged)", skipped=skipped) if skipped else ""
    # The same words as the renderers' count label, which they strip from the front of this summary.
    summary = tr("{passed}/{total} passed", passed=len(judged) - len(failed), total=len(judged)) + note
    if failed and name == "autograd":  # the one check whose reason is the same wording on every trial
        summary += tr(": ") + failed[0].message
    return summary


def _headline(checks: list[CheckResult], tr: Translator = ENGLISH) -> str:
    for check in checks:
        failed = [t for t in check.trials if not t.passed and not t.skipped]
        if failed:
            return tr("{check}: {message}", check=check_label(check.name, tr), message=failed[0].message)
    return tr("not every check passed")


def _quote_lines(diagnoses: list[Diagnosis], source: str) -> list[Diagnosis]:
    """Give each diagnosis with a line the code on it, so reports can quote it (capped: one line only)."""
    lines = source.split("\n")  # as Python numbers lines (str.splitlines also splits at \f and others)
    for d in diagnoses:
        if d.line is not None and 1 <= d.line <= len(lines) and not d.line_text:
            d.line_text = lines[d.line - 1].strip()[:200]
    return diagnoses


def _unique(diagnoses: list[Diagnosis]) -> list[Diagnosis]:
    seen: set[str] = set()
    unique = []
    for d in diagnoses:
        if d.code not in seen:
            seen.add(d.code)
            unique.append(d)
    return unique
