"""Reading what a student hands in (a ``.py`` file or a Jupyter notebook) into one program.

The sandbox executes ``Submission.source``; everything the student needs to hear about (a traceback
line, a diagnosis) is a line of that program, which ``Submission.locate`` maps back to where the
student wrote it. Notebooks are flattened cell after cell; IPython-only lines (magics, shell escapes,
``?`` help) are replaced by a ``pass`` statement of the same indentation so that every line keeps its
number and the program still compiles.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import nbformat

from grader.i18n import ENGLISH, N_, Message, Translator

MAX_SOURCE_BYTES = 2 * 1024 * 1024
"""Largest program we accept: a ``.py`` file, or the code extracted from a notebook."""

MAX_NOTEBOOK_BYTES = 32 * 1024 * 1024
"""Largest ``.ipynb`` file: larger than ``MAX_SOURCE_BYTES`` because saved plots live in the file."""

SUFFIXES = (".py", ".ipynb")
UNREADABLE = N_("{file} could not be read: {error}.")  # also a batch's file the main process could not read

# Cell magics whose body is ordinary Python that IPython runs: the body is kept, only the magic line
# is skipped. Skipping a `%%time` cell wholesale would silently drop the student's definitions.
_PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture"})

_PY_CELL_MARKER = re.compile(r"#\s*%%(?=\s|$)(?P<rest>.*)")  # not "# %%time": Jupytext's commented magic
_PY_NON_CODE_TAG = re.compile(r"\[\s*(markdown|md|raw)\s*\]", re.IGNORECASE)
_HELP = re.compile(r"(\?{1,2}[\w.]+(\(\))?|[\w.]+(\(\))?\?{1,2})\s*")
_ASSIGNED_ESCAPE = re.compile(r"[A-Za-z_]\w*(\s*,\s*[A-Za-z_]\w*)*\s*=\s*[%!]")


class SubmissionError(Exception):
    """The hand-in cannot be read; the message is written for the student.

    It is raised before the language is known (a batch worker reads bytes), so it keeps its msgid and
    fields: ``text(tr)`` is the message in the caller's language, ``str(exc)`` the English text.
    """

    def __init__(self, template: str, fields: Mapping[str, object] | None = None) -> None:
        super().__init__(template, dict(fields or {}))  # args rebuild it when pickled
        self.message = Message(template, fields)

    def __str__(self) -> str:
        return str(self.message)

    def text(self, tr: Translator = ENGLISH) -> str:
        return self.message.text(tr)


Note = Message  # something changed on the way (a skipped magic), said in the result's language


@dataclass(frozen=True)
class Cell:
    """One code cell, and where it sits in the combined program."""

    source: str  # what the student wrote (newlines normalised, ending with "\n" unless empty)
    first_line: int  # 1-based line of the combined program where the cell starts
    index: int  # 1-based position in the notebook, counting every cell (markdown too): what a student counts
    origin_line: int | None = None  # .py: the file line where the cell starts; notebooks: None

    @property
    def line_count(self) -> int:
        return self.source.count("\n")

    def contains(self, line: int) -> bool:
        return self.first_line <= line < self.first_line + self.line_count


@dataclass(frozen=True)
class Submission:
    path: Path  # the file read (inside the directory, when a directory was given)
    name: str  # the file's name, for messages
    kind: str  # "py" | "ipynb"
    source: str  # the program the sandbox executes
    cells: tuple[Cell, ...] = ()
    notes: tuple[Note, ...] = ()  # what was changed on the way, e.g. skipped IPython magics

    def locate(self, line: int, tr: Translator = ENGLISH) -> str:
        """A line of ``source`` as the student would find it: "line 12" or "cell 4, line 2"."""
        if self.kind == "ipynb":
            for cell in self.cells:
                if cell.contains(line):
                    return tr("cell {cell}, line {line}", cell=cell.index, line=line - cell.first_line + 1)
        return tr("line {line}", line=line)


def read_submission(path: Path) -> Submission:
    """Read a ``.py`` file, a notebook, or a directory holding exactly one of them."""
    path = Path(path)
    if path.is_dir():
        path = _single_file_in(path)
    elif not path.exists():
        raise SubmissionError(N_("{path} does not exist."), {"path": path})
    return submission_from_bytes(_read_bytes(path, _limit_for(path)), path)


def submission_from_bytes(data: bytes, path: Path) -> Submission:
    """A submission from its bytes; ``path`` names it (suffix, messages). Batch workers receive bytes."""
    path = Path(path)
    limit = _limit_for(path)
    if len(data) > limit:
        raise SubmissionError(N_("{file} is too large to grade ({size}; the limit is {limit})."),
                              {"file": path.name, "size": _mib(len(data)), "limit": _mib(limit)})
    text = _decode(data, path.name)
    if path.suffix.lower() == ".py":
        return Submission(path, path.name, "py", text, tuple(_py_cells(text)))
    return _read_notebook(path, text)


def _limit_for(path: Path) -> int:
    """Largest accepted file for this suffix; anything but .py/.ipynb is refused with a reason."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise SubmissionError(N_("{file} is neither a Python file (.py) nor a Jupyter notebook (.ipynb); "
                                 "hand in one of those."), {"file": path.name})
    return MAX_NOTEBOOK_BYTES if suffix == ".ipynb" else MAX_SOURCE_BYTES


