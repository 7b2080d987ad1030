"""Spec loader: a full valid spec becomes the right dataclasses; each class of mistake is reported at
the right file, line and field (authors jump there from the message)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from grader.spec import (
    CheckConfig,
    Exercise,
    Function,
    InputSpec,
    Limits,
    SpecError,
    Target,
    Tolerance,
    Trials,
    load_catalog,
    load_exercise,
    schema_path,
)
from grader.spec.model import CHECK_NAMES, DISTRIBUTIONS, DTYPES

# Line numbers below are 1-based lines of this text (line 1 is "id: square_vjp").
VALID = """\
id: square_vjp
order: 3
title: "Backward for a non-scalar output"
title_zh: "非标量变量的反向传播"
points: 10
prompt: |
  `y = x * x` is a vector ...
functions:
  - name: grad_square
    params: [x, v]
    doc: "Return x.grad."
reference: |
  def square(x):
      return x * x
targets:
  - function: grad_square
    kind: gradient
    output: "square(x) * u"
    gradient: v
    constants: {u: "x.sum()"}
    label: "gradient of y"
inputs:
  x:
    shape: [4]
    dtype: float64
    low: -1.5
    high: 2
    avoid: "x.abs() < 0.1"
  v:
    like: x
    distribution: normal
    std: 1e-1
trials:
  fixed:
    - x: "torch.arange(4.0)"
      v: "torch.tensor([1.0, 0.1, 0.01, 0.001])"
  random: 4
  shapes:
    - {x: [5]}
    - {x: [2, 3]}
checks:
  reference: {weight: 4}
  finite_differences: {weight: 2}
  autograd: {weight: 3}
  shape: {weight: 1}
  forbidden: {weight: 2, ops: [cos, torch.sin]}
tolerance: {rtol: 1.0e-4, atol: 1e-5}
limits: {time: 5, memory: 512}
hints:
  - "A non-scalar y needs y.backward(gradient=v)."
"""


def write(directory: Path, text: str, name: str = "square_vjp.yaml") -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def edit(old: str, new: str, text: str = VALID) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def problems(path: Path) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_exercise(path)
    return str(caught.value).splitlines()


def test_valid_spec_loads_into_dataclasses(tmp_path: Path) -> None:
    path = write(tmp_path / "autograd", VALID)
    ex = load_exercise(path)
    assert isinstance(ex, Exercise)
    assert (ex.id, ex.topic, ex.order, ex.source, ex.points) == ("square_vjp", "autograd", 3, path, 10.0)
    assert ex.title_zh == "非标量变量的反向传播" and ex.prompt.startswith("`y = x * x`")
    assert ex.functions == (Function("grad_square", ("x", "v"), "Return x.grad."),)
    assert ex.functions[0].signature == "grad_square(x, v)"
    assert ex.reference_code.startswith("def square(x):")
    assert ex.targets == (
        Target(
            function="grad_square",
            kind="gradient",
            output="square(x) * u",
            wrt="x",  # defaults to the function's first parameter
            gradient="v",
            constants=(("u", "x.sum()"),),
            label="gradient of y",
        ),
    )
    assert ex.inputs == (
        InputSpec("x", shape=(4,), dtype="float64", low=-1.5, high=2.0, avoid="x.abs() < 0.1"),
        InputSpec("v", distribution="normal", std=0.1, like="x"),
    )
    assert ex.trials == Trials(
        fixed=({"x": "torch.arange(4.0)", "v": "torch.tensor([1.0, 0.1, 0.01, 0.001])"},),
        random=4,
        shapes=({"x": (5,)}, {"x": (2, 3)}),
    )
    assert ex.checks[-1] == CheckConfig("forbidden", 2.0, (("ops", ("cos", "torch.sin")),))
    assert ex.check("forbidden").option("ops") == ("cos", "torch.sin")
    assert [c.name for c in ex.checks] == ["reference", "finite_differences", "autograd", "shape", "forbidden"]
    assert ex.tolerance == Tolerance(rtol=1e-4, atol=1e-5)  # atol was the YAML 1.1 string "1e-5"
    assert ex.limits == Limits(time=5.0, memory=512)
    assert ex.hints == ("A non-scalar y needs y.backward(gradient=v).",)
    hash(ex.targets), hash(ex.inputs), hash(ex.checks)  # frozen and hashable where the model allows


def test_minimal_spec_gets_documented_defaults(tmp_path: Path) -> None:
    text = """\
