"""A synthetic class with known answers: what `benchmarks/batch.py` times and `tests/test_lms.py` checks.

``make_class(folder, n)`` writes n hand-ins, a realistic mix drawn from the repository's own material:
model answers (solutions/), the catalog's typical mistakes (tests/mistakes/, 1 to 3 per hand-in),
untouched starter files (exercises/), crashes (``os._exit``, a segfault), a syntax error, unreadable
hand-ins and a few infinite loops, in every layout `grader grade` discovers (plain files, notebooks,
one file per exercise in a folder, Canvas and Moodle export names). It returns one ``Expected`` per
hand-in; ``check_outputs`` compares a `grader grade --out` folder against them and returns the problems
found (an empty list: every output is right).

The mix is drawn from a seeded generator: the same n and seed give the same class, byte for byte.
"""

from __future__ import annotations

import ast
import csv
import json
import random
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOPIC = "autograd"  # the function exercises: model answers, mistakes and starter files exist for each
SPECS = ROOT / "exercises" / TOPIC
SOLUTIONS = ROOT / "solutions" / TOPIC
MISTAKES = ROOT / "tests" / "mistakes"
STARTERS = SPECS

# Share of each kind of hand-in (timeouts are counted separately: each costs a 10 s time limit).
MIX = {"correct": 0.40, "mistakes": 0.42, "starter": 0.05, "crash": 0.06, "syntax": 0.03, "unreadable": 0.04}
LAYOUTS = {"file": 0.35, "folder": 0.20, "notebook": 0.10, "canvas": 0.20, "moodle": 0.15}
CRASHES = {  # statement put first in one function's body -> words the exercise's message must contain
    "import os; os._exit(3)": "exited with status 3",
    "import ctypes; ctypes.string_at(0)": "signal 11",
}
HANG = "while True: pass"


@dataclass
class Expected:
    """What the outputs must say about one hand-in."""

    entry: str  # its top-level name in the class folder (a file or a folder)
    kind: str  # correct | mistakes | starter | crash | syntax | unreadable | timeout
    layout: str  # file | folder | notebook | canvas | moodle
    wrong: list[str] = field(default_factory=list)  # exercises that must not get full marks
    message: str = ""  # words the message of every wrong exercise must contain ("" = any)
    note: str = ""  # words the grades.csv note must contain ("" = the note must be empty)
    lms_id: str = ""
    # What each exercise's code is: "solution", "mistake:<exercise>/<file>", "starter", or "" when it
    # cannot run (a crash, hang or syntax error, an unreadable hand-in): what measure_compute times.
    sources: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Catalog:
    """Exercise ids in catalog order, their model answers, and the mistakes safe to combine."""

    ids: list[str]
    points: dict[str, float]
    solutions: dict[str, str]
    mistakes: dict[str, list[Path]]  # every mistake: fine in a file of its own
    combinable: dict[str, list[Path]]  # those that redefine no helper another exercise shares

    @classmethod
    def load(cls) -> _Catalog:
        catalog = _load()
        ids = [e.id for e in catalog]
        solutions = {i: (SOLUTIONS / f"{i}.py").read_text(encoding="utf-8") for i in ids}
        shared = _definitions("\n".join(solutions.values()))
        mistakes = {i: sorted((MISTAKES / i).glob("*.py")) for i in ids}
        combinable = {i: [p for p in paths if _consistent(p.read_text(encoding="utf-8"), shared)]
                      for i, paths in mistakes.items()}
        return cls(ids, {e.id: e.points for e in catalog}, solutions, mistakes, combinable)


def write_catalog(folder: Path) -> Path:
    """The catalog the class is graded with (``--exercises``): the topic's specs only, so that other
    topics (with no model answers to draw from) do not change what the class is expected to score."""
    topic = folder / TOPIC
    topic.mkdir(parents=True, exist_ok=True)
    for spec in sorted(SPECS.glob("*.yaml")):
        shutil.copy(spec, topic / spec.name)
    return folder


def _load() -> list:
    """The topic's exercises, read from a copy: a half-edited spec of another topic cannot get in the way."""
    from grader.spec import load_catalog

    with tempfile.TemporaryDirectory() as folder:
        return load_catalog(write_catalog(Path(folder)))


