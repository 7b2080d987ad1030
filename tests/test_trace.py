"""Trace mode end to end: learners' notebooks and scripts, run unmodified in the real sandbox.

The fixtures in tests/trace/ are written the way learners write (top-level cells, rebound names, cells
that raise on purpose, magics, plt.show(), breakpoint(), input(), unittest, exact == checks); each test
states the verdict the grader must reach and where its evidence must point.
"""

from __future__ import annotations

import contextlib
import io
import json
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from conftest import EXERCISES, ROOT, SOLUTIONS, feedback_text
from grader.spec import SpecError, load_exercise
from grader.submission import read_submission
from grader.trace.evidence import parse_trace
from grader.trace.mode import choose_mode
from grader.trace.task import MATPLOTLIB_ENV, build_trace_task, trace_cells

FIXTURES = Path(__file__).resolve().parent / "trace"
EXERCISE = "d2l_autograd_notebook"


@pytest.fixture(scope="module")
def notebook_exercise(catalog):
    return catalog[EXERCISE]


def _grade(grader_, exercise, path: Path):
    return grader_.grade_exercise(read_submission(path), exercise)


def _checks(result) -> dict[str, object]:
    return {check.name: check for check in result.checks}


def _trace(grader_, exercise, source: str, tmp_path: Path, *, time_limit: float = 10.0):
    """Run ``source`` as a script in a trace-mode child and return the validated evidence."""
    path = tmp_path / "notebook.py"
    path.write_text(textwrap.dedent(source))
    submission = read_submission(path)
    cells, _ = trace_cells(submission)
    reference = grader_.prepare(exercise)[0]
    header, body = build_trace_task([(exercise, reference)], submission, cells, seed=0, time_limit=time_limit)
    from grader.sandbox.runner import Limits

    outcome = grader_.sandbox.run(header, body, Limits(time=time_limit), filename=str(path))
    return parse_trace(outcome, header), submission


def test_book_notebook_passes_with_evidence_per_part(grader_, notebook_exercise):
    result = _grade(grader_, notebook_exercise, FIXTURES / "ada_notebook.ipynb")
    assert result.status == "passed", feedback_text(result)
    assert result.score == pytest.approx(notebook_exercise.points)
    checks = _checks(result)
    assert checks["dot"].message.startswith("2/2 passed: cell 7, line 1: backward()")
    # The backward that raised on purpose (cell 18) is the evidence of the exercise, not a failure.
    assert "cell 18, line 3" in checks["backward_twice"].message
    assert "cell 25" in checks["sin_plot"].message and "1000 points" in checks["sin_plot"].message
    # f was redefined as sin at the end: the book's version (cell 14) is the one compared.
    assert "defined at cell 14" in checks["f_as_in_the_book"].message
    # Finite differences were evaluated at the traced leaf values, not at fixed numbers.
    trials = {t.trial: t for t in checks["control_flow_vector"].trials}
    assert "finite differences at the traced a" in trials


def test_script_with_the_loop_commented_out_and_cos_plotted_against_sin(grader_, notebook_exercise):
    result = _grade(grader_, notebook_exercise, FIXTURES / "bob_script.py")
    checks = _checks(result)
    assert result.status == "failed"
    for name in ("dot", "sum", "non_scalar", "detach", "backward_twice", "autograd"):
        assert checks[name].passed == checks[name].total, (name, checks[name].message)
    # Loop commented out: f and its gradient are wrong, although the learner's own `a.grad == d / a` printed True.
    assert checks["control_flow"].passed == 0 and "expected 1024.0" in checks["control_flow"].message
    assert checks["f_as_in_the_book"].passed == 0 and "defined at line 55" in checks["f_as_in_the_book"].message
    plot = checks["sin_plot"]
    assert plot.trials[0].passed and not plot.trials[1].passed
    assert "uses another curve's values as its x" in plot.trials[1].message
    codes = {d.code for d in result.diagnoses}
    assert {"trace_control_flow", "trace_f_as_in_the_book", "trace_sin_plot"} <= codes
    assert "requires_grad_missing" in codes  # the first try raised; the cells after it still ran
    assert any("EOFError" in d.message and d.line == 79 for d in result.diagnoses)  # input() with stdin closed
    assert "Ran 1 test" in result.output  # unittest.main(exit=False) found the class in the notebook's __main__


