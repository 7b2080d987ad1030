"""The Exercise model: what a YAML spec says, as plain frozen dataclasses.

Everything downstream (trial generation, reference evaluation, checks, renderers) reads these objects,
never raw YAML. Expressions (``output``, ``constants``, fixed inputs, ``avoid``) stay as source strings
here; they are evaluated by the grader only (never inside the student's process), with ``torch`` and the
names of the exercise's inputs and reference helpers in scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

TargetKind = Literal["gradient", "value"]
CheckName = Literal["reference", "finite_differences", "autograd", "shape", "forbidden"]

CHECK_NAMES: tuple[str, ...] = ("reference", "finite_differences", "autograd", "shape", "forbidden")
DTYPES: tuple[str, ...] = ("float32", "float64")
DISTRIBUTIONS: tuple[str, ...] = ("uniform", "normal")
# "function": the grader calls the student's named functions; "trace": it runs a notebook or script
# top to bottom and judges the autograd calls it made (grader/trace/).
MODES: tuple[str, ...] = ("function", "trace")
EXPECTATION_KINDS: tuple[str, ...] = ("leaf_gradient", "second_backward", "autograd_call", "plot", "function_value")


@dataclass(frozen=True)
class Function:
    """A function the student defines and the grader calls with the exercise's inputs."""

    name: str
    params: tuple[str, ...]
    doc: str = ""

    @property
    def signature(self) -> str:
        return f"{self.name}({', '.join(self.params)})"


@dataclass(frozen=True)
class InputSpec:
    """How random draws of one input are made. ``like`` copies another input's shape."""

    name: str
    shape: tuple[int, ...] = ()
    dtype: str = "float32"
    distribution: str = "uniform"
    low: float = -2.0
    high: float = 2.0
    mean: float = 0.0
    std: float = 1.0
    like: str | None = None
    avoid: str | None = None  # boolean torch expression; elements where it is true are redrawn


@dataclass(frozen=True)
class Trials:
    """Fixed trials (input name -> torch expression) and how many seeded random trials to draw."""

    fixed: tuple[dict[str, str], ...] = ()
    random: int = 3
    shapes: tuple[dict[str, tuple[int, ...]], ...] = ()  # cycled over random trials


@dataclass(frozen=True)
class Target:
    """One thing the student's function must return, and what it is compared against.

    kind ``gradient``: the derivative, with respect to ``wrt``, of ``output`` (a torch expression of the
    inputs, the ``constants`` and the reference helpers):
      - ``constants`` are sub-expressions frozen as constants (what ``.detach()`` does);
      - ``gradient`` names an input used as the vector of a vector-Jacobian product (``y.backward(v)``);
        without it ``output`` must be a scalar;
      - ``order: 2`` asks for the Hessian-vector product H·w with w = input ``direction`` or ones
        (``torch.autograd.grad(..., create_graph=True)`` then a second backward);
      - ``accumulate`` multiplies the expected gradient (calling backward k times without zeroing).
    kind ``value``: the value of ``output`` itself (e.g. the student's ``f`` against the book's ``f``).
    """

    function: str
    kind: TargetKind
    output: str
    wrt: str | None = None
    gradient: str | None = None
    constants: tuple[tuple[str, str], ...] = ()
    order: int = 1
    direction: str | None = None
    accumulate: int = 1
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or (f"{self.function}: {self.kind}")


@dataclass(frozen=True)
class KnownMistake:
    """A typical mistake the spec names: the reference code as a student making it would write it.

    The diagnosis layer evaluates every target against ``reference`` too; a wrong answer that matches
    it (and not the correct one) is diagnosed with ``code``, ``message`` and ``hint``. This names
    mistakes that only the exercise's author can describe (a loop or branch removed from ``f``).
    """

    code: str
    message: str
    reference: str
    hint: str = ""
    message_zh: str = ""
    hint_zh: str = ""


