"""Baseline and variant runs of the playground: same reps and seed, fewer reps for slow scenarios, caching."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.scenario import Scenario, load_scenario
from playground.levers import apply_changes
from playground.simulation import MIN_REPS, Simulator


@pytest.fixture(scope="module")
def tiny(scenario_folder: Path) -> Scenario:
    return load_scenario(scenario_folder / "tiny_shop.yaml").scenario


def test_variant_runs_on_the_baseline_s_reps_and_seed_and_runs_are_cached(tiny: Scenario) -> None:
    simulator = Simulator(reps=4, seed=7, workers=1, budget_s=1000)
    baseline = simulator.baseline(tiny)
    assert (baseline.result.reps, baseline.result.seed, baseline.cached) == (4, 7, False)
    again = simulator.baseline(tiny)
    assert again.cached and again.result is baseline.result and again.seconds == 0.0
    unchanged = simulator.variant(baseline.result, apply_changes(tiny, {}, {}))
    assert unchanged.result is baseline.result  # the same content is the same run
    moved = simulator.variant(baseline.result, apply_changes(tiny, {"sources.ads.spend_per_day": 900}, {}))
    assert not moved.cached and moved.result.reps == 4 and moved.result.seed == 7
    assert moved.result.summary()["new_members"].mean != baseline.result.summary()["new_members"].mean
    simulator.close()


def test_a_slow_scenario_gets_fewer_reps_but_never_below_the_minimum(tiny: Scenario) -> None:
    simulator = Simulator(reps=8, seed=1, workers=1, budget_s=1e-6)  # every scenario is "too slow"
    baseline = simulator.baseline(tiny)
    assert baseline.result.reps == MIN_REPS
    moved = simulator.variant(baseline.result, apply_changes(tiny, {"staff.operators.headcount": 3}, {}))
    assert moved.result.reps == MIN_REPS  # paired with its baseline


def test_a_run_is_the_same_as_siyu_run_on_that_seed(tiny: Scenario) -> None:
    from engine.runner import run

    simulator = Simulator(reps=3, seed=5, workers=1, budget_s=1000)
    played = simulator.baseline(tiny).result
    direct = run(tiny, 3, 5)
    assert [r.metrics for r in played.replications] == [r.metrics for r in direct.replications]


@pytest.mark.parametrize(
    ("first_seconds", "workers", "reps"),
    [(0.1, 2, 5), (2.5, 2, 4), (2.5, 1, 3), (4.6, 2, 3), (0.9, 1, 5), (1.3, 1, 4)],
)
def test_reps_are_whole_rounds_that_fit_the_budget(first_seconds: float, workers: int, reps: int) -> None:
    simulator = Simulator(reps=5, seed=1, workers=workers, budget_s=6.0)
    assert simulator.affordable_reps(first_seconds) == reps
