"""Finding the students in a submissions folder, whatever shape the LMS export has.

Recognised layouts (documented in docs/batch.md), for each entry directly inside SUBMISSIONS_DIR:

- a folder per student, holding any mix of ``.py`` / ``.ipynb`` files (subfolders included);
- Moodle "download all submissions" folders, ``Full Name_12345_assignsubmission_file_/...``, and the flat
  variant ``Full Name_12345_assignsubmission_file_dot.py``; several folders of one student (file and
  online text plugins) are merged;
- Canvas files, ``lastname_firstname_12345_67890_dot.py`` or ``..._late_12345_67890_...`` (user id,
  submission id, then the student's own file name; Canvas appends ``-1``, ``-2`` to resubmitted names);
- any other ``.py`` / ``.ipynb`` file: one file per student, named by its stem.

Other top-level files (a README, a grades sheet) are not students: they are listed as ignored. A
student whose files cannot be graded still gets a ``Student`` (with no gradable file): it becomes a
row with a reason, never a silent omission.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from grader.i18n import N_, Message
from grader.submission import SUFFIXES

# Canvas: name (may contain underscores), optional "late", user id, submission id, original file name.
_CANVAS = re.compile(r"^(?P<name>.+?)_(?:late_|LATE_)?(?P<id>\d+)_(?P<sub>\d+)_(?P<file>.+)$")
# Moodle: "Full Name_participant id_assignsubmission_plugin_" (folder) or with the file name appended.
_MOODLE_DIR = re.compile(r"^(?P<name>.+)_(?P<id>\d+)_assign(?:submission|feedback)_(?P<plugin>[a-z]+)_?$")
_MOODLE_FILE = re.compile(r"^(?P<name>.+)_(?P<id>\d+)_assignsubmission_file_(?P<file>.+)$")
_RESUBMITTED = re.compile(r"^(?P<stem>.+)-\d+$")  # Canvas: "dot-1.py" is the second upload of "dot.py"
_SKIPPED_DIRS = {"__pycache__", "__MACOSX", ".ipynb_checkpoints"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class SubmittedFile:
    path: Path  # where it is on disk
    name: str  # the student's own name for it (LMS prefixes removed), e.g. "dot.py" or "sub/dot.py"

    @property
    def gradable(self) -> bool:
        return Path(self.name).suffix.lower() in SUFFIXES


@dataclass
class Student:
    """One student's hand-in: the unit of grading, of ``results.jsonl`` lines and of ``grades.csv`` rows."""

    key: str  # unique, file-name safe: feedback/<key>.html, the sort order of every output
    name: str  # display name ("Ada Lovelace"), the key when no convention gives one
    lms_id: str = ""  # Canvas user id / Moodle participant id, when the file name carries one
    layout: str = "file"  # folder | file | canvas | moodle
    files: list[SubmittedFile] = field(default_factory=list)

    @property
    def gradable(self) -> list[SubmittedFile]:
        return sorted((f for f in self.files if f.gradable), key=lambda f: f.name)

    @property
    def problem(self) -> str:
        """Why nothing of this hand-in can be graded ("" when something can): a Message, which the row is
        written in the feedback's language from."""
        if self.gradable:
            return ""
        if not self.files:
            return Message(N_("the submission is empty: no file was handed in"))
        names = ", ".join(sorted(f.name for f in self.files))
        return Message(N_("no .py file or .ipynb notebook was handed in (found: {names})"), {"names": names})


@dataclass
class Discovery:
    students: list[Student]  # sorted by key
    ignored: list[Path]  # top-level files that are not submissions


class DiscoveryError(Exception):
    """SUBMISSIONS_DIR cannot be listed: a usage error."""


def discover(root: Path) -> Discovery:
    """Every student under ``root``, sorted by key so that every output is in a stable order."""
    root = Path(root)
    if not root.is_dir():
        raise DiscoveryError(f"{root} is not a folder of submissions")
    try:
        entries = sorted(root.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        raise DiscoveryError(f"{root} cannot be listed: {exc.strerror or exc}") from None
    students: dict[tuple[str, str], Student] = {}
    ignored: list[Path] = []

    def student(name: str, lms_id: str, layout: str) -> Student:
        found = students.get((name, lms_id))
        if found is None:
            found = students[(name, lms_id)] = Student(key="", name=name, lms_id=lms_id, layout=layout)
        return found

    for entry in entries:
        if entry.name.startswith(".") or entry.name in _SKIPPED_DIRS:
            continue
        if entry.is_dir():
            moodle = _MOODLE_DIR.match(entry.name)
            if moodle:
                owner = student(moodle["name"], moodle["id"], "moodle")
            else:
                owner = student(entry.name, "", "folder")
            owner.files += [SubmittedFile(p, p.relative_to(entry).as_posix()) for p in _files_under(entry)]
            continue
        moodle, canvas = _MOODLE_FILE.match(entry.name), _CANVAS.match(entry.name)
        if moodle:
            student(moodle["name"], moodle["id"], "moodle").files.append(SubmittedFile(entry, moodle["file"]))
        elif canvas:
            original = _canvas_original(canvas["file"])
            student(canvas["name"], canvas["id"], "canvas").files.append(SubmittedFile(entry, original))
        elif entry.suffix.lower() in SUFFIXES:
            student(entry.stem, "", "file").files.append(SubmittedFile(entry, entry.name))
        else:
            ignored.append(entry)
    return Discovery(_assign_keys(list(students.values())), ignored)


def _files_under(folder: Path) -> list[Path]:
    """Every file below ``folder``, hidden files and editor/OS clutter left out, in name order."""
    found = []
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if any(p.startswith(".") or p in _SKIPPED_DIRS for p in parts) or not path.is_file():
            continue
        found.append(path)
    return found


def _canvas_original(name: str) -> str:
    """The student's file name: Canvas renames the n-th resubmission of "dot.py" to "dot-n.py"."""
    path = Path(name)
    again = _RESUBMITTED.match(path.stem)
    return again["stem"] + path.suffix if again else name


def _assign_keys(students: list[Student]) -> list[Student]:
    """File-name-safe unique keys, deterministic: sorted by (name, id), clashes numbered in that order."""
    students.sort(key=lambda s: (s.name, s.lms_id))
    used: set[str] = set()
    for s in students:
        base = _UNSAFE.sub("_", s.name if not s.lms_id else f"{s.name}_{s.lms_id}").strip("._") or "student"
        key, n = base, 1
        while key.lower() in used:  # case-insensitive: feedback files on macOS/Windows file systems
            n += 1
            key = f"{base}-{n}"
        used.add(key.lower())
        s.key = key
    students.sort(key=lambda s: s.key)
    return students
