"""The pytest plugin in temporary homework repositories (pytester, each run in a subprocess as a student's
``pytest`` would be): exercises as items, diagnoses as failures, -k, -x, --junitxml; inert elsewhere."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET

import pytest

from conftest import EXERCISES, GRACE

pytest_plugins = ["pytester"]


def test_exercises_are_items_and_failures_show_the_diagnosis(homework: pytest.Pytester) -> None:
    homework.makepyprojecttoml(f"""
        [tool.pytest.ini_options]
        grader_submission = ["homework.py"]
        grader_exercises = "{EXERCISES.as_posix()}"
    """)
    run = homework.runpytest_subprocess("-k", "dot or detach", "--junitxml=report.xml", "-p", "no:cacheprovider")
    run.assert_outcomes(passed=1, failed=1, deselected=8)
    out = run.stdout.str()
    run.stdout.fnmatch_lines(["*_ detach: Detaching computation _*", "✗ failed  detach · Detaching computation (4/10)",
                              "*• u was not detached: the gradient also flowed through u",
                              "*hint: Use .detach() to treat a sub-expression as a constant.",
                              "FAILED homework.py::detach - ✗ failed  detach · Detaching computation (4/10)"])
    assert "Traceback" not in out and "pytest_plugin.py" not in out and "grading.py" not in out
    cases = {c.get("name"): c for c in ET.parse(homework.path / "report.xml").getroot().iter("testcase")}
    assert set(cases) == {"dot", "detach"}
    assert cases["detach"].get("classname") == "homework"  # pytest names the class after the file
    assert "u was not detached" in cases["detach"].find("failure").text
    assert cases["dot"].find("failure") is None


def test_command_line_options_and_stop_at_first_failure(homework: pytest.Pytester) -> None:
    run = homework.runpytest_subprocess("--grader-submission", "homework.py", "--grader-exercises", str(EXERCISES),
                                        "-x", "-p", "no:cacheprovider")
    # catalog order: dot, sum pass; square_vjp is grace's first mistake, and -x stops there
    run.assert_outcomes(passed=2, failed=1)
    run.stdout.fnmatch_lines(["*the gradient argument v was ignored*", "*stopping after 1 failures*"])


def test_inert_where_not_configured(pytester: pytest.Pytester) -> None:
    """A repository that does not configure it (this one, too): nothing collected, nothing imported."""
    shutil.copy(GRACE, pytester.path / "dot.py")  # named like an exercise, still not collected
    pytester.makepyfile(test_plain="""
        import sys

        def test_nothing_loaded():
            assert "grader.pytest_plugin" in sys.modules  # registered through the entry point ...
            assert not {"torch", "grader.session", "grader.sandbox.runner"} & set(sys.modules)  # ... and idle
    """)
    run = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    run.assert_outcomes(passed=1)


def test_missing_submission_is_a_usage_error(pytester: pytest.Pytester) -> None:
    run = pytester.runpytest_subprocess("--grader-submission", "nope.py", "-p", "no:cacheprovider")
    assert run.ret == pytest.ExitCode.USAGE_ERROR
    run.stderr.fnmatch_lines(["*grader_submission: *nope.py not found*"])


def test_xdist_workers_grade_their_share(homework: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    homework.makepyprojecttoml(f"""
        [tool.pytest.ini_options]
        grader_submission = ["homework.py"]
        grader_exercises = "{EXERCISES.as_posix()}"
    """)
    run = homework.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    run.assert_outcomes(passed=7, failed=3)  # grace.py: square_vjp, detach, backward_twice fail
    run.stdout.fnmatch_lines(["*FAILED homework.py::detach*"])
    assert "Traceback" not in run.stdout.str()
