"""Grades where an LMS can import them, and the student map that joins hand-ins to the LMS's students.

``--student-map CSV`` (docs/batch.md) is the instructor's roster: one row per student, a required
``submission`` column naming the hand-in as `grader grade` sees it (the ``student`` key of grades.csv,
the ``name``, or the LMS id taken from an export's file names) and the ids an LMS matches students by.
Hand-ins the map does not name, and students of the map without a hand-in, are reported and kept as
rows: nothing is dropped silently. The map changes what the outputs say about a student, never the
resume keys: editing it regrades nobody.

Two files are written next to grades.csv: ``canvas.csv`` (Canvas gradebook import: ``Student, ID,
SIS User ID, SIS Login ID, Section`` and one assignment column, after a ``Points Possible`` row as in
Canvas' own export) and ``moodle.csv`` (Moodle's offline grading worksheet: ``Identifier`` =
``Participant <id>``, ``Full name``, ``Email address``, ``Grade``, ``Maximum Grade``, ``Last modified
(grade)``, ``Feedback comments``). Rows with no id an LMS can match are left out of these two files
(and counted in the summary); grades.csv keeps every row.
"""

from __future__ import annotations

import csv
import io
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

from grader.batch.discover import Student
from grader.files import atomic_open
from grader.i18n import ENGLISH, N_, Translator

REQUIRED = "submission"
IDS = ("id", "sis_user_id", "sis_login_id", "email")  # what an LMS matches a student by: one is needed
OPTIONAL = ("name", "section")
NO_SUBMISSION = N_("no submission found for this student of the student map")  # a row's note: translated there
DEFAULT_ASSIGNMENT = "Autograd exercises"


class StudentMapError(Exception):
    """The map cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class Person:
    """One row of the map: who a hand-in belongs to, in the LMS's terms."""

    submission: str
    line: int
    id: str = ""
    name: str = ""
    email: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""


