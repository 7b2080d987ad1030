"""The bundled catalog: every model answer scores full marks, every typical mistake fails by name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import EXERCISES, MISTAKES, SOLUTIONS, feedback_text
from grader.submission import read_submission

MISTAKE_FILES = sorted(MISTAKES.glob("*/*.py"))


def _header(path: Path, key: str) -> str:
    match = re.search(rf"^# {key}: (.+)$", path.read_text(), re.MULTILINE)
    assert match, f"{path} lacks a '# {key}:' line"
    return match.group(1).strip()


@pytest.mark.parametrize("exercise_id", sorted(p.stem for p in EXERCISES.glob("*/*.yaml")))
def test_model_answer_scores_full_marks(exercise_id, catalog, grader_):
    exercise = catalog[exercise_id]
    result = grader_.grade_exercise(read_submission(SOLUTIONS / exercise.topic / f"{exercise_id}.py"), exercise)
    assert result.status == "passed", feedback_text(result)
    assert result.score == pytest.approx(exercise.points)


@pytest.mark.parametrize("exercise_id", sorted(p.stem for p in EXERCISES.glob("*/*.yaml")))
def test_starter_file_is_reported_as_not_implemented(exercise_id, catalog, grader_):
    exercise = catalog[exercise_id]
    result = grader_.grade_exercise(read_submission(EXERCISES / exercise.topic / f"{exercise_id}.py"), exercise)
    assert result.status != "passed"
    assert "not_implemented" in feedback_text(result)


def test_every_exercise_has_typical_mistakes(catalog):
    for exercise_id in catalog:
        mistakes = list((MISTAKES / exercise_id).glob("*.py"))
        assert len(mistakes) >= 2, exercise_id
        assert (MISTAKES / exercise_id / "formula.py").exists(), f"{exercise_id}: no hand-written formula mistake"


@pytest.mark.parametrize("path", MISTAKE_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_mistake_fails_with_a_message_that_names_it(path, catalog, grader_):
    exercise = catalog[path.parent.name]
    result = grader_.grade_exercise(read_submission(path), exercise)
    text = feedback_text(result)
    assert result.status != "passed", f"{_header(path, 'mistake')} was not caught"
    assert _header(path, "expect").lower() in text, text
    # ... and is recognised by its stable code, with a message and a hint (grader/diagnose.py)
    code = _header(path, "diagnosis")
    diagnosis = next((d for d in result.diagnoses if d.code == code), None)
    assert diagnosis is not None, f"expected {code}, got {[d.code for d in result.diagnoses]}\n{text}"
    assert diagnosis.message and diagnosis.hint
    if path.stem == "formula":
        autograd = next(c for c in result.checks if c.name == "autograd")
        assert autograd.passed == 0 and "not from autograd" in autograd.message
