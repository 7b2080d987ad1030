"""`grader grade` as a library call: discover, skip what is stored, grade the rest, write the outputs.

The main process never imports torch nor runs student code: it reads files, computes resume keys,
hands bytes to an executor (local worker processes, or a Dask cluster) and stores the JSON that comes
back. Results are stored as each hand-in finishes; the outputs are rebuilt from the store at the end.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from grader.batch.bundle import Bundle
from grader.batch.discover import DiscoveryError, Student, discover
from grader.batch.grade import error_result
from grader.batch.lms import DEFAULT_ASSIGNMENT, NO_SUBMISSION, Join, LmsFiles, StudentMap, StudentMapError
from grader.batch.outputs import write_outputs
from grader.batch.pool import LocalPool, Outcome, PoolError, Task, log_file
from grader.batch.progress import BatchProgress
from grader.batch.store import Store, read_files, resume_key
from grader.files import write_atomic
from grader.i18n import translator
from grader.catalog import SelectionError, select
from grader.report.dashboard import ClassStats, render_dashboard
from grader.report.json_report import render_json
from grader.session import CheckError, load_exercises
from grader.spec import SpecError
from grader.spec.model import Exercise, localize

STATE_DIR = ".grader"  # inside --out: the store and the worker log


class BatchError(Exception):
    """Usage or spec problems (exit code 2), worded for the instructor."""


@dataclass
class BatchOptions:
    submissions: Path
    out: Path
    exercises: Path | None = None
    hidden: Path | None = None
    jobs: int = 2
    exercise_jobs: int = 1  # exercises of one hand-in at once inside a worker (workers already fill the cores)
    resume: bool = True
    only: tuple[str, ...] = ()
    seed: int = 0
    lang: str = "en"  # language of the students' feedback (grader/i18n.py)
    cluster: str | None = None
    student_map: Path | None = None  # CSV joining hand-ins to the LMS's students (grader/batch/lms.py)
    assignment: str = DEFAULT_ASSIGNMENT  # the grade column of canvas.csv
    progress: TextIO = field(default_factory=lambda: sys.stderr)
    tty: bool | None = None


@dataclass
class BatchSummary:
    students: int
    graded: int  # in this run
    reused: int  # from the store (resumed or unchanged)
    ungradable: int  # rows with a reason instead of grades
    worker_failures: int  # rows the grader itself failed on (rerun retries them)
    ignored: list[Path]
    feedback: int
    notes: list[str]
    seconds: float


def grade_batch(options: BatchOptions) -> BatchSummary:
    start = time.monotonic()
    catalog_dir, catalog, chosen, hidden_texts = _load_specs(options)
    roster = _read_map(options.student_map)
    bundle = Bundle.from_dirs(catalog_dir, options.hidden, only=options.only, seed=options.seed,
                              exercise_jobs=options.exercise_jobs, lang=options.lang)
    out = options.out
    try:
        found = discover(options.submissions)
    except DiscoveryError as exc:
        raise BatchError(str(exc)) from None
    students = [s for s in found.students if not _inside(s, out)]  # --out inside the class folder
    if not students:
        raise BatchError(f"no submissions found in {options.submissions}")
    join = _join(roster, students)
    state = out / STATE_DIR
    try:
        store = Store(state)
    except OSError as exc:
        raise BatchError(f"cannot write to {out}: {exc.strerror or exc}") from None

    digest = bundle.digest
    keys: dict[str, str] = {}
    for student in students:  # one pass over the class: hash now, read again only to grade
        keys[student.key] = resume_key(digest, student, read_files(student))
    todo: list[Task] = []
    ungradable = sum(bool(s.problem) for s in students)
    reused = unrunnable = 0
    for student in students:
        key = keys[student.key]
        if options.resume and store.has(key):
            reused += 1
            continue
        if student.problem:  # nothing to run: the row is written here, with its reason
            store.put(key, render_json(error_result(student.key, chosen, student.problem, seed=options.seed,
                                                    lang=options.lang), indent=None))
            unrunnable += 1
            continue
        todo.append(Task(student.key, key, lambda s=student: read_files(s)))

    transient: dict[str, str] = {}  # rows not kept for resuming: the grader failed, not the student
    graded = worker_failures = 0
    timeout = 2 * sum(e.limits.time for e in chosen) + 120
    with BatchProgress(options.progress, options.tty) as progress:
        progress.start(len(students), reused, unrunnable)
        for outcome in _execute(options, bundle, todo, timeout, state):
            text = outcome.result or render_json(
                error_result(outcome.task.student, chosen, outcome.crash, seed=options.seed, lang=options.lang),
                indent=None)
            if outcome.transient:
                transient[outcome.task.key] = text
                worker_failures += 1
            else:
                store.put(outcome.task.key, text, outcome.page)
            graded += 1
            progress.advance()

    shown = join.student if join else (lambda s: s)  # the map's names and ids, in the outputs only
    rows = ((shown(s), transient[keys[s.key]], "") if keys[s.key] in transient
            else (shown(s), store.get(keys[s.key]), store.page(keys[s.key])) for s in students)
    tr = translator(options.lang)  # of the rows and comments students read
    absent = [(s, tr(NO_SUBMISSION)) for s in join.absent_students()] if join else []
    stats = ClassStats([(e.id, localize(e, options.lang).title) for e in chosen])
    with LmsFiles(out, assignment=options.assignment, max_score=sum(e.points for e in chosen), join=join,
                  tr=tr) as lms:
        written = write_outputs(out, rows, chosen, observers=[stats.observer, lms.observe], absent=absent)
    write_atomic(out / "index.html", render_dashboard(stats).encode())
    store.prune(keys.values())
    notes = [written.feedback_note] if written.feedback_note else []
    if roster is not None and join is not None:
        notes += join.lines(roster.path, tr)
        if roster.ignored_columns:
            notes.append(f"{roster.path.name}: ignored columns {', '.join(roster.ignored_columns)}")
    if lms.skipped:
        notes.append(f"{lms.skipped} rows have no LMS id and are not in canvas.csv / moodle.csv "
                     "(grades.csv has them; --student-map gives ids)")
    if hidden_texts:
        notes.append(f"hidden checks applied to: {', '.join(sorted(hidden_texts))}")
    return BatchSummary(len(students), graded + unrunnable, reused, ungradable, worker_failures,
                        found.ignored, written.feedback, notes, time.monotonic() - start)


def _load_specs(options: BatchOptions) -> tuple[Path, list[Exercise], list[Exercise], list[str]]:
    """Catalog, selection and hidden checks, checked here so that spec problems are exit code 2."""
    try:
        catalog_dir, catalog = load_exercises(options.exercises)
        chosen, _ = select(catalog, options.only)
    except (CheckError, SelectionError) as exc:
        raise BatchError(str(exc)) from None
    hidden: list[str] = []
    if options.hidden is not None:
        from grader.spec.hidden import load_hidden

        try:
            hidden = sorted(key for key in load_hidden(options.hidden, catalog) if key in {e.id for e in chosen})
        except SpecError as exc:
            raise BatchError(str(exc)) from None
    return catalog_dir, catalog, chosen, hidden


def _read_map(path: Path | None) -> StudentMap | None:
    """Read before any worker starts: a broken map is a usage error (exit 2), not a late surprise."""
    if path is None:
        return None
    try:
        return StudentMap.read(path)
    except StudentMapError as exc:
        raise BatchError(f"--student-map {exc}") from None


def _join(roster: StudentMap | None, students: list[Student]) -> Join | None:
    if roster is None:
        return None
    try:
        return roster.join(students)
    except StudentMapError as exc:
        raise BatchError(f"--student-map {exc}") from None


def _inside(student: Student, folder: Path) -> bool:
    folder = folder.resolve()
    return any(f.path.resolve().is_relative_to(folder) for f in student.files)


def _execute(options: BatchOptions, bundle: Bundle, todo: list[Task], timeout: float,
             state: Path) -> Iterator[Outcome]:
    if not todo:
        return
    if options.cluster:
        from grader.batch.cluster import ClusterError, DaskExecutor

        try:
            executor = DaskExecutor(options.cluster, bundle, task_timeout=timeout)
        except ClusterError as exc:
            raise BatchError(str(exc)) from None
        with executor:
            try:
                yield from executor.run(todo)
            except ClusterError as exc:
                raise BatchError(str(exc)) from None
        return
    with log_file(state / "workers.log") as log:
        pool = LocalPool(bundle.to_json(), jobs=options.jobs, task_timeout=timeout, log=log)
        try:
            yield from pool.run(todo)
        except PoolError as exc:
            raise BatchError(f"{exc} (worker log: {state / 'workers.log'})") from None


def summary_lines(summary: BatchSummary, out: Path) -> list[str]:
    """What the command prints at the end."""
    lines = [f"{summary.students} submissions: {summary.graded} graded now, {summary.reused} already graded "
             f"({summary.seconds:.1f} s)"]
    if summary.ungradable:
        lines.append(f"{summary.ungradable} could not be graded (see the note column of grades.csv)")
    if summary.worker_failures:
        lines.append(f"{summary.worker_failures} failed inside the grader (rerun the same command to retry them)")
    if summary.ignored:
        names = ", ".join(p.name for p in summary.ignored[:5]) + (" ..." if len(summary.ignored) > 5 else "")
        lines.append(f"ignored {len(summary.ignored)} files that are not submissions: {names}")
    lines += summary.notes
    outputs = ["grades.csv", "canvas.csv", "moodle.csv", "results.jsonl", "index.html"] + ([f"feedback/ ({summary.feedback} pages)"] if summary.feedback else [])
    lines.append(f"wrote {', '.join(str(out / name) for name in outputs)}")
    return lines

