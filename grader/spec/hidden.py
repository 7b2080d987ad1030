"""Hidden checks: extra trials for catalog exercises, kept outside the student-facing catalog.

A hidden file (any ``*.yaml`` under ``--hidden DIR``) names one catalog exercise, the concept the extra
trials test (the only thing a student is told when they fail), a weight next to the exercise's own
check weights, and trials in the spec format's ``trials`` syntax::

    exercise: detach
    concept: "u is held constant for matrix inputs too"
    concept_zh: "对矩阵输入，u 同样被视为常数"       # optional: shown to students graded with --lang zh
    weight: 3
    trials:
      fixed:
        - x: "torch.tensor([[1.0, -2.0], [0.5, 3.0]])"
      random: 2
      shapes: [{x: [3, 3]}]

The trials are judged by the exercise's own targets, checks (but ``forbidden``, which does not depend
on inputs and is judged once), tolerance and limits. Only ``grader grade`` reads them.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator

from grader.spec.loader import (
    SPEC_FILE_SUFFIXES,
    Problem,
    SpecError,
    _Context,
    _explain,
    _FileProblem,
    _parse_yaml,
    _Semantics,
    _yaml_problem,
    build_trials,
    schema_path,
)
from grader.spec.model import Exercise

HIDDEN_SUFFIX = ".hidden"  # id suffix of the derived exercise: its own cache entry and random draws


@dataclass(frozen=True)
class HiddenChecks:
    exercise_id: str
    concept: str  # what the feedback names when a hidden trial fails; never the trials themselves
    weight: float
    exercise: Exercise  # the catalog exercise with the hidden trials in place of its own
    source: Path
    concept_zh: str = ""  # the concept for students graded in Chinese (the English one when absent)

    def concept_in(self, lang: str) -> str:
        return self.concept_zh if lang == "zh" and self.concept_zh else self.concept


@cache
def _validator() -> Draft202012Validator:
    """The spec schema's own definitions, so hidden trials are exactly the spec's ``trials``."""
    definitions = json.loads(schema_path().read_text(encoding="utf-8"))["$defs"]
    return Draft202012Validator({
        "$defs": definitions,
        "type": "object",
        "additionalProperties": False,
        "required": ["exercise", "concept", "weight", "trials"],
        "properties": {
            "exercise": {"$ref": "#/$defs/id"},
            "concept": {"type": "string", "minLength": 1, "title": "a non-empty text"},
            "concept_zh": {"type": "string", "minLength": 1, "title": "a non-empty text"},
            "weight": {"$ref": "#/$defs/positiveNumber"},
            "trials": {"$ref": "#/$defs/trials"},
        },
    })


def load_hidden(root: Path, exercises: list[Exercise]) -> dict[str, HiddenChecks]:
    """Hidden checks under ``root`` by exercise id; every problem of every file in one SpecError."""
    root = Path(root)
    if not root.is_dir():
        raise SpecError([Problem(str(root), None, "", "not a directory")])
    by_id = {exercise.id: exercise for exercise in exercises}
    found: dict[str, HiddenChecks] = {}
    problems: list[Problem] = []
    for path in sorted(p for p in root.rglob("*") if p.suffix in SPEC_FILE_SUFFIXES and p.is_file()):
        ctx = _Context(path)
        checks = _load_one(ctx, by_id)
        if checks is not None and checks.exercise_id in found:
            ctx.add(("exercise",), f"hidden checks for {checks.exercise_id!r} are also in "
                                   f"{found[checks.exercise_id].source} (give one file per exercise)")
        elif checks is not None:
            found[checks.exercise_id] = checks
        problems += ctx.problems
    if problems:
        raise SpecError(problems)
    return found


def _load_one(ctx: _Context, exercises: dict[str, Exercise]) -> HiddenChecks | None:
    try:
        data, ctx.locator = _parse_yaml(ctx.path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        ctx.add_file_problem(None, f"cannot read: {error}")
        return None
    except (yaml.YAMLError, _FileProblem) as error:
        problem = _yaml_problem(error) if isinstance(error, yaml.YAMLError) else error
        ctx.add_file_problem(problem.line, problem.message)
        return None
    for error in _validator().iter_errors(data):
        for where, message in _explain(error):
            ctx.add(where, message)
    if ctx.problems:
        return None
    base = exercises.get(data["exercise"])
    if base is None:
        ctx.add(("exercise",), f"{data['exercise']!r} is not an exercise of the catalog")
        return None
    derived = dataclasses.replace(
        base, id=base.id + HIDDEN_SUFFIX, trials=build_trials(data["trials"]),
        checks=tuple(c for c in base.checks if c.name != "forbidden"))
    semantics = _Semantics(ctx, derived)  # the spec's own rules for trials: inputs, names, expressions
    semantics.reference()
    semantics.trials()
    if ctx.problems:
        return None
    return HiddenChecks(base.id, data["concept"].strip(), float(data["weight"]), derived, ctx.path,
                        data.get("concept_zh", "").strip())
