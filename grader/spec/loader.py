"""Load exercise specs (YAML) into the frozen model, reporting every problem with its file and line.

Pipeline for one file: text -> composed YAML node tree (kept only for line numbers) -> plain data ->
JSON Schema (structure, types, unknown keys) -> model dataclasses -> semantic checks (cross references,
expression syntax and names). Bad input never escapes as anything but a ``SpecError``, because spec
authors need ``file:line: field: message`` lines, not tracebacks.

Numbers: PyYAML follows YAML 1.1, where an unquoted ``1e-5`` (no dot) is a *string*. The schema therefore
accepts a number or a numeric string wherever a float is expected, and this loader converts with
``float()``. Integer fields (``memory``, ``random``, ``order``, ...) take integers only.
"""

from __future__ import annotations

import ast
import builtins
import difflib
import json
import math
import symtable
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from grader.spec.model import (
    CheckConfig,
    Exercise,
    Expectation,
    Function,
    InputSpec,
    KnownMistake,
    Limits,
    Target,
    Tolerance,
    Trials,
)

__all__ = [
    "EXPRESSION_GLOBALS",
    "Problem",
    "SpecError",
    "load_catalog",
    "load_exercise",
    "schema_path",
]

#: Names the grader puts in scope for every expression, besides builtins, inputs, constants and the
#: names ``reference`` defines. Expressions using anything else are reported as unknown names.
EXPRESSION_GLOBALS: tuple[str, ...] = ("torch", "math")

#: Files a catalog folder is read from.
SPEC_FILE_SUFFIXES: tuple[str, ...] = (".yaml", ".yml")

#: Target keys that only make sense when differentiating.
GRADIENT_ONLY_KEYS: tuple[str, ...] = ("wrt", "gradient", "constants", "order", "direction", "accumulate")

#: Checks that only apply to gradient targets.
GRADIENT_CHECKS: tuple[str, ...] = ("finite_differences", "autograd")

#: Expectation keys each kind requires, and the kind-specific keys it accepts (trace mode).
EXPECTATION_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "leaf_gradient": (("output",), ("output", "wrt", "constants", "leaf", "call")),
    "second_backward": ((), ()),
    "autograd_call": ((), ("call", "create_graph")),
    "plot": (("curves",), ("curves", "autograd", "min_points")),
    "function_value": (("function", "output", "inputs"), ("function", "output", "inputs")),
}
_EXPECTATION_COMMON = ("id", "kind", "weight", "label", "hint", "label_zh", "hint_zh")

#: Distribution parameters, to flag ones the chosen distribution ignores.
DISTRIBUTION_PARAMS: dict[str, tuple[str, ...]] = {"uniform": ("low", "high"), "normal": ("mean", "std")}

JsonPath = tuple[Any, ...]  # mapping keys (usually str) and list indexes


# --------------------------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a spec, located well enough for an editor to jump to it."""

    path: str
    line: int | None  # 1-based; None when the whole file is concerned (e.g. unreadable)
    field: str  # dotted/indexed path such as ``targets[0].kind``; "" for the whole document
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"

    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.path, self.line or 0, self.field, self.message)