def test_notebook_without_autograd_is_reported_as_such(grader_, notebook_exercise):
    result = _grade(grader_, notebook_exercise, FIXTURES / "carl_no_autograd.ipynb")
    checks = _checks(result)
    assert result.status == "failed"
    assert checks["autograd"].passed == 0 and "not from autograd" in checks["autograd"].message
    plot = checks["sin_plot"]  # the curves are right, but the derivative was computed by hand
    assert plot.trials[0].passed and plot.trials[1].passed and not plot.trials[2].passed
    assert "not from autograd" in plot.trials[2].message


def test_trace_records_what_autograd_did_without_changing_it(grader_, notebook_exercise, tmp_path):
    source = """
    import torch
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    try:
        y.backward()  # non-scalar without a gradient: raises, and the learner catches it
    except RuntimeError:
        print("caught")
    y.backward(gradient=torch.tensor([1.0, 0.1, 0.01]), retain_graph=True)
    y.backward(gradient=torch.ones(3))
    (g,) = torch.autograd.grad((x ** 3).sum(), x, create_graph=True)
    print(x.grad.tolist(), g.tolist(), g.requires_grad)
    """
    evidence, _ = _trace(grader_, notebook_exercise, source, tmp_path)
    caught, first, second, grad = evidence.records
    assert "grad can be implicitly created only for scalar outputs" in caught.error
    assert first.retain_graph is True and first.graph == second.graph
    assert torch.equal(first.gradient[0], torch.tensor([1.0, 0.1, 0.01]))
    (leaf,) = first.leaves
    assert torch.equal(leaf.value, torch.tensor([1.0, 2.0, 3.0]))
    assert torch.allclose(leaf.increment, torch.tensor([2.0, 0.4, 0.06]))
    assert second.leaves[0].accumulated and torch.allclose(second.leaves[0].increment, torch.tensor([2.0, 4.0, 6.0]))
    assert grad.kind == "grad" and grad.create_graph
    assert torch.equal(grad.leaves[0].increment, torch.tensor([3.0, 12.0, 27.0]))
    # The learner's numbers are those of the same code run without the tracer.
    plain = io.StringIO()
    with contextlib.redirect_stdout(plain):
        exec(textwrap.dedent(source), {})
    assert evidence.output == plain.getvalue()


def test_hanging_cell_is_interrupted_and_the_next_cells_run(grader_, notebook_exercise, tmp_path):
    source = """
    # %%
    import torch
    # %%
    while True:
        pass
    # %%
    x = torch.arange(4.0, requires_grad=True)
    (2 * torch.dot(x, x)).backward()
    """
    evidence, _ = _trace(grader_, notebook_exercise, source, tmp_path, time_limit=2.0)
    assert [c.status for c in evidence.cells] == ["ok", "error", "ok"]
    assert evidence.cells[1].error.type == "CellTimeout"
    assert evidence.finished and len(evidence.records) == 1


def test_stand_ins_are_modules_built_in_the_child_and_grader_stays_hidden(grader_, notebook_exercise, tmp_path,
                                                                          monkeypatch):
    source = """
    # %%
    import d2l, sys
    from d2l import torch as d2l_torch
    import matplotlib.pyplot as plt
    print(d2l_torch is d2l, getattr(d2l, "__file__", None), sys.argv, __name__)
    breakpoint()
    # %%
    import grader.sandbox.trace_harness
    """
    monkeypatch.setenv(MATPLOTLIB_ENV, "stand-in")
    evidence, _ = _trace(grader_, notebook_exercise, source, tmp_path)
    assert evidence.substituted == ["matplotlib", "d2l"]
    assert evidence.cells[0].status == "ok" and "True None ['notebook.py'] __main__" in evidence.output
    assert evidence.cells[1].status == "error"  # the grader cannot be read (Landlock) nor found
    assert evidence.cells[1].error.type in ("ModuleNotFoundError", "ImportError", "PermissionError")
    assert evidence.tampering and "grader" in evidence.tampering[0].what


