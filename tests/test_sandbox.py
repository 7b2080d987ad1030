"""Student code runs in a hardened child: crashes, hangs, floods and lies cost only that exercise."""

from __future__ import annotations

import os
import textwrap
import time

import pytest

from conftest import ROOT, feedback_text, live_children
from grader.submission import read_submission

GOOD_DOT = """
import torch
def grad_dot(x):
    x.requires_grad_(True)
    (2 * torch.dot(x, x)).backward()
    return x.grad
"""

GOOD_SUM = """
def grad_sum(x):
    x.requires_grad_(True)
    x.sum().backward()
    return x.grad
"""


def _grade(tmp_path, grader_, catalog, body: str, exercise: str = "dot", *, time_limit: float | None = None,
           name: str = "submission.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    spec = catalog[exercise]
    if time_limit is not None:
        from dataclasses import replace

        spec = replace(spec, limits=replace(spec.limits, time=time_limit))
    return grader_.grade_exercise(read_submission(path), spec)


def test_correct_answer_passes(tmp_path, grader_, catalog):
    result = _grade(tmp_path, grader_, catalog, GOOD_DOT)
    assert result.status == "passed", feedback_text(result)


def test_infinite_loop_hits_the_time_limit_and_leaves_no_process(tmp_path, grader_, catalog, sandbox):
    start = time.monotonic()
    result = _grade(tmp_path, grader_, catalog, GOOD_DOT + "\ndef grad_dot(x):\n    while True:\n        pass\n",
                    time_limit=1.0)
    assert time.monotonic() - start < 6
    assert result.status == "error" and "time limit" in result.message
    time.sleep(0.2)
    assert live_children(sandbox) == []


def test_partial_credit_survives_a_hang_in_a_later_trial(tmp_path, grader_, catalog):
    body = GOOD_DOT.replace("    x.requires_grad_(True)", "    if x.numel() > 500:\n        while True: pass\n"
                            "    x.requires_grad_(True)")
    result = _grade(tmp_path, grader_, catalog, body, time_limit=1.5)
    assert result.status == "failed"
    assert 0 < result.score < result.max_score
    assert "time limit" in feedback_text(result)


@pytest.mark.parametrize("exit_call, words", [
    ("import sys; sys.exit(0)", "sys.exit(0)"),
    ("import os; os._exit(0)", "exited with status 0"),
    ("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)", "crashed"),
])
def test_exits_and_crashes_are_named(tmp_path, grader_, catalog, exit_call, words):
    body = GOOD_DOT.replace("    x.requires_grad_(True)", f"    {exit_call}\n    x.requires_grad_(True)")
    result = _grade(tmp_path, grader_, catalog, body)
    assert result.status in ("failed", "error")
    assert words in feedback_text(result)


def test_exit_at_import_time_is_reported(tmp_path, grader_, catalog):
    result = _grade(tmp_path, grader_, catalog, "import sys\nsys.exit(0)\n" + GOOD_DOT)
    assert result.status == "error"
    assert "not defined" in result.message and "sys.exit(0)" in result.message


def test_input_and_breakpoint_do_not_hang(tmp_path, grader_, catalog):
    body = GOOD_DOT.replace("    x.requires_grad_(True)", "    breakpoint()\n    try:\n        input('? ')\n"
                            "    except EOFError:\n        pass\n    x.requires_grad_(True)")
    start = time.monotonic()
    result = _grade(tmp_path, grader_, catalog, body, time_limit=3)
    assert result.status == "passed", feedback_text(result)
    assert time.monotonic() - start < 3


def test_output_is_captured_and_capped(tmp_path, grader_, catalog):
    body = GOOD_DOT.replace("    x.requires_grad_(True)", "    print('x' * 100000)\n    x.requires_grad_(True)")
    result = _grade(tmp_path, grader_, catalog, "print('<script>hello</script>')\n" + body)
    assert result.status == "passed"
    assert result.output.startswith("<script>hello</script>")
    assert result.output_truncated and len(result.output) <= catalog["dot"].limits.output


def test_memory_limit(tmp_path, grader_, catalog):
    body = GOOD_DOT.replace("    x.requires_grad_(True)", "    big = torch.ones(2_000_000_000)\n    x.requires_grad_(True)")
    result = _grade(tmp_path, grader_, catalog, body)
    assert result.status in ("failed", "error")
    assert "memory" in feedback_text(result)


def test_syntax_error_names_the_line(tmp_path, grader_, catalog):
    result = _grade(tmp_path, grader_, catalog, "import torch\n\ndef grad_dot(x)\n    return x\n")
    assert result.status == "error"
    assert "syntaxerror" in result.message.lower() and "line 3" in result.message


def test_missing_function(tmp_path, grader_, catalog):
    result = _grade(tmp_path, grader_, catalog, GOOD_SUM)
    assert result.status == "error" and "grad_dot is not defined" in result.message


def test_garbage_on_the_result_pipe_costs_only_this_submission(tmp_path, grader_, catalog):
    body = GOOD_DOT.replace("    x.requires_grad_(True)", "    import os\n    for fd in range(3, 20):\n"
                            "        try: os.write(fd, b'\\xff' * 64)\n        except OSError: pass\n"
                            "    x.requires_grad_(True)")
    result = _grade(tmp_path, grader_, catalog, body)
    assert result.status in ("failed", "error")
    again = _grade(tmp_path, grader_, catalog, GOOD_DOT, name="other.py")
    assert again.status == "passed"


def test_mutating_torch_in_the_child_changes_nothing_in_the_grader(tmp_path, grader_, catalog):
    body = "import torch\ntorch.allclose = lambda *a, **k: True\ntorch.Tensor.__eq__ = lambda *a: True\n" \
           "def grad_dot(x):\n    x.requires_grad_(True)\n    (3 * torch.dot(x, x)).backward()\n    return x.grad\n"
    result = _grade(tmp_path, grader_, catalog, body)
    assert result.status == "failed"
    again = _grade(tmp_path, grader_, catalog, GOOD_DOT, name="other.py")
    assert again.status == "passed"


def test_a_process_forked_by_student_code_does_not_outlive_the_run(tmp_path, bare_grader, catalog):
    # Without seccomp (which refuses fork outright), the process group kill is what ends it.
    pid_file = tmp_path / "grandchild.pid"
    body = GOOD_DOT.replace("    x.requires_grad_(True)", "    import os, time\n    if os.fork() == 0:\n"
                            f"        open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
                            "        time.sleep(60)\n        os._exit(0)\n    time.sleep(0.2)\n"
                            "    x.requires_grad_(True)")
    result = _grade(tmp_path, bare_grader, catalog, body)
    assert result.status == "passed", feedback_text(result)
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                state = stat.read().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return
        if state == "Z":
            return
        time.sleep(0.05)
    pytest.fail(f"process {pid} forked by the submission is still running")


def test_a_huge_return_value_is_refused_with_a_reason(tmp_path, grader_, catalog):
    body = GOOD_SUM.replace("    return x.grad", "    return torch.ones(10**8)")
    result = _grade(tmp_path, grader_, catalog, "import torch\n" + body, exercise="sum")
    assert result.status == "failed" and result.score == 0
    assert "381 mib" in feedback_text(result)


def _grade_together(tmp_path, grader_, catalog, body: str, ids: list[str], time_limit: float | None = None):
    """Several exercises sharing one child, as ``Grader.grade`` runs them."""
    from dataclasses import replace

    path = tmp_path / "submission.py"
    path.write_text(textwrap.dedent(body))
    specs = [catalog[i] for i in ids]
    if time_limit is not None:
        specs = [replace(s, limits=replace(s.limits, time=time_limit)) for s in specs]
    return grader_.grade_together(read_submission(path), specs)


@pytest.mark.parametrize("kill", ["import os; os._exit(3)", "while True: pass",
                                  "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"])
def test_an_exercise_that_kills_the_shared_child_costs_only_itself(tmp_path, grader_, catalog, kill):
    broken_dot = f"def grad_dot(x):\n    {kill}\n"
    results = _grade_together(tmp_path, grader_, catalog, GOOD_SUM + broken_dot,
                              ["sum", "dot", "square_vjp", "detach"], time_limit=1.0)
    assert results["sum"].status == "passed"
    assert results["dot"].status == "error"
    # Exercises the dead child never reached ran in a fresh child: graded on their own merits.
    assert results["square_vjp"].status == "error" and "grad_square is not defined" in results["square_vjp"].message
    assert results["detach"].status == "error" and "not defined" in results["detach"].message


def test_shared_child_splits_output_and_time_per_exercise(tmp_path, grader_, catalog):
    body = ("print('loading')\n" + GOOD_SUM.replace("    x.sum()", "    print('in sum')\n    x.sum()")
            + GOOD_DOT.replace("    x.requires_grad_(True)", "    print('in dot')\n    x.requires_grad_(True)"))
    results = _grade_together(tmp_path, grader_, catalog, body, ["sum", "dot"])
    assert all(r.status == "passed" for r in results.values())
    assert results["sum"].output.startswith("loading\nin sum") and "in dot" not in results["sum"].output
    assert results["dot"].output.startswith("loading\nin dot") and "in sum" not in results["dot"].output


def test_each_exercise_of_a_shared_child_keeps_its_own_time_limit(tmp_path, grader_, catalog):
    slow_sum = GOOD_SUM.replace("    x.sum()", "    import time; time.sleep(0.6)\n    x.sum()")
    start = time.monotonic()
    results = _grade_together(tmp_path, grader_, catalog, slow_sum + GOOD_DOT, ["sum", "dot"], time_limit=1.5)
    # sum sleeps 0.6 s per trial (5 trials): its limit ends it; dot, next in the same child, gets its own 1.5 s.
    assert results["sum"].status in ("failed", "error") and "time limit" in feedback_text(results["sum"])
    assert results["dot"].status == "passed", feedback_text(results["dot"])
    assert time.monotonic() - start < 8


def test_code_drawing_its_own_random_numbers_gets_the_same_grade_every_time(tmp_path, grader_, catalog):
    body = """
import random
import torch

def grad_dot(x):
    noise = torch.randn(x.shape) * 1e-3 + random.random() * 1e-3  # seeded by the harness before each call
    x = x.clone().requires_grad_(True)
    (2 * torch.dot(x, x)).backward()
    return x.grad + noise
"""
    first = _grade(tmp_path, grader_, catalog, body)
    second = _grade(tmp_path, grader_, catalog, body)
    assert first.score == second.score
    assert [c.trials for c in first.checks] == [c.trials for c in second.checks]


def _programs(tmp_path, files: dict[str, str], catalog) -> list:
    """One program per file, graded on the exercise it is named after (a folder hand-in's layout)."""
    programs = []
    for name, body in files.items():
        path = tmp_path / name
        path.write_text(textwrap.dedent(body))
        programs.append((read_submission(path), [catalog[path.stem]]))
    return programs


@pytest.mark.parametrize("jobs", [1, 2])
def test_several_programs_share_a_child_each_judged_on_its_own(tmp_path, sandbox, catalog, jobs):
    from grader.grading import Grader

    files = {"sum.py": "print('sum loading')\n" + GOOD_SUM,
             "dot.py": "import os\nprint('dot loading', flush=True)\nos._exit(3)\n",
             "detach.py": "print('detach loading')\n" + (ROOT / "solutions" / "autograd" / "detach.py").read_text()}
    programs = _programs(tmp_path, files, catalog)
    graded = Grader(sandbox, seed=0, jobs=jobs).grade_programs(programs)
    by_id = {r.exercises[0].id: r.exercises[0] for r in graded}
    assert [r.submission for r in graded] == [str(p.path) for p, _ in programs]
    assert by_id["sum"].status == "passed" and by_id["detach"].status == "passed", feedback_text(by_id["detach"])
    # The program that killed the child while loading costs only its own exercise, with the reason.
    assert by_id["dot"].status == "error" and "status 3" in by_id["dot"].message
    # Each program's output is its own: loading output is never attributed to another program.
    assert by_id["sum"].output.startswith("sum loading") and "loading" not in by_id["sum"].output[12:]
    assert by_id["detach"].output.startswith("detach loading") and "dot loading" not in by_id["detach"].output
    alone = Grader(sandbox, seed=0, jobs=1).grade(*programs[2])
    assert alone.score == graded[2].score and alone.exercises[0].message == by_id["detach"].message


def test_a_program_that_patches_torch_is_distrusted_and_the_next_program_is_not(tmp_path, grader_, catalog):
    patch = "import torch\ntorch.Tensor.sum = lambda self, *a, **k: self.abs().max()\n"
    programs = _programs(tmp_path, {"sum.py": patch + GOOD_SUM, "dot.py": GOOD_DOT}, catalog)
    from grader.grading import Grader

    first, second = Grader(grader_.sandbox, seed=0, jobs=1).grade_programs(programs)
    assert first.exercises[0].status != "passed" and "patched torch" in feedback_text(first.exercises[0])
    assert second.exercises[0].status == "passed", feedback_text(second.exercises[0])
