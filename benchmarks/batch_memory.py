"""Memory of `grader grade` over a long batch: does it stay flat as thousands of results stream by?

Grades a synthetic class (benchmarks/synthetic_class.py, the mix `benchmarks/batch.py` times; no hangs,
which would only add waiting) and samples, every half second, the RSS of the main process and the PSS
of the whole process tree (workers, their zygotes and sandboxed children; PSS shares forked pages out
instead of counting them in every process). Prints both at each tenth of the batch (progress read from
the finished records in ``<out>/.grader/results``), then checks the outputs against the known answers.

    python benchmarks/batch_memory.py --students 10000   # the figure in README.md
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import synthetic_class  # noqa: E402  (benchmarks/ is not a package)
from batch_speed import _memory_kib, _tree  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cls, catalog = root / "class", synthetic_class.write_catalog(root / "catalog")
        expected = synthetic_class.make_class(cls, args.students, seed=0, timeouts=0)
        out = root / "out"
        records = out / ".grader" / "results"
        print(f"{args.students} hand-ins ({synthetic_class.tally(expected, 'kind')}), --jobs {args.jobs}")
        command = [sys.executable, "-m", "grader", "grade", str(cls), "--out", str(out), "--exercises",
                   str(catalog), "--no-resume", "--jobs", str(args.jobs)]
        start = time.monotonic()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        samples: list[tuple[int, int, int]] = []  # (records done, main RSS, tree PSS) in KiB

        def sample() -> None:
            while process.poll() is None:
                done = len(list(records.glob("*.json"))) if records.is_dir() else 0
                tree = sum(_memory_kib(pid, "Pss") for pid in _tree(process.pid))
                samples.append((done, _memory_kib(process.pid, "VmRSS"), tree))
                time.sleep(0.5)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, errors = process.communicate()
        wall = time.monotonic() - start
        sampler.join()
        if process.returncode != 0:
            raise SystemExit(f"grader grade exited with {process.returncode}:\n{errors[-3000:]}")
        print(f"{wall:.0f} s, {args.students / wall:.2f} hand-ins/s")
        print(f"{'graded':>8} {'main RSS':>10} {'tree PSS':>10}  (peak so far, MiB)")
        peak_main = peak_tree = 0
        tenth = 1
        for done, main_rss, tree_pss in samples:
            peak_main, peak_tree = max(peak_main, main_rss), max(peak_tree, tree_pss)
            if done >= tenth * args.students / 10:
                print(f"{done:8d} {peak_main / 1024:10.0f} {peak_tree / 1024:10.0f}")
                tenth = done * 10 // args.students + 1
        print(f"{'end':>8} {peak_main / 1024:10.0f} {peak_tree / 1024:10.0f}")
        problems = synthetic_class.check_outputs(cls, out, expected)
        print("outputs correct" if not problems else f"OUTPUTS WRONG ({len(problems)}): {problems[:5]}")


if __name__ == "__main__":
    main()