def combine_submissions(parts: list[Submission], path: Path) -> Submission:
    """Several files of one student as one program, in the given order (batch: a folder of files).

    Each file becomes cells of the combined program, so definitions from every file are visible; a
    comment line naming the file precedes it. Line numbers in feedback count in the combined program.
    """
    if len(parts) == 1:
        return parts[0]
    program: list[str] = []
    cells: list[Cell] = []
    notes: list[Note] = [Note(N_("graded {files} together as one program, in this order (line numbers count "
                                 "in that program)"), {"files": ", ".join(p.name for p in parts)})]
    for part in parts:
        program.append(f"# ---- {part.name} ----\n")
        offset = sum(text.count("\n") for text in program)
        source = part.source if part.source.endswith("\n") or not part.source else part.source + "\n"
        program.append(source)
        for cell in part.cells or (Cell(source, 1, 1),):
            cells.append(Cell(cell.source, cell.first_line + offset, len(cells) + 1))
        notes += [Note(N_("{file}: {note}"), {"file": part.name, "note": note}) for note in part.notes]
    source = "".join(program)
    if len(source.encode("utf-8")) > MAX_SOURCE_BYTES:
        raise SubmissionError(N_("The code handed in is too large to grade (the limit is {limit})."),
                              {"limit": _mib(MAX_SOURCE_BYTES)})
    return Submission(path, path.name, "py", source, tuple(cells), tuple(notes))


def _single_file_in(directory: Path) -> Path:
    """For now a directory stands for the one submission inside it; batch grading will take folders."""
    found = sorted(
        p for p in directory.iterdir()
        if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith(".")
    )
    if len(found) == 1:
        return found[0]
    if not found:
        raise SubmissionError(N_("The folder {folder} holds no .py file or .ipynb notebook to grade."),
                              {"folder": directory})
    raise SubmissionError(N_("The folder {folder} holds {count} files that could be graded ({names}); "
                             "hand in exactly one, or name the file to grade."),
                          {"folder": directory, "count": len(found), "names": ", ".join(p.name for p in found)})