@dataclass(frozen=True)
class Expectation:
    """Trace mode: what evidence in the learner's autograd trace satisfies one part of an exercise.

    Judged by the grader against reference autograd and finite differences evaluated at the leaf values
    the learner's own code used (see docs/spec-format.md, "Trace exercises"). Kinds:
      - ``leaf_gradient``: some backward (or autograd.grad) gave a leaf ``wrt`` the increment the
        gradient of ``output`` would give (a vector-Jacobian product with the traced ``gradient``
        argument, or ones, when ``output`` is not a scalar); ``leaf`` filters scalar/non-scalar leaves;
      - ``second_backward``: a backward through a freed graph raised, or ``retain_graph`` kept it and a
        second backward accumulated;
      - ``autograd_call``: some ``call`` (backward | grad | any) ran, optionally with ``create_graph``;
      - ``plot``: one figure's curves over the same x match ``curves`` (expressions of ``x``); those
        listed in ``autograd`` must be values autograd produced;
      - ``function_value``: the learner's ``function`` (each version they defined whose signature fits)
        on the grader's ``inputs`` equals ``output``.
    """

    id: str
    kind: str
    weight: float = 1.0
    label: str = ""
    hint: str = ""
    output: str = ""
    wrt: str = "x"
    constants: tuple[tuple[str, str], ...] = ()
    leaf: str = "any"  # any | scalar | nonscalar
    call: str = "any"  # any | backward | grad
    create_graph: bool | None = None
    curves: tuple[str, ...] = ()
    autograd: tuple[int, ...] = ()
    min_points: int = 10
    function: str = ""
    inputs: tuple[dict[str, str], ...] = ()
    label_zh: str = ""
    hint_zh: str = ""

    @property
    def name(self) -> str:
        return self.label or self.id


@dataclass(frozen=True)
class CheckConfig:
    name: str
    weight: float
    options: tuple[tuple[str, object], ...] = ()

    def option(self, key: str, default: object = None) -> object:
        return dict(self.options).get(key, default)


@dataclass(frozen=True)
class Tolerance:
    """Elementwise |got - expected| <= atol + rtol * |expected| (students compute in float32)."""

    rtol: float = 1e-4
    atol: float = 1e-5


@dataclass(frozen=True)
class Limits:
    time: float = 10.0  # seconds of wall time for the whole exercise (CPU time limited likewise)
    memory: int = 1024  # MiB of data the student's code may allocate
    output: int = 65536  # bytes of stdout+stderr kept


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    points: float
    prompt: str
    functions: tuple[Function, ...]
    targets: tuple[Target, ...]
    inputs: tuple[InputSpec, ...]
    trials: Trials
    checks: tuple[CheckConfig, ...]
    reference_code: str = ""
    tolerance: Tolerance = field(default_factory=Tolerance)
    limits: Limits = field(default_factory=Limits)
    hints: tuple[str, ...] = ()
    mistakes: tuple[KnownMistake, ...] = ()
    prompt_zh: str = ""
    title_zh: str = ""
    hints_zh: tuple[str, ...] = ()
    topic: str = ""
    order: int = 1000  # position in the catalog listing (then id)
    source: Path | None = None  # the YAML file it was loaded from
    mode: str = "function"  # see MODES
    expectations: tuple[Expectation, ...] = ()  # trace mode only

    def input(self, name: str) -> InputSpec:
        for spec in self.inputs:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def check(self, name: str) -> CheckConfig | None:
        for check in self.checks:
            if check.name == name:
                return check
        return None

    @property
    def function_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.functions)


# Student-facing fields a spec may translate: ``<field>_<lang>`` beside ``<field>`` (e.g. ``title_zh``).
_TRANSLATED_FIELDS: dict[type, tuple[str, ...]] = {
    Exercise: ("title", "prompt", "hints"),
    KnownMistake: ("message", "hint"),
    Expectation: ("label", "hint"),
}


def _translated(item: Exercise | KnownMistake | Expectation, lang: str) -> dict[str, object]:
    """The fields of ``item`` that have a ``lang`` version in the spec (an empty one falls back to English)."""
    fields = {}
    for name in _TRANSLATED_FIELDS[type(item)]:
        value = getattr(item, f"{name}_{lang}", None)
        if value:
            fields[name] = value
    return fields


def localize(exercise: Exercise, lang: str) -> Exercise:
    """The exercise as a student reading ``lang`` sees it: title, prompt, hints, known mistakes and trace
    expectations in that language where the spec gives them, in English otherwise. Grading reads the
    localized copy only for what it shows; everything it computes is the same in every language."""
    if lang == "en":
        return exercise
    mistakes = tuple(replace(m, **_translated(m, lang)) for m in exercise.mistakes)  # type: ignore[arg-type]
    expectations = tuple(replace(e, **_translated(e, lang)) for e in exercise.expectations)  # type: ignore[arg-type]
    return replace(exercise, mistakes=mistakes, expectations=expectations,  # type: ignore[arg-type]
                   **_translated(exercise, lang))
