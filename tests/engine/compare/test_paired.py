"""Paired differences on common random numbers: exact zeros, calibrated CIs, variance reduction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from engine.compare.paired import Comparison, ComparisonError, check_comparable, run_plans
from engine.execution import SerialExecutor
from engine.metrics import METRIC_NAMES
from engine.scenario import load_scenario
from engine.scenario.schema import Scenario


def _load(*paths: Path) -> list[Scenario]:
    return [load_scenario(path).scenario for path in paths]


def test_a_plan_against_itself_differs_by_exactly_zero(plans: dict[str, Path]) -> None:
    """Same seed and index, same random numbers: every difference is 0, with a zero-width CI and p = 1."""
    results, _ = run_plans(_load(plans["base"], plans["same"]), 4, 7, SerialExecutor())
    comparison = Comparison.of(results)
    assert comparison.names == ("Base", "Same plan")
    assert comparison.vs_baseline[0] == {}
    for name in METRIC_NAMES:
        difference = comparison.vs_baseline[1][name]
        if difference.pairs == 0:
            continue  # undefined in this tiny scenario (no member old enough for 180-day retention, ...)
        assert (difference.diff_mean, difference.ci_low, difference.ci_high) == (0.0, 0.0, 0.0), name
        assert difference.p_value == 1.0, name


def test_replications_are_the_runs_each_plan_would_give_alone(plans: dict[str, Path]) -> None:
    """Running plans together changes nothing: replication i of each equals its own run's replication i."""
    from engine.runner import run

    scenarios = _load(plans["base"], plans["take"])
    results, seconds = run_plans(scenarios, 3, 5, SerialExecutor())
    assert seconds > 0
    for scenario, result in zip(scenarios, results, strict=True):
        alone = run(scenario, 3, 5)
        assert [r.metrics for r in result.replications] == [r.metrics for r in alone.replications]


def test_common_random_numbers_make_the_paired_ci_narrower_than_an_unpaired_one(
    plans: dict[str, Path],
) -> None:
    """A one-lever variant (take rate 0.5 → 0.6): the paired 95% CI of the difference is far narrower than
    Welch's unpaired CI on the same replications, because both plans share their visitors' randomness."""
    results, _ = run_plans(_load(plans["base"], plans["take"]), 10, 3, SerialExecutor())
    comparison = Comparison.of(results)
    for name in ("new_members", "new_customers", "cac", "profit"):
        paired = comparison.vs_baseline[1][name]
        assert paired.ci_low is not None and paired.ci_high is not None
        base = [r.metrics[name] for r in results[0].replications]
        variant = [r.metrics[name] for r in results[1].replications]
        welch = stats.ttest_ind(variant, base, equal_var=False).confidence_interval(0.95)
        paired_half = (paired.ci_high - paired.ci_low) / 2
        unpaired_half = (welch.high - welch.low) / 2
        assert paired_half < 0.5 * unpaired_half, (name, paired_half, unpaired_half)
        assert paired.diff_mean == pytest.approx(np.mean(variant) - np.mean(base))


@pytest.mark.slow
def test_the_ci_of_a_null_difference_covers_zero_95_percent_of_the_time(plans: dict[str, Path]) -> None:
    """Two plans equal in distribution (the second's source has another id, so its own random streams):
    over many seeds, the paired 95% CI of the difference covers 0 in 95% of comparisons, within three
    binomial standard errors."""
    scenarios = _load(plans["short"], plans["short_renamed"])
    seeds, reps = 150, 4
    metrics = ("new_members", "cac", "clv", "profit")
    covered = {name: 0 for name in metrics}
    for seed in range(seeds):
        results, _ = run_plans(scenarios, reps, 1000 + seed, SerialExecutor())
        comparison = Comparison.of(results)
        for name in metrics:
            difference = comparison.vs_baseline[1][name]
            assert difference.ci_low is not None and difference.ci_high is not None
            assert difference.ci_low < difference.ci_high  # a genuinely random difference
            covered[name] += difference.ci_low <= 0 <= difference.ci_high
    se = np.sqrt(0.95 * 0.05 / seeds)
    for name in metrics:
        rate = covered[name] / seeds
        assert abs(rate - 0.95) < 3 * se, (name, rate)
    pooled = sum(covered.values()) / (seeds * len(metrics))
    assert abs(pooled - 0.95) < 3 * np.sqrt(0.95 * 0.05 / seeds), pooled  # metrics correlate: one seed's SE


def test_plans_must_be_two_or_more_in_one_currency(plans: dict[str, Path]) -> None:
    with pytest.raises(ComparisonError, match="at least two scenario files"):
        check_comparable(_load(plans["base"]))
    with pytest.raises(ComparisonError, match=r"different currencies \(CNY, USD\)"):
        check_comparable(_load(plans["base"], plans["usd"]))
    with pytest.raises(ComparisonError, match="--reps: 1 is too few"):
        run_plans(_load(plans["base"], plans["take"]), 1, 1, SerialExecutor())
