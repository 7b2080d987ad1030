"""grader.checks.finite_diff: float64 central differences that catch wrong gradients and know when
they cannot judge (a jump or kink within the step)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import pytest
import torch

from grader.checks.finite_diff import check_gradient, fd_gradient, is_stable

F64 = torch.float64


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def uniform(shape, low: float, high: float, seed: int = 0) -> torch.Tensor:
    return torch.rand(shape, generator=gen(seed), dtype=F64) * (high - low) + low


def away_from_zero(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x.abs() < 0.1, x.sign() * 0.1 + x, x)


U = uniform((1000,), -1, 1, seed=99)  # fixed "detached constant"
V = uniform((1000,), -1, 1, seed=98)  # fixed vector of a vector-Jacobian product

# name -> (f, gradient, input transform)
CASES: dict[str, tuple[Callable, Callable, Callable]] = {
    "2x·x sum": (lambda x: (2 * x * x).sum(), lambda x: 4 * x, lambda x: x),
    "sin sum": (lambda x: torch.sin(x).sum(), torch.cos, lambda x: x),
    "log(x²)·sin x + 1/x": (
        lambda x: (torch.log(x**2) * torch.sin(x) + 1 / x).sum(),
        lambda x: 2 * torch.sin(x) / x + torch.log(x**2) * torch.cos(x) - 1 / x**2,
        away_from_zero,
    ),
    "VJP (x·x·v).sum()": (
        lambda x: (x * x * V[: x.numel()].reshape(x.shape)).sum(),
        lambda x: 2 * x * V[: x.numel()].reshape(x.shape),
        lambda x: x,
    ),
    "detached constant (u·x).sum()": (
        lambda x: (U[: x.numel()].reshape(x.shape) * x).sum(),
        lambda x: U[: x.numel()].reshape(x.shape),
        lambda x: x,
    ),
}


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize(
    ("shape", "method"),
    [((6,), "elementwise"), ((2, 3), "elementwise"), ((), "elementwise"), ((500,), "directional")],
)
def test_correct_float32_gradients_pass(name, shape, method):
    f, grad, transform = CASES[name]
    x = transform(uniform(shape, -3, 3))
    verdict = check_gradient(f, x, grad(x).float(), generator=gen(1))
    assert verdict.passed and verdict.stable, verdict.message
    assert verdict.method == method
    assert verdict.mismatch is not None and verdict.mismatch.mismatched == 0
    assert verdict.message.startswith("finite differences (float64, central")


@pytest.mark.parametrize("shape", [(5,), (2, 3), (), (300,)])
def test_second_derivative_of_sin_is_minus_sin(shape):
    x = uniform(shape, -7, 7)
    f = lambda x: torch.sin(x).sum()  # noqa: E731
    assert check_gradient(f, x, -torch.sin(x).float(), order=2, generator=gen()).passed
    wrong = check_gradient(f, x, torch.sin(x).float(), order=2, generator=gen())
    assert not wrong.passed and wrong.stable


def test_hessian_vector_product_with_a_direction():
    x, w = uniform((4,), -2, 2), uniform((4,), -1, 1, seed=5)
    f = lambda x: (x**3).sum() + x[0] * x[1]  # noqa: E731
    hw = 6 * x * w + torch.stack([w[1], w[0], torch.zeros((), dtype=F64), torch.zeros((), dtype=F64)])
    assert check_gradient(f, x, hw.float(), order=2, w=w).passed
    assert not check_gradient(f, x, (6 * x * w).float(), order=2, w=w).passed


def test_evaluation_counts():
    x = uniform((5,), -1, 1)
    f = lambda x: torch.sin(x).sum()  # noqa: E731
    assert check_gradient(f, x, torch.cos(x)).evaluations == 4 * 5 + 1  # ±h, ±2h per element; f(x)
    assert check_gradient(f, x, -torch.sin(x), order=2).evaluations == 8 * 5
    big = uniform((100,), -1, 1)
    assert check_gradient(f, big, torch.cos(big), directions=8).evaluations == 4 * 8 + 1


def test_one_wrong_element_is_found():
    x = uniform((2, 3), -2, 2)
    got = (4 * x).float()
    got[1, 0] += 1
    verdict = check_gradient(lambda x: (2 * x * x).sum(), x, got)
    assert not verdict.passed and verdict.stable
    assert verdict.mismatch.index == [1, 0] and verdict.mismatch.mismatched == 1
    assert "disagree" in verdict.message and "at [1, 0]" in verdict.message and "estimated" in verdict.message


def test_factor_two_fails_at_the_largest_element():
    x = torch.tensor([1.2, 0.1, -1.0], dtype=F64)  # |cos| is largest at [1]
    verdict = check_gradient(lambda x: torch.sin(x).sum(), x, 2 * torch.cos(x))
    assert not verdict.passed and verdict.mismatch.index == [1]


def test_transposed_shape_fails_without_evaluating_f():
    x = uniform((2, 3), -1, 1)
    verdict = check_gradient(lambda x: (x * x).sum(), x, (2 * x).T)
    assert not verdict.passed and verdict.stable and verdict.evaluations == 0
    assert "shape [3, 2] but expected [2, 3]" in verdict.message and "transpose" in verdict.message


def test_nonfinite_gradient_fails():
    x = uniform((200,), -1, 1)
    got = 2 * x
    got[17] = math.nan
    verdict = check_gradient(lambda x: (x * x).sum(), x, got)
    assert not verdict.passed and verdict.mismatch.index == [17] and "not finite" in verdict.message


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize(("low", "high"), [(-2, 2), (0, 100)])
def test_single_entry_off_by_ten_at_n_1000_is_caught(seed, low, high):
    # On [0, 100] torch's gradcheck(fast_mode=True) misses this error (its tolerance grows like Σ|g_i·u_i|).
    x = uniform((1000,), low, high, seed=seed)
    got = 2 * x
    got[int(torch.randint(1000, (1,), generator=gen(seed)))] += 10
    verdict = check_gradient(lambda x: (x**2).sum(), x, got.float(), generator=gen(seed))
    assert verdict.method == "directional" and verdict.stable
    assert not verdict.passed, verdict.message
    assert verdict.mismatch.index == [] and verdict.mismatch.total == 8
    assert "the directional derivative along a random direction" in verdict.message


@pytest.fixture
def single_thread():
    """Time our work, not OpenMP threads waiting for a core that other processes hold."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize(
    ("f", "grad"),
    [(lambda x: (x**2).sum(), lambda x: 2 * x), (lambda x: torch.sin(x).sum(), torch.cos)],
    ids=["square", "sin"],
)
def test_n_1e5_float32_rounded_gradient_passes_quickly(f, grad, single_thread):
    x = uniform((100_000,), -2, 2)
    got = grad(x).float()
    check_gradient(f, x, got, generator=gen())  # warm up (lazy kernel initialisation)
    elapsed = []
    for _ in range(3):  # best of 3: other processes may share the CPU
        start = time.perf_counter()
        verdict = check_gradient(f, x, got, generator=gen())
        elapsed.append(time.perf_counter() - start)
        assert verdict.passed and verdict.method == "directional", verdict.message
    assert min(elapsed) < 1.0