def _read_bytes(path: Path, limit: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > limit:
            raise SubmissionError(N_("{file} is too large to grade ({size}; the limit is {limit})."),
                                  {"file": path.name, "size": _mib(size), "limit": _mib(limit)})
        return path.read_bytes()
    except OSError as exc:
        raise SubmissionError(UNREADABLE, {"file": path.name, "error": exc.strerror or exc}) from exc


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


def _decode(data: bytes, name: str) -> str:
    """UTF-8 (a BOM is dropped: ``compile`` rejects it inside a str); anything else is not source."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SubmissionError(N_("{file} is not a text file in UTF-8 (it was saved as UTF-16); "
                                 "save it with UTF-8 encoding and hand it in again."), {"file": name})
    if b"\x00" in data:
        raise SubmissionError(N_("{file} is not a text file (it contains NUL bytes); hand in the .py or .ipynb "
                                 "file itself."), {"file": name})
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SubmissionError(N_("{file} is not a text file in UTF-8: line {line} contains the byte {byte}, "
                                 "which is not UTF-8; save the file with UTF-8 encoding and hand it in again."),
                              {"file": name, "line": line, "byte": f"0x{data[exc.start]:02x}"}) from exc


def _lines(text: str) -> list[str]:
    """Split like the Python tokenizer does (\\n, \\r\\n, \\r), unlike ``str.splitlines``."""
    return re.split(r"\r\n|\r|\n", text)


def _as_cell_text(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


# --- .py files ----------------------------------------------------------------------------------------


def _py_cells(text: str) -> Iterator[Cell]:
    """Cells of a ``# %%`` (VS Code / Spyder / Jupytext percent format) file; the whole file otherwise.

    The text before the first marker is a cell when it holds anything; ``[markdown]`` cells are left out.
    """
    lines = _lines(text)
    if lines and lines[-1] == "":
        lines.pop()  # the file's final newline does not start another line
    starts = [i for i, line in enumerate(lines) if _PY_CELL_MARKER.match(line)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    index = 0
    for start, end in zip(starts, [*starts[1:], len(lines)]):
        chunk = lines[start:end]
        marker = _PY_CELL_MARKER.match(chunk[0]) if chunk else None
        if marker is None and not any(line.strip() for line in chunk):
            continue  # blank preamble (or empty file)
        index += 1
        if marker is not None and _PY_NON_CODE_TAG.search(marker["rest"]):
            continue
        yield Cell(_as_cell_text(chunk), first_line=start + 1, index=index, origin_line=start + 1)


# --- notebooks ----------------------------------------------------------------------------------------


def _read_notebook(path: Path, text: str) -> Submission:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nbformat nags about missing cell ids and the like
            # Schema violations are tolerated (captured, not raised): a notebook Jupyter opens should be
            # gradable. What cannot be read as a notebook at all is the student's problem to fix.
            notebook = nbformat.reads(text, as_version=4, capture_validation_error={})
        raw_cells = list(notebook.cells)
    except Exception as exc:  # nbformat raises JSON, conversion, schema, attribute and type errors
        raise SubmissionError(N_("{file} is not a valid Jupyter notebook ({error}); open it in Jupyter, save it, "
                                 "and hand it in again."), {"file": path.name, "error": _short(exc)}) from exc

    cells: list[Cell] = []
    program: list[str] = []
    notes: list[Note] = []
    for index, raw in enumerate(raw_cells, start=1):
        if raw.get("cell_type") != "code":
            continue
        source = raw.get("source", "")
        if isinstance(source, list):  # as stored on disk; nbformat normally joins it already
            source = "".join(source)
        if not isinstance(source, str):
            raise SubmissionError(N_("{file} is not a valid Jupyter notebook (cell {cell} has no code)."),
                                  {"file": path.name, "cell": index})
        lines = _lines(source)
        if lines[-1] == "":
            lines.pop()
        cells.append(Cell(_as_cell_text(lines), first_line=len(program) + 1, index=index))
        program.extend(_runnable_lines(lines, index, notes))

    source = _as_cell_text(program)
    if len(source.encode("utf-8")) > MAX_SOURCE_BYTES:
        raise SubmissionError(N_("The code in {file} is too large to grade (the limit is {limit})."),
                              {"file": path.name, "limit": _mib(MAX_SOURCE_BYTES)})
    return Submission(path, path.name, "ipynb", source, tuple(cells), tuple(notes))


def _short(exc: Exception, limit: int = 160) -> str:
    message = " ".join(str(exc).split()) or type(exc).__name__
    return message if len(message) <= limit else message[: limit - 1] + "…"


def _runnable_lines(lines: list[str], cell: int, notes: list[Note]) -> list[str]:
    """The cell's lines with IPython-only syntax turned into ``pass``; one output line per input line."""
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].startswith("%%"):
        magic = lines[first].strip()
        name = (magic[2:].split(maxsplit=1) or [""])[0]
        out = [*lines[:first], f"pass  # skipped: {magic}"]
        if name in _PYTHON_CELL_MAGICS:
            notes.append(Note(N_("cell {cell}, line {line}: skipped cell magic `{magic}` (the cell's code still runs)"),
                              {"cell": cell, "line": first + 1, "magic": magic}))
            return [*out, *_escape_lines(lines[first + 1 :], cell, first + 1, notes)]
        notes.append(Note(N_("cell {cell}: skipped the whole cell, it runs the cell magic `{magic}`"),
                          {"cell": cell, "magic": magic}))
        return [*out, *("# " + line for line in lines[first + 1 :])]
    return _escape_lines(lines, cell, 0, notes)