SIN_PLOT = """
# %%
import torch
import matplotlib.pyplot as plt
# %%
x = torch.linspace(-5, 5, 200, requires_grad=True)
y = torch.sin(x)
y.sum().backward()
fig, ax = plt.subplots()
ax.plot(x.detach(), y.detach(), label="sin")
# %%
plt.plot({against}, x.grad, label="d sin / dx")
plt.show()
"""


@pytest.mark.parametrize("against, passes", [("x.detach()", True), ("y.detach()", False)], ids=["right", "cos_vs_sin"])
@pytest.mark.parametrize("pyplot", ["matplotlib", "stand-in"])
def test_sin_plot_through_real_matplotlib_and_the_stand_in(grader_, notebook_exercise, tmp_path, monkeypatch,
                                                          pyplot, against, passes):
    """The plot exercise reads the figures' Line2D data with the real matplotlib, the recorded plot()
    arguments with the stand-in (forced by the environment variable): the same verdicts either way."""
    if pyplot == "matplotlib":
        pytest.importorskip("matplotlib", reason="the test extra installs matplotlib")
        monkeypatch.delenv(MATPLOTLIB_ENV, raising=False)
        source = "matplotlib"
    else:
        monkeypatch.setenv(MATPLOTLIB_ENV, "stand-in")
        source = "matplotlib stand-in"
    path = tmp_path / "plot.py"
    path.write_text(SIN_PLOT.format(against=against))
    evidence, _ = _trace(grader_, notebook_exercise, path.read_text(), tmp_path)
    assert ("matplotlib" in evidence.substituted) == (pyplot == "stand-in")
    assert [c.status for c in evidence.cells] == ["ok", "ok", "ok"]
    assert [(c.cell, c.source) for c in evidence.curves] == [(2, source), (3, source)]
    plot = _checks(_grade(grader_, notebook_exercise, path))["sin_plot"]
    assert [t.passed for t in plot.trials] == [True, passes, passes], plot.message
    assert f"({source}): 200 points ≈ torch.sin(x)" in plot.trials[0].message
    if not passes:
        assert "uses another curve's values as its x" in plot.trials[1].message


def test_mode_is_chosen_from_what_the_file_defines(catalog):
    exercises = list(catalog.values())
    functions = [e for e in exercises if e.mode == "function"]
    chosen, notes = choose_mode(read_submission(FIXTURES / "ada_notebook.ipynb"), exercises, functions)
    assert [e.id for e in chosen] == [EXERCISE] and notes[0].startswith("graded in trace mode")
    assert "skipped shell command `!pip install d2l==1.0.3`" not in notes[0]
    chosen, notes = choose_mode(read_submission(SOLUTIONS / "autograd" / "dot.py"), exercises, functions)
    assert chosen == functions and notes == ["graded in function mode: the file defines grad_dot, so the grader "
                                             "called the functions each exercise names"]
    # The book's f alone (a trace exercise uses that name too) does not make a file function mode.
    bob = read_submission(FIXTURES / "bob_script.py")
    assert choose_mode(bob, exercises, functions)[0][0].id == EXERCISE


def test_grader_check_picks_trace_mode_and_says_so():
    from click.testing import CliRunner

    from grader.cli import main

    result = CliRunner().invoke(main, ["check", str(FIXTURES / "ada_notebook.ipynb"), "--exercises", str(EXERCISES),
                                       "--format", "json"], catch_exceptions=False)
    document = json.loads(result.stdout)
    assert result.exit_code == 0, result.stdout
    assert [e["id"] for e in document["exercises"]] == [EXERCISE]
    assert document["notes"][0].startswith("graded in trace mode")


def test_trace_spec_errors_name_the_field(tmp_path):
    spec = (EXERCISES / "autograd_notebook" / f"{EXERCISE}.yaml").read_text()
    broken = spec.replace("    curves: [\"torch.sin(x)\", \"torch.cos(x)\"]", "    curves: [\"sinn(x)\"]", 1)
    broken = broken.replace("    call: grad\n", "    call: grad\n    leaf: scalar\n", 1)
    path = tmp_path / f"{EXERCISE}.yaml"
    path.write_text(broken)
    with pytest.raises(SpecError) as error:
        load_exercise(path)
    text = str(error.value)
    assert "expectations[9].curves[0]: unknown name 'sinn'" in text
    assert "expectations[8].leaf: 'leaf' does not apply to kind 'autograd_call'" in text
    assert "expectations[9].autograd: curve 1 does not exist" in text
    path.write_text(spec.replace("expectations:", "expectation:", 1))
    with pytest.raises(SpecError, match="expectations: required field is missing"):
        load_exercise(path)


