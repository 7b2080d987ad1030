"""Diagnoses (grader/diagnose.py): every mistake issue 4 lists has a code and a real wrong submission.

Each file of tests/mistakes/ names its code in a ``# diagnosis:`` header, and tests/test_catalog.py
asserts that grading the file yields it. Here: that the issue's list is covered, that unknown failures
still show expected vs got, and the pure helpers the grader uses to name a mistake.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from conftest import MISTAKES
from grader.checks.reference import Reference
from grader.diagnose import TEXTS, FunctionFacts, diagnose_value, function_facts, prune
from grader.report.text import render_text
from grader.results import Diagnosis, SubmissionResult
from grader.spec import SpecError, load_exercise
from grader.submission import read_submission

# Issue 4's list of mistakes -> the codes that name them (a code per way the mistake shows).
ISSUE_MISTAKES: dict[str, tuple[str, ...]] = {
    "gradient accumulated across calls (expected + previous, or k × expected)": ("accumulated",),
    "backward twice without retain_graph": ("retain_graph_missing",),
    "non-scalar backward without gradient": ("nonscalar_backward",),
    "requires_grad never set": ("requires_grad_missing",),
    "work done under no_grad": ("no_grad",),
    "x is not a leaf": ("non_leaf_grad",),
    "integer tensor": ("integer_tensor",),
    "detach missing": ("not_detached",),
    "detach in the wrong place": ("detach_misplaced", "detached_everything"),
    "gradient= argument ignored": ("gradient_ignored",),
    "off by a constant factor": ("constant_factor",),
    "transposed": ("transposed",),
    "wrong shape": ("wrong_shape",),
    "returned y instead of the gradient": ("returned_output",),
    "in-place modification of a leaf": ("inplace_leaf",),
    "in-place modification of a saved tensor": ("inplace_modified",),
    ".data misuse": ("data_misuse",),
    "numpy() on a tensor that requires grad": ("numpy_requires_grad",),
    "control-flow loop removed": ("loop_removed",),
    "control-flow branch removed": ("branch_removed",),
    "returns None on one branch": ("none_on_some_inputs",),
    "second derivative without create_graph": ("create_graph_missing",),
    "not from autograd": ("not_from_autograd",),
    "forbidden operation": ("forbidden_operation",),
}

# Codes of TEXTS no wrong submission needs to exercise: catch-alls and the sandbox's own limits.
GENERIC = {"exception", "exit", "memory_limit", "not_implemented", "returned_none", "unused_input",
           "none_value_used"}


def _headers(key: str) -> dict[Path, str]:
    found = {}
    for path in sorted(MISTAKES.glob("*/*.py")):
        match = re.search(rf"^# {key}: (.+)$", path.read_text(), re.MULTILINE)
        assert match, f"{path} lacks a '# {key}:' line"
        found[path] = match.group(1).strip()
    return found


def test_every_mistake_of_the_issue_has_a_wrong_submission() -> None:
    covered = set(_headers("diagnosis").values())
    for mistake, codes in ISSUE_MISTAKES.items():
        missing = [code for code in codes if code not in covered]
        assert not missing, f"{mistake}: no file in tests/mistakes/ has '# diagnosis: {missing[0]}'"


def test_every_specific_diagnosis_has_a_wrong_submission(catalog) -> None:
    covered = set(_headers("diagnosis").values())
    codes = {text.code for text in TEXTS.values()} | {m.code for e in catalog.values() for m in e.mistakes}
    assert sorted(codes - GENERIC - covered) == []


def test_texts_name_the_mistake_and_say_what_to_do() -> None:
    for key, text in TEXTS.items():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", text.code), key
        assert text.message and text.hint, f"{key}: a message and a hint"


def test_lines_point_at_the_cause(catalog, grader_) -> None:
    """not-from-autograd points at the return, forbidden operations and no_grad at their lines."""
    for name, line_text in [("dot/formula.py", "return 4 * x"), ("sin_derivative/torch_cos.py", "return torch.cos(x)"),
                            ("sum/no_grad.py", "with torch.no_grad():")]:
        path = MISTAKES / name
        result = grader_.grade_exercise(read_submission(path), catalog[path.parent.name])
        quoted = [d.line_text for d in result.diagnoses if d.line is not None]
        assert line_text in quoted, (name, result.diagnoses)


# --------------------------------------------------------------------------- unknown failures


def test_unknown_failure_shows_expected_vs_got(catalog, grader_) -> None:
    path = MISTAKES / "control_flow" / "random_a.py"
    result = grader_.grade_exercise(read_submission(path), catalog["control_flow"])
    # random draws of the student's own a can match a known mistake by chance on some trial
    diagnosis = next(d for d in result.diagnoses if d.code == "wrong_value")
    assert re.search(r"got -?[\d.e+-]+, expected -?[\d.e+-]+", diagnosis.message), diagnosis.message
    text = render_text(SubmissionResult("random_a.py", result.score, result.max_score, [result]), color=False)
    assert diagnosis.message.split(":")[0] in text and "expected" in text


def test_wrong_value_names_the_worst_element(catalog) -> None:
    exercise = catalog["sum"]
    reference = Reference(exercise)
    x = torch.arange(6.0).reshape(2, 3)
    expected = reference.expected(exercise.targets[0], {"x": x})
    got = expected.clone()
    got[1, 2] = 7.0
    got[0, 0] = 1.5
    diagnosis = diagnose_value(reference, exercise.targets[0], {"x": x}, got, expected, 1e-4, 1e-5)
    assert diagnosis.code == "wrong_value"
    assert diagnosis.message == ("the result differs from the expected gradient: at [1, 2] got 7, expected 1 "
                                 "(2 of 6 elements differ)")


def test_a_scalar_off_is_not_called_a_constant_factor(catalog) -> None:
    """Any wrong scalar is some k × the right one: that names nothing."""
    exercise = catalog["control_flow"]
    reference = Reference(exercise)
    a = torch.tensor(1.5)
    target = next(t for t in exercise.targets if t.kind == "gradient")
    expected = reference.expected(target, {"a": a})
    diagnosis = diagnose_value(reference, target, {"a": a}, expected * 3.7, expected, 1e-4, 1e-5)
    assert diagnosis.code == "wrong_value"


def test_prune_puts_unexplained_trials_last() -> None:
    fallback = Diagnosis("wrong_value", "differs")
    assert prune([fallback]) == [fallback]
    named = Diagnosis("not_detached", "u was not detached")
    assert prune([fallback, named]) == [named, fallback]
    branch = Diagnosis("none_on_some_inputs", "f returned None for some inputs")
    assert prune([Diagnosis("returned_none", "f returned None"), branch]) == [branch]


# --------------------------------------------------------------------------- reading the student's function


def test_function_facts() -> None:
    source = '''import torch

def helper(x):
    return x.data

def grad(x):
    x = x.clone().requires_grad_(True)
    with torch.no_grad():
        y = x.sum()
    u = y.detach()
    if u > 0:
        return x.grad
    return x.grad * 2

@torch.no_grad()
def decorated(x):
    return x
'''
    assert function_facts(source, "grad") == FunctionFacts(no_grad=8, data=None, detach=10, last_return=13,
                                                           requires_grad=7)
    assert function_facts(source, "helper").data == 4
    assert function_facts(source, "decorated").no_grad == 15
    assert function_facts(source, "absent") == FunctionFacts()
    assert function_facts("def broken(:", "broken") == FunctionFacts()


# --------------------------------------------------------------------------- mistakes a spec describes

SPEC = """\
id: twice
title: "Twice"
points: 1
prompt: "Return the gradient of f(x).sum()."
functions:
  - {name: grad_f, params: [x]}
