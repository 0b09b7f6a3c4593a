"""Kim & Nelson's KN on normal outputs with known means: its constants, its choice, where it samples, its
probability of correct selection."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.compare.selection import eta, select_best, worst_case_reps


class NormalSystems:
    """k systems with the given means and standard deviations; optionally a common random component
    (correlation across systems, as common random numbers give). Records every sampling call."""

    def __init__(self, means: list[float], sds: list[float], seed: int, common_sd: float = 0.0) -> None:
        self.means = np.array(means)
        self.sds = np.array(sds)
        self.common_sd = common_sd
        self.rng = np.random.default_rng(seed)
        self.calls: list[tuple[tuple[int, ...], int]] = []

    def replication(self) -> np.ndarray:
        common = self.rng.normal(0, self.common_sd) if self.common_sd else 0.0
        return self.means + common + self.sds * self.rng.standard_normal(self.means.size)

    def first_stage(self, n0: int) -> np.ndarray:
        return np.column_stack([self.replication() for _ in range(n0)])

    def sample(self, systems: list[int], index: int) -> list[float]:
        self.calls.append((tuple(systems), index))
        values = self.replication()
        return [float(values[i]) for i in systems]


def test_eta_and_h2_follow_the_paper() -> None:
    """η = ½[(2α/(k−1))^(−2/(n0−1)) − 1]: for k = 2, α = 0.05, n0 = 10, η = ½(10^(2/9) − 1)."""
    assert eta(0.05, 2, 10) == pytest.approx(0.5 * (10 ** (2 / 9) - 1))
    assert eta(0.05, 4, 20) == pytest.approx(0.5 * ((0.1 / 3) ** (-2 / 19) - 1))
    assert eta(0.01, 4, 20) > eta(0.05, 4, 20)  # more confidence, a wider continuation region


def test_picks_the_known_best_and_samples_only_contenders() -> None:
    """Means 0, 0.4, 0.8, 2 (δ = 0.5 < every gap to the best), σ = 1: the best is found, the others are
    eliminated, and no eliminated system is sampled after its elimination."""
    systems = NormalSystems([0.0, 0.4, 0.8, 2.0], [1.0, 1.0, 1.5, 1.0], seed=5)
    first = systems.first_stage(10)
    selection = select_best(first, systems.sample, delta=0.5, pcs=0.95)
    assert selection.best == 3
    assert selection.contenders == (3,)
    assert [s.eliminated_at is None for s in selection.systems] == [False, False, False, True]
    assert systems.calls, "this configuration needs more than the first stage"
    for system, result in enumerate(selection.systems):
        assert result.reps == len(selection.observations[system])
        if result.eliminated_at is not None:
            assert result.reps == result.eliminated_at  # nothing added after elimination
            assert all(
                system not in called or index < result.eliminated_at for called, index in systems.calls
            )
    # each stage sampled the next replication index of exactly the systems still in contention
    assert [index for _, index in systems.calls] == list(range(10, 10 + len(systems.calls)))
    assert selection.systems[3].reps == max(s.reps for s in selection.systems)
    assert selection.systems[3].reps > min(s.reps for s in selection.systems)
    assert selection.total_reps == sum(s.reps for s in selection.systems)
    assert selection.systems[3].mean == pytest.approx(np.mean(selection.observations[3]))


def test_minimisation_picks_the_lowest_mean() -> None:
    systems = NormalSystems([30.0, 20.0, 26.0], [3.0, 3.0, 3.0], seed=2)
    selection = select_best(systems.first_stage(10), systems.sample, delta=2.0, maximize=False)
    assert selection.best == 1
    assert selection.systems[1].mean == pytest.approx(np.mean(selection.observations[1]))
    assert selection.systems[1].mean < 25


def test_no_noise_in_the_differences_selects_at_the_first_stage() -> None:
    """With zero variance of every difference, N_i = 0 < n0: KN stops after the first stage."""
    base = np.random.default_rng(1).normal(100, 10, size=8)
    first = np.vstack([base, base + 1, base + 3])
    calls: list[int] = []
    selection = select_best(first, lambda systems, r: calls.append(r) or [], delta=0.5)
    assert selection.best == 2 and calls == []


def test_the_budget_stops_without_a_selection_when_plans_are_within_the_indifference_zone() -> None:
    systems = NormalSystems([0.0, 0.0, 0.0], [1.0, 1.0, 1.0], seed=3)
    first = systems.first_stage(10)
    bound = worst_case_reps(first, 0.05, 0.95, 100_000)
    assert bound > 30
    selection = select_best(first, systems.sample, delta=0.05, max_reps=30)
    assert selection.best is None
    assert len(selection.contenders) >= 2
    assert max(s.reps for s in selection.systems) == 30


def test_bad_settings_are_refused() -> None:
    first = np.zeros((3, 5))
    with pytest.raises(ValueError, match="indifference zone must be positive"):
        select_best(first, lambda s, r: [], delta=0)
    with pytest.raises(ValueError, match="between 1/k and 1"):
        select_best(first, lambda s, r: [], delta=1, pcs=0.3)
    with pytest.raises(ValueError, match="at least 2 systems"):
        select_best(np.zeros((1, 5)), lambda s, r: [], delta=1)


@pytest.mark.slow
@pytest.mark.parametrize("common_sd", [0.0, 2.0])
def test_probability_of_correct_selection_meets_its_guarantee(common_sd: float) -> None:
    """The slippage configuration (the best exactly δ above the other three, the hardest case the guarantee
    covers), unequal variances, independent or CRN-like correlated outputs: over 1000 macro-replications
    the best is chosen at least 95% of the time, within three binomial standard errors."""
    macroreps, hits, reps = 1000, 0, 0
    for seed in range(macroreps):
        systems = NormalSystems([0.5, 0.0, 0.0, 0.0], [1.0, 1.5, 1.0, 2.0], seed=seed, common_sd=common_sd)
        selection = select_best(systems.first_stage(10), systems.sample, delta=0.5, pcs=0.95)
        hits += selection.best == 0
        reps += selection.total_reps
    rate = hits / macroreps
    assert rate >= 0.95 - 3 * math.sqrt(0.95 * 0.05 / macroreps), rate