id: tiny
title: t
points: 1
prompt: p
functions: [{name: g, params: [a]}]
targets: [{function: g, kind: gradient, output: "a.sum()"}]
inputs: {a: {}}
checks: {reference: {weight: 1}}
"""
    ex = load_exercise(write(tmp_path, text, "tiny.yaml"))
    assert ex.order == 1000 and ex.trials == Trials() and ex.tolerance == Tolerance() and ex.limits == Limits()
    assert ex.inputs == (InputSpec("a"),)
    assert ex.targets[0].wrt == "a" and ex.targets[0].order == 1 and ex.targets[0].accumulate == 1


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            "    kind: gradient", "    kind: grad",
            "square_vjp.yaml:17: targets[0].kind: 'grad' is not one of 'gradient', 'value'",
            id="bad-enum",
        ),
        pytest.param(
            "    label:", "    lable:",
            "square_vjp.yaml:21: targets[0].lable: unknown key 'lable' (did you mean 'label'?)",
            id="unknown-key-suggestion",
        ),
        pytest.param(
            '    output: "square(x) * u"\n', "",
            "square_vjp.yaml:16: targets[0].output: required field is missing",  # line of the parent mapping
            id="missing-required",
        ),
        pytest.param(
            "    params: [x, v]", "    params: [x, w]",
            "square_vjp.yaml:10: functions[0].params[1]: 'w' is not an input",
            id="param-not-input",
        ),
        pytest.param(
            "    shape: [4]", "    shape: [4, -1]",
            "square_vjp.yaml:24: inputs.x.shape[1]: expected a non-negative integer, got -1",
            id="negative-dim",
        ),
        pytest.param(
            "points: 10", "points: many",
            "square_vjp.yaml:5: points: expected a positive number, got 'many'",
            id="wrong-type",
        ),
        pytest.param(
            "    kind: gradient", "    kind: value",
            "square_vjp.yaml:19: targets[0].gradient: 'gradient' applies only to kind 'gradient'",
            id="value-with-gradient-keys",
        ),
        pytest.param(
            "    like: x", "    like: y",
            "square_vjp.yaml:30: inputs.v.like: 'y' is not an input",
            id="like-unknown",
        ),
        pytest.param(
            '      v: "torch.tensor([1.0, 0.1, 0.01, 0.001])"\n', "",
            "square_vjp.yaml:35: trials.fixed[0]: fixed trial does not give 'v' (every function parameter needs a value)",
            id="fixed-trial-missing-input",
        ),
        pytest.param(
            "{weight: 2, ops: [cos, torch.sin]}", "{weight: 2, ops: []}",
            "square_vjp.yaml:46: checks.forbidden.ops: expected a non-empty list of torch function names, got an empty list",
            id="forbidden-without-ops",
        ),
        pytest.param(
            '    output: "square(x) * u"', '    output: "sqaure(x) * u"',
            "square_vjp.yaml:18: targets[0].output: unknown name 'sqaure' (did you mean 'square'?) in expression 'sqaure(x) * u'",
            id="unknown-name-in-expression",
        ),
        pytest.param(
            'avoid: "x.abs() < 0.1"', 'avoid: "v.abs() < 0.1"',
            "square_vjp.yaml:28: inputs.x.avoid: unknown name 'v' in expression 'v.abs() < 0.1'",  # sees x only
            id="avoid-sees-only-its-input",
        ),
    ],
)
def test_error_classes_report_file_line_and_field(tmp_path: Path, old: str, new: str, expected: str) -> None:
    path = write(tmp_path, edit(old, new))
    assert f"{tmp_path}/{expected}" in problems(path)


def test_syntax_error_in_one_line_expression(tmp_path: Path) -> None:
    path = write(tmp_path, edit('avoid: "x.abs() < 0.1"', 'avoid: "x.abs() <"'))
    [line] = problems(path)
    assert line.startswith(f"{path}:28: inputs.x.avoid: syntax error: ")


def test_syntax_error_in_block_scalar_reports_line_inside_it(tmp_path: Path) -> None:
    path = write(tmp_path, edit("      return x * x", "      return x *"))
    [line] = problems(path)
    assert line.startswith(f"{path}:14: reference: syntax error: invalid syntax")  # 2nd line of the block


def test_yaml_syntax_error_has_yaml_line(tmp_path: Path) -> None:
    path = write(tmp_path, edit("    dtype: float64", "    dtype: [float64"))
    [line] = problems(path)
    assert line.startswith(f"{path}:26: YAML syntax error: ")


def test_stem_must_equal_id(tmp_path: Path) -> None:
    path = write(tmp_path, VALID, "other_name.yaml")
    assert problems(path) == [f"{path}:1: id: id 'square_vjp' differs from the file name 'other_name' (they must be equal)"]


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    path = write(tmp_path, edit("points: 10\n", "points: 10\npoints: 5\n"))
    assert problems(path) == [f"{path}:6: points: duplicate key 'points' (only the last value would be used)"]


def test_all_problems_of_a_file_are_reported_together(tmp_path: Path) -> None:
    text = edit("    kind: gradient", "    kind: grad", edit("points: 10", "pionts: 10"))
    lines = problems(write(tmp_path, text))
    assert [line.split(": ", 2)[1] for line in lines] == ["points", "pionts", "targets[0].kind"]
    assert "unknown key 'pionts' (did you mean 'points'?)" in lines[1]


def test_catalog_sorted_and_duplicate_ids_name_both_files(tmp_path: Path) -> None:
    write(tmp_path / "b_topic", VALID)
    write(tmp_path / "a_topic", edit("order: 3", "order: 2", VALID.replace("square_vjp", "late")), "late.yaml")
    write(tmp_path / "a_topic", VALID.replace("square_vjp", "early").replace("order: 3", "order: 1"), "early.yml")
    assert [(ex.topic, ex.id) for ex in load_catalog(tmp_path)] == [
        ("a_topic", "early"), ("a_topic", "late"), ("b_topic", "square_vjp"),
    ]

    write(tmp_path / "c_topic", VALID)
    write(tmp_path / "d_topic", "id: [broken\n", "broken.yaml")
    with pytest.raises(SpecError) as caught:
        load_catalog(tmp_path)
    first, second = tmp_path / "b_topic" / "square_vjp.yaml", tmp_path / "c_topic" / "square_vjp.yaml"
    assert str(caught.value).splitlines()[0] == f"{second}:1: id: duplicate id 'square_vjp' (also defined in {first})"
    assert len(caught.value.problems) == 2  # the broken file is reported in the same error
    assert str(caught.value.problems[1]).startswith(f"{tmp_path / 'd_topic' / 'broken.yaml'}:2: YAML syntax error")


def test_schema_is_valid_draft_2020_12_and_matches_model() -> None:
    schema = json.loads(schema_path().read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert tuple(schema["$defs"]["checks"]["properties"]) == CHECK_NAMES
    assert tuple(schema["$defs"]["input"]["properties"]["dtype"]["enum"]) == DTYPES
    assert tuple(schema["$defs"]["input"]["properties"]["distribution"]["enum"]) == DISTRIBUTIONS