def _definitions(source: str) -> dict[str, str]:
    return {node.name: ast.dump(node) for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)}


def _consistent(source: str, shared: dict[str, str]) -> bool:
    """A mistake that redefines a helper of the model answers (control flow's ``f``) differently would
    change another exercise's grade once the parts are combined into one program."""
    own = _definitions(source)
    main = list(own)[-1]  # the graded function comes last in every mistake file
    return all(shared.get(name, dump) == dump for name, dump in own.items() if name != main)


def _inject(source: str, statement: str) -> str:
    """``statement`` as the first line of the last function of ``source`` (the one graded)."""
    last = [node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)][-1]
    lines = source.splitlines()
    lines.insert(last.body[0].lineno - 1, "    " + statement)
    return "\n".join(lines) + "\n"


def make_class(folder: Path, n: int, *, seed: int = 0, timeouts: int | None = None) -> list[Expected]:
    """Write ``n`` hand-ins into ``folder`` (created); ``timeouts`` defaults to one per 250 hand-ins."""
    catalog = _Catalog.load()
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    timeouts = max(1, n // 250) if timeouts is None else timeouts
    hanging = set(rng.sample(range(n), min(timeouts, n)))
    expected = []
    for index in range(n):
        kind = "timeout" if index in hanging else rng.choices(list(MIX), weights=list(MIX.values()))[0]
        layout = rng.choices(list(LAYOUTS), weights=list(LAYOUTS.values()))[0]
        expected.append(_hand_in(folder, index, kind, layout, catalog, rng))
    return expected


def _hand_in(folder: Path, index: int, kind: str, layout: str, catalog: _Catalog, rng: random.Random) -> Expected:
    parts = dict(catalog.solutions)
    sources = {i: "solution" for i in catalog.ids}
    wrong: list[str] = []
    message = note = ""
    pool = catalog.mistakes if layout == "folder" else catalog.combinable
    if kind == "mistakes":
        wrong = rng.sample([i for i in catalog.ids if pool[i]], rng.randint(1, 3))
        for exercise in wrong:
            mistake = rng.choice(pool[exercise])
            parts[exercise] = mistake.read_text(encoding="utf-8")
            sources[exercise] = f"mistake:{exercise}/{mistake.name}"
    elif kind == "starter":
        wrong = rng.sample(catalog.ids, rng.randint(1, 2))
        for exercise in wrong:
            parts[exercise] = (STARTERS / f"{exercise}.py").read_text(encoding="utf-8")
            sources[exercise] = "starter"
    elif kind in ("crash", "timeout"):
        wrong = [rng.choice(catalog.ids)]
        statement = HANG if kind == "timeout" else rng.choice(list(CRASHES))
        message = "time limit" if kind == "timeout" else CRASHES[statement]
        parts[wrong[0]] = _inject(parts[wrong[0]], statement)
        sources[wrong[0]] = ""
    elif kind == "syntax":
        broken = rng.choice(catalog.ids)
        parts[broken] += "\ndef unfinished(x:\n"
        wrong = [broken] if layout == "folder" else list(catalog.ids)  # one program: nothing can load
        message = "could not be read"
        note = "" if layout == "folder" else message  # the row's note when every exercise has that reason
        sources.update((exercise, "") for exercise in wrong)

    stem = f"s{index:04d}"
    lms_id = ""
    if kind == "unreadable":  # not UTF-8, or no code at all: a row with the reason, no grades
        target = folder / stem
        if index % 2:
            (folder / f"{stem}.py").write_bytes("\n".join(parts.values()).encode("utf-16"))
            return Expected(f"{stem}.py", kind, "file", list(catalog.ids), note="UTF-16")
        target.mkdir()
        (target / "answers.pdf").write_bytes(b"%PDF-1.4 not code")
        return Expected(stem, kind, "folder", list(catalog.ids), note="no .py file")

    program = "\n\n".join(parts[i] for i in catalog.ids)
    if layout == "file":
        entry = f"{stem}.py"
        (folder / entry).write_text(program, encoding="utf-8")
    elif layout == "notebook":
        entry = f"{stem}.ipynb"
        (folder / entry).write_text(_notebook([parts[i] for i in catalog.ids]), encoding="utf-8")
    elif layout == "folder":  # the starter files' names: each file grades its own exercise
        entry = stem
        (folder / entry).mkdir()
        for exercise in catalog.ids:
            (folder / entry / f"{exercise}.py").write_text(parts[exercise], encoding="utf-8")
    elif layout == "canvas":  # lastname_firstname_userid_submissionid_filename
        lms_id = str(100000 + index)
        entry = f"{stem}_student_{lms_id}_{900000 + index}_homework.py"
        (folder / entry).write_text(program, encoding="utf-8")
    else:  # Moodle: "Full Name_participantid_assignsubmission_file_/"
        lms_id = str(5000 + index)
        entry = f"Student {stem.upper()}_{lms_id}_assignsubmission_file_"
        (folder / entry).mkdir()
        (folder / entry / "homework.py").write_text(program, encoding="utf-8")
    return Expected(entry, kind, layout, wrong, message, note, lms_id, sources)


def _notebook(cells: list[str]) -> str:
    def cell(kind: str, text: str) -> dict:
        extra = {"execution_count": None, "outputs": []} if kind == "code" else {}
        return {"cell_type": kind, "metadata": {}, "source": text.splitlines(keepends=True), **extra}

    body = [cell("markdown", "# Autograd homework")] + [cell("code", text) for text in cells]
    return json.dumps({"cells": body, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                       "language": "python"}}, "nbformat": 4, "nbformat_minor": 5}, indent=1)