reference: |
  def f(x):
      return 2 * x
targets:
  - {function: grad_f, kind: gradient, output: "f(x).sum()"}
inputs:
  x: {shape: [3]}
checks:
  reference: {weight: 1}
mistakes:
  - code: halved
    message: "f halves x instead of doubling it"
    hint: "f doubles: return 2 * x."
    reference: |
      def f(x):
          return x / 2
"""


def test_spec_mistake_is_named_when_the_answer_matches_it(tmp_path: Path) -> None:
    path = tmp_path / "twice.yaml"
    path.write_text(SPEC)
    exercise = load_exercise(path)
    reference = Reference(exercise)
    x = torch.tensor([1.0, -2.0, 3.0])
    expected = reference.expected(exercise.targets[0], {"x": x})
    diagnosis = diagnose_value(reference, exercise.targets[0], {"x": x}, torch.full((3,), 0.5), expected, 1e-4, 1e-5)
    assert (diagnosis.code, diagnosis.message, diagnosis.hint) == (
        "halved", "f halves x instead of doubling it", "f doubles: return 2 * x.")


def test_spec_mistake_must_define_what_the_reference_defines(tmp_path: Path) -> None:
    path = tmp_path / "twice.yaml"
    path.write_text(SPEC.replace("      def f(x):\n          return x / 2", "      def g(x):\n          return x / 2"))
    with pytest.raises(SpecError, match=r"mistakes\[0\]\.reference: does not define f, which reference defines"):
        load_exercise(path)
