"""Trace mode speed: wall time to grade a typical section notebook, torch already imported (warm sandbox).

Prints the median and worst of ``--runs`` gradings of tests/trace/ada_notebook.ipynb (27 cells, every
part of the autograd section) with the catalog's d2l_autograd_notebook exercise. The target is < 2 s.
Its plot cell uses plt.plot: ``--pyplot matplotlib`` (default; the real one when installed: its import and
font cache are paid in every child) or ``--pyplot stand-in`` (the grader's recorder, GRADER_TRACE_MATPLOTLIB).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--notebook", type=Path, default=ROOT / "tests" / "trace" / "ada_notebook.ipynb")
    parser.add_argument("--pyplot", choices=("matplotlib", "stand-in"), default="matplotlib")
    args = parser.parse_args()
    if args.pyplot == "stand-in":
        os.environ["GRADER_TRACE_MATPLOTLIB"] = "stand-in"

    from grader.sandbox.runner import Sandbox

    with Sandbox() as sandbox:  # forked before any exercise or submission is read
        from grader.grading import Grader
        from grader.spec import load_catalog
        from grader.submission import read_submission

        exercise = next(e for e in load_catalog(ROOT / "exercises") if e.id == "d2l_autograd_notebook")
        grader = Grader(sandbox)
        submission = read_submission(args.notebook)
        grader.grade(submission, [exercise])  # warm-up: the zygote's first child, the reference compiled
        times = []
        for _ in range(args.runs):
            start = time.monotonic()
            result = grader.grade(submission, [exercise])
            times.append(time.monotonic() - start)
    print(f"{args.notebook.name}: score {result.score:g}/{result.max_score:g}")
    print(f"trace-mode grading ({args.pyplot}), warm: median {statistics.median(times):.3f} s, worst {max(times):.3f} s "
          f"over {args.runs} runs (target < 2 s)")


if __name__ == "__main__":
    main()
