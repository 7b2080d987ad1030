"""Trial inputs: the spec's fixed examples plus seeded random draws, kept away from trouble.

Random draws are reproducible from (seed, exercise id, trial number) on any machine. Elements matching
the spec's ``avoid`` expression are redrawn, and a whole draw is redrawn when finite differences are
unstable there (a jump or kink within the step), so a correct student is never failed by a bad point.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

import torch

from grader.checks.finite_diff import is_stable
from grader.checks.reference import Reference, ReferenceError
from grader.i18n import ENGLISH, N_, Translator
from grader.spec.model import Exercise, InputSpec

MAX_AVOID_REDRAWS = 100
MAX_UNSTABLE_REDRAWS = 20

_DTYPES = {"float32": torch.float32, "float64": torch.float64}


# What a trial is called in reports, by kind (gettext msgids: grader/i18n.py).
_KIND_LABELS = {"fixed": N_("fixed {number}"), "random": N_("random {number}")}


@dataclass
class Trial:
    kind: str  # "fixed" | "random"
    number: int  # 1, 2, ... within its kind
    inputs: dict[str, torch.Tensor]  # the grader's own copies; the child gets its own bytes
    fd_unstable: set[str] = field(default_factory=set)  # targets whose finite differences are not judged here
    # Finite-difference estimates per target, computed at the first answer judged here and reused for
    # every later one (they depend on the reference and the inputs only).
    fd_memo: dict[str, dict] = field(default_factory=dict, repr=False, compare=False)
    # Reference results per target, and verdicts per (target, exact answer): most students return the
    # same bits for a correct answer, so a batch judges each distinct answer once (see grading.remember).
    memo: dict[tuple, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def label(self) -> str:
        """"fixed 1", "random 2": the English label, also a stable key (seeds derive from it)."""
        return f"{self.kind} {self.number}"

    @property
    def description(self) -> str:
        return self.describe(ENGLISH)

    def describe(self, tr: Translator) -> str:
        """The label and the inputs' shapes, as a report shows them, in ``tr``'s language."""
        shapes = ", ".join(f"{name}: {list(t.shape)}" for name, t in self.inputs.items())
        return f"{tr(_KIND_LABELS[self.kind], number=self.number)} ({shapes})"


def _generator(seed: int, exercise_id: str, index: int, attempt: int) -> torch.Generator:
    key = f"{seed}/{exercise_id}/{index}/{attempt}".encode()
    return torch.Generator().manual_seed(zlib.crc32(key) * 7919 + seed)


def _draw(spec: InputSpec, shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    if spec.distribution == "normal":
        values = torch.randn(shape, generator=generator, dtype=torch.float64) * spec.std + spec.mean
    else:
        values = torch.rand(shape, generator=generator, dtype=torch.float64) * (spec.high - spec.low) + spec.low
    return values.to(_DTYPES.get(spec.dtype, torch.float32))


def _shape_of(exercise: Exercise, name: str, overrides: dict[str, tuple[int, ...]], seen: tuple[str, ...] = ()) -> tuple[int, ...]:
    spec = exercise.input(name)
    if name in overrides:
        return tuple(overrides[name])
    if spec.like and spec.like not in seen:
        return _shape_of(exercise, spec.like, overrides, seen + (name,))
    return spec.shape


def _apply_avoid(exercise: Exercise, reference: Reference, name: str, value: torch.Tensor,
                 generator: torch.Generator) -> torch.Tensor:
    spec = exercise.input(name)
    if not spec.avoid:
        return value
    for _ in range(MAX_AVOID_REDRAWS):
        bad = torch.as_tensor(reference.evaluate(spec.avoid, {name: value.to(torch.float64)}), dtype=torch.bool)
        if not bool(bad.any()):
            return value
        fresh = _draw(spec, tuple(value.shape), generator)
        value = torch.where(bad.expand_as(value), fresh, value)
    return value


def _unstable_targets(exercise: Exercise, reference: Reference, inputs: dict[str, torch.Tensor],
                      generator: torch.Generator) -> set[str]:
    unstable = set()
    for target in exercise.targets:
        if target.kind != "gradient":
            continue
        problem = reference.problem(target, inputs)
        if not is_stable(problem.function, problem.x, order=problem.order, w=problem.direction, generator=generator):
            unstable.add(target.name)
    return unstable


def make_trials(exercise: Exercise, reference: Reference, seed: int = 0) -> list[Trial]:
    """Fixed trials first (in spec order), then ``trials.random`` seeded draws."""
    trials: list[Trial] = []
    names = [spec.name for spec in exercise.inputs]
    for number, fixed in enumerate(exercise.trials.fixed, start=1):
        inputs = {}
        for name in names:
            if name in fixed:
                value = torch.as_tensor(reference.evaluate(fixed[name], dict(inputs)))
                dtype = _DTYPES.get(exercise.input(name).dtype, torch.float32)
                inputs[name] = value.detach().to(dtype) if value.is_floating_point() else value.detach()
            else:
                generator = _generator(seed, exercise.id, -number, 0)
                inputs[name] = _draw(exercise.input(name), _shape_of(exercise, name, {}), generator)
        check = _generator(seed, exercise.id, -number, 1)
        trials.append(Trial("fixed", number, inputs, _unstable_targets(exercise, reference, inputs, check)))

    shapes = exercise.trials.shapes or ({},)
    for index in range(exercise.trials.random):
        overrides = shapes[index % len(shapes)]
        inputs = {}
        unstable: set[str] = set()
        for attempt in range(MAX_UNSTABLE_REDRAWS):
            generator = _generator(seed, exercise.id, index, attempt)
            inputs = {}
            for name in names:
                value = _draw(exercise.input(name), _shape_of(exercise, name, overrides), generator)
                inputs[name] = _apply_avoid(exercise, reference, name, value, generator)
            unstable = _unstable_targets(exercise, reference, inputs, generator)
            if not unstable:
                break
        trials.append(Trial("random", index + 1, inputs, unstable))
    return trials


__all__ = ["Trial", "make_trials", "ReferenceError"]