@dataclass
class StudentMap:
    path: Path
    people: list[Person]
    ignored_columns: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, path: Path) -> StudentMap:
        try:
            text = Path(path).read_bytes().decode("utf-8-sig")  # Excel writes a byte-order mark
        except OSError as exc:
            raise StudentMapError(f"{path}: cannot be read: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise StudentMapError(f"{path}: not UTF-8 text (save it as 'CSV UTF-8')") from None
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")  # Excel in many locales writes ';'
        except csv.Error:
            dialect = csv.excel
        reader = csv.reader(io.StringIO(text), dialect)
        header = [_column(name) for name in next(reader, [])]
        if REQUIRED not in header:
            raise StudentMapError(f"{path}:1: no '{REQUIRED}' column (columns: {', '.join(header) or 'none'}); "
                                  f"it names each hand-in as grades.csv does")
        if not any(name in header for name in IDS):
            raise StudentMapError(f"{path}:1: no id column: give at least one of {', '.join(IDS)}")
        known = {REQUIRED, *IDS, *OPTIONAL}
        people: list[Person] = []
        seen: dict[str, int] = {}
        for line, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue  # blank lines, e.g. at the end
            row = {name: value.strip() for name, value in zip(header, values) if name in known}
            submission = row.get(REQUIRED, "")
            if not submission:
                raise StudentMapError(f"{path}:{line}: the '{REQUIRED}' cell is empty")
            if submission.casefold() in seen:
                raise StudentMapError(f"{path}:{line}: '{submission}' is already on line {seen[submission.casefold()]}")
            seen[submission.casefold()] = line
            people.append(Person(line=line, **{k: v for k, v in row.items()}))
        if not people:
            raise StudentMapError(f"{path}: no students (only a header)")
        return cls(Path(path), people, sorted({n for n in header if n not in known}))

    def join(self, students: list[Student]) -> Join:
        """Each hand-in with its person, by student key, else name, else LMS id (exact, then ignoring case)."""
        indexes: list[dict[str, list[Student]]] = [{}, {}, {}]
        for student in students:
            for index, value in zip(indexes, (student.key, student.name, student.lms_id)):
                if value:
                    index.setdefault(value, []).append(student)
        matched: dict[str, Person] = {}
        absent: list[Person] = []
        for person in self.people:
            found = _lookup(person.submission, indexes)
            if len(found) > 1:
                keys = ", ".join(s.key for s in found)
                raise StudentMapError(f"{self.path}:{person.line}: '{person.submission}' matches {len(found)} "
                                      f"hand-ins ({keys}): use the student column of grades.csv")
            if not found:
                absent.append(person)
                continue
            student = found[0]
            if student.key in matched:
                raise StudentMapError(f"{self.path}:{person.line}: '{person.submission}' is the hand-in "
                                      f"{student.key}, already given to line {matched[student.key].line}")
            matched[student.key] = person
        return Join(matched, absent, [s.key for s in students if s.key not in matched])


def _column(name: str) -> str:
    """Header cells as keys: "SIS User ID" -> sis_user_id, " Submission" -> submission."""
    return "_".join(name.strip().lower().replace("-", " ").split())


def _lookup(value: str, indexes: list[dict[str, list[Student]]]) -> list[Student]:
    """The first index (key, name, LMS id) that knows ``value``: exactly, else ignoring case."""
    folded = value.casefold()
    for index in indexes:
        if value in index:
            return index[value]
    for index in indexes:
        found = [s for name, students in index.items() if name.casefold() == folded for s in students]
        if found:
            return found
    return []


@dataclass
class Join:
    matched: dict[str, Person]  # student key -> person
    absent: list[Person]  # people of the map with no hand-in
    unmatched: list[str]  # student keys the map does not name

    def student(self, student: Student) -> Student:
        """The student as the outputs show them: the map's name and id win over the file names'."""
        person = self.matched.get(student.key)
        if person is None:
            return student
        return replace(student, name=person.name or student.name, lms_id=person.id or student.lms_id)

    def absent_students(self) -> list[Student]:
        return [Student(key=p.submission, name=p.name or p.submission, lms_id=p.id, layout="none")
                for p in self.absent]

    def lines(self, map_path: Path, tr: Translator = ENGLISH) -> list[str]:
        """What the summary says about the join (``tr``: the language of the rows it quotes)."""
        lines = []
        if self.unmatched:
            lines.append(f"{len(self.unmatched)} hand-ins are not in {map_path.name}: {_some(self.unmatched)} "
                         "(graded; their LMS ids are those of the file names, if any)")
        if self.absent:
            lines.append(f"{len(self.absent)} students of {map_path.name} handed nothing in: "
                         f"{_some([p.submission for p in self.absent])} (rows with '{tr(NO_SUBMISSION)}')")
        return lines


def _some(names: list[str], shown: int = 10) -> str:
    return ", ".join(names[:shown]) + (f" ... (+{len(names) - shown})" if len(names) > shown else "")


# --------------------------------------------------------------------------- canvas.csv, moodle.csv


class LmsFiles:
    """canvas.csv and moodle.csv, written row by row as results stream past (``observe``)."""

    def __init__(self, out: Path, *, assignment: str, max_score: float, join: Join | None,
                 tr: Translator = ENGLISH) -> None:
        self.out, self.assignment, self.max_score, self.join = out, assignment, max_score, join
        self.tr = tr  # the language of the feedback comments students read in Moodle
        self.skipped = 0  # rows with no id to import by
        self._stack = ExitStack()

    def __enter__(self) -> LmsFiles:
        from grader.batch.outputs import points

        self._canvas = self._writer("canvas.csv")
        self._moodle = self._writer("moodle.csv")
        self._canvas.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", self.assignment])
        self._canvas.writerow(["    Points Possible", "", "", "", "", points(self.max_score)])
        self._moodle.writerow(["Identifier", "Full name", "Email address", "Grade", "Maximum Grade",
                               "Last modified (grade)", "Feedback comments"])
        return self

    def _writer(self, name: str) -> csv.writer:  # type: ignore[valid-type]
        binary = self._stack.enter_context(atomic_open(self.out / name))
        text = io.TextIOWrapper(binary, encoding="utf-8", newline="")
        self._stack.callback(lambda: (text.flush(), text.detach()))  # the atomic writer closes the file
        return csv.writer(text, lineterminator="\n")

    def observe(self, student: Student, result: dict | None) -> None:
        """One student's row (``result`` None: in the map, but nothing was handed in)."""
        from grader.batch.outputs import points

        person = self.join.matched.get(student.key) if self.join else None
        person = person or Person(student.key, 0, id=student.lms_id, name=student.name)
        grade = points(float(result["score"])) if result is not None else ""
        ids = [person.id or student.lms_id, person.sis_user_id, person.sis_login_id]
        if not any(ids):  # nothing an LMS could match the row by
            self.skipped += 1
            return
        self._canvas.writerow([student.name, *ids, person.section, grade])
        if ids[0]:
            self._moodle.writerow([f"Participant {ids[0]}", student.name, person.email, grade,
                                   points(self.max_score), "", _comments(result, self.tr)])

    def __exit__(self, *exc: object) -> None:
        self._stack.close()


def _comments(result: dict | None, tr: Translator) -> str:
    """Moodle's feedback comments: the exercises not passed and why, one a line (no hidden details:
    results already hold none)."""
    if result is None:
        return tr(NO_SUBMISSION)
    from grader.batch.outputs import points, row_note

    lines = [f"{points(float(result['score']))}/{points(float(result['max_score']))}"]
    if note := row_note(result):  # nothing could run: one reason, not the same line per exercise
        return "\n".join([*lines, note])
    for exercise in result.get("exercises", []):
        if exercise.get("status") != "passed":
            why = exercise.get("message") or next((d.get("message", "") for d in exercise.get("diagnoses", [])), "")
            lines.append(f"{exercise['id']} {points(float(exercise['score']))}/{points(float(exercise['max_score']))}"
                         + (tr(": ") + why.splitlines()[0][:200] if why else ""))
    return "\n".join(lines)

