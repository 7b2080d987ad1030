"""Result data: the one contract between grading and every output format.

Plain dataclasses, JSON-serialisable through ``to_json``; the JSON form is documented in
``docs/results.md`` and described by ``grader/results.schema.json``. Renderers read these objects (or
their JSON) and never grade.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from typing import Any, Literal

Status = Literal["passed", "failed", "error"]

RESULT_FORMAT_VERSION = 1
VALUES_CAP = 64  # elements kept in TrialOutcome.values: enough for a plot, small in results.jsonl


@dataclass
class Mismatch:
    """Where a comparison was worst: numbers a student can look at."""

    max_abs_error: float
    max_rel_error: float
    index: list[int]  # position of the worst element (empty for scalars)
    got: float | None
    expected: float | None
    mismatched: int  # elements outside tolerance
    total: int


@dataclass
class Values:
    """Got and expected element by element, so a renderer can plot them (a mismatch has one element only).

    A window of at most ``VALUES_CAP`` consecutive elements of the flattened (row-major) tensors,
    around the worst element; ``start`` is the flat index of the first one.
    """

    start: int
    got: list[float]
    expected: list[float]


@dataclass
class TrialOutcome:
    """One check on one target for one trial."""

    trial: str  # e.g. "fixed 1" or "random 2 (shape [2, 3])"
    passed: bool
    message: str = ""
    mismatch: Mismatch | None = None
    skipped: bool = False  # e.g. finite differences unstable at a fixed input
    values: Values | None = None  # per-element numbers of a failed comparison, when there were numbers


@dataclass
class CheckResult:
    name: str  # reference | finite_differences | autograd | shape | forbidden | run
    weight: float
    passed: int
    total: int
    score: float  # weight * passed / total, in points of this exercise
    max_score: float
    message: str = ""  # one-line summary
    trials: list[TrialOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.passed == self.total


@dataclass
class Diagnosis:
    """A recognised mistake: what happened and what to do."""

    code: str  # stable identifier, e.g. "requires_grad_missing"
    message: str
    hint: str = ""
    line: int | None = None  # line of the student's file, when known
    line_text: str = ""  # the code on that line, so a report can quote it


@dataclass
class ExerciseResult:
    id: str
    title: str
    status: Status
    score: float
    max_score: float
    checks: list[CheckResult] = field(default_factory=list)
    diagnoses: list[Diagnosis] = field(default_factory=list)
    message: str = ""  # the headline: why it failed or errored
    hints: list[str] = field(default_factory=list)
    output: str = ""  # the student's captured stdout/stderr (capped)
    output_truncated: bool = False
    duration: float = 0.0  # seconds of wall time for this exercise
    # The exercise's prompt (Markdown with $LaTeX$) as the student was given it: a report can show the
    # task next to the feedback from the result alone, without loading the spec again.
    prompt: str = ""


@dataclass
class ReviewFlag:
    """Code worth an instructor's look (``gc``, ``.data``, ``x.grad = ...``): shown, never scored."""

    code: str  # stable identifier, e.g. "assigns_grad"
    message: str
    line: int


@dataclass
class SubmissionResult:
    submission: str  # path or name as given
    score: float
    max_score: float
    exercises: list[ExerciseResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. skipped notebook magics
    review: list[ReviewFlag] = field(default_factory=list)
    seed: int = 0
    grader_version: str = ""
    duration: float = 0.0
    format_version: int = RESULT_FORMAT_VERSION
    # The language of every message, title, prompt and hint above ("en" | "zh", grader/i18n.py); renderers
    # write their own labels in it too. Codes, check names and statuses stay English keys in every language.
    lang: str = "en"

    @property
    def passed(self) -> bool:
        return all(e.status == "passed" for e in self.exercises)

    def to_json(self) -> dict[str, Any]:
        return _plain(self)  # what asdict(self) gives, without its per-leaf deepcopy (a third of the time)


def exercise_from_json(data: dict[str, Any]) -> ExerciseResult:
    checks = []
    for c in data.get("checks", []):
        trials = [
            TrialOutcome(**{**t, "mismatch": Mismatch(**t["mismatch"]) if t.get("mismatch") else None,
                            "values": Values(**t["values"]) if t.get("values") else None})
            for t in c.get("trials", [])
        ]
        checks.append(CheckResult(**{**c, "trials": trials}))
    diagnoses = [Diagnosis(**d) for d in data.get("diagnoses", [])]
    return ExerciseResult(**{**data, "checks": checks, "diagnoses": diagnoses})


def submission_from_json(data: dict[str, Any]) -> SubmissionResult:
    """Inverse of ``SubmissionResult.to_json`` (for renderers reading ``results.jsonl``)."""
    exercises = [exercise_from_json(e) for e in data.get("exercises", [])]
    review = [ReviewFlag(**r) for r in data.get("review", [])]
    return SubmissionResult(**{**data, "exercises": exercises, "review": review})


_ATOMS = (str, int, float, bool, type(None))
_FIELDS: dict[type, tuple[str, ...]] = {}


def _plain(value: Any) -> Any:
    """``dataclasses.asdict`` for result trees: the same dicts, lists and values, atoms not deep-copied."""
    if isinstance(value, _ATOMS):
        return value
    kind = type(value)
    if kind is list:
        return [_plain(item) for item in value]
    names = _FIELDS.get(kind)
    if names is None and is_dataclass(value) and not isinstance(value, type):
        names = _FIELDS[kind] = tuple(f.name for f in fields(value))
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(_plain(item) for item in value)
    if isinstance(value, dict):
        return type(value)((_plain(k), _plain(v)) for k, v in value.items())
    return asdict(value) if is_dataclass(value) else copy.deepcopy(value)