def test_every_renderer_reads_a_trace_result(grader_, notebook_exercise, tmp_path):
    from jsonschema import Draft202012Validator

    from grader.report.registry import RENDERERS, RenderOptions
    from grader.results import SubmissionResult

    graded = _grade(grader_, notebook_exercise, FIXTURES / "bob_script.py")
    result = SubmissionResult("bob_script.py", graded.score, graded.max_score, [graded])
    schema = json.loads((ROOT / "grader" / "results.schema.json").read_text())
    Draft202012Validator(schema).validate(result.to_json())
    for name, renderer in RENDERERS.items():
        text = renderer.render([result], RenderOptions(verbose=True, color=False, width=100))
        assert "control_flow" in text or name in ("gradescope", "junit"), name
    assert "line 55" in RENDERERS["text"].render([result], RenderOptions(verbose=True, color=False, width=100))


def test_a_cell_that_kills_the_child_keeps_the_evidence_before_it(grader_, notebook_exercise, tmp_path):
    path = tmp_path / "notebook.py"
    path.write_text("# %%\nimport torch\nx = torch.arange(4.0, requires_grad=True)\n(2 * torch.dot(x, x)).backward()\n"
                    "# %%\nimport os\nos._exit(3)\n# %%\nx.sum().backward()\n")
    result = _grade(grader_, notebook_exercise, path)
    checks = _checks(result)
    assert checks["dot"].passed == checks["dot"].total == 2
    assert checks["sum"].passed == 0
    assert result.status == "failed" and "exited with status 3" in result.message


def test_a_frame_forged_on_the_result_pipe_voids_the_trace(grader_, notebook_exercise, tmp_path):
    """A cell that writes a well-formed cell frame of its own (a second report for itself) on the result
    pipe: the grader trusts nothing that child reported, and says why."""
    source = '''
    import fcntl, json, os, stat, struct
    for fd in range(3, 64):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode) and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:
                raw = json.dumps({"event": "cell", "index": 0, "status": "ok", "error": None,
                                  "records": [], "curves": []}).encode()
                os.write(fd, struct.pack("<IQ", len(raw), 0) + raw)
        except OSError:
            pass
    '''
    evidence, _ = _trace(grader_, notebook_exercise, source, tmp_path)
    assert evidence.cells == [] and evidence.calls == {}
    assert "wrote on the grader's result channel" in str(evidence.channel_error)
    assert "cell 0" in str(evidence.channel_error)


def test_a_figure_closed_or_cleared_in_the_cell_that_drew_it_is_still_read(grader_, notebook_exercise, tmp_path,
                                                                           monkeypatch):
    """Scripts save their plots and close them (or clear the figure for the next one) in the same cell."""
    pytest.importorskip("matplotlib", reason="the test extra installs matplotlib")
    monkeypatch.delenv(MATPLOTLIB_ENV, raising=False)
    source = '''
    import matplotlib.pyplot as plt
    import torch
    x = torch.linspace(0, 6, 50)
    plt.plot(x, torch.sin(x))
    plt.savefig("sin.png")
    plt.clf()
    plt.plot(x, torch.cos(x))
    plt.close()
    '''
    evidence, _ = _trace(grader_, notebook_exercise, source, tmp_path)
    assert [c.status for c in evidence.cells] == ["ok"]
    curves = evidence.curves
    assert len(curves) == 2 and all(c.source == "matplotlib" for c in curves)
    assert torch.allclose(curves[0].y, torch.sin(torch.linspace(0, 6, 50)).double(), atol=1e-6)
    assert torch.allclose(curves[1].y, torch.cos(torch.linspace(0, 6, 50)).double(), atol=1e-6)
