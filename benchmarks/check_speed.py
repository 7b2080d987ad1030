"""How long `grader check` of the full catalog takes, against a bare `python -c "import torch"`.

Both are timed in the same run, alternating, so machine load affects them alike. Prints medians and the
ratio (the target is <= 1.5x: importing torch once per process is the floor; everything the grader
adds, sandboxing and judging ten exercises included, should cost less than half of that again). Also
prints the sandbox's per-run cost: fork + harden + run of a trivial exercise, median over 200, with
every kernel layer (namespaces, Landlock, seccomp) and with none: the difference is their overhead.

    python benchmarks/check_speed.py [--runs 7] [--submission examples/submissions/ada.py]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def sandbox_overhead(runs: int, layers: tuple[str, ...] | None = None) -> list[float]:
    import torch  # noqa: F401 - imported before timing

    from grader.sandbox.channel import TensorWriter
    from grader.sandbox.runner import Limits, Sandbox

    writer = TensorWriter()
    entry = writer.add(torch.arange(4.0))
    header = {"inputs": [entry], "programs": [{
        "source": "def f(x):\n    return x\n", "filename": "trivial.py",
        "exercises": [{"id": "trivial", "calls": [{"id": "0:f", "function": "f", "args": [0]}],
                       "functions": ["f"], "forbidden": []}]}]}
    times = []
    with Sandbox(layers=layers) as sandbox:
        sandbox.run(header, writer.body(), Limits(), filename="trivial.py")  # waits for the zygote
        for _ in range(runs):
            start = time.perf_counter()
            outcome = sandbox.run(header, writer.body(), Limits(), filename="trivial.py")
            times.append(time.perf_counter() - start)
            assert outcome.finished
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--submission", default="examples/submissions/ada.py")
    args = parser.parse_args()

    bare, check = [], []
    grader = [sys.executable, "-m", "grader", "check", args.submission, "--exercises", "exercises"]
    timed(grader)  # warm the file cache
    for _ in range(args.runs):
        bare.append(timed([sys.executable, "-c", "import torch"]))
        check.append(timed(grader))
    b, c = statistics.median(bare), statistics.median(check)
    print(f"python -c 'import torch'        median {b:.2f} s  (runs: {', '.join(f'{t:.2f}' for t in bare)})")
    print(f"grader check (full catalog)     median {c:.2f} s  (runs: {', '.join(f'{t:.2f}' for t in check)})")
    print(f"ratio                           {c / b:.2f}x")

    for label, layers in (("every kernel layer", None), ("no kernel layer", ())):
        overhead = sandbox_overhead(200, layers)
        print(f"sandboxed run of a trivial exercise, {label:18s} (fork + harden + run + collect): median "
              f"{statistics.median(overhead) * 1000:.1f} ms, p90 {sorted(overhead)[179] * 1000:.1f} ms over 200")


if __name__ == "__main__":
    main()
