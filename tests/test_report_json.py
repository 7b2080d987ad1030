"""The JSON report: valid against the schema, strict JSON, and readable back into results."""

from __future__ import annotations

import json
import math
from pathlib import Path

import jsonschema
import pytest

from grader.report.json_report import parse_json, render_json
from grader.results import (
    CheckResult,
    Diagnosis,
    ExerciseResult,
    Mismatch,
    SubmissionResult,
    TrialOutcome,
    submission_from_json,
)

SCHEMA = json.loads((Path(__file__).parents[1] / "grader" / "results.schema.json").read_text("utf-8"))


def sample_result() -> SubmissionResult:
    """A passed, a failed (diagnosis, mismatch, hints, output) and an errored exercise.

    Also imported by test_report_text.
    """
    passed = ExerciseResult(
        id="square_vjp", title="Backward for a non-scalar output", status="passed", score=10, max_score=10,
        checks=[CheckResult("reference", 4, 5, 5, 4.0, 4.0, trials=[TrialOutcome("fixed 1", True)])],
        duration=0.4,
    )
    failed = ExerciseResult(
        id="chain_rule", title="The chain rule through a detached constant", status="failed",
        score=4.5, max_score=10,
        message="The gradient is wrong for 3 of 5 trials.",
        checks=[
            CheckResult(
                "reference", 4, 2, 5, 1.6, 4.0, message="3 of 5 trials differ from the reference",
                trials=[
                    TrialOutcome("fixed 1", True),
                    TrialOutcome(
                        "random 1 (shape [2, 3])", False, "gradient differs",
                        Mismatch(0.5, 0.25, [1, 2], 1.5, 2.0, 3, 6),
                    ),
                    TrialOutcome("random 2 (shape [5])", False, "gradient differs",
                                 Mismatch(0.1, 0.05, [4], 0.9, 1.0, 1, 5)),
                    TrialOutcome("random 3 (shape [1000])", False, "gradient differs"),
                    TrialOutcome("fixed 2", True, skipped=True),
                ],
            ),
            CheckResult("shape", 1, 5, 5, 1.0, 1.0, trials=[TrialOutcome("fixed 1", True)]),
        ],
        diagnoses=[
            Diagnosis("detach_missing", "The constant u still carries a gradient.",
                      hint="Use u = (x * x).detach() so backward() treats it as a constant.", line=12),
        ],
        hints=["Only x should receive a gradient."],
        output="step 1\nstep 2\n",
        output_truncated=True,
        duration=1.25,
    )
    error = ExerciseResult(
        id="hessian", title="Second derivatives", status="error", score=0, max_score=10,
        message="NameError: name 'hvp' is not defined",
        output="Traceback (most recent call last):\n  ...\nNameError: name 'hvp' is not defined\n",
    )
    return SubmissionResult(
        submission="hw3.ipynb", score=14.5, max_score=30, exercises=[passed, failed, error],
        notes=["cell 3, line 1: skipped IPython magic `%matplotlib inline`"],
        seed=7, grader_version="0.1.0", duration=2.5,
    )


def test_schema_is_valid() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_output_validates_and_round_trips() -> None:
    result = sample_result()
    text = render_json(result)
    document = json.loads(text)  # exactly one document: json.loads rejects trailing data
    jsonschema.validate(document, SCHEMA, cls=jsonschema.Draft202012Validator)
    assert submission_from_json(document) == result
    assert parse_json(text) == result
    assert text.startswith('{\n  "submission": "hw3.ipynb"')


def test_one_line_for_jsonl_and_unicode_kept() -> None:
    result = sample_result()
    result.exercises[0].title = "非标量变量的反向传播"
    line = render_json(result, indent=None)
    assert "\n" not in line and "非标量变量的反向传播" in line


def test_non_finite_floats_are_spelled_out() -> None:
    result = sample_result()
    trial = result.exercises[1].checks[0].trials[1]
    trial.mismatch = Mismatch(math.inf, math.nan, [0], math.nan, -math.inf, 6, 6)
    trial.message = "NaN"  # free text that happens to spell one stays text
    text = render_json(result)
    document = json.loads(text)
    jsonschema.validate(document, SCHEMA, cls=jsonschema.Draft202012Validator)
    mismatch = document["exercises"][1]["checks"][0]["trials"][1]["mismatch"]
    assert mismatch == {
        "max_abs_error": "Infinity", "max_rel_error": "NaN", "index": [0], "got": "NaN",
        "expected": "-Infinity", "mismatched": 6, "total": 6,
    }
    back = parse_json(text).exercises[1].checks[0].trials[1]
    assert back.message == "NaN"
    assert back.mismatch is not None
    assert back.mismatch.max_abs_error == math.inf and back.mismatch.expected == -math.inf
    assert math.isnan(back.mismatch.max_rel_error) and math.isnan(back.mismatch.got)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("seed"),
        lambda d: d["exercises"][0].update(status="skipped"),
        lambda d: d["exercises"][0].update(extra=1),
        lambda d: d["exercises"][1]["checks"][0]["trials"][1]["mismatch"].update(got="big"),
        lambda d: d.update(format_version=2),
    ],
)
def test_schema_rejects_other_documents(mutate) -> None:
    document = json.loads(render_json(sample_result()))
    mutate(document)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, SCHEMA, cls=jsonschema.Draft202012Validator)


def test_docs_example_validates() -> None:
    """The example document in docs/results.md is valid and complete."""
    doc = (Path(__file__).parents[1] / "docs" / "results.md").read_text("utf-8")
    example = doc.split("```json\n", 1)[1].split("```", 1)[0]
    document = json.loads(example)
    jsonschema.validate(document, SCHEMA, cls=jsonschema.Draft202012Validator)
    assert submission_from_json(document).exercises