def test_deterministic_given_the_generator_and_no_global_rng():
    x = uniform((300,), -2, 2)
    got = torch.cos(x) * (1 + 1e-3 * torch.randn(300, generator=gen(3), dtype=F64))
    state = torch.get_rng_state()
    a = check_gradient(lambda x: torch.sin(x).sum(), x, got, generator=gen(7))
    b = check_gradient(lambda x: torch.sin(x).sum(), x, got, generator=gen(7))
    assert torch.equal(state, torch.get_rng_state())
    assert a == b and not a.passed


def test_fd_gradient_returns_the_full_estimate():
    x = away_from_zero(uniform((3, 4), -3, 3))
    estimate, stable = fd_gradient(lambda x: (torch.log(x**2) * torch.sin(x)).sum(), x)
    expected = 2 * torch.sin(x) / x + torch.log(x**2) * torch.cos(x)
    assert stable and estimate.shape == x.shape
    assert torch.allclose(estimate, expected, rtol=1e-8, atol=1e-8)
    hessian, stable = fd_gradient(lambda x: torch.sin(x).sum(), x, order=2)
    assert stable and torch.allclose(hessian, -torch.sin(x), rtol=1e-5, atol=1e-6)


def test_curved_but_smooth_functions_are_stable():
    x = torch.tensor([0.05, -0.1, 3.0], dtype=F64)  # 1/x is steep near 0 but smooth at these points
    f = lambda x: (1 / x).sum()  # noqa: E731
    assert check_gradient(f, x, -1 / x**2).passed
    assert is_stable(f, x) and fd_gradient(f, x)[1]


