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
    Welch's unpaired CI on the same replications, because both plans share their visitors' randomness.
    The control: a plan with its own random streams (its source renamed) shares nothing with the baseline,
    and pairing then narrows nothing, so the narrowing above comes from common random numbers."""
    metrics = ("new_members", "new_customers", "cac", "profit")

    def half_widths(variant_file: Path) -> dict[str, tuple[float, float]]:
        results, _ = run_plans(_load(plans["base"], variant_file), 10, 3, SerialExecutor())
        comparison = Comparison.of(results)
        widths = {}
        for name in metrics:
            paired = comparison.vs_baseline[1][name]
            assert paired.ci_low is not None and paired.ci_high is not None
            base = [r.metrics[name] for r in results[0].replications]
            variant = [r.metrics[name] for r in results[1].replications]
            welch = stats.ttest_ind(variant, base, equal_var=False).confidence_interval(0.95)
            assert paired.diff_mean == pytest.approx(np.mean(variant) - np.mean(base))
            widths[name] = ((paired.ci_high - paired.ci_low) / 2, (welch.high - welch.low) / 2)
        return widths

    for name, (paired_half, unpaired_half) in half_widths(plans["take"]).items():
        assert paired_half < 0.5 * unpaired_half, (name, paired_half, unpaired_half)
    for name, (paired_half, unpaired_half) in half_widths(plans["renamed"]).items():
        assert paired_half > 0.8 * unpaired_half, (name, paired_half, unpaired_half)


@pytest.mark.slow
def test_the_ci_of_a_null_difference_covers_zero_95_percent_of_the_time(plans: dict[str, Path]) -> None:
    """Two plans equal in distribution (the second's source has another id, so its own random streams; two
    copies of one plan would differ by exactly 0 and cover it trivially): over many seeds, the paired 95% CI
    of the difference covers 0 in 95% of comparisons, within three binomial standard errors. With 400 seeds
    the band (about 91.7–98.3%) is two-sided: too narrow a CI (a normal quantile on 3 degrees of freedom
    covers about 86%) falls far below it, and too wide a one (a 99% CI) lands above it nine times in ten."""
    scenarios = _load(plans["short"], plans["short_renamed"])
    seeds, reps = 400, 4
    assert 0.95 + 3 * np.sqrt(0.95 * 0.05 / seeds) < 0.99  # the upper side of the band can fail
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


def test_plans_that_share_a_name_are_told_apart(plans: dict[str, Path], tmp_path: Path) -> None:
    """A variant that extends the baseline without its own meta.name keeps the baseline's name: the file name
    tells them apart in tables, verdicts and JSON (and the position, for one file given twice)."""
    from engine.compare.paired import plan_names

    unnamed = tmp_path / "cheaper.yaml"
    unnamed.write_text(f"extends: {plans['base']}\nsources:\n  - {{id: ads, spend_per_day: 150}}\n")
    files = [plans["base"], unnamed, plans["take"]]
    assert plan_names(_load(*files), files) == ("Base (base.yaml)", "Base (cheaper.yaml)", "Higher take rate")
    twice = [plans["base"], plans["base"]]
    assert plan_names(_load(*twice), twice) == ("Base (base.yaml) #1", "Base (base.yaml) #2")
