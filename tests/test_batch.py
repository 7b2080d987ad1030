"""`grader grade`: discovery conventions, rows with reasons, resume after kill -9, hidden checks, Dask.

One class folder (24 hand-ins in every supported layout) is graded once uninterrupted; the other runs
(killed and resumed, on a LocalCluster) must produce the same outputs. Grading runs in subprocesses,
as instructors run it; nothing here asserts on time.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import EXERCISES, ROOT
from grader.batch.discover import discover
from grader.cli import main

EXAMPLES = ROOT / "examples" / "submissions"

# A hidden trial with values no visible trial has: none of them may reach a student.
HIDDEN_VALUES = ("7.3125", "-3.5625", "11.0625", "0.4375")
HIDDEN_SPEC = f"""\
exercise: detach
concept: "u stays constant for matrix inputs too"
weight: 5
trials:
  fixed:
    - x: "torch.tensor([[{HIDDEN_VALUES[0]}, {HIDDEN_VALUES[1]}], [{HIDDEN_VALUES[2]}, {HIDDEN_VALUES[3]}]])"
  random: 1
  shapes: [{{x: [3, 3]}}]
"""
# Passes every visible trial of detach, fails on square matrices: only the hidden check notices.
VECTOR_ONLY = (EXAMPLES / "ada.py").read_text() + '''

def grad_detached(x):
    if x.dim() == 2 and x.shape[0] == x.shape[1]:  # square matrices: no visible trial has one
        x = x.clone().requires_grad_(True)
        (x * x * x).sum().backward()
        return x.grad
    x = x.clone().requires_grad_(True)
    u = (x * x).detach()
    (u * x).sum().backward()
    return x.grad
'''


def make_class(root: Path) -> Path:
    """24 hand-ins: plain files, folders (mixed .py/.ipynb), Canvas and Moodle names, broken ones."""
    cls = root / "class"
    cls.mkdir()
    sources = sorted(EXAMPLES.iterdir())
    for i in range(12):
        source = sources[i % len(sources)]
        shutil.copy(source, cls / f"student{i:02d}{source.suffix}")
    for i in range(4):  # Canvas: lastname_firstname_userid_submissionid_file, late, resubmitted
        late = "late_" if i == 1 else ""
        name = "solution-1.py" if i == 2 else "solution.py"
        shutil.copy(sources[i % 2], cls / f"doe{i}_jane_{late}{1000 + i}_{5000 + i}_{name}")
    for i in range(3):  # Moodle folders
        folder = cls / f"Ann Lee{i}_{700 + i}_assignsubmission_file_"
        folder.mkdir()
        shutil.copy(sources[i % 3], folder / sources[i % 3].name)
    mixed = cls / "mixed"  # one exercise in its own file, the rest in a notebook
    mixed.mkdir()
    shutil.copy(EXAMPLES / "ken.ipynb", mixed / "work.ipynb")
    (mixed / "detach.py").write_text("import torch\n\ndef grad_detached(x):\n    return x * x\n")
    (cls / "vector_only.py").write_text(VECTOR_ONLY)
    (cls / "utf16.py").write_bytes("def grad_dot(x):\n    return 4 * x\n".encode("utf-16"))
    (cls / "pdf_only").mkdir()
    (cls / "pdf_only" / "answers.pdf").write_bytes(b"%PDF-1.4")
    (cls / "README.txt").write_text("not a submission")
    return cls


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch")
    cls = make_class(root)
    hidden = root / "hidden"
    hidden.mkdir()
    (hidden / "detach.yaml").write_text(HIDDEN_SPEC)
    reference = root / "reference"
    done = grade(cls, reference, hidden)
    assert done.returncode == 0, done.stderr
    return root, cls, hidden, reference, done


def grade_command(cls: Path, out: Path, hidden: Path, *extra: str) -> list[str]:
    return [sys.executable, "-c", "from grader.cli import entry; entry()", "grade", str(cls), "--out", str(out),
            "--exercises", str(EXERCISES), "--hidden", str(hidden), "--jobs", "2", *extra]


def grade(cls: Path, out: Path, hidden: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(grade_command(cls, out, hidden, *extra), capture_output=True, text=True, timeout=300)


def rows(out: Path) -> dict[str, dict[str, str]]:
    import csv

    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def without_durations(out: Path) -> list[dict]:
    """results.jsonl with its wall-time fields zeroed: the only thing a rerun may change."""
    def strip(value):
        if isinstance(value, dict):
            return {k: 0 if k == "duration" else strip(v) for k, v in value.items()}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value
    return [strip(json.loads(line)) for line in (out / "results.jsonl").read_text().splitlines()]


# --- discovery ---------------------------------------------------------------------------------------


def test_discovery_conventions(tmp_path: Path):
    cls = make_class(tmp_path)
    found = discover(cls)
    by_key = {s.key: s for s in found.students}
    assert [p.name for p in found.ignored] == ["README.txt"]
    canvas = by_key["doe2_jane_1002"]
    assert (canvas.layout, canvas.name, canvas.lms_id) == ("canvas", "doe2_jane", "1002")
    assert [f.name for f in canvas.files] == ["solution.py"]  # Canvas' "-1" resubmission suffix removed
    assert by_key["doe1_jane_1001"].lms_id == "1001"  # late
    moodle = by_key["Ann_Lee0_700"]
    assert (moodle.layout, moodle.name, moodle.lms_id) == ("moodle", "Ann Lee0", "700")
    assert sorted(f.name for f in by_key["mixed"].files) == ["detach.py", "work.ipynb"]
    assert by_key["pdf_only"].problem.startswith("no .py file or .ipynb notebook")
    assert by_key["student00"].layout == "file"
    assert len(found.students) == 12 + 4 + 3 + 4
    assert [s.key for s in found.students] == sorted(s.key for s in found.students)


def test_moodle_flat_files_and_clashing_names(tmp_path: Path):
    (tmp_path / "Bo Chen_42_assignsubmission_file_dot.py").write_text("x = 1\n")
    (tmp_path / "Bo Chen_42_assignsubmission_file_sum.ipynb").write_text("{}")
    (tmp_path / "a b.py").write_text("")
    (tmp_path / "a_b.py").write_text("")
    students = discover(tmp_path).students
    assert [(s.key, sorted(f.name for f in s.files)) for s in students] == [
        ("Bo_Chen_42", ["dot.py", "sum.ipynb"]), ("a_b", ["a b.py"]), ("a_b-2", ["a_b.py"])]


# --- one graded class --------------------------------------------------------------------------------


def test_grades_csv_rows_and_reasons(workspace):
    _, _, _, reference, done = workspace
    table = rows(reference)
    header = (reference / "grades.csv").read_text().splitlines()[0].split(",")
    assert header[:3] == ["student", "name", "lms_id"] and header[-3:] == ["total", "max", "note"]
    assert header[3:-3] == [p.stem for p in sorted((EXERCISES / "autograd").glob("*.yaml"),
                                                    key=lambda p: _order(p))]
    assert len(table) == 23
    ada = next(r for k, r in table.items() if k.startswith("student") and r["total"] == "100")
    assert ada["max"] == "100" and ada["note"] == ""
    assert "UTF-16" in table["utf16"]["note"] and table["utf16"]["total"] == "0"
    assert "no .py file" in table["pdf_only"]["note"]
    assert table["doe0_jane_1000"]["lms_id"] == "1000"
    # mixed folder: detach graded from its own file (wrong), the rest from the notebook
    assert float(table["mixed"]["detach"]) < 10 and table["mixed"]["dot"] == "10"
    assert "23 submissions: 23 graded now, 0 already graded" in done.stdout  # rows that cannot run count as graded
    dashboard = (reference / "index.html").read_text()
    assert "<script" not in dashboard and "23 submissions" in dashboard
    assert 'href="feedback/utf16.html"' in dashboard  # among the submissions that could not run
    assert (reference / "feedback" / "utf16.html").exists() and len(list((reference / "feedback").iterdir())) == 23
    assert "ignored 1 files that are not submissions: README.txt" in done.stdout


def _order(path: Path) -> tuple[int, str]:
    match = re.search(r"^order:\s*(\d+)", path.read_text(), re.MULTILINE)
    return (int(match.group(1)) if match else 1000, path.stem)


def test_hidden_check_scores_and_is_not_leaked(workspace):
    _, _, _, reference, _ = workspace
    results = {json.loads(line)["submission"]: json.loads(line) for line in (reference / "results.jsonl").open()}
    detach = next(e for e in results["vector_only"]["exercises"] if e["id"] == "detach")
    hidden = next(c for c in detach["checks"] if c["name"] == "hidden")
    visible = [c for c in detach["checks"] if c["name"] != "hidden"]
    assert all(c["passed"] == c["total"] for c in visible)  # check would give full marks ...
    assert detach["status"] == "failed" and detach["score"] < 10  # ... grade does not
    assert detach["message"] == "a hidden check failed: u stays constant for matrix inputs too"
    assert hidden["passed"] == 0 and hidden["total"] == 2
    ada_like = next(r for r in results.values() if r["score"] == 100)
    assert next(c for e in ada_like["exercises"] if e["id"] == "detach" for c in e["checks"]
                if c["name"] == "hidden")["passed"] == 2
    student_facing = (reference / "results.jsonl").read_text() + "".join(
        p.read_text() for p in (reference / "feedback").glob("*.html"))
    for value in HIDDEN_VALUES:
        assert value not in student_facing
    assert "[3, 3]" not in json.dumps(hidden)  # not even the shape of the random hidden trial


def test_resume_after_kill_9_gives_identical_outputs(workspace):
    root, cls, hidden, reference, _ = workspace
    out = root / "killed"
    process = subprocess.Popen(grade_command(cls, out, hidden), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    records = out / ".grader" / "results"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and len(list(records.glob("*.json"))) < 8:
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)  # the grader and its workers, mid-run
    process.wait()
    kept = len(list(records.glob("*.json")))
    assert 8 <= kept < 23, kept
    assert not (out / "grades.csv").exists()

    resumed = grade(cls, out, hidden)
    assert resumed.returncode == 0, resumed.stderr
    assert f"23 submissions: {23 - kept} graded now, {kept} already graded" in resumed.stdout
    assert (out / "grades.csv").read_bytes() == (reference / "grades.csv").read_bytes()
    assert without_durations(out) == without_durations(reference)
    assert sorted(p.name for p in (out / "feedback").iterdir()) == sorted(
        p.name for p in (reference / "feedback").iterdir())

    # Unchanged class: nothing to grade; one changed file: that student only.
    (cls / "student00.py").write_text((cls / "student00.py").read_text() + "\n# edited\n")
    again = grade(cls, out, hidden)
    assert "23 submissions: 1 graded now, 22 already graded" in again.stdout
    (cls / "student00.py").write_text((cls / "student00.py").read_text().removesuffix("\n# edited\n"))


def test_dask_cluster_gives_the_same_grades(workspace):
    distributed = pytest.importorskip("distributed")
    root, cls, hidden, reference, _ = workspace
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster:
        done = grade(cls, root / "dask", hidden, "--cluster", cluster.scheduler_address)
    assert done.returncode == 0, done.stderr
    assert (root / "dask" / "grades.csv").read_bytes() == (reference / "grades.csv").read_bytes()
    assert without_durations(root / "dask") == without_durations(reference)


def test_a_worker_crash_costs_one_row_not_the_batch():
    from grader.batch.bundle import Bundle
    from grader.batch.pool import LocalPool, Task

    bundle = Bundle.from_dirs(EXERCISES, None, only=("dot",), seed=0, exercise_jobs=1).to_json()
    files = [("dot.py", (ROOT / "solutions" / "autograd" / "dot.py").read_bytes())]

    def kill_the_worker():  # runs just before this task is sent to the (only) worker
        for entry in Path("/proc").iterdir():
            try:
                stat, command = (entry / "stat").read_text(), (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid() and b"grader.batch.worker" in command:
                os.kill(int(entry.name), signal.SIGKILL)
        return files

    tasks = [Task("a", "ka", lambda: files), Task("b", "kb", kill_the_worker), Task("c", "kc", lambda: files)]
    outcomes = {o.task.student: o for o in LocalPool(bundle, jobs=1, task_timeout=120).run(tasks)}
    assert sorted(outcomes) == ["a", "b", "c"]
    assert outcomes["b"].transient and "killed by signal 9" in outcomes["b"].crash
    for ok in ("a", "c"):
        assert json.loads(outcomes[ok].result)["score"] == 10 and not outcomes[ok].transient


# --- usage errors: exit 2 with a message, before any worker starts -----------------------------------


def invoke(*args: str):
    return CliRunner().invoke(main, ["grade", *args])


def test_unknown_exercise_is_a_usage_error(tmp_path: Path):
    (tmp_path / "a.py").write_text("")
    result = invoke(str(tmp_path), "--out", str(tmp_path / "out"), "--exercises", str(EXERCISES), "--only", "nope")
    assert result.exit_code == 2 and "unknown exercise nope" in result.output


def test_broken_hidden_spec_is_a_usage_error(tmp_path: Path):
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "a.py").write_text("")
    (tmp_path / "hidden").mkdir()
    (tmp_path / "hidden" / "h.yaml").write_text(HIDDEN_SPEC.replace("exercise: detach", "exercise: detatch")
                                                 .replace("torch.tensor", "torch.tensr"))
    result = invoke(str(tmp_path / "class"), "--out", str(tmp_path / "out"), "--exercises", str(EXERCISES),
                    "--hidden", str(tmp_path / "hidden"))
    assert result.exit_code == 2
    assert "h.yaml:1: exercise: 'detatch' is not an exercise of the catalog" in result.output
    assert "Traceback" not in result.output


def test_empty_class_is_a_usage_error(tmp_path: Path):
    result = invoke(str(tmp_path), "--out", str(tmp_path / "out"), "--exercises", str(EXERCISES))
    assert result.exit_code == 2 and "no submissions found" in result.output
