"""The red-team suite: one hostile submission per attack (``attacks/*.py``), each graded for real.

Each attack file holds the attack only; the test adds correct answers to two other exercises, which
must still pass beside it.

Every attack file says in its header what it tries, which exercise it attacks, the words its feedback
must contain, and the kernel layer it needs blocked (the test skips, naming the layer, where this
machine lacks it). For each one: the attacked exercise does not pass and the reason names what
happened; the other exercises of the same file are still graded correctly; no process of the
submission is left; nothing was written outside the child's directory; the grader stayed within its
time limits.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from conftest import ROOT, feedback_text, live_children
from grader.submission import read_submission

ATTACKS = Path(__file__).resolve().parent / "attacks"
TIME_LIMIT = 2.0  # seconds per exercise: attacks that hang cost this much
OTHERS = ("sum", "square_vjp")
# Correct answers to OTHERS, appended to every attack file whose header does not say "others: failed".
# "others: distrusted": an attack at the file's top level taints every exercise of the file, so the correct
# answers appended must not pass and must say why.
CORRECT_OTHERS = """

def grad_sum(x):
    x = x.clone().requires_grad_(True)
    x.sum().backward()
    return x.grad


def grad_square(x, v):
    x = x.clone().requires_grad_(True)
    (x * x).backward(gradient=v)
    return x.grad
"""


@dataclass
class Attack:
    path: Path
    what: str
    target: str
    expect: str
    needs: str = ""
    others: str = "graded"
    status: str = "not-passed"


def _load(path: Path) -> Attack:
    fields = {}
    for line in path.read_text().splitlines():
        if not line.startswith("# ") or ":" not in line:
            break
        key, value = line[2:].split(":", 1)
        fields[key.strip()] = value.strip()
    return Attack(path, fields["attack"], fields["target"], fields.get("expect", ""), fields.get("needs", ""),
                  fields.get("others", "graded"), fields.get("status", "not-passed"))


def _canaries(tmp_path: Path) -> list[Path]:
    """Where an escaped attack would leave its ``pwned*`` files."""
    places = [Path("/tmp"), Path("/dev/shm"), ROOT, ROOT / "exercises", ROOT / "solutions", tmp_path,
              Path.home()]
    return [hit for place in places if place.is_dir() for hit in place.glob("pwned*")]


@pytest.fixture(scope="module")
def layers(sandbox) -> dict[str, dict]:
    return sandbox.layers()


@pytest.mark.parametrize("path", sorted(ATTACKS.glob("*.py")), ids=lambda p: p.stem)
def test_attack_is_contained(path: Path, tmp_path: Path, sandbox, grader_, catalog, layers):
    attack = _load(path)
    for layer in filter(None, attack.needs.split(",")):
        if not layers.get(layer.strip(), {}).get("available"):
            pytest.skip(f"needs the {layer} layer, missing here: {layers.get(layer, {}).get('detail')}")
    for stale in _canaries(tmp_path):
        stale.unlink()

    submissions = tmp_path / "submissions"
    (submissions / "classmate").mkdir(parents=True)
    (submissions / "classmate" / "answer.py").write_text("def grad_dot(x):\n    return 4 * x\n")
    student = submissions / "student"
    student.mkdir()
    # A json.py beside the submission that the grader must never import (module shadowing).
    (student / "json.py").write_text("open('/tmp/pwned-shadow', 'w').write('imported')\n")
    source = path.read_text()
    constants = f"REPO = {str(ROOT)!r}\nSUBMISSIONS = {str(submissions)!r}\n"
    submission_file = student / "solution.py"
    submission_file.write_text(constants + source + (CORRECT_OTHERS if attack.others != "failed" else ""))

    exercises = [replace(catalog[i], limits=replace(catalog[i].limits, time=TIME_LIMIT))
                 for i in (attack.target, *OTHERS)]
    start = time.monotonic()
    results = grader_.grade_together(read_submission(submission_file), exercises)
    elapsed = time.monotonic() - start

    attacked = results[attack.target]
    text = feedback_text(attacked)
    if attack.status == "passed":
        assert attacked.status == "passed", text
    else:
        assert attacked.status != "passed", f"{attack.what}: the attack passed\n{text}"
        assert attacked.score < attacked.max_score
    assert attack.expect.lower() in text, f"{attack.what}: feedback does not say {attack.expect!r}:\n{text}"
    for other in OTHERS:
        if attack.others == "graded":
            assert results[other].status == "passed", f"{other} suffered from {attack.what}:\n" + \
                feedback_text(results[other])
        elif attack.others == "distrusted":
            assert results[other].status != "passed" and "not trusted" in feedback_text(results[other])
        else:
            assert results[other].status != "passed"

    deadline = time.monotonic() + 3.0
    while live_children(sandbox) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert live_children(sandbox) == [], "a process of the submission outlived its grading"
    assert _canaries(tmp_path) == [], "the submission wrote outside its own directory"
    assert os.listdir(sandbox.workdir_root) == [], "a child's directory was left behind"
    # Each exercise may use its limit; beyond that, only fork and judging.
    assert elapsed < len(exercises) * (TIME_LIMIT + 1.0) + 5.0


def test_binary_garbage_gets_a_clear_error(tmp_path, grader_, catalog):
    garbage = tmp_path / "garbage.py"
    garbage.write_bytes(bytes(range(256)) * 8)
    try:
        submission = read_submission(garbage)
    except Exception as exc:  # noqa: BLE001 - the error a student sees, whatever its class
        assert "garbage.py" in str(exc) and "Traceback" not in str(exc)
        return
    result = grader_.grade_exercise(submission, catalog["dot"])
    assert result.status == "error" and result.message


def test_the_suite_has_at_least_thirty_attacks():
    assert len(list(ATTACKS.glob("*.py"))) >= 30
