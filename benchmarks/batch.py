"""Submissions per second of `grader grade` on a synthetic class: local, on a Dask LocalCluster, and
the naive baseline of one fresh Python process per submission, in one run.

The class (benchmarks/synthetic_class.py) mixes model answers, the catalog's typical mistakes, starter
files, crashes, syntax errors, unreadable hand-ins and a few infinite loops, in every layout
`grader grade` reads. Every run's outputs are checked against the known answers.

- local: ``grader grade --jobs J`` (J = the number of cores unless given);
- dask: the same command with ``--cluster`` on a ``LocalCluster`` of J worker processes, 1 thread each
  (cluster start-up excluded, the grading processes' start-up on the first tasks included);
- naive: for a sample of the hand-ins, one fresh ``python -m grader.batch.worker`` per hand-in, J at a
  time: a new interpreter imports torch, forks its sandbox, loads the catalog, grades that one hand-in
  and renders its JSON and feedback page, i.e. the same grading as the batch, without the warm pool.
  ``python -m grader check FILE --format json`` is timed on a few single-file hand-ins for comparison.

Overhead per submission = (wall time x J - the students' own compute) / N: the worker-time of
everything that is not student code (start-up, sandbox, judging, rendering, transport, outputs). The
students' compute is measured outside the grader (benchmarks/synthetic_class.py: measure_compute), the
fastest of several warm runs, so the overhead is an upper bound. Usage:

    python benchmarks/batch.py --students 500          # the figures in README.md
    python benchmarks/batch.py --students 60 --naive 8 --no-dask
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import synthetic_class  # noqa: E402  (benchmarks/ is not a package)

GRADER = [sys.executable, "-m", "grader"]


def load() -> str:
    """The 1, 5 and 15 minute load averages: the machine is shared, figures depend on them."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def grade(cls: Path, out: Path, catalog: Path, jobs: int, *extra: str) -> float:
    """Wall seconds of one `grader grade` run (exits the benchmark with its stderr on failure)."""
    command = [*GRADER, "grade", str(cls), "--out", str(out), "--exercises", str(catalog), "--no-resume",
               "--jobs", str(jobs), *extra]
    start = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.monotonic() - start
    if done.returncode != 0:
        raise SystemExit(f"grader grade exited with {done.returncode}:\n{done.stderr[-3000:]}")
    return wall


def verdict(cls: Path, out: Path, expected: list) -> str:
    problems = synthetic_class.check_outputs(cls, out, expected)
    if not problems:
        return f"outputs correct ({len(expected)}/{len(expected)})"
    shown = "\n    ".join(problems[:20])
    return f"OUTPUTS WRONG ({len(problems)} problems):\n    {shown}"


def differences(root: Path) -> str:
    """"identical", else the rows that differ between the local and the Dask run's grades.csv."""
    local, dask = ((root / name / "grades.csv").read_text().splitlines() for name in ("local", "dask"))
    if local == dask:
        return "identical"
    rows = [f"local {a!r} / dask {b!r}" for a, b in zip(local, dask) if a != b]
    return f"{len(rows)} rows differ:\n    " + "\n    ".join(rows[:10])


def compute(expected: list, seed: int) -> list[float]:
    """The students' own compute, measured in a throwaway process (it runs their code)."""
    script = (f"import json, sys; sys.path.insert(0, {str(HERE)!r}); import synthetic_class as s; "
              "expected = [s.Expected(**e) for e in json.load(sys.stdin)]; "
              f"print(json.dumps(s.measure_compute(expected, seed={seed})))")
    done = subprocess.run([sys.executable, "-c", script], input=json.dumps([e.__dict__ for e in expected]),
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])  # students' code may print before it


def worker_seconds(out: Path) -> dict[str, float]:
    """Σ of the in-worker grading time (``duration`` of results.jsonl) per student key."""
    return {r["submission"]: float(r.get("duration") or 0.0)
            for r in map(json.loads, (out / "results.jsonl").read_text().splitlines())}


def naive(cls: Path, catalog: Path, sample: list, jobs: int) -> tuple[float, list[float]]:
    """One fresh worker process per sampled hand-in, ``jobs`` at a time: wall of all, and of each."""
    from grader.batch.bundle import Bundle
    from grader.batch.pool import GradingProcess, setup_error
    from grader.batch.store import read_files
    from grader.batch.worker import encode_task

    bundle = Bundle.from_dirs(catalog, None, only=(), seed=0, exercise_jobs=1).to_json()
    by_entry = synthetic_class.students_by_entry(cls)
    students = [by_entry[e.entry] for e in sample]

    def one(student) -> float:  # noqa: ANN001
        start = time.monotonic()
        process = GradingProcess(bundle).start()
        ready = process.wait_frame(300)
        if (problem := setup_error(ready)) is not None:
            raise SystemExit(problem)
        process.send_bytes(encode_task(student.key, read_files(student)), 300)
        process.wait_frame(300)
        process.close()  # EOF: the worker leaves (os._exit, as `grader` does)
        return time.monotonic() - start

    start = time.monotonic()
    with ThreadPoolExecutor(jobs) as pool:
        each = list(pool.map(one, students))
    return time.monotonic() - start, each


