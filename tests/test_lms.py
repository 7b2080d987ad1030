"""`grader grade` end to end on a synthetic class with known answers, and the LMS side: canvas.csv,
moodle.csv and ``--student-map``.

The synthetic class (benchmarks/synthetic_class.py; benchmarks/batch.py grades 500 of them) is small
here: the point is that every output is right, not speed. Nothing here asserts on time.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT
from grader.batch.discover import Student
from grader.batch.lms import NO_SUBMISSION, LmsFiles, StudentMap, StudentMapError
from grader.cli import main

sys.path.insert(0, str(ROOT / "benchmarks"))
import synthetic_class  # noqa: E402

EXAMPLE_CLASS = ROOT / "examples" / "class"
ROSTER = ROOT / "examples" / "roster.csv"


def run_grade(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", "grade", *args, "--jobs", "2"], capture_output=True,
                          text=True, timeout=300)


def read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


# --- a synthetic class: every output checked against the known answers -------------------------------


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic")
    expected = synthetic_class.make_class(root / "class", 36, seed=5, timeouts=0)  # hangs: see benchmarks/batch.py
    catalog = synthetic_class.write_catalog(root / "catalog")
    done = run_grade(str(root / "class"), "--out", str(root / "out"), "--exercises", str(catalog))
    assert done.returncode == 0, done.stderr
    return root, expected


def test_synthetic_class_outputs_are_all_correct(synthetic):
    root, expected = synthetic
    assert {e.kind for e in expected} >= {"correct", "mistakes", "crash"}
    assert {e.layout for e in expected} == set(synthetic_class.LAYOUTS)
    assert synthetic_class.check_outputs(root / "class", root / "out", expected) == []


def test_the_checker_notices_a_wrong_grade(synthetic):
    root, expected = synthetic
    correct = next(i for i, e in enumerate(expected) if e.kind == "correct")
    wrong = [*expected]
    wrong[correct] = synthetic_class.Expected(**{**expected[correct].__dict__, "wrong": ["dot"]})
    problems = synthetic_class.check_outputs(root / "class", root / "out", wrong)
    assert len(problems) == 1 and "dot should not pass" in problems[0]


# --- the example class of the README, with a roster ---------------------------------------------------


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    root = tmp_path_factory.mktemp("example")
    out, catalog = root / "grades", synthetic_class.write_catalog(root / "catalog")  # the ten function exercises
    done = run_grade(str(EXAMPLE_CLASS), "--out", str(out), "--exercises", str(catalog), "--student-map", str(ROSTER),
                     "--assignment", "Homework 3 (4711)")
    assert done.returncode == 0, done.stderr
    return out, done.stdout


def test_example_class_rows_and_join(example):
    out, stdout = example
    rows = {row["student"]: row for row in csv.DictReader(open(out / "grades.csv", encoding="utf-8"))}
    assert rows["ada"]["name"] == "Ada Lovelace" and rows["ada"]["lms_id"] == "20340" and rows["ada"]["total"] == "100"
    assert rows["turing_alan_20341"]["lms_id"] == "20341" and float(rows["turing_alan_20341"]["detach"]) < 10
    assert "could not be read" in rows["Edsger_Dijkstra_5532"]["note"]
    assert "no .py file" in rows["barbara"]["note"]
    # grace is in the roster without a hand-in: a row, last, with empty points and the reason
    assert list(rows)[-1] == "grace" and rows["grace"]["total"] == "" and rows["grace"]["note"] == NO_SUBMISSION
    assert "1 students of roster.csv handed nothing in: grace" in stdout
    assert "5 hand-ins are not in roster.csv: Edsger_Dijkstra_5532, Katherine_Johnson_5531" in stdout
    assert "1 students of the student map handed nothing in" in (out / "index.html").read_text()


def test_canvas_csv_is_a_gradebook_import(example):
    out, _ = example
    table = read_csv(out / "canvas.csv")
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Homework 3 (4711)"]
    assert table[1][0].strip() == "Points Possible" and table[1][-1] == "100"
    by_id = {row[1]: row for row in table[2:]}
    assert by_id["20340"] == ["Ada Lovelace", "20340", "", "", "A", "100"]
    assert by_id["20342"][0] == "noether_emmy" and by_id["20342"][-1] == "100"  # Canvas id from the file name
    assert by_id["20347"][-1] == ""  # no hand-in: an empty cell changes nothing in Canvas
    assert len(table) == 2 + 10


def test_moodle_csv_is_an_offline_grading_worksheet(example):
    out, _ = example
    table = read_csv(out / "moodle.csv")
    assert table[0] == ["Identifier", "Full name", "Email address", "Grade", "Maximum Grade",
                        "Last modified (grade)", "Feedback comments"]
    rows = {row[0]: row for row in table[1:]}
    katherine = rows["Participant 5531"]
    assert katherine[1] == "Katherine Johnson" and float(katherine[3]) < 100 and katherine[4] == "100"
    assert "square_vjp" in katherine[6] and "backward_twice" in katherine[6] and "dot" not in katherine[6]
    assert rows["Participant 20340"][2:4] == ["ada@example.edu", "100"]
    edsger = rows["Participant 5532"][6].splitlines()
    assert edsger[0] == "0/100" and "could not be read" in edsger[1] and len(edsger) == 2


# --- the student map: reading, joining, errors --------------------------------------------------------


def students(*specs: tuple[str, str, str]) -> list[Student]:
    return [Student(key=key, name=name, lms_id=lms_id) for key, name, lms_id in specs]


def test_map_matches_by_key_name_or_id_and_tolerates_excel(tmp_path: Path):
    path = tmp_path / "map.csv"
    path.write_bytes("\ufeffSubmission;ID;SIS User ID;Notes\nalice;1;s1;x\nBob Stone;2;;\n555;3;;\nnobody;4;;\n"
                     .encode("utf-8"))
    roster = StudentMap.read(path)
    assert roster.ignored_columns == ["notes"]
    join = roster.join(students(("alice", "alice", ""), ("Bob_Stone_9", "Bob Stone", "9"),
                                ("doe_555", "doe", "555"), ("zed", "zed", "")))
    assert {key: p.id for key, p in join.matched.items()} == {"alice": "1", "Bob_Stone_9": "2", "doe_555": "3"}
    assert join.unmatched == ["zed"] and [p.submission for p in join.absent] == ["nobody"]
    shown = join.student(students(("Bob_Stone_9", "Bob Stone", "9"))[0])
    assert (shown.key, shown.lms_id) == ("Bob_Stone_9", "2")  # the key (resume, file names) never changes


@pytest.mark.parametrize("text, problem", [
    ("name,id\nalice,1\n", "map.csv:1: no 'submission' column"),
    ("submission,name\nalice,A\n", "map.csv:1: no id column"),
    ("submission,id\nalice,1\nALICE,2\n", "map.csv:3: 'ALICE' is already on line 2"),
    ("submission,id\n,1\n", "map.csv:2: the 'submission' cell is empty"),
    ("submission,id\n", "no students"),
])
def test_map_errors_name_the_line(tmp_path: Path, text: str, problem: str):
    (tmp_path / "map.csv").write_text(text)
    with pytest.raises(StudentMapError, match=problem):
        StudentMap.read(tmp_path / "map.csv")


def test_ambiguous_map_rows_are_errors(tmp_path: Path):
    (tmp_path / "map.csv").write_text("submission,id\nJane Doe,1\n")
    two = students(("Jane_Doe_1", "Jane Doe", "1"), ("Jane_Doe_2", "Jane Doe", "2"))
    with pytest.raises(StudentMapError, match="'Jane Doe' matches 2 hand-ins"):
        StudentMap.read(tmp_path / "map.csv").join(two)
    (tmp_path / "map.csv").write_text("submission,id\nJane_Doe_1,1\n1,2\n")
    with pytest.raises(StudentMapError, match="already given to line 2"):
        StudentMap.read(tmp_path / "map.csv").join(two)


def test_bad_map_is_a_usage_error_before_grading(tmp_path: Path):
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "a.py").write_text("")
    (tmp_path / "map.csv").write_bytes(b"submission,id\n\xff\xfe,1\n")
    catalog = synthetic_class.write_catalog(tmp_path / "catalog")
    result = CliRunner().invoke(main, ["grade", str(tmp_path / "class"), "--out", str(tmp_path / "out"),
                                       "--exercises", str(catalog), "--student-map", str(tmp_path / "map.csv")])
    assert result.exit_code == 2 and "--student-map" in result.output and "not UTF-8" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out" / ".grader").exists()


def test_rows_without_any_id_stay_out_of_the_lms_files(tmp_path: Path):
    result = {"score": 7.5, "max_score": 10, "exercises": [
        {"id": "dot", "status": "failed", "score": 7.5, "max_score": 10, "message": "off by one", "diagnoses": []}]}
    with LmsFiles(tmp_path, assignment="A", max_score=10, join=None) as files:
        files.observe(Student(key="plain", name="plain"), result)
        files.observe(Student(key="c_1", name="c", lms_id="1"), result)
    assert files.skipped == 1
    assert read_csv(tmp_path / "canvas.csv")[2:] == [["c", "1", "", "", "", "7.5"]]
    assert read_csv(tmp_path / "moodle.csv")[1:] == [["Participant 1", "c", "", "7.5", "10", "", "7.5/10\ndot 7.5/10: off by one"]]
