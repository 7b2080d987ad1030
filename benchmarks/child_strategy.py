"""Child per exercise, or child per submission? The sandbox cost of both, measured on the catalog.

Issue 2 left the choice open: fork one hardened child per exercise (full isolation: a crash, exit or
monkeypatch costs only that exercise), or one child per submission running every exercise's calls
(fewer forks; after a failure it would be replaced and the remaining exercises rerun). This script
times only the sandboxed runs of one correct submission over the whole catalog:

- per exercise, one at a time and two at a time (the grader's default on 2 cores);
- per submission: one task holding every exercise's calls (the best case of that design: no failure,
  so no replacement child).

    python benchmarks/child_strategy.py [--repeats 20] [--submission solutions/autograd]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its reaped children: robust to other load on the machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--submission", type=Path, default=ROOT / "examples" / "submissions" / "ada.py")
    args = parser.parse_args()

    from grader.grading import Grader, build_task
    from grader.sandbox.runner import Limits, Sandbox
    from grader.spec import load_catalog
    from grader.submission import read_submission

    with Sandbox() as sandbox:
        exercises = load_catalog(ROOT / "exercises")
        submission = read_submission(args.submission)
        grader = Grader(sandbox)
        prepared = [(e, grader.prepare(e)[1]) for e in exercises]
        tasks = [build_task([(submission, [pair])]) for pair in prepared]
        merged = build_task([(submission, prepared)])
        limits = Limits()

        def run(task: tuple[dict, bytes, dict]) -> None:
            outcome = sandbox.run(task[0], task[1], limits, filename=str(submission.path))
            assert outcome.finished, outcome

        run(tasks[0])  # the first run waits for the zygote's warm-up
        per_exercise, per_exercise_2, per_submission = [], [], []
        cpu = {"per exercise": 0.0, "per submission": 0.0}

        def measure(label: str, times: list[float], work) -> None:  # type: ignore[no-untyped-def]
            cpu_start = cpu_seconds(os.getpid()) + cpu_seconds(sandbox.zygote_pid)
            start = time.perf_counter()
            work()
            times.append(time.perf_counter() - start)
            cpu[label] += cpu_seconds(os.getpid()) + cpu_seconds(sandbox.zygote_pid) - cpu_start

        with ThreadPoolExecutor(max_workers=2) as pool:
            for _ in range(args.repeats):
                measure("per exercise", per_exercise, lambda: [run(task) for task in tasks])
                per_exercise_2.append(0.0)
                start = time.perf_counter()
                list(pool.map(run, tasks))
                per_exercise_2[-1] = time.perf_counter() - start
                measure("per submission", per_submission, lambda: run(merged))
        time.sleep(0.5)  # let the zygote reap the last children, so their CPU is counted

    def show(label: str, times: list[float]) -> None:
        print(f"{label:44s} median {statistics.median(times) * 1000:6.1f} ms   "
              f"min {min(times) * 1000:6.1f} ms")

    calls = sum(len(ids) for ids in merged[2].values())
    print(f"{len(exercises)} exercises, {calls} calls, "
          f"{args.repeats} repeats, submission {args.submission.name}")
    show("child per exercise, one at a time", per_exercise)
    show("child per exercise, two at a time (default)", per_exercise_2)
    show("child per submission (no failure: best case)", per_submission)
    for label, seconds in cpu.items():
        print(f"CPU per submission, child {label:15s}       {seconds / args.repeats * 1000:6.1f} ms "
              "(grader + zygote + children)")


if __name__ == "__main__":
    main()