class SpecError(Exception):
    """Every problem found in one spec or a whole catalog, so authors can fix them in one pass."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems: list[Problem] = sorted(set(problems), key=Problem.sort_key)
        super().__init__(self.problems)

    def __str__(self) -> str:
        return "\n".join(map(str, self.problems))


def format_field(path: JsonPath) -> str:
    """``('targets', 0, 'kind')`` -> ``targets[0].kind``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _suggest(word: object, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


# ---------------------------------------------------------------------------------------- yaml + lines


@dataclass
class _Locator:
    """Maps JSON paths to 1-based YAML lines; built from the composed node tree before construction.

    A mapping value is located at its key's line (``x:`` rather than the first line of its body), a
    list item at its first line. Unknown paths (a missing key) fall back to the nearest ancestor.
    """

    lines: dict[JsonPath, int] = field(default_factory=dict)
    nodes: dict[JsonPath, yaml.Node] = field(default_factory=dict)
    duplicates: list[JsonPath] = field(default_factory=list)

    @classmethod
    def build(cls, root: yaml.Node, loader: yaml.SafeLoader) -> _Locator:
        locator = cls()
        locator._visit(root, (), root.start_mark.line + 1, loader, set())
        return locator

    def _visit(self, node: yaml.Node, path: JsonPath, line: int, loader: yaml.SafeLoader, active: set[int]) -> None:
        self.lines[path], self.nodes[path] = line, node
        if id(node) in active:  # recursive alias
            return
        active.add(id(node))
        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
                    continue  # merged keys are located at the mapping that merges them
                key = loader.construct_object(key_node)
                child = (*path, key)
                if key in seen:
                    self.duplicates.append(child)
                seen.add(key)
                self._visit(value_node, child, key_node.start_mark.line + 1, loader, active)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._visit(item, (*path, index), item.start_mark.line + 1, loader, active)
        active.discard(id(node))

    def line(self, path: JsonPath) -> int:
        for end in range(len(path), -1, -1):
            if (line := self.lines.get(path[:end])) is not None:
                return line
        return 1

    def text_line(self, path: JsonPath, lineno: int) -> int:
        """The file line of line ``lineno`` (1-based) inside the string at ``path``."""
        node = self.nodes.get(path)
        if not isinstance(node, yaml.ScalarNode):
            return self.line(path)
        block = node.style in ("|", ">")  # content starts on the line after the indicator
        return node.start_mark.line + 1 + int(block) + lineno - 1


_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~10x faster


def _parse_yaml(text: str) -> tuple[Any, _Locator]:
    """Compose once for line numbers, then construct the data from the same nodes."""
    loader = _SAFE_LOADER(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise _FileProblem(1, "empty document (expected a mapping of spec fields)")
        locator = _Locator.build(root, loader)
        return loader.construct_document(root), locator
    finally:
        loader.dispose()


class _FileProblem(Exception):
    """Internal: a problem that stops reading a file before any field can be checked."""

    def __init__(self, line: int | None, message: str):
        super().__init__(message)
        self.line, self.message = line, message


def _yaml_problem(error: yaml.YAMLError) -> _FileProblem:
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        context = f" ({error.context})" if error.context else ""
        return _FileProblem(mark.line + 1 if mark else None, f"YAML syntax error: {error.problem}{context}")
    return _FileProblem(None, f"YAML error: {error}")


# ----------------------------------------------------------------------------------------------- schema


def schema_path() -> Path:
    """The JSON Schema file, for ``grader validate`` and editors."""
    return Path(__file__).with_name("exercise.schema.json")


@cache
def _validator() -> Draft202012Validator:
    schema = json.loads(schema_path().read_text(encoding="utf-8"))  # tests check the schema itself
    return Draft202012Validator(schema)


_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "object": "a mapping",
    "array": "a list",
    "boolean": "true or false",
    "null": "an empty value",
}


def _describe(value: object) -> str:
    """How a YAML author would name ``value``."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else repr(value[:37] + "...")
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    if isinstance(value, dict):
        return "a mapping" if value else "an empty mapping"
    return f"a {type(value).__name__} ({value})"


def _explain(error: ValidationError) -> Iterator[tuple[JsonPath, str]]:
    """Turn one jsonschema error into (field path, message) pairs worded for YAML authors."""
    path = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if "propertyNames" in error.schema_path:  # the instance is the offending key itself
        name, expected = error.instance, schema.get("title", "a name")
        hint = " (YAML 1.1 reads unquoted yes/no/on/off as booleans: quote it)" if isinstance(name, bool) else ""
        yield (*path, name), f"invalid name {_describe(name)} (expected {expected}){hint}"
    elif error.validator == "required":
        for name in error.validator_value:
            if name not in error.instance:
                yield (*path, name), "required field is missing"
    elif error.validator == "additionalProperties":
        allowed = list(schema.get("properties", {}))
        for key in error.instance:
            if key not in allowed:
                hint = _suggest(key, allowed) or f" (expected one of {', '.join(map(repr, allowed))})"
                yield (*path, key), f"unknown key {key!r}{hint}"
    elif error.validator == "enum":
        yield path, f"{error.instance!r} is not one of {', '.join(map(repr, error.validator_value))}"
    elif "title" in schema:
        yield path, f"expected {schema['title']}, got {_describe(error.instance)}"
    elif error.validator == "type":
        types = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        yield path, f"expected {' or '.join(_TYPE_NAMES.get(t, t) for t in types)}, got {_describe(error.instance)}"
    else:
        yield path, error.message


# ---------------------------------------------------------------------------------------------- loading


@dataclass
class _Context:
    """Problems of one file, with the locator that gives each its line."""

    path: Path
    locator: _Locator = field(default_factory=_Locator)
    problems: list[Problem] = field(default_factory=list)

    def add(self, where: JsonPath, message: str, line: int | None = None) -> None:
        line = self.locator.line(where) if line is None else line
        self.problems.append(Problem(str(self.path), line, format_field(where), message))

    def add_file_problem(self, line: int | None, message: str) -> None:
        """A problem with the file as a whole (unreadable, not YAML), before any field exists."""
        self.problems.append(Problem(str(self.path), line, "", message))

    def parse(self, where: JsonPath, source: str, mode: str = "eval") -> ast.AST | None:
        """Parse an expression (or ``reference`` code), reporting a SyntaxError at its file line."""
        try:
            return ast.parse(source, filename=str(self.path), mode=mode)
        except SyntaxError as error:
            line = self.locator.text_line(where, error.lineno or 1)
            column = f" (column {error.offset} of that line)" if error.offset else ""
            self.add(where, f"syntax error: {error.msg}{column}", line)
            return None

    def check_expression(self, where: JsonPath, source: str, scope: Iterable[str] | None) -> None:
        """Syntax first, then every free name must be in ``scope`` (None: unknown, skip the names)."""
        if self.parse(where, source) is None or scope is None:
            return
        known = set(scope)
        for name in sorted(_free_names(source) - known - set(dir(builtins))):
            self.add(where, f"unknown name {name!r}{_suggest(name, known)} in expression {source.strip()!r}")


def _free_names(source: str) -> set[str]:
    """Names an expression reads from its globals (not those bound by lambdas or comprehensions)."""
    names: set[str] = set()
    pending = [symtable.symtable(source, "<expression>", "eval")]
    while pending:
        table = pending.pop()
        names.update(s.get_name() for s in table.get_symbols() if s.is_global() and not s.is_assigned())
        pending.extend(table.get_children())
    return names


def _defined_names(source: str) -> set[str]:
    """Top-level names that ``reference`` code defines (functions, classes, assignments, imports)."""
    table = symtable.symtable(source, "<reference>", "exec")
    return {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}


def _freeze(value: object) -> object:
    """Lists -> tuples, so check options stay hashable inside frozen dataclasses."""
    if isinstance(value, list):
        return tuple(_freeze(item) for item in value)
    if isinstance(value, dict):
        return tuple((key, _freeze(item)) for key, item in value.items())
    return value


def build_trials(raw: Mapping[str, Any]) -> Trials:
    """Schema-valid ``trials`` data -> Trials (also used for hidden trials, grader/spec/hidden.py)."""
    return Trials(
        fixed=tuple(dict(entry) for entry in raw.get("fixed", [])),
        random=int(raw.get("random", Trials.random)),
        shapes=tuple({name: tuple(map(int, shape)) for name, shape in entry.items()} for entry in raw.get("shapes", [])),
    )


class _Builder:
    """Schema-valid data -> Exercise, plus the semantic checks the schema cannot express."""

    def __init__(self, ctx: _Context, data: dict[str, Any]):
        self.ctx, self.data = ctx, data

    def number(
        self, raw: Mapping[str, Any], key: str, where: JsonPath, default: float, *, positive: bool = False
    ) -> float:
        """float() of a number or numeric string; the schema cannot bound strings nor reject .nan/.inf."""
        value = raw.get(key, default)
        number = float(value)
        if not math.isfinite(number):
            self.ctx.add((*where, key), f"expected a finite number, got {value!r}")
        elif isinstance(value, str) and (number < 0 or (positive and number == 0)):
            sign = "positive" if positive else "non-negative"
            self.ctx.add((*where, key), f"expected a {sign} number, got {value!r}")
        return number

    def build(self) -> Exercise:
        data = self.data
        functions = tuple(Function(f["name"], tuple(f["params"]), f.get("doc", "")) for f in data.get("functions", []))
        by_name = {f.name: f for f in functions}
        raw_trials = data.get("trials", {})
        raw_tolerance, raw_limits = data.get("tolerance", {}), data.get("limits", {})
        return Exercise(
            id=data["id"],
            title=data["title"],
            points=self.number(data, "points", (), 0.0, positive=True),
            prompt=data["prompt"],
            functions=functions,
            targets=tuple(self.target(i, raw, by_name) for i, raw in enumerate(data.get("targets", []))),
            inputs=tuple(self.input(name, raw) for name, raw in data.get("inputs", {}).items()),
            trials=build_trials(raw_trials),
            checks=tuple(
                CheckConfig(
                    name,
                    self.number(raw, "weight", ("checks", name), 0.0),
                    tuple(sorted((k, _freeze(v)) for k, v in raw.items() if k != "weight")),
                )
                for name, raw in data.get("checks", {}).items()
            ),
            reference_code=data.get("reference", ""),
            tolerance=Tolerance(
                rtol=self.number(raw_tolerance, "rtol", ("tolerance",), Tolerance.rtol),
                atol=self.number(raw_tolerance, "atol", ("tolerance",), Tolerance.atol),
            ),
            limits=Limits(
                time=self.number(raw_limits, "time", ("limits",), Limits.time, positive=True),
                memory=int(raw_limits.get("memory", Limits.memory)),
                output=int(raw_limits.get("output", Limits.output)),
            ),
            hints=tuple(data.get("hints", [])),
            mistakes=tuple(KnownMistake(m["code"], m["message"], m["reference"], m.get("hint", ""),
                                        m.get("message_zh", ""), m.get("hint_zh", ""))
                           for m in data.get("mistakes", [])),
            prompt_zh=data.get("prompt_zh", ""),
            title_zh=data.get("title_zh", ""),
            hints_zh=tuple(data.get("hints_zh", [])),
            topic=self.ctx.path.resolve().parent.name,
            order=int(data.get("order", Exercise.order)),
            source=self.ctx.path,
            mode=data.get("mode", Exercise.mode),
            expectations=tuple(self.expectation(i, raw) for i, raw in enumerate(data.get("expectations", []))),
        )

    def expectation(self, index: int, raw: dict[str, Any]) -> Expectation:
        """Schema-valid expectation data -> Expectation; keys the kind does not use are reported."""
        where = ("expectations", index)
        required, allowed = EXPECTATION_KEYS[raw["kind"]]
        for key in raw:
            if key not in _EXPECTATION_COMMON and key not in allowed:
                self.ctx.add((*where, key), f"{key!r} does not apply to kind {raw['kind']!r}")
        for key in required:
            if key not in raw:
                self.ctx.add((*where, key), f"required for kind {raw['kind']!r}")
        return Expectation(
            id=raw["id"],
            kind=raw["kind"],
            weight=self.number(raw, "weight", where, 1.0),
            label=raw.get("label", ""),
            hint=raw.get("hint", ""),
            output=raw.get("output", ""),
            wrt=raw.get("wrt", Expectation.wrt),
            constants=tuple(raw.get("constants", {}).items()),
            leaf=raw.get("leaf", Expectation.leaf),
            call=raw.get("call", Expectation.call),
            create_graph=raw.get("create_graph"),
            curves=tuple(raw.get("curves", ())),
            autograd=tuple(int(i) for i in raw.get("autograd", ())),
            min_points=int(raw.get("min_points", Expectation.min_points)),
            function=raw.get("function", ""),
            inputs=tuple(dict(entry) for entry in raw.get("inputs", ())),
            label_zh=raw.get("label_zh", ""),
            hint_zh=raw.get("hint_zh", ""),
        )

    def target(self, index: int, raw: dict[str, Any], functions: Mapping[str, Function]) -> Target:
        where = ("targets", index)
        kind = raw["kind"]
        if kind == "value":
            for key in GRADIENT_ONLY_KEYS:
                if key in raw:
                    self.ctx.add((*where, key), f"{key!r} applies only to kind 'gradient'")
        wrt = raw.get("wrt")
        function = functions.get(raw["function"])
        if kind == "gradient" and wrt is None and function is not None and function.params:
            wrt = function.params[0]  # documented default
        return Target(
            function=raw["function"],
            kind=kind,
            output=raw["output"],
            wrt=wrt,
            gradient=raw.get("gradient"),
            constants=tuple(raw.get("constants", {}).items()),
            order=int(raw.get("order", Target.order)),
            direction=raw.get("direction"),
            accumulate=int(raw.get("accumulate", Target.accumulate)),
            label=raw.get("label", ""),
        )

    def input(self, name: str, raw: dict[str, Any]) -> InputSpec:
        where = ("inputs", name)
        distribution = raw.get("distribution", InputSpec.distribution)
        for other, params in DISTRIBUTION_PARAMS.items():
            for key in params:
                if other != distribution and key in raw:
                    message = f"{key!r} is ignored by distribution {distribution!r} (it is a {other!r} parameter)"
                    self.ctx.add((*where, key), message)
        spec = InputSpec(
            name=name,
            shape=tuple(map(int, raw.get("shape", ()))),
            dtype=raw.get("dtype", InputSpec.dtype),
            distribution=distribution,
            low=self.number(raw, "low", where, InputSpec.low),
            high=self.number(raw, "high", where, InputSpec.high),
            mean=self.number(raw, "mean", where, InputSpec.mean),
            std=self.number(raw, "std", where, InputSpec.std, positive=True),
            like=raw.get("like"),
            avoid=raw.get("avoid"),
        )
        if distribution == "uniform" and not spec.low < spec.high:
            self.ctx.add((*where, "high"), f"high ({spec.high}) must be greater than low ({spec.low})")
        if "like" in raw and "shape" in raw:
            self.ctx.add((*where, "shape"), f"give either 'shape' or 'like', not both ({spec.like!r} sets the shape)")
        return spec


class _Semantics:
    """Cross-reference and expression checks on a built Exercise; each problem points at its field."""

    def __init__(self, ctx: _Context, exercise: Exercise):
        self.ctx, self.ex = ctx, exercise
        self.inputs = {spec.name: spec for spec in exercise.inputs}
        self.functions = {f.name: f for f in exercise.functions}
        self.reference_names: set[str] | None = set()  # None: reference is broken, names unknown

    def run(self) -> None:
        self.identity()
        self.reference()
        self.mistakes()
        self.input_specs()
        self.function_specs()
        for index, target in enumerate(self.ex.targets):
            self.target(index, target)
        self.trials()
        self.checks()
        self.expectations()

    def not_input(self, where: JsonPath, name: str) -> None:
        self.ctx.add(where, f"{name!r} is not an input{_suggest(name, self.inputs)}")

    def scope(self, names: Iterable[str]) -> set[str] | None:
        """Globals plus ``names``, mirroring what the evaluator passes for each kind of expression
        (grader/checks/reference.py, grader/trials.py); None when a broken reference hides its names."""
        if self.reference_names is None:
            return None
        return set(EXPRESSION_GLOBALS) | self.reference_names | set(names)

    def identity(self) -> None:
        stem = self.ctx.path.stem
        if stem != self.ex.id:
            self.ctx.add(("id",), f"id {self.ex.id!r} differs from the file name {stem!r} (they must be equal)")

    def reference(self) -> None:
        code = self.ex.reference_code
        if code:
            parsed = self.ctx.parse(("reference",), code, mode="exec") is not None
            self.reference_names = _defined_names(code) if parsed else None

    def mistakes(self) -> None:
        """A mistake's reference replaces ``reference``: it must define every name the expressions use."""
        for index, mistake in enumerate(self.ex.mistakes):
            where = ("mistakes", index, "reference")
            if self.ctx.parse(where, mistake.reference, mode="exec") is None or self.reference_names is None:
                continue
            missing = sorted(self.reference_names - _defined_names(mistake.reference))
            if missing:
                self.ctx.add(where, f"does not define {', '.join(missing)}, which reference defines")

    def input_specs(self) -> None:
        for name, spec in self.inputs.items():
            where = ("inputs", name)
            if name in EXPRESSION_GLOBALS:
                self.ctx.add(where, f"input name {name!r} would hide the module {name!r} in expressions")
            if spec.like is not None:
                self.like_chain(name)
            if spec.avoid is not None:
                self.ctx.check_expression((*where, "avoid"), spec.avoid, self.scope([name]))  # own draw only
            if name in (self.reference_names or ()):
                self.ctx.add(where, f"input {name!r} would hide the {name!r} that reference defines")

    def like_chain(self, name: str) -> None:
        """``like`` must end at an input with its own shape: no unknown names, no cycles."""
        chain = [name]
        while (like := self.inputs[chain[-1]].like) is not None:
            if like not in self.inputs:
                if len(chain) == 1:
                    self.not_input(("inputs", name, "like"), like)
                return
            if like in chain:
                if chain[0] == min(chain[chain.index(like):]):  # report each cycle once
                    cycle = " -> ".join([*chain[chain.index(like):], like])
                    self.ctx.add(("inputs", name, "like"), f"'like' cycle: {cycle}")
                return
            chain.append(like)

    def function_specs(self) -> None:
        seen: set[str] = set()
        for index, function in enumerate(self.ex.functions):
            where = ("functions", index)
            if function.name in seen:
                self.ctx.add((*where, "name"), f"duplicate function name {function.name!r}")
            seen.add(function.name)
            for position, param in enumerate(function.params):
                if param not in self.inputs:
                    self.not_input((*where, "params", position), param)
                if function.params.index(param) != position:
                    self.ctx.add((*where, "params", position), f"parameter {param!r} is repeated")

    def target(self, index: int, target: Target) -> None:
        where = ("targets", index)
        function = self.functions.get(target.function)
        if function is None:
            hint = _suggest(target.function, self.functions)
            self.ctx.add((*where, "function"), f"{target.function!r} is not one of the functions{hint}")
        constants = dict(target.constants)
        self.ctx.check_expression((*where, "output"), target.output, self.scope([*self.inputs, *constants]))
        for name, expression in target.constants:
            if name in self.inputs:
                self.ctx.add((*where, "constants", name), f"constant {name!r} hides the input of the same name")
            self.ctx.check_expression((*where, "constants", name), expression, self.scope(self.inputs))
        if target.kind != "gradient":
            return
        if target.wrt is None:  # only when the function is unknown or has no params
            if function is not None:
                self.ctx.add((*where, "wrt"), f"no 'wrt' given and {function.name}() has no parameters to default to")
        for key in ("wrt", "gradient", "direction"):
            name = getattr(target, key)
            if name is None:
                continue
            if name not in self.inputs:
                self.not_input((*where, key), name)
            elif function is not None and name not in function.params:
                message = f"{name!r} is not a parameter of {function.signature}, so the student cannot see it"
                self.ctx.add((*where, key), message)
        if target.gradient is not None and target.gradient == target.wrt:
            self.ctx.add((*where, "gradient"), f"the vector {target.gradient!r} must differ from wrt {target.wrt!r}")
        if target.direction is not None and target.order != 2:
            self.ctx.add((*where, "direction"), "'direction' only applies with order: 2")

    def trials(self) -> None:
        trials = self.ex.trials
        needed = {param for f in self.ex.functions for param in f.params if param in self.inputs}
        for index, entry in enumerate(trials.fixed):
            where = ("trials", "fixed", index)
            for name, expression in entry.items():
                if name not in self.inputs:
                    self.not_input((*where, name), name)
                earlier = list(self.inputs)[: list(self.inputs).index(name)] if name in self.inputs else []
                self.ctx.check_expression((*where, name), expression, self.scope(earlier))  # declared before it
            missing = sorted(needed - entry.keys())
            if missing:
                names = ", ".join(map(repr, missing))
                self.ctx.add(where, f"fixed trial does not give {names} (every function parameter needs a value)")
        for index, entry in enumerate(trials.shapes):
            for name in entry:
                where, spec = ("trials", "shapes", index, name), self.inputs.get(name)
                if spec is None:
                    self.not_input(where, name)
                elif spec.like is not None:
                    self.ctx.add(where, f"input {name!r} takes its shape from {spec.like!r}")
        if not trials.fixed and trials.random == 0:
            self.ctx.add(("trials",), "no trials: give fixed trials or random > 0")

    def expectations(self) -> None:
        """Trace mode: unique ids, a positive weight somewhere, expressions that parse and use known names."""
        if self.ex.mode != "trace":
            for index, _ in enumerate(self.ex.expectations):
                self.ctx.add(("expectations", index), "expectations apply only with mode: trace")
            return
        if not any(e.weight > 0 for e in self.ex.expectations):
            self.ctx.add(("expectations",), "no expectation has a positive weight, so nothing would be graded")
        seen: set[str] = set()
        for index, expectation in enumerate(self.ex.expectations):
            where = ("expectations", index)
            if expectation.id in seen:
                self.ctx.add((*where, "id"), f"duplicate expectation id {expectation.id!r}")
            seen.add(expectation.id)
            constants = dict(expectation.constants)
            if expectation.kind == "leaf_gradient" and expectation.output:
                scope = self.scope([expectation.wrt, *constants])
                self.ctx.check_expression((*where, "output"), expectation.output, scope)
                for name, expression in expectation.constants:
                    self.ctx.check_expression((*where, "constants", name), expression, self.scope([expectation.wrt]))
            for position, curve in enumerate(expectation.curves):
                self.ctx.check_expression((*where, "curves", position), curve, self.scope(["x"]))
            for position in expectation.autograd:
                if position >= len(expectation.curves):
                    self.ctx.add((*where, "autograd"), f"curve {position} does not exist (curves are numbered from 0)")
            if expectation.kind == "function_value" and expectation.inputs:
                params = list(expectation.inputs[0])
                if expectation.output:
                    self.ctx.check_expression((*where, "output"), expectation.output, self.scope(params))
                for position, entry in enumerate(expectation.inputs):
                    if list(entry) != params:
                        self.ctx.add((*where, "inputs", position), f"give the parameters {params} in this order")
                    for name, expression in entry.items():
                        self.ctx.check_expression((*where, "inputs", position, name), expression, self.scope([]))

    def checks(self) -> None:
        if self.ex.mode == "trace":
            return  # graded by its expectations; checks, if given, are not used
        if not any(check.weight > 0 for check in self.ex.checks):
            self.ctx.add(("checks",), "no check has a positive weight, so nothing would be graded")
        if not any(target.kind == "gradient" for target in self.ex.targets):
            for check in self.ex.checks:
                if check.name in GRADIENT_CHECKS and check.weight > 0:
                    message = f"{check.name!r} applies only to gradient targets, and there are none"
                    self.ctx.add(("checks", check.name), message)


@dataclass
class _Loaded:
    exercise: Exercise | None
    ctx: _Context


def _load(path: Path) -> _Loaded:
    """Load one file, collecting problems instead of raising."""
    ctx = _Context(path)
    try:
        data, ctx.locator = _parse_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        ctx.add_file_problem(None, f"cannot read: {error}")
        return _Loaded(None, ctx)
    except (yaml.YAMLError, _FileProblem) as error:
        problem = _yaml_problem(error) if isinstance(error, yaml.YAMLError) else error
        ctx.add_file_problem(problem.line, problem.message)
        return _Loaded(None, ctx)
    for duplicate in ctx.locator.duplicates:
        ctx.add(duplicate, f"duplicate key {duplicate[-1]!r} (only the last value would be used)")
    for error in _validator().iter_errors(data):
        for where, message in _explain(error):
            ctx.add(where, message)
    if ctx.problems:  # the builder relies on a schema-valid structure
        return _Loaded(None, ctx)
    exercise = _Builder(ctx, data).build()
    _Semantics(ctx, exercise).run()
    return _Loaded(None if ctx.problems else exercise, ctx)


def load_exercise(path: Path) -> Exercise:
    """Load and check one spec; raises SpecError listing every problem in it."""
    loaded = _load(Path(path))
    if loaded.exercise is None:
        raise SpecError(loaded.ctx.problems)
    return loaded.exercise


def load_catalog(root: Path) -> list[Exercise]:
    """Every ``*.yaml``/``*.yml`` under ``root``, sorted by (topic, order, id).

    Problems from all files (and duplicate ids across files) are gathered into one SpecError, so a
    broken catalog is fixed in one pass rather than one file per run.
    """
    root = Path(root)
    if not root.is_dir():
        raise SpecError([Problem(str(root), None, "", "not a directory")])
    paths = sorted(p for p in root.rglob("*") if p.suffix in SPEC_FILE_SUFFIXES and p.is_file())
    problems: list[Problem] = []
    by_id: dict[str, Exercise] = {}
    for path in paths:
        loaded = _load(path)
        problems += loaded.ctx.problems
        exercise = loaded.exercise
        if exercise is None:
            continue
        first = by_id.setdefault(exercise.id, exercise)
        if first is not exercise:
            loaded.ctx.add(("id",), f"duplicate id {exercise.id!r} (also defined in {first.source})")
            problems.append(loaded.ctx.problems[-1])
    if problems:
        raise SpecError(problems)
    return sorted(by_id.values(), key=lambda ex: (ex.topic, ex.order, ex.id))
