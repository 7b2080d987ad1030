"""grader.checks.compare: elementwise comparison in float64 with a report a student can act on."""

from __future__ import annotations

import math

import pytest
import torch

from grader.checks.compare import compare, format_number, format_pair, shorten

TOL = {"rtol": 1e-4, "atol": 1e-5}


def test_float32_rounding_of_the_right_answer_passes():
    expected = torch.linspace(-3, 3, 50, dtype=torch.float64).sin()
    result = compare(expected.float(), expected, **TOL)
    assert result.passed and result.reason == ""
    assert result.mismatch is not None and result.mismatch.mismatched == 0 and result.mismatch.total == 50
    assert result.mismatch.max_abs_error < 1e-7
    assert "within" in result.message


def test_one_wrong_element_is_named_with_its_values():
    expected = torch.arange(4.0, dtype=torch.float64) * 4
    got = expected.float().clone()
    got[3] = 10.0
    result = compare(got, expected, **TOL)
    assert not result.passed and result.reason == "tolerance"
    assert result.mismatch.index == [3]
    assert (result.mismatch.got, result.mismatch.expected) == (10.0, 12.0)
    assert result.mismatch.mismatched == 1 and result.mismatch.total == 4
    assert result.mismatch.max_abs_error == 2.0
    assert result.mismatch.max_rel_error == pytest.approx(2 / 12)
    assert result.message == (
        "max abs error 2.0 at [3]: got 10.0, expected 12.0 "
        "(1 of 4 elements outside atol=1e-05 + rtol=0.0001·|expected|)"
    )


def test_index_is_unravelled_for_matrices():
    expected = torch.arange(12.0, dtype=torch.float64).reshape(3, 4)
    got = expected.clone()
    got[1, 2] += 1
    result = compare(got, expected, **TOL)
    assert result.mismatch.index == [1, 2]
    assert "at [1, 2]" in result.message


def test_factor_two_reports_the_largest_element():
    expected = torch.tensor([0.5, -3.0, 2.0], dtype=torch.float64)
    result = compare(2 * expected, expected, **TOL)
    assert not result.passed and result.mismatch.index == [1] and result.mismatch.mismatched == 3


def test_worst_element_is_the_one_furthest_beyond_its_tolerance():
    # [0] has the largest absolute error but relative to its size [1] is far worse.
    expected = torch.tensor([1000.0, 0.1], dtype=torch.float64)
    got = torch.tensor([1000.5, 0.2], dtype=torch.float64)
    result = compare(got, expected, **TOL)
    assert result.mismatch.index == [1] and result.mismatch.max_abs_error == 0.5
    assert "max abs error 0.5 at [0]" in result.message


def test_scalars_have_an_empty_index():
    result = compare(torch.tensor(6.0), torch.tensor(12.0, dtype=torch.float64), **TOL)
    assert not result.passed and result.mismatch.index == []
    assert result.message.startswith("max abs error 6.0: got 6.0, expected 12.0")


@pytest.mark.parametrize(
    ("got_shape", "expected_shape", "note"),
    [
        ((4, 1), (4,), "same number of elements"),
        ((3, 2), (2, 3), "transpose"),
        ((5,), (4,), None),
    ],
)
def test_shape_must_match_exactly(got_shape, expected_shape, note):
    result = compare(torch.ones(got_shape), torch.ones(expected_shape, dtype=torch.float64), **TOL)
    assert not result.passed and result.reason == "shape" and result.mismatch is None
    assert result.message.startswith(f"shape {list(got_shape)} but expected {list(expected_shape)}")
    if note:
        assert note in result.message
    else:
        assert "(" not in result.message


def test_integers_are_compared_after_conversion_but_bool_and_complex_are_not():
    expected = torch.tensor([1.0, 2.0], dtype=torch.float64)
    assert compare(torch.tensor([1, 2]), expected, **TOL).passed
    assert compare(torch.tensor([True, True]), expected, **TOL).reason == "dtype"
    assert compare(torch.tensor([1 + 0j, 2 + 0j]), expected, **TOL).reason == "dtype"
    assert compare(None, expected, **TOL).reason == "dtype"  # type: ignore[arg-type]


def test_nonfinite_values_are_counted_with_the_first_index():
    expected = torch.arange(5.0, dtype=torch.float64)
    got = expected.clone()
    got[1], got[3] = math.nan, math.inf
    result = compare(got, expected, **TOL)
    assert not result.passed and result.reason == "nonfinite"
    assert result.mismatch.index == [1] and result.mismatch.mismatched == 2
    assert "2 of 5 elements are not finite (first at [1]: got nan, expected 1.0)" == result.message


def test_matching_nonfinite_expected_values_are_equal():
    expected = torch.tensor([math.inf, 1.0], dtype=torch.float64)
    assert compare(expected.clone(), expected, **TOL).passed
    assert not compare(torch.tensor([1.0, 1.0]), expected, **TOL).passed


def test_allclose_criterion_and_relative_error_with_zero_expected():
    expected = torch.tensor([0.0, 100.0], dtype=torch.float64)
    inside = torch.tensor([0.9e-5, 100.0 + 0.9 * (1e-5 + 1e-2)], dtype=torch.float64)
    outside = torch.tensor([0.0, 100.0 + 1.1 * (1e-5 + 1e-2)], dtype=torch.float64)
    assert compare(inside, expected, **TOL).passed
    assert not compare(outside, expected, **TOL).passed
    result = compare(inside, expected, **TOL)
    assert result.mismatch.max_rel_error == pytest.approx(0.9e-5 / torch.finfo(torch.float64).tiny)


def test_slack_widens_the_tolerance_and_is_reported():
    expected = torch.tensor([1.0], dtype=torch.float64)
    got = torch.tensor([1.001], dtype=torch.float64)
    assert not compare(got, expected, **TOL).passed
    result = compare(got, expected, **TOL, slack=torch.tensor([2e-3]), expected_name="estimated")
    assert result.passed and "estimated" in result.message and "its error" in result.message


def test_empty_tensors_pass():
    result = compare(torch.ones(0), torch.ones(0, dtype=torch.float64), **TOL)
    assert result.passed and result.mismatch.total == 0


def test_format_number():
    assert format_number(6.0) == "6.0"
    assert format_number(12) == "12.0"
    assert format_number(1e-5) == "1e-05"
    assert format_number(1e-4) == "0.0001"
    assert format_number(3.14159265) == "3.142"
    assert format_number(123456.0) == "1.235e+05"
    assert format_number(-0.5) == "-0.5"
    assert format_number(math.nan) == "nan" and format_number(-math.inf) == "-inf"
    assert format_pair(3.0, 3.0000001) == ("3.0", "3.0000001")


def test_shorten():
    assert shorten(torch.arange(10.0) * 4) == "[0.0, 4.0, 8.0, …, 28.0, 32.0, 36.0] (shape [10])"
    assert shorten(torch.arange(10.0) * 4, edge=1) == "[0.0, …, 36.0] (shape [10])"
    assert shorten(torch.tensor([[1.0, 2.0], [3.0, 4.0]])) == "[[1.0, 2.0], [3.0, 4.0]]"
    assert shorten(torch.tensor(2.5)) == "2.5"
    assert shorten(torch.tensor([True, False])) == "[True, False]"
    assert shorten(torch.arange(100).reshape(10, 10)) == "[0, 1, 2, …, 97, 98, 99] (shape [10, 10])"
    assert shorten(torch.zeros(0, 3)) == "[] (shape [0, 3])"
