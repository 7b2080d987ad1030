"""JUnit XML for CI servers (GitLab, Jenkins, GitHub test reporters): a testsuite per submission.

The document is valid against both common schemas, the strict Apache Ant one (windyroad
``JUnit.xsd``) and Jenkins' ``junit-10.xsd``; ``tests/data`` keeps both and the tests validate against
them. The strict one shapes the output:

- ``<testsuites>`` has no attributes, each ``<testsuite>`` has ``id`` and ``package`` and every
  attribute the schema requires (``timestamp`` without a time zone, ``hostname``), and its
  ``<properties>``, ``<system-out>`` and ``<system-err>`` are always present;
- a ``<testcase>`` may hold one ``<failure>`` or ``<error>`` and nothing else, so an exercise's
  score and max score are suite properties named ``<id>.score`` and ``<id>.max_score`` (no schema
  allows properties on a test case).

A failed exercise is a ``<failure>``, an exercise that could not be graded an ``<error>``; the
message is the headline, the body the exercise's terminal report. The students' output goes to the
suite's ``<system-out>``, one section per exercise.
"""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import PurePath

from grader.i18n import N_, Translator, translator
from grader.report.common import say, clean_text, headline, number
from grader.report.text import render_exercise
from grader.results import ExerciseResult, SubmissionResult

# Characters XML 1.0 cannot hold at all, not even escaped (clean_text already replaced C0 controls).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# Text a reader sees, in the result's language; element and attribute names and the failure ``type``
# (a diagnosis code) are the format's and stay as they are.
OUTPUT_HEADER = N_("--- output of {exercise} ---")


def render_junit(result: SubmissionResult, *, timestamp: datetime | None = None) -> str:
    return render_junit_many([result], timestamp=timestamp)


def render_junit_many(results: Sequence[SubmissionResult], *, timestamp: datetime | None = None) -> str:
    """One ``<testsuites>`` document; ``timestamp`` (default: now, UTC) is when grading ran."""
    when = (timestamp or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    root = ET.Element("testsuites")
    for index, result in enumerate(results):
        root.append(_suite(result, index, when))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def classname(submission: str) -> str:
    """A dotted name for the submission, as CI servers group test classes: ``hw/grace.py`` → ``hw.grace``."""
    parts = [p for p in PurePath(submission).parts if p not in ("/", "\\", ".", "..")]
    if parts:
        parts[-1] = PurePath(parts[-1]).stem
    return ".".join(parts) or "submission"


def _suite(result: SubmissionResult, index: int, timestamp: str) -> ET.Element:
    name = classname(result.submission)
    failures = sum(e.status == "failed" for e in result.exercises)
    errors = sum(e.status == "error" for e in result.exercises)
    suite = ET.Element("testsuite", {
        "name": _xml(result.submission).strip() or "submission", "package": name, "id": str(index),
        "timestamp": timestamp, "hostname": _hostname(), "tests": str(len(result.exercises)),
        "failures": str(failures), "errors": str(errors), "time": _seconds(result.duration),
    })
    properties = ET.SubElement(suite, "properties")
    values = [("score", number(result.score)), ("max_score", number(result.max_score)),
              ("seed", str(result.seed)), ("grader_version", result.grader_version or "unknown")]
    for exercise in result.exercises:
        values += [(f"{exercise.id}.score", number(exercise.score)),
                   (f"{exercise.id}.max_score", number(exercise.max_score))]
    for key, value in values:
        ET.SubElement(properties, "property", {"name": _xml(key), "value": _xml(value)})
    for exercise in result.exercises:
        suite.append(_case(exercise, name, result.lang))
    ET.SubElement(suite, "system-out").text = _xml(_outputs(result.exercises, translator(result.lang)))
    ET.SubElement(suite, "system-err").text = ""
    return suite


def _case(exercise: ExerciseResult, name: str, lang: str) -> ET.Element:
    case = ET.Element("testcase", {"name": _xml(exercise.id), "classname": name,
                                   "time": _seconds(exercise.duration)})
    if exercise.status != "passed":
        kind = "error" if exercise.status == "error" else "failure"
        problem = exercise.diagnoses[0].code if exercise.diagnoses else exercise.status
        element = ET.SubElement(case, kind, {"message": _xml(headline(exercise, translator(lang))), "type": _xml(problem)})
        element.text = _xml(render_exercise(exercise, color=False, width=100, lang=lang))
    return case


def _outputs(exercises: list[ExerciseResult], tr: Translator) -> str:
    return "".join(f"{tr(OUTPUT_HEADER, exercise=e.id)}\n{clean_text(e.output).rstrip()}\n"
                   for e in exercises if e.output)


def _xml(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _seconds(value: float) -> str:
    """``xs:decimal`` (no exponent, no NaN) that Jenkins' pattern accepts too."""
    return f"{max(value, 0.0):.3f}" if value == value and value != float("inf") else "0.000"


def _hostname() -> str:
    try:
        return socket.gethostname() or "localhost"
    except OSError:
        return "localhost"
