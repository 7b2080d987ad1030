"""Integration formats, each read back by a real consumer: JUnit (two XSDs), GitHub workflow commands,
Markdown, Gradescope's results.json (a JSON Schema written from its specification), the registry."""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
import pytest
import xmlschema

from conftest import EXERCISES, ROOT
from grader.report.github import (
    MAX_ANNOTATIONS,
    append_step_summary,
    escape_data,
    escape_property,
    render_github,
    render_github_many,
)
from grader.report.gradescope import GradescopeOptions, error_document, gradescope_document, render_gradescope
from grader.report.junit import classname, render_junit, render_junit_many
from grader.report.markdown import escape, render_markdown, render_markdown_many
from grader.report.registry import OutputTarget, ReportError, emit, parse_targets
from grader.results import Diagnosis, ExerciseResult, SubmissionResult
from test_report_json import sample_result

DATA = Path(__file__).parent / "data"
JUNIT_SCHEMAS = [DATA / "JUnit.xsd", DATA / "jenkins-junit-10.xsd"]
GRADESCOPE_SCHEMA = json.loads((DATA / "gradescope-results.schema.json").read_text("utf-8"))
WHEN = datetime(2025, 3, 1, 12, 30, 5, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def grace(sandbox) -> SubmissionResult:
    """A real graded submission: dot passes, detach fails (u not detached), backward_twice fails at line 68."""
    from grader.session import check_submission

    return check_submission(ROOT / "examples" / "submissions" / "grace.py", sandbox, exercises_dir=EXERCISES,
                            only=("dot", "detach", "backward_twice"), jobs=2)


@pytest.fixture
def hostile() -> SubmissionResult:
    """The hand-built result with text a student controls made as awkward as possible."""
    result = sample_result()
    failed = result.exercises[1]
    failed.output = "\x1b[31mred\x1b[0m ]]> <tag> & \x00 \ud800 \ufffe\n::error::forged\n"
    failed.diagnoses[0].message = "50% done,\r\n::error file=x::pwned | *bold* <b>x</b> ```"
    return result


def many_failures(count: int) -> SubmissionResult:
    exercises = [ExerciseResult(f"ex{i}", f"Exercise {i}", "failed", 0, 1, message=f"wrong {i}")
                 for i in range(count)]
    return SubmissionResult("hw.py", 0, count, exercises, notes=[f"note {i}" for i in range(count)])


# --- JUnit ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("schema", JUNIT_SCHEMAS, ids=lambda p: p.name)
def test_junit_is_valid_against_the_common_schemas(schema: Path, grace: SubmissionResult,
                                                   hostile: SubmissionResult) -> None:
    validator = xmlschema.XMLSchema(str(schema))
    for document in (render_junit(grace), render_junit(hostile), render_junit_many([grace, hostile]),
                     render_junit(SubmissionResult("", 0, 0))):
        validator.validate(document)


def test_junit_contents(grace: SubmissionResult) -> None:
    root = ET.fromstring(render_junit(grace, timestamp=WHEN))
    (suite,) = root.findall("testsuite")
    assert suite.attrib | {"hostname": "h", "time": "t"} == {
        "name": str(ROOT / "examples/submissions/grace.py"), "package": classname(grace.submission), "id": "0",
        "timestamp": "2025-03-01T12:30:05", "hostname": "h", "tests": "3", "failures": "2", "errors": "0",
        "time": "t",
    }
    properties = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert properties["max_score"] == "30" and properties["detach.score"] == "4"
    assert properties["dot.score"] == properties["dot.max_score"] == "10"
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert list(cases) == ["dot", "detach", "backward_twice"]
    assert all(c.get("classname").endswith("examples.submissions.grace") for c in cases.values())
    assert all(float(c.get("time")) >= 0 for c in cases.values())
    assert list(cases["dot"]) == []
    failure = cases["detach"].find("failure")
    assert failure.get("type") == "not_detached"
    assert failure.get("message").startswith("reference: max abs error 18.0")
    assert "u was not detached" in failure.text and "hint: Use .detach()" in failure.text
    assert cases["backward_twice"].find("failure").get("type") == "retain_graph_missing"


def test_junit_error_output_and_awkward_text(hostile: SubmissionResult) -> None:
    suite = ET.fromstring(render_junit(hostile)).find("testsuite")
    assert (suite.get("failures"), suite.get("errors")) == ("1", "1")
    error = suite.find("testcase[@name='hessian']/error")
    assert error.get("message") == "NameError: name 'hvp' is not defined"
    out = suite.find("system-out").text
    assert "--- output of chain_rule ---" in out and "]]> <tag> &" in out and "\x1b" not in out
    assert suite.find("testcase[@name='square_vjp']").get("classname") == "hw3"


def test_junit_classname() -> None:
    assert classname("examples/submissions/grace.py") == "examples.submissions.grace"
    assert classname("/abs/hw 1.ipynb") == "abs.hw 1"
    assert classname("") == "submission"


# --- GitHub --------------------------------------------------------------------------------------

def test_github_escaping_follows_the_toolkit() -> None:
    assert escape_data("100%\r\nnext: a, b") == "100%25%0D%0Anext: a, b"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    assert escape_data("%0A") == "%250A"  # an escape the student typed stays literal


def test_github_annotations(grace: SubmissionResult) -> None:
    lines = render_github(grace).splitlines()
    errors = [line for line in lines if line.startswith("::error ")]
    assert len(errors) == 2
    detach = next(line for line in errors if "title=detach failed" in line)
    assert detach.startswith(f"::error file={escape_property(grace.submission)},title=detach failed (4/10)%3A ")
    message = detach.split("::", 2)[2]
    assert "%0A• u was not detached" in message
    twice = next(line for line in errors if "backward_twice" in line)
    assert ",line=68," in twice  # the student's line, for a .py file
    assert lines[-1] == "1/3 exercises passed · score 14/30"


def test_github_student_text_cannot_forge_commands(hostile: SubmissionResult) -> None:
    out = render_github(hostile)
    assert sum(line.startswith("::") for line in out.splitlines()) == 3  # two exercises and one note
    assert all(line.startswith(("::error ", "::notice ")) or not line.startswith("::")
               for line in out.splitlines())
    assert "%0D%0A::error file=x::pwned" not in out  # \r\n arrive as one line break, then escaped
    assert "50%25 done,%0A::error file=x::pwned" in out
    assert "\x1b" not in out
    notebook = next(line for line in out.splitlines() if "chain_rule" in line)
    assert ",line=" not in notebook  # a notebook's program lines are not lines of the file


def test_github_limits_annotations_and_summarises_the_rest() -> None:
    lines = render_github(many_failures(25)).splitlines()
    errors = [line for line in lines if line.startswith("::error")]
    notices = [line for line in lines if line.startswith("::notice")]
    assert len(errors) == len(notices) == MAX_ANNOTATIONS
    assert "title=ex8 failed" in errors[8]
    assert errors[-1].startswith("::error title=16 more exercises did not pass::16 more exercises did not pass: ex9; ")
    assert "ex24" in errors[-1] and "job summary" in errors[-1]
    assert "16 more notes" in notices[-1]
    exactly = render_github(many_failures(MAX_ANNOTATIONS))
    assert "more" not in exactly and exactly.count("::error") == MAX_ANNOTATIONS


def test_github_limit_counts_across_submissions() -> None:
    out = render_github_many([many_failures(6), many_failures(6)])
    assert out.count("::error") == MAX_ANNOTATIONS and "3 more exercises" in out


def test_step_summary_appended_only_when_set(tmp_path: Path, grace: SubmissionResult) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    assert append_step_summary([grace], {"GITHUB_STEP_SUMMARY": str(summary)})
    assert append_step_summary([grace], {"GITHUB_STEP_SUMMARY": str(summary)})
    text = summary.read_text()
    assert text.startswith("earlier step\n# ❌ ") and text.count("| ❌ failed | `detach` |") == 2
    assert not append_step_summary([grace], {})


# --- Markdown ------------------------------------------------------------------------------------

def test_markdown_report(grace: SubmissionResult) -> None:
    text = render_markdown(grace)
    lines = text.splitlines()
    assert lines[0] == f"# ❌ {escape(grace.submission)}: 14/30"
    assert "| ✅ passed | `dot` | A simple function: the gradient of y = 2xᵀx | 10/10 |" in lines
    assert "| ❌ failed | `detach` | Detaching computation | 4/10 |" in lines
    assert "## ❌ failed: `detach` · Detaching computation (4/10)" in lines
    assert "- u was not detached: the gradient also flowed through u" in lines
    assert "  - *hint:* Use .detach() to treat a sub-expression as a constant." in lines
    assert "- line 68: " in text  # the diagnosis' line
    assert "## ✅" not in text  # passed exercises only in the table


def test_markdown_escapes_student_text(hostile: SubmissionResult) -> None:
    text = render_markdown(hostile)
    assert r"50% done, ::error file=x::pwned \| \*bold\* \<b\>x\</b\> \`\`\`" in text
    outside_code = re.sub(r"^(`{3,})text$.*?^\1$", "", text, flags=re.M | re.S)
    assert "<b>" not in outside_code and "```" not in outside_code and "\x1b" not in text
    # the details block's fence is longer than the longest backtick run inside
    fences = re.findall(r"^(`{3,})text$", text, flags=re.M)
    assert sorted(fences) == ["```", "````"]  # the block quoting ``` needs four; the other three
    assert escape("a|b\nc") == r"a\|b c"


def test_markdown_many_has_a_total(grace: SubmissionResult, hostile: SubmissionResult) -> None:
    text = render_markdown_many([grace, hostile])
    assert text.startswith("# Grading: 28.5/60\n\n0/2 submissions passed every exercise.")
    assert text.count("\n## ") >= 2


# --- Gradescope ----------------------------------------------------------------------------------

def test_gradescope_matches_the_specification(grace: SubmissionResult, hostile: SubmissionResult) -> None:
    for result in (grace, hostile, SubmissionResult("empty.py", 0, 0)):
        jsonschema.validate(json.loads(render_gradescope(result)), GRADESCOPE_SCHEMA,
                            cls=jsonschema.Draft202012Validator)
    jsonschema.validate(error_document("no .py or .ipynb file"), GRADESCOPE_SCHEMA,
                        cls=jsonschema.Draft202012Validator)


def test_gradescope_contents(grace: SubmissionResult, hostile: SubmissionResult) -> None:
    document = gradescope_document(grace)
    assert document["score"] == 14 and sum(t["max_score"] for t in document["tests"]) == 30
    assert [(t["number"], t["name"].split(":")[0], t["status"], t["score"]) for t in document["tests"]] == [
        ("1", "dot", "passed", 10), ("2", "detach", "failed", 4), ("3", "backward_twice", "failed", 0)]
    detach = document["tests"][1]
    assert detach["output_format"] == "md" and "u was not detached" in detach["output"]
    assert {t["visibility"] for t in document["tests"]} == {"visible"}
    assert document["stdout_visibility"] == "hidden"
    errored = gradescope_document(hostile)["tests"][2]
    assert errored["status"] == "failed" and "NameError" in errored["output"]  # "error" is not a status there
    published = gradescope_document(grace, GradescopeOptions(visibility="after_published"))
    assert {t["visibility"] for t in published["tests"]} == {"after_published"}
    with pytest.raises(ValueError, match="after_published"):
        gradescope_document(grace, GradescopeOptions(visibility="later"))  # type: ignore[arg-type]


@pytest.mark.parametrize("mutate", [
    lambda d: d["tests"][0].update(status="error"),
    lambda d: d["tests"][0].update(visibility="students"),
    lambda d: d.update(execution_time=1.5),
    lambda d: d.update(maximum=3),
])
def test_gradescope_schema_rejects_what_the_spec_does_not_allow(mutate, grace: SubmissionResult) -> None:
    document = copy.deepcopy(gradescope_document(grace))
    mutate(document)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, GRADESCOPE_SCHEMA, cls=jsonschema.Draft202012Validator)


