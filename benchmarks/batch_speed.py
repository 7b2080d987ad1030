"""Submissions per second of `grader grade` on N copies of the example submissions, --jobs 1 vs 2.

Also the peak memory of the grader: RSS of the main process, and PSS of the whole process tree (main,
workers, their zygotes and sandboxed children; PSS shares forked pages out instead of counting them
in every process), sampled from /proc every 50 ms. Usage:

    python benchmarks/batch_speed.py --copies 200 --jobs 1 2
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "submissions"


def make_class(folder: Path, copies: int) -> None:
    sources = sorted(EXAMPLES.iterdir())
    for i in range(copies):
        source = sources[i % len(sources)]
        shutil.copy(source, folder / f"student{i:05d}{source.suffix}")


def _memory_kib(pid: int, field: str) -> int:
    """``VmRSS`` (status) or ``Pss`` (smaps_rollup: shared pages divided among the processes sharing
    them, so forked workers, zygotes and children are not counted several times)."""
    source = "status" if field == "VmRSS" else "smaps_rollup"
    try:
        for line in Path(f"/proc/{pid}/{source}").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(entry))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(parents.get(pid, []))
    return found


def run(folder: Path, out: Path, jobs: int) -> tuple[float, int, int]:
    """Wall seconds, peak RSS of the main process and peak PSS of the whole tree (KiB)."""
    command = [sys.executable, "-c", "from grader.cli import entry; entry()", "grade", str(folder), "--out",
               str(out), "--no-resume", "--jobs", str(jobs), "--exercises", str(ROOT / "exercises")]
    start = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peaks = [0, 0]

    def sample() -> None:
        while process.poll() is None:
            peaks[0] = max(peaks[0], _memory_kib(process.pid, "VmRSS"))
            peaks[1] = max(peaks[1], sum(_memory_kib(pid, "Pss") for pid in _tree(process.pid)))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = process.wait()
    wall = time.monotonic() - start
    sampler.join()
    if code != 0:
        raise SystemExit(f"grader grade exited with {code}")
    return wall, peaks[0], peaks[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=200)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "class"
        folder.mkdir()
        make_class(folder, args.copies)
        print(f"{args.copies} submissions (copies of {', '.join(p.name for p in sorted(EXAMPLES.iterdir()))}), "
              f"full catalog, {os.cpu_count()} cores")
        for jobs in args.jobs:
            wall, main_peak, tree_peak = run(folder, Path(tmp) / f"out{jobs}", jobs)
            print(f"--jobs {jobs}: {wall:6.1f} s  {args.copies / wall:5.2f} submissions/s  "
                  f"peak RSS of the main process {main_peak / 1024:.0f} MiB, peak PSS of the whole tree "
                  f"(workers, zygotes, children) {tree_peak / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
