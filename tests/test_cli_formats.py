"""``grader check --format FMT[:PATH]`` (several at once), ``grader ci`` in a homework repository, and the
GitHub workflow template's commands run in a sample homework layout."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from conftest import EXERCISES, MISTAKES, ROOT, SOLUTIONS
from grader.cli import main

GRACE = ROOT / "examples" / "submissions" / "grace.py"


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_check_writes_several_formats_at_once(tmp_path: Path) -> None:
    result = run("check", str(GRACE), "--exercises", str(EXERCISES), "--only", "dot", "--only", "detach",
                 "--format", "json", "--format", f"junit:{tmp_path}/report.xml",
                 "--format", f"markdown:{tmp_path}/report.md", "--format", f"gradescope:{tmp_path}/results.json",
                 "--format", f"text:{tmp_path}/report.txt")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["score"] == 14  # stdout holds the one format without a path
    suite = ET.parse(tmp_path / "report.xml").getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    assert "| ❌ failed | `detach` | Detaching computation | 4/10 |" in (tmp_path / "report.md").read_text()
    assert json.loads((tmp_path / "results.json").read_text())["score"] == 14
    assert "✗ failed  detach" in (tmp_path / "report.txt").read_text()


def test_check_keeps_the_text_report_when_every_format_goes_to_a_file(tmp_path: Path) -> None:
    result = run("check", str(SOLUTIONS / "autograd" / "dot.py"), "--exercises", str(EXERCISES),
                 "--format", f"github:{tmp_path}/annotations.txt", env={"GITHUB_STEP_SUMMARY": str(tmp_path / "s.md")})
    assert result.exit_code == 0
    assert "✓ passed  dot" in result.stdout
    annotations = (tmp_path / "annotations.txt").read_text().splitlines()
    assert annotations[0].startswith("::notice file=") and "graded exercise 'dot' only" in annotations[0]
    assert annotations[1:] == ["1/1 exercises passed · score 10/10"]
    assert "# ✅ " in (tmp_path / "s.md").read_text()


@pytest.mark.parametrize("formats, message", [
    (["--format", "json", "--format", "junit"], "only one format can go to standard output"),
    (["--format", "pdf"], "unknown format 'pdf'"),
])
def test_bad_formats_are_usage_errors_before_grading(formats: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["check", str(GRACE), *formats])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


# --- grader ci -----------------------------------------------------------------------------------

def homework(root: Path) -> Path:
    """A homework repository: one passing and one failing file named after exercises, starter copies in
    a hidden folder and a virtual environment that must not be picked up."""
    (root / "week1").mkdir(parents=True)
    shutil.copy(SOLUTIONS / "autograd" / "dot.py", root / "week1" / "dot.py")
    shutil.copy(MISTAKES / "detach" / "no_detach.py", root / "detach.py")
    (root / ".hidden").mkdir()
    shutil.copy(SOLUTIONS / "autograd" / "sum.py", root / ".hidden" / "sum.py")
    (root / "venv").mkdir()
    shutil.copy(SOLUTIONS / "autograd" / "sum.py", root / "venv" / "sum.py")
    (root / "notes.py").write_text("print('not a submission')\n")
    return root


def test_ci_finds_files_named_after_exercises_and_annotates_on_github(tmp_path: Path) -> None:
    repo = homework(tmp_path / "repo")
    summary = tmp_path / "summary.md"
    result = run("ci", "--root", str(repo), "--exercises", str(EXERCISES), "--format", f"junit:{tmp_path}/r.xml",
                 env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)})
    assert result.exit_code == 1
    out = result.stdout
    assert "week1/dot.py · score 10/10" in out and "detach.py · score" in out  # the text report, for the log
    errors = [line for line in out.splitlines() if line.startswith("::error")]
    assert len(errors) == 1 and errors[0].startswith("::error file=detach.py,")
    assert "sum.py" not in out  # neither the hidden folder nor the virtual environment was searched
    assert out.endswith("\n1/2 exercises passed · score 14/20\n")
    assert "## ✅ week1/dot.py: 10/10" in summary.read_text()
    suites = ET.parse(tmp_path / "r.xml").getroot().findall("testsuite")
    assert [s.get("name") for s in suites] == ["week1/dot.py", "detach.py"]


def test_ci_without_github_prints_no_workflow_commands(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(SOLUTIONS / "autograd" / "dot.py", repo / "dot.py")
    result = run("ci", "--root", str(repo), "--exercises", str(EXERCISES), env={"GITHUB_ACTIONS": ""})
    assert result.exit_code == 0 and "::" not in result.stdout and "dot.py · score 10/10" in result.stdout


def test_ci_reads_grader_toml(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "work").mkdir(parents=True)
    shutil.copy(GRACE, repo / "work" / "answers.py")
    shutil.copytree(EXERCISES, repo / "course")
    (repo / "grader.toml").write_text('submissions = "work/answers.py"\nexercises = "course"\nonly = ["dot", "sum"]\n')
    result = run("ci", "--root", str(repo), "--format", "json", env={"GITHUB_ACTIONS": ""})
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["submission"] == "work/answers.py"
    assert [e["id"] for e in document["exercises"]] == ["dot", "sum"]


@pytest.mark.parametrize("files, message", [
    ({}, "no submission found"),
    ({"grader.toml": "submissions = ["}, "grader.toml: not valid TOML"),
    ({"pyproject.toml": "[tool.grader]\nsubmission = 'a.py'\n"}, "unknown key submission"),
    ({"grader.toml": "submissions = 3\n"}, "submissions must be a string or a list of strings"),
    ({"grader.toml": "submissions = ['missing.py']\n"}, "submission not found"),
    ({"grader.toml": "only = ['nope']\n"}, "only names unknown exercise nope"),
    ({"dot.py": "", "sub/dot.ipynb": "{}"}, "several files for one exercise"),
])
def test_ci_usage_errors(tmp_path: Path, files: dict[str, str], message: str) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    result = CliRunner().invoke(main, ["ci", "--root", str(tmp_path), "--exercises", str(EXERCISES)])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_github_workflow_template_runs_in_a_homework_layout(tmp_path: Path) -> None:
    """The template's own commands, in the layout its checkout steps create (not GitHub itself)."""
    workflow = yaml.safe_load((ROOT / "templates" / "github-classroom.yml").read_text())
    job = workflow["jobs"]["grade"]
    steps = {step.get("name"): step for step in job["steps"]}
    course = steps["Check out the course, pinned"]["with"]
    assert course["ref"] == "${{ env.COURSE_REF }}" and job["env"]["COURSE_REF"]  # pinned, not a branch
    assert steps["Install the grader"]["run"] == "pip install -c .course/constraints.txt ./.course"
    grade = steps["Grade"]["run"]
    assert "--exercises .course/exercises" in grade  # the course's catalog, whatever the student's repo says

    repo = homework(tmp_path / "workspace")
    (repo / ".course").symlink_to(ROOT)  # what the pinned checkout puts there
    (repo / "exercises").mkdir()  # a student's own catalog must be ignored
    (repo / "exercises" / "dot.yaml").write_text("id: dot\n")
    summary = tmp_path / "summary.md"
    env = {**os.environ, "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    assert shutil.which("grader", path=env["PATH"]), "the grader console script is installed"
    done = subprocess.run(["bash", "-c", grade], cwd=repo, env=env, capture_output=True, text=True)
    assert done.returncode == 1, done.stderr
    assert done.stdout.count("::error file=detach.py") == 1
    assert "1/2 exercises passed" in done.stdout
    assert "detach.py" in summary.read_text()
    report = ET.parse(repo / "grader-report.xml").getroot()
    assert [s.get("name") for s in report.findall("testsuite")] == ["week1/dot.py", "detach.py"]
    assert steps["Keep the JUnit report"]["with"]["path"] == shlex.split(grade)[-1].split(":", 1)[1]
