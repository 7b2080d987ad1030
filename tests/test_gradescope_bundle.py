"""``grader gradescope build``: the bundle's run_autograder, run against a fake /autograder tree."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
from click.testing import CliRunner

from conftest import EXERCISES, ROOT
from grader.cli import main
from grader.gradescope_bundle import run_autograder

SCHEMA = json.loads((Path(__file__).parent / "data" / "gradescope-results.schema.json").read_text("utf-8"))


def fake_autograder(tmp_path: Path) -> Path:
    """Gradescope's layout: the zip extracted into source/, run_autograder beside it, a submission folder."""
    bundle = tmp_path / "autograder.zip"
    built = CliRunner().invoke(main, ["gradescope", "build", "--exercises", str(EXERCISES), "--out", str(bundle)])
    assert built.exit_code == 0, built.output
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        assert {"setup.sh", "run_autograder", "requirements.txt"} <= set(names)  # at the zip's root
        assert (archive.getinfo("run_autograder").external_attr >> 16) & 0o111  # executable
        archive.extractall(root / "source")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    return root


def test_bundle_grades_a_submission_into_results_json(tmp_path: Path) -> None:
    root = fake_autograder(tmp_path)
    requirements = (root / "source" / "requirements.txt").read_text().splitlines()
    assert any(line.startswith("torch==") for line in requirements)
    assert all("==" in line or "python_version" in line for line in requirements)  # pinned
    assert "requirements.txt" in (root / "source" / "setup.sh").read_text()
    shutil.copy(ROOT / "examples" / "submissions" / "grace.py", root / "submission" / "grace.py")
    env = {**os.environ, "GRADER_AUTOGRADER_ROOT": str(root), "GRADER_PYTHON": sys.executable}
    done = subprocess.run(["bash", str(root / "run_autograder")], cwd=tmp_path, env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    document = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(document, SCHEMA, cls=jsonschema.Draft202012Validator)
    assert document["score"] == 79 and len(document["tests"]) == 10
    assert document["extra_data"]["submission"] == "grace.py"
    failed = [t["name"].split(":")[0] for t in document["tests"] if t["status"] == "failed"]
    assert failed == ["square_vjp", "detach", "backward_twice"]
    assert "score 79/100" in done.stdout  # the staff's log


def test_unreadable_submission_still_gets_results(tmp_path: Path, sandbox) -> None:
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    (root / "submission" / "notes.txt").write_text("no code here")
    shutil.copytree(EXERCISES, root / "source" / "exercises")
    document, report = run_autograder(root, sandbox)
    assert json.loads((root / "results" / "results.json").read_text()) == document
    jsonschema.validate(document, SCHEMA, cls=jsonschema.Draft202012Validator)
    assert document["score"] == 0 and document["output"].startswith("The autograder could not grade")


def test_build_without_a_catalog_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["gradescope", "build", "--exercises", str(tmp_path), "--out",
                                       str(tmp_path / "a.zip")])
    assert result.exit_code == 2 and "no exercises" in result.output and "Traceback" not in result.output


def test_hidden_checks_are_their_own_test_shown_after_publication(tmp_path: Path) -> None:
    from test_batch import HIDDEN_SPEC, HIDDEN_VALUES, VECTOR_ONLY

    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "detach.yaml").write_text(HIDDEN_SPEC)
    bundle = tmp_path / "autograder.zip"
    built = CliRunner().invoke(main, ["gradescope", "build", "--exercises", str(EXERCISES), "--out", str(bundle),
                                      "--hidden", str(hidden)])
    assert built.exit_code == 0, built.output
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        assert "hidden/detach.yaml" in archive.namelist()
        archive.extractall(root / "source")
    (root / "submission").mkdir()
    (root / "submission" / "answers.py").write_text(VECTOR_ONLY)
    env = {**os.environ, "GRADER_AUTOGRADER_ROOT": str(root), "GRADER_PYTHON": sys.executable}
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    text = (root / "results" / "results.json").read_text()
    document = json.loads(text)
    jsonschema.validate(document, SCHEMA, cls=jsonschema.Draft202012Validator)
    tests = {t["name"]: t for t in document["tests"]}
    secret = tests["detach: hidden checks"]
    assert secret["visibility"] == "after_published" and secret["status"] == "failed"
    assert "u stays constant for matrix inputs too" in secret["output"]
    visible = tests["detach: Detaching computation"]
    assert visible["status"] == "passed" and visible["score"] == visible["max_score"]
    assert not any(value in text for value in HIDDEN_VALUES)