def _escape_lines(lines: list[str], cell: int, offset: int, notes: list[Note]) -> list[str]:
    out: list[str] = []
    state = _LexState()
    for number, line in enumerate(lines, start=offset + 1):
        kind = _ipython_kind(line) if state.at_statement_start else None
        if kind is None:
            out.append(line)
            state.feed(line)
            continue
        statement = line.strip()
        indent = line[: len(line) - len(line.lstrip())]
        out.append(f"{indent}pass  # skipped: {statement}")
        notes.append(Note(N_("cell {cell}, line {line}: skipped {kind} `{statement}`"),
                          {"cell": cell, "line": number, "kind": Note(kind), "statement": statement}))
    return out


def _ipython_kind(line: str) -> str | None:
    """What IPython-only statement ``line`` is, if any; only asked for lines that start a statement."""
    statement = line.strip()
    if statement.startswith("%"):
        return N_("IPython magic")
    if statement.startswith("!"):
        return N_("shell command")
    if _HELP.fullmatch(statement):
        return N_("help request")
    match = _ASSIGNED_ESCAPE.match(statement)
    if match:
        return N_("IPython magic") if match.group(0).endswith("%") else N_("shell command")
    return None


@dataclass
class _LexState:
    """Just enough of Python's tokenizer to tell whether a line starts a new statement.

    ``%`` at the start of a continuation line is the modulo operator, and ``!`` or ``?`` inside a
    multi-line string are text: neither may be taken for IPython syntax.
    """

    quote: str | None = None  # the open string's delimiter: ' " ''' or \"\"\"
    depth: int = 0  # open brackets
    continued: bool = False  # the previous line ended with a backslash

    @property
    def at_statement_start(self) -> bool:
        return self.quote is None and self.depth == 0 and not self.continued

    def feed(self, line: str) -> None:
        self.continued = False
        i, n = 0, len(line)
        while i < n:
            char = line[i]
            if self.quote is not None:
                if char == "\\":
                    self.continued = i == n - 1
                    i += 2
                elif line.startswith(self.quote, i):
                    i += len(self.quote)
                    self.quote = None
                else:
                    i += 1
                continue
            if char == "#":
                break
            if char in "'\"":
                self.quote = line[i : i + 3] if line[i : i + 3] in ("'''", '"""') else char
                i += len(self.quote)
                continue
            if char in "([{":
                self.depth += 1
            elif char in ")]}":
                self.depth = max(0, self.depth - 1)
            elif char == "\\" and i == n - 1:
                self.continued = True
            i += 1
        if self.quote in ("'", '"') and not self.continued:
            self.quote = None  # unterminated one-line string: a syntax error Python will report
