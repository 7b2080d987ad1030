"""The command line, through click's CliRunner: exit codes, JSON document, text report."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from click.testing import CliRunner

from conftest import EXERCISES, ROOT, SOLUTIONS
from grader.cli import main

EXAMPLES = ROOT / "examples" / "submissions"


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_check_correct_solution_exits_0():
    result = run("check", str(SOLUTIONS / "autograd" / "dot.py"), "--exercises", str(EXERCISES))
    assert result.exit_code == 0, result.output
    assert "passed" in result.output and "10/10" in result.output


def test_check_json_is_one_document_matching_the_schema():
    result = run("check", str(EXAMPLES / "grace.py"), "--exercises", str(EXERCISES), "--format", "json",
                 "--only", "dot", "--only", "detach")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    schema = json.loads((ROOT / "grader" / "results.schema.json").read_text())
    jsonschema.validate(document, schema)
    assert [e["id"] for e in document["exercises"]] == ["dot", "detach"]
    statuses = {e["id"]: e["status"] for e in document["exercises"]}
    assert statuses == {"dot": "passed", "detach": "failed"}
    assert document["max_score"] == 20 and 10 <= document["score"] < 20


def test_check_notebook_notes_skipped_magics():
    result = run("check", str(EXAMPLES / "ken.ipynb"), "--exercises", str(EXERCISES), "--only", "dot")
    assert "%matplotlib" in result.output or "magic" in result.output


def test_unknown_exercise_is_a_usage_error():
    result = CliRunner().invoke(main, ["check", str(EXAMPLES / "ada.py"), "--only", "nope"])
    assert result.exit_code == 2
    assert "unknown exercise nope" in result.output


def test_malformed_spec_names_file_line_and_field(tmp_path: Path):
    catalog = tmp_path / "exercises" / "topic"
    catalog.mkdir(parents=True)
    text = (EXERCISES / "autograd" / "dot.yaml").read_text().replace("kind: gradient", "kind: grad", 1)
    (catalog / "dot.yaml").write_text(text)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "kind: grad" in l)
    result = CliRunner().invoke(main, ["check", str(EXAMPLES / "ada.py"), "--exercises", str(tmp_path / "exercises")])
    assert result.exit_code == 2
    assert f"dot.yaml:{line}: targets[0].kind" in result.output
    assert "Traceback" not in result.output


def test_unreadable_submission_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "binary.py"
    path.write_bytes(b"\x00\x01\x02")
    result = CliRunner().invoke(main, ["check", str(path), "--exercises", str(EXERCISES)])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_list_shows_the_catalog():
    result = run("list", "--exercises", str(EXERCISES))
    assert result.exit_code == 0
    assert "grad_dot(x)" in result.output and "d2sin(x)" in result.output


def test_validate_the_bundled_catalog():
    result = run("validate", str(EXERCISES))
    assert result.exit_code == 0, result.output
    assert "all exercises valid" in result.output


def test_python_dash_m_entry_point_keeps_exit_codes_and_output():
    import subprocess
    import sys

    ok = subprocess.run([sys.executable, "-m", "grader", "check", str(SOLUTIONS / "autograd" / "dot.py"),
                         "--exercises", str(EXERCISES), "--format", "json"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["score"] == 10
    failing = subprocess.run([sys.executable, "-m", "grader", "check", str(EXAMPLES / "grace.py"), "--exercises",
                              str(EXERCISES), "--only", "detach"], capture_output=True, text=True)
    assert failing.returncode == 1 and "not detached" in failing.stdout
    usage = subprocess.run([sys.executable, "-m", "grader", "check", "missing.py"], capture_output=True, text=True)
    assert usage.returncode == 2


def test_require_sandbox_refuses_a_machine_without_every_layer(monkeypatch):
    monkeypatch.setenv("GRADER_SANDBOX_LAYERS", "seccomp")  # as if namespaces and Landlock were missing
    result = run("check", str(EXAMPLES / "ada.py"), "--only", "dot", "--require-sandbox")
    assert result.exit_code == 2
    assert "--require-sandbox" in result.stderr and "landlock" in result.stderr and "Traceback" not in result.stderr


def test_a_missing_layer_is_a_warning_without_require_sandbox(monkeypatch):
    monkeypatch.setenv("GRADER_SANDBOX_LAYERS", "")
    result = run("check", str(EXAMPLES / "ada.py"), "--only", "dot")
    assert result.exit_code == 0, result.output
    assert "warning" in result.stderr and "grader doctor" in result.stderr


def test_doctor_reports_every_layer_and_attempt():
    result = run("doctor")
    for word in ("namespaces", "landlock", "seccomp", "network", "fork", "exec"):
        assert word in result.stdout
    assert result.exit_code == 0


def test_grade_writes_class_formats_and_requires_the_sandbox(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_REQUIRE_SANDBOX", "0")  # grade sets it for its workers: restored after the test
    out = tmp_path / "grades"
    result = run("grade", str(ROOT / "examples" / "class"), "--out", str(out), "--exercises", str(EXERCISES),
                 "--format", f"junit:{out / 'class.xml'}", "--require-sandbox")
    assert result.exit_code == 0, result.output
    import xml.etree.ElementTree as ET

    suites = ET.parse(out / "class.xml").getroot().findall("testsuite")
    assert len(suites) == len((out / "results.jsonl").read_text().splitlines()) > 1
    assert run("grade", str(ROOT / "examples" / "class"), "--format", "junit").exit_code == 2  # files only
    monkeypatch.setenv("GRADER_SANDBOX_LAYERS", "seccomp")
    refused = run("grade", str(ROOT / "examples" / "class"), "--out", str(tmp_path / "no"), "--require-sandbox")
    assert refused.exit_code == 2 and "landlock" in refused.stderr and not (tmp_path / "no").exists()
