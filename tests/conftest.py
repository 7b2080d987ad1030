"""Shared fixtures: one warm sandbox for the whole test session (its zygote imports torch once)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.sandbox.runner import Sandbox

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "exercises"
SOLUTIONS = ROOT / "solutions"
MISTAKES = Path(__file__).resolve().parent / "mistakes"
GRACE = ROOT / "examples" / "submissions" / "grace.py"  # passes some exercises, makes several known mistakes


@pytest.fixture(scope="session")
def sandbox():
    with Sandbox() as box:
        yield box


@pytest.fixture(scope="session")
def bare_grader():
    """A grader whose children have fork, rlimits and process groups only: the fallback where the
    kernel offers no namespaces, Landlock or seccomp."""
    from grader.grading import Grader

    with Sandbox(layers=()) as box:
        yield Grader(box, seed=0)


@pytest.fixture
def homework(pytester: pytest.Pytester) -> pytest.Pytester:
    """A homework repository holding grace.py as homework.py (for modules with ``pytest_plugins = ["pytester"]``)."""
    shutil.copy(GRACE, pytester.path / "homework.py")
    return pytester


@pytest.fixture(scope="session")
def catalog():
    from grader.spec import load_catalog

    return {exercise.id: exercise for exercise in load_catalog(EXERCISES)}


@pytest.fixture(scope="session")
def grader_(sandbox):
    from grader.grading import Grader

    return Grader(sandbox, seed=0)


def live_children(sandbox) -> list[int]:
    """Processes the zygote is parent of, but for its spare (forked ahead, waiting for the next run):
    a submission's children, or orphans it would re-parent there (subreaper)."""
    from grader.sandbox.zygote import SPARE_NAME

    pid = sandbox.zygote_pid
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            children = [int(p) for p in handle.read().split()]
    except OSError:
        return []
    alive = []
    for child in children:
        try:
            with open(f"/proc/{child}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{child}/comm", "rb") as comm:
                name = comm.read().strip()
        except OSError:
            continue
        if fields[0] != "Z" and name != SPARE_NAME:
            alive.append(child)
    return alive


def feedback_text(result) -> str:
    """Everything a student reads about an exercise, lowercased, for "the message names the mistake"."""
    parts = [result.message]
    parts += [f"{d.code} {d.message} {d.hint}" for d in result.diagnoses]
    for check in result.checks:
        parts.append(check.message)
        parts += [t.message for t in check.trials]
    return "\n".join(parts).lower()
