"""Timings of grader.checks.finite_diff, and how often a single wrong entry is caught.

Run: python benchmarks/finite_diff.py [--threads N]   (prints a table; no assertions)
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader.checks.finite_diff import check_gradient, is_stable  # noqa: E402

F64 = torch.float64


def timed(call: Callable[[], object], repeat: int = 7) -> tuple[float, object]:
    call()  # warm up (lazy kernel initialisation, allocator)
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def row(label: str, f: Callable, x: torch.Tensor, got: torch.Tensor, **kwargs: object) -> None:
    seconds, verdict = timed(
        lambda: check_gradient(f, x, got, generator=torch.Generator().manual_seed(0), **kwargs)
    )
    print(
        f"{label:<44} {verdict.method:<12} {verdict.evaluations:>6} {seconds * 1e3:>9.2f} ms"
        f"  passed={verdict.passed}"
    )


def torch_fast_mode_catches(f: Callable, x: torch.Tensor, got: torch.Tensor, seed: int) -> bool:
    """torch.autograd.gradcheck(fast_mode=True) on a function whose backward returns ``got``."""

    class Student(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):  # type: ignore[override]
            return f(x)

        @staticmethod
        def backward(ctx, grad_output):  # type: ignore[override]
            return grad_output * got

    torch.manual_seed(seed)
    inputs = (x.clone().requires_grad_(),)
    return not torch.autograd.gradcheck(Student.apply, inputs, fast_mode=True, raise_exception=False)


def main() -> None:
    if "--threads" in sys.argv:
        torch.set_num_threads(int(sys.argv[sys.argv.index("--threads") + 1]))
    square = lambda x: (x**2).sum()  # noqa: E731
    sin_sum = lambda x: torch.sin(x).sum()  # noqa: E731
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; median of 7 runs after a warm-up")
    print(f"{'case':<44} {'method':<12} {'f calls':>6} {'time':>12}")
    for n in (64, 1000, 100_000):
        x = torch.rand(n, generator=torch.Generator().manual_seed(n), dtype=F64) * 4 - 2
        row(f"order 1, sin(x).sum(), n={n}", sin_sum, x, torch.cos(x).float())
        row(f"order 1, (x**2).sum(), n={n}", square, x, (2 * x).float())
        row(f"order 2, sin(x).sum() -> -sin x, n={n}", sin_sum, x, (-torch.sin(x)).float(), order=2)
    x = torch.rand(100_000, dtype=F64)
    calls = [0]

    def counted(x: torch.Tensor) -> torch.Tensor:
        calls[0] += 1
        return sin_sum(x)

    seconds, _ = timed(lambda: is_stable(counted, x, generator=torch.Generator().manual_seed(0)))
    label = "is_stable, sin(x).sum(), n=100000"
    print(f"{label:<44} {'directional':<12} {calls[0] // 8:>6} {seconds * 1e3:>9.2f} ms")

    print("\nsingle entry off by 10, (x**2).sum(), n=1000, 20 seeds: caught by")
    for low, high in ((-2, 2), (0, 100)):
        ours = theirs = 0
        for seed in range(20):
            g = torch.Generator().manual_seed(seed)
            x = torch.rand(1000, generator=g, dtype=F64) * (high - low) + low
            got = 2 * x
            got[int(torch.randint(1000, (1,), generator=g))] += 10
            ours += not check_gradient(square, x, got.float(), generator=g).passed
            theirs += torch_fast_mode_catches(square, x, got, seed)
        print(f"  x ~ U({low}, {high}): ours {ours}/20, torch gradcheck(fast_mode=True) {theirs}/20")


if __name__ == "__main__":
    main()