# --- Registry ------------------------------------------------------------------------------------

def test_targets_parse_and_default_to_text_on_stdout(tmp_path: Path) -> None:
    assert parse_targets([]) == [OutputTarget("text")]
    assert parse_targets(["json"]) == [OutputTarget("json")]
    assert parse_targets(["junit:r.xml", "JSON"]) == [OutputTarget("junit", Path("r.xml")), OutputTarget("json")]
    assert parse_targets(["junit:r.xml"]) == [OutputTarget("text"), OutputTarget("junit", Path("r.xml"))]
    assert parse_targets(["markdown:C:/x.md"]) == [OutputTarget("text"), OutputTarget("markdown", Path("C:/x.md"))]


@pytest.mark.parametrize("specs, message", [
    (["json", "junit"], "only one format can go to standard output"),
    (["xml"], "unknown format 'xml'"),
    (["junit:"], "a path must follow the colon"),
    (["junit:a.xml", "markdown:./a.xml"], "the same file"),
])
def test_bad_targets_are_clear_errors(specs: list[str], message: str) -> None:
    with pytest.raises(ReportError, match=message):
        parse_targets(specs)


def test_emit_writes_files_and_refuses_several_submissions_where_one_fits(tmp_path: Path,
                                                                           grace: SubmissionResult) -> None:
    targets = parse_targets(["json", f"junit:{tmp_path}/deep/r.xml", f"text:{tmp_path}/r.txt"])
    stdout = emit([grace], targets)
    assert json.loads(stdout)["score"] == 14
    assert ET.parse(tmp_path / "deep" / "r.xml").getroot().tag == "testsuites"
    assert "\x1b" not in (tmp_path / "r.txt").read_text()  # files are never coloured
    with pytest.raises(ReportError, match="format gradescope holds one submission"):
        emit([grace, grace], parse_targets(["gradescope"]))
    (tmp_path / "dir.xml").mkdir()
    with pytest.raises(ReportError, match="cannot write the junit report"):
        emit([grace], parse_targets([f"junit:{tmp_path}/dir.xml"]))


def test_diagnosis_line_only_for_python_files() -> None:
    from grader.report.common import source_line

    exercise = ExerciseResult("x", "X", "failed", 0, 1, diagnoses=[Diagnosis("c", "m", line=7)])
    assert source_line("a/b.py", exercise) == 7
    assert source_line("a/b.ipynb", exercise) is None
