"""Static review flags: the ways to reach the recorders' state are flagged, honest code never is."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ROOT
from grader.checks.review import flags_reaching, review
from grader.grading import STATE_REACHERS
from grader.submission import read_submission

HONEST = [p for folder in ("solutions", "tests/mistakes", "examples", "exercises", "tests/trace")
          for p in sorted((ROOT / folder).rglob("*")) if p.suffix in (".py", ".ipynb")]


@pytest.mark.parametrize("path", HONEST, ids=lambda p: str(p.relative_to(ROOT)))
def test_honest_code_reaches_nothing(path: Path) -> None:
    """Model answers, the catalog's typical mistakes, examples and starters: distrust would be a false alarm."""
    flags = [f for f in review(read_submission(path).source) if f.code in STATE_REACHERS]
    assert flags == []


@pytest.mark.parametrize("line", [
    'g = getattr(torch.autograd.backward, "__glob" + "als__")',
    "g = torch.autograd.backward.__globals__",
    "c = torch.autograd.backward.__closure__[0].cell_contents",
    'd = vars(type(torch.autograd.backward))',
    "f = functools.reduce(getattr, ['a'], torch)",
    "import inspect",
    "s = ().__class__.__base__.__subclasses__()",
    'e = __builtins__["ev" + "al"]',
    'b = globals()["__buil" + "tins__"]',
    "k = torch._jit_internal",
    "import torch._dynamo",
    "frame = sys._getframe(0)",
    "m = sys.modules",
    "code = compile(text, 'x', 'exec')",
    "getter = operator.attrgetter(name)",
])
def test_ways_to_reach_the_recorders_are_flagged(line: str) -> None:
    source = f"import functools, operator, sys, torch\n{line}\n"
    assert [f for f in review(source) if f.code in STATE_REACHERS and f.line == 2], line


def test_a_flag_counts_where_it_can_act() -> None:
    source = """import inspect

def helper():
    return inspect.stack()

def grad_dot(x):
    return helper()

def grad_sum(x):
    return x

def grad_detached(x):
    return getattr(x, "gr" + "ad")
"""
    flags = [f for f in review(source) if f.code in STATE_REACHERS]
    assert {f.line for f in flags} == {1, 13}
    assert [f.line for f in flags_reaching(source, ["grad_dot"], flags)] == [1]  # inspect, used by its helper
    assert flags_reaching(source, ["grad_sum"], flags) == []  # another exercise's code does not taint it
    assert [f.line for f in flags_reaching(source, ["grad_detached"], flags)] == [13]
    assert [f.line for f in flags_reaching("x = getattr(int, 'rea' + 'l')\n" + source, ["grad_sum"],
                                           review("x = getattr(int, 'rea' + 'l')\n" + source))
            if f.code in STATE_REACHERS] == [1]  # top-level code runs before every call
