"""Means and Student-t 95% confidence intervals over replications (engine.stats.summarize)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from engine.stats import Difference, paired_difference, summarize


def test_t_interval_matches_a_hand_computation() -> None:
    values = [12.0, 15.5, 9.0, 14.0, 11.5]
    n = len(values)
    mean = sum(values) / n  # 12.4
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = scipy_stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
    assert half == pytest.approx(2.776445105 * sd / math.sqrt(5), rel=1e-9)  # t(0.975, 4) from a table
    summary = summarize(values)
    assert summary.mean == pytest.approx(12.4, rel=1e-15)
    assert summary.ci_low == pytest.approx(mean - half, rel=1e-12)
    assert summary.ci_high == pytest.approx(mean + half, rel=1e-12)
    assert (summary.defined, summary.reps) == (5, 5)
    assert summary.as_json() == {"mean": summary.mean, "ci_low": summary.ci_low, "ci_high": summary.ci_high}


def test_none_values_are_skipped_and_counted() -> None:
    summary = summarize([1.0, None, 2.0, 3.0, None, 4.0])
    half = scipy_stats.t.ppf(0.975, 3) * math.sqrt(5 / 3) / 2  # s² of 1..4 is 5/3
    assert summary.mean == 2.5
    assert summary.ci_low == pytest.approx(2.5 - half, rel=1e-12)
    assert summary.ci_high == pytest.approx(2.5 + half, rel=1e-12)
    assert (summary.defined, summary.reps) == (4, 6)


def test_non_finite_values_count_as_undefined() -> None:
    summary = summarize([1.0, float("nan"), 3.0, float("inf")])
    assert summary.mean == 2.0
    assert (summary.defined, summary.reps) == (2, 4)


@pytest.mark.parametrize("values", [[7.5], [None, 7.5, None]])
def test_fewer_than_two_values_give_a_mean_without_ci(values: list[float | None]) -> None:
    summary = summarize(values)
    assert summary.mean == 7.5
    assert summary.ci_low is None
    assert summary.ci_high is None
    assert summary.defined == 1
    assert summary.reps == len(values)


@pytest.mark.parametrize("values", [[None, None, None], []])
def test_all_undefined_gives_no_mean(values: list[float | None]) -> None:
    summary = summarize(values)
    assert (summary.mean, summary.ci_low, summary.ci_high) == (None, None, None)
    assert summary.as_json() == {"mean": None, "ci_low": None, "ci_high": None}
    assert (summary.defined, summary.reps) == (0, len(values))


@pytest.mark.parametrize("value", [0.2, 1 / 3, 6.666666666666667, 170.0])
def test_a_constant_metric_is_exact_with_a_zero_width_interval(value: float) -> None:
    # np.mean of three 0.2s is 0.20000000000000004: a deterministic metric must still report its value
    summary = summarize([value, value, None, value])
    assert summary.mean == value
    assert summary.ci_low == value
    assert summary.ci_high == value
    assert (summary.defined, summary.reps) == (3, 4)


def test_coverage_of_the_95_percent_interval() -> None:
    rng = np.random.default_rng(20240611)
    trials, true_mean = 2000, 3.0
    samples = rng.normal(true_mean, 2.0, size=(trials, 10))
    covered = 0
    for sample in samples:
        summary = summarize(sample.tolist())
        assert summary.ci_low is not None and summary.ci_high is not None
        covered += summary.ci_low <= true_mean <= summary.ci_high
    se = math.sqrt(0.95 * 0.05 / trials)
    assert abs(covered / trials - 0.95) <= 4 * se, covered / trials


def test_paired_difference_matches_scipy_paired_t_test() -> None:
    baseline = [1.0, 2.0, 3.0, 4.0]
    variant = [2.0, 3.5, 4.0, 6.0]
    result = paired_difference(baseline, variant)
    reference = scipy_stats.ttest_rel(variant, baseline)
    assert result.diff_mean == pytest.approx(1.375)
    assert result.p_value == pytest.approx(reference.pvalue)
    interval = reference.confidence_interval(0.95)
    assert (result.ci_low, result.ci_high) == pytest.approx((interval.low, interval.high))
    assert result.pairs == 4


def test_paired_difference_drops_undefined_pairs_and_handles_constant_differences() -> None:
    assert paired_difference([1.0, None, 3.0], [2.0, 5.0, None]) == Difference(1.0, None, None, None, 1)
    assert paired_difference([1.0, 2.0], [1.0, 2.0]) == Difference(0.0, 0.0, 0.0, 1.0, 2)
    assert paired_difference([1.0, 2.0], [3.0, 4.0]) == Difference(2.0, 2.0, 2.0, 0.0, 2)
    assert paired_difference([None], [None]) == Difference(None, None, None, None, 0)
    with pytest.raises(ValueError, match="equal replications"):
        paired_difference([1.0], [1.0, 2.0])