def check_command(cls: Path, catalog: Path, sample: list) -> list[float]:
    """``python -m grader check FILE --format json`` on single-file hand-ins, one after the other."""
    walls = []
    for e in sample:
        start = time.monotonic()
        subprocess.run([*GRADER, "check", str(cls / e.entry), "--exercises", str(catalog), "--format", "json"],
                       capture_output=True)
        walls.append(time.monotonic() - start)
    return walls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--timeouts", type=int, default=None, help="hand-ins that hang (default: 1 per 250)")
    parser.add_argument("--naive", type=int, default=16, help="hand-ins sampled for the naive baseline")
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    jobs, n = args.jobs, args.students

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cls, catalog = root / "class", synthetic_class.write_catalog(root / "catalog")
        expected = synthetic_class.make_class(cls, n, seed=args.seed, timeouts=args.timeouts)
        student_compute = compute(expected, args.seed)
        hangs = sum(e.kind == "timeout" for e in expected)
        print(f"synthetic class: {n} hand-ins ({synthetic_class.tally(expected, 'kind')}; "
              f"{synthetic_class.tally(expected, 'layout')}), 10 exercises each, {os.cpu_count()} cores, "
              f"--jobs {jobs}; load average before: {load()}")
        running = [c for c, e in zip(student_compute, expected) if e.kind != "timeout"]
        print(f"students' own compute: {sum(student_compute):.1f} s in all, of which {hangs} hangs x 10 s; "
              f"{1000 * statistics.mean(running):.1f} ms per hand-in that does not hang")

        wall = grade(cls, root / "local", catalog, jobs)
        rate = n / wall
        overhead = (wall * jobs - sum(student_compute)) / n
        print(f"\nlocal   --jobs {jobs}: {wall:6.1f} s  {rate:6.2f} hand-ins/s  {verdict(cls, root / 'local', expected)}")
        in_worker = worker_seconds(root / "local")
        keys = {entry: student.key for entry, student in synthetic_class.students_by_entry(cls).items()}
        print(f"  worker-time per hand-in {1000 * wall * jobs / n:.0f} ms = students' compute "
              f"{1000 * sum(student_compute) / n:.0f} ms + overhead {1000 * overhead:.0f} ms")
        grading = {layout: [] for layout in synthetic_class.LAYOUTS}
        for e, c in zip(expected, student_compute):
            if e.kind not in ("timeout", "unreadable"):
                grading[e.layout].append(in_worker[keys[e.entry]] - c)
        print("  in-worker grading overhead per hand-in (sandbox + judging), by layout: " + ", ".join(
            f"{layout} {1000 * statistics.mean(v):.0f} ms" for layout, v in grading.items() if v))
        outside = wall * jobs - sum(in_worker.values())
        print(f"  outside grade_hand_in (start-up, rendering, transport, store, outputs, idle tail): "
              f"{1000 * outside / n:.0f} ms per hand-in")

        if not args.no_dask:
            from distributed import LocalCluster

            with LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=":0") as c:
                dask_wall = grade(cls, root / "dask", catalog, jobs, "--cluster", c.scheduler_address)
            print(f"dask    {jobs} workers: {dask_wall:6.1f} s  {n / dask_wall:6.2f} hand-ins/s  "
                  f"{verdict(cls, root / 'dask', expected)}; grades.csv vs local: {differences(root)}")

        step = max(1, len(expected) // args.naive)
        sample = [e for e in expected[::step] if e.kind != "timeout"][:args.naive]
        naive_wall, each = naive(cls, catalog, sample, jobs)
        naive_rate = len(sample) / naive_wall
        print(f"naive   fresh process per hand-in, {jobs} at a time, {len(sample)} sampled (no hangs): "
              f"{naive_wall:6.1f} s  {naive_rate:6.2f} hand-ins/s (median {statistics.median(each):.2f} s each)")
        singles = [e for e in sample if e.layout in ("file", "canvas")][:3]
        if singles:
            walls = check_command(cls, catalog, singles)
            print(f"        `python -m grader check FILE --format json`, {len(walls)} single-file hand-ins one "
                  f"after the other: median {statistics.median(walls):.2f} s each")
        print(f"\nlocal / naive: {rate / naive_rate:.1f}x (target >= 30x; the naive sample has no hangs, the "
              f"batch has {hangs})")
        # The same class graded the naive way waits out each hang's time limit too: its expected wall time
        # is every hand-in at the sampled rate plus the hangs' limits, spread over the same J processes.
        hang_seconds = sum(c for c, e in zip(student_compute, expected) if e.kind == "timeout")
        naive_class = n / naive_rate + hang_seconds / jobs
        print(f"local / naive on the same class (the naive run would also wait {hang_seconds:.0f} s for the "
              f"hangs): {naive_class / wall:.1f}x")
        print(f"overhead per hand-in: {1000 * overhead:.0f} ms (target < 20 ms)")
        print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