# --------------------------------------------------------------------------- jumps and kinks


def d2l_f(a: torch.Tensor) -> torch.Tensor:
    """The book's control-flow function: piecewise linear, f(a) = k·a with k jumping where ‖2^m·a‖ = 1000."""
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


def d2l_sum(a: torch.Tensor) -> torch.Tensor:
    return d2l_f(a).sum()


@pytest.mark.parametrize("a", [0.3, -0.3, 1.5, 1000 / 4096 + 1e-3, -3.7])
def test_control_flow_far_from_jumps_passes_with_f_over_a(a):
    x = torch.tensor(a, dtype=F64)
    verdict = check_gradient(d2l_sum, x, (d2l_f(x) / x).float())
    assert verdict.passed and verdict.stable, verdict.message
    assert is_stable(d2l_sum, x, generator=gen())
    wrong = check_gradient(d2l_sum, x, (2 * d2l_f(x) / x).float())
    assert not wrong.passed and wrong.stable


@pytest.mark.parametrize(
    "a",
    [
        1000 / 4096 + 1e-6,  # ‖2^k·a‖ crosses 1000 within the step: k jumps from 12 to 13
        1000 / 4096 - 2e-6,
        -(1000 / 2**20) - 1e-6,
        1e-6,  # a ± h straddles 0: the sign branch (c = b or 100·b) flips
        -3e-6,
    ],
)
def test_control_flow_near_a_jump_is_not_judged(a):
    x = torch.tensor(a, dtype=F64)
    right = (d2l_f(x) / x).float()
    verdict = check_gradient(d2l_sum, x, right)
    assert not verdict.stable and not verdict.passed
    assert "not judged" in verdict.message and "jump, kink" in verdict.message
    assert verdict.mismatch is None
    assert not is_stable(d2l_sum, x, generator=gen())
    assert not fd_gradient(d2l_sum, x)[1]


def test_control_flow_vector_near_a_jump():
    direction = torch.tensor([1.0, -2.0, 2.0], dtype=F64) / 3  # unit norm
    near = direction * (1000 / 2**11 + 1e-6)  # ‖2^11·a‖ = 1000 within the step
    far = direction * 0.3
    assert check_gradient(d2l_sum, far, (d2l_f(far) / far).float()).passed
    assert not check_gradient(d2l_sum, near, (d2l_f(near) / near).float()).stable
    assert not is_stable(d2l_sum, near, generator=gen())


def test_kink_within_the_step_is_unstable_in_both_methods():
    relu_sum = lambda x: torch.relu(x).sum()  # noqa: E731
    small = torch.tensor([0.5, 2e-6, -1.0], dtype=F64)
    assert not check_gradient(relu_sum, small, (small > 0).double()).stable
    big = uniform((1000,), 0.5, 2)
    big[123] = 1e-6
    verdict = check_gradient(relu_sum, big, (big > 0).double(), generator=gen())
    assert verdict.method == "directional" and not verdict.stable
    assert "along random direction" in verdict.message
    big[123] = 0.3
    assert check_gradient(relu_sum, big, (big > 0).double(), generator=gen()).passed


def test_kink_exactly_at_the_point_is_unstable():
    # Central differences average the two slopes there (relu: 0.5), so they alone would fail a correct
    # autograd answer (0.0); forward and backward slopes that do not converge reveal the kink.
    relu_sum = lambda x: torch.relu(x).sum()  # noqa: E731
    x = torch.arange(4.0, dtype=F64) - 1  # [-1, 0, 1, 2], like a book's fixed input
    verdict = check_gradient(relu_sum, x, (x > 0).double())
    assert not verdict.stable and not verdict.passed
    assert "at [1]" in verdict.message and "slope 1.0 on one side but 0.0 on the other" in verdict.message
    assert not fd_gradient(relu_sum, x)[1] and not is_stable(relu_sum, x, generator=gen())
    big = uniform((1000,), 0.5, 2)
    big[500] = 0.0
    assert not check_gradient(lambda x: x.abs().sum(), big, big.sign(), generator=gen()).stable