# --------------------------------------------------------------------------- checking the outputs


def students_by_entry(folder: Path) -> dict:
    """Each top-level entry of the class folder -> the ``Student`` `grader grade` makes of it."""
    from grader.batch.discover import discover

    return {f.path.relative_to(folder).parts[0]: student for student in discover(folder).students
            for f in student.files}


def check_outputs(folder: Path, out: Path, expected: list[Expected]) -> list[str]:
    """Problems in ``out`` (grades.csv, results.jsonl, feedback/, index.html) against ``expected``."""
    from grader.report.common import points

    catalog = _Catalog.load()
    keys = {entry: student.key for entry, student in students_by_entry(folder).items()}
    problems: list[str] = []
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    results = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    rows = {row["student"]: row for row in table}
    by_key = {r["submission"]: r for r in results}
    if len(table) != len(expected) or len(results) != len(expected):
        problems.append(f"{len(expected)} hand-ins, but {len(table)} rows in grades.csv and {len(results)} lines "
                        "in results.jsonl")
    if [r["submission"] for r in results] != sorted(by_key):
        problems.append("results.jsonl is not sorted by student")
    passed = {i: 0 for i in catalog.ids}
    for hand_in in expected:
        key = keys.get(hand_in.entry, Path(hand_in.entry).stem)
        row, result = rows.get(key), by_key.get(key)
        if row is None or result is None:
            problems.append(f"{hand_in.entry}: no row or no result (key {key})")
            continue
        problems += [f"{key} ({hand_in.kind}, {hand_in.layout}): {p}" for p in _check_student(hand_in, row, result,
                                                                                            catalog)]
        passed.update((e["id"], passed[e["id"]] + 1) for e in result["exercises"] if e["status"] == "passed")
        page, total = out / "feedback" / f"{key}.html", points(float(row["total"]), float(row["max"]))
        if not page.is_file() or total not in page.read_text(encoding="utf-8"):
            problems.append(f"{key}: no feedback page, or it does not show the total {total}")
    dashboard = (out / "index.html").read_text(encoding="utf-8")
    wanted = [f"{len(expected)} submissions"] + [f"{count}/{len(expected)}" for count in passed.values()]
    wanted += [f'href="feedback/{keys[e.entry]}.html"' for e in expected if e.kind == "timeout"]  # the slowest
    problems += [f"index.html lacks {text!r}" for text in wanted if text not in dashboard]
    return problems


def _check_student(hand_in: Expected, row: dict[str, str], result: dict, catalog: _Catalog) -> list[str]:
    problems = []
    statuses = {e["id"]: e for e in result["exercises"]}
    for exercise in catalog.ids:
        got, points = float(row[exercise]), catalog.points[exercise]
        status = statuses[exercise]["status"]
        if exercise in hand_in.wrong:
            if got >= points or status == "passed":
                problems.append(f"{exercise} should not pass ({status}, {got:g} points)")
            elif hand_in.message and hand_in.message not in statuses[exercise].get("message", ""):
                problems.append(f"{exercise}: message {statuses[exercise].get('message')!r} lacks "
                                f"{hand_in.message!r}")
        elif got != points or status != "passed":
            problems.append(f"{exercise} should pass ({status}, {got:g} points)")
    total = sum(float(row[i]) for i in catalog.ids)
    if abs(float(row["total"]) - total) > 1e-3 or abs(float(row["total"]) - float(result["score"])) > 1e-3:
        problems.append(f"total {row['total']} is not the sum of the exercises ({total:g})")
    if hand_in.note not in row["note"] or (not hand_in.note and row["note"]):
        problems.append(f"note {row['note']!r}, expected {hand_in.note!r}")
    if row["lms_id"] != hand_in.lms_id:
        problems.append(f"lms_id {row['lms_id']!r}, expected {hand_in.lms_id!r}")
    return problems


def tally(expected: list[Expected], attribute: str) -> str:
    """"212 correct, 201 mistakes, ..." (``attribute``: kind or layout) for a benchmark's header."""
    counts: dict[str, int] = {}
    for e in expected:
        counts[getattr(e, attribute)] = counts.get(getattr(e, attribute), 0) + 1
    return ", ".join(f"{count} {name}" for name, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


# --------------------------------------------------------------------------- the students' own compute


def measure_compute(expected: list[Expected], *, seed: int = 0, repeats: int = 5) -> list[float]:
    """Seconds each hand-in's own code needs, outside any grader: load it and call its functions on the
    grader's trial inputs (same seed), single-threaded as in the sandbox; the fastest of ``repeats``
    warm runs, so the grader's overhead derived from it is an upper bound. A hang counts as the
    exercise's time limit (the grader has to wait that long); code that cannot run counts as 0.
    Runs student code in this process: call it in a throwaway process (benchmarks/batch.py does).
    """
    import math
    import time

    import torch

    from grader.checks.reference import Reference
    from grader.trials import make_trials

    torch.set_num_threads(1)
    exercises = {e.id: e for e in _load()}
    trials = {i: make_trials(e, Reference(e), seed) for i, e in exercises.items()}
    cost: dict[tuple[str, str], float] = {}

    def source(exercise: str, label: str) -> str:
        if label == "solution":
            return (SOLUTIONS / f"{exercise}.py").read_text(encoding="utf-8")
        if label == "starter":
            return (STARTERS / f"{exercise}.py").read_text(encoding="utf-8")
        return (MISTAKES / label.removeprefix("mistake:")).read_text(encoding="utf-8")

    def run(exercise_id: str, label: str) -> float:
        exercise, code = exercises[exercise_id], compile(source(exercise_id, label), label, "exec")
        targeted = [f for f in exercise.functions if any(t.function == f.name for t in exercise.targets)]
        best = math.inf
        for attempt in range(repeats + 1):  # the first is a warm-up
            start = time.perf_counter()
            namespace: dict = {"__name__": "submission"}
            exec(code, namespace)  # noqa: S102 - the repository's own model answers and mistakes
            for trial in trials[exercise_id]:
                for function in targeted:
                    try:
                        namespace[function.name](*(trial.inputs[p].clone() for p in function.params))
                    except Exception:  # noqa: BLE001 - a mistake that raises: its time still counts
                        pass
            if attempt:
                best = min(best, time.perf_counter() - start)
        return best

    warnings.simplefilter("ignore")  # the mistakes' UserWarnings (non-leaf .grad, ...): noise here
    totals = []
    for hand_in in expected:
        total = 0.0
        for exercise_id, label in hand_in.sources.items():
            if label and (exercise_id, label) not in cost:
                cost[(exercise_id, label)] = run(exercise_id, label)
            total += cost.get((exercise_id, label), 0.0)
        if hand_in.kind == "timeout":
            total += exercises[hand_in.wrong[0]].limits.time
        totals.append(total)
    return totals
