"""Unit tests of engine.model.clocks: the exact bulk draws of memoryless clocks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from engine.model.clocks import TwoBreakMultiplier, first_order_statistics, poisson_counts


def multiplier(base: float, w: float, w_end: float, u: float, u_end: float) -> TwoBreakMultiplier:
    """A one-person multiplier from scalars."""
    return TwoBreakMultiplier(
        np.array([base]), np.array([w]), np.array([w_end]), np.array([u]), np.array([u_end])
    )


def integral(m: TwoBreakMultiplier, start: float, end: float) -> float:
    return float(m.integral(np.array([start]), np.array([end]))[0])


def crossing(m: TwoBreakMultiplier, start: float, end: float, target: float) -> tuple[float, float]:
    time, used = m.crossing(np.array([start]), np.array([end]), np.array([target]))
    return float(time[0]), float(used[0])


# --------------------------------------------------------------------------- integral by hand
# Each case: (base, w, w_end, u, u_end), start, end, the integral worked out by hand.
HAND_CASES = [
    # w ends first: m = 2·3·4 = 24 before 5, 2·4 = 8 on [5, 10), 2 after.
    ((2.0, 3.0, 5.0, 4.0, 10.0), 0.0, 12.0, 24 * 5 + 8 * 5 + 2 * 2),  # 164
    ((2.0, 3.0, 5.0, 4.0, 10.0), 6.0, 8.0, 8 * 2),  # inside the middle piece
    ((2.0, 3.0, 5.0, 4.0, 10.0), 4.0, 11.0, 24 * 1 + 8 * 5 + 2 * 1),  # 66: all three pieces
    ((2.0, 3.0, 5.0, 4.0, 10.0), 11.0, 20.0, 2 * 9),  # after both breaks
    ((2.0, 3.0, 5.0, 4.0, 10.0), -3.0, 2.0, 24 * 5),  # before both breaks
    # u ends first: m = 1·2·5 = 10 before 3, 1·2 = 2 on [3, 10), 1 after.
    ((1.0, 2.0, 10.0, 5.0, 3.0), 0.0, 20.0, 10 * 3 + 2 * 7 + 1 * 10),  # 54
    # both end together: m = 6 before 4, 1 after.
    ((1.0, 2.0, 4.0, 3.0, 4.0), 2.0, 6.0, 6 * 2 + 1 * 2),  # 14
    # never switch off (inf ends): constant 1.5·2·1 = 3.
    ((1.5, 2.0, math.inf, 1.0, math.inf), 1.0, 4.0, 3 * 3),
    # switched off long ago (-inf end, the engine's "no pending reward"): only u = 2 until 7, base 0.5.
    ((0.5, 9.0, -math.inf, 2.0, 7.0), 5.0, 9.0, 1.0 * 2 + 0.5 * 2),  # 3
    # empty and reversed intervals.
    ((2.0, 3.0, 5.0, 4.0, 10.0), 6.0, 6.0, 0.0),
    ((2.0, 3.0, 5.0, 4.0, 10.0), 8.0, 6.0, 0.0),
]


@pytest.mark.parametrize(("params", "start", "end", "expected"), HAND_CASES)
def test_integral_matches_hand_computation(
    params: tuple[float, ...], start: float, end: float, expected: float
) -> None:
    assert integral(multiplier(*params), start, end) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_integral_is_vectorised_per_person() -> None:
    params = [case[0] for case in HAND_CASES]
    base, w, w_end, u, u_end = (np.array(column) for column in zip(*params, strict=True))
    m = TwoBreakMultiplier(base, w, w_end, u, u_end)
    start = np.array([case[1] for case in HAND_CASES])
    end = np.array([case[2] for case in HAND_CASES])
    expected = np.array([case[3] for case in HAND_CASES])
    np.testing.assert_allclose(m.integral(start, end), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("start", "end", "target", "expected_time", "expected_used"),
    [
        (0.0, 12.0, 100.0, 100 / 24, 100.0),  # in the first piece
        (0.0, 12.0, 130.0, 5 + 10 / 8, 130.0),  # 120 used by t = 5, 10 more at rate 8
        (0.0, 12.0, 162.0, 10 + 2 / 2, 162.0),  # 160 used by t = 10, 2 more at rate 2
        (0.0, 12.0, 164.0, 12.0, 164.0),  # exactly the whole interval
        (0.0, 12.0, 200.0, math.inf, 164.0),  # not reached: everything used
        (7.0, 12.0, 4.0, 7.5, 4.0),  # starting inside the middle piece
    ],
)
def test_crossing_matches_hand_computation(
    start: float, end: float, target: float, expected_time: float, expected_used: float
) -> None:
    m = multiplier(2.0, 3.0, 5.0, 4.0, 10.0)
    time, used = crossing(m, start, end, target)
    assert time == pytest.approx(expected_time, rel=1e-12)
    assert used == pytest.approx(expected_used, rel=1e-12)


# --------------------------------------------------------------------------- crossing inverts integral
factor = st.floats(min_value=0.01, max_value=100.0)
breakpoint_ = st.one_of(st.floats(min_value=-50.0, max_value=150.0), st.sampled_from([-math.inf, math.inf]))
person = st.tuples(
    factor,  # base
    factor,  # w
    breakpoint_,  # w_end
    factor,  # u
    breakpoint_,  # u_end
    st.floats(min_value=-20.0, max_value=100.0),  # start
    st.floats(min_value=0.0, max_value=60.0),  # length
    st.floats(min_value=0.0, max_value=1.5),  # target as a share of the interval's integral
)


def _columns(people: list[tuple[float, ...]]) -> list[np.ndarray]:
    return [np.array(column, dtype=np.float64) for column in zip(*people, strict=True)]


@settings(max_examples=300, deadline=None)
@given(st.lists(person, min_size=1, max_size=20))
def test_crossing_is_the_inverse_of_integral(people: list[tuple[float, ...]]) -> None:
    base, w, w_end, u, u_end, start, length, share = _columns(people)
    end = start + length
    m = TwoBreakMultiplier(base, w, w_end, u, u_end)
    whole = m.integral(start, end)
    target = share * whole
    time, used = m.crossing(start, end, target)
    # Rounding: times are O(100) and the multiplier at most 100³, so an integral recomputed at a rounded
    # time is off by about 1e6 · 1e-14; the bound below leaves three orders of magnitude to spare.
    scale = 1e-9 * (1.0 + np.abs(whole) + base * w * u * (np.abs(start) + np.abs(end) + 1.0))
    # Convention of crossing(): over an interval with zero integral nothing is crossed, not even a zero
    # target (exit budgets are unit exponentials, positive almost surely).
    crossed = (target <= whole) & (whole > 0)
    assert np.array_equal(np.isfinite(time), crossed)
    # Crossed: the time lies in the interval and the integral up to it is the target, all of it used.
    assert np.all(time[crossed] >= start[crossed]) and np.all(time[crossed] <= end[crossed])
    on = TwoBreakMultiplier(base[crossed], w[crossed], w_end[crossed], u[crossed], u_end[crossed])
    reached = on.integral(start[crossed], time[crossed])
    assert np.all(np.abs(reached - target[crossed]) <= scale[crossed])
    np.testing.assert_array_equal(used[crossed], target[crossed])
    # Not crossed: the whole interval's integral is used.
    np.testing.assert_allclose(used[~crossed], whole[~crossed], rtol=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.lists(person, min_size=1, max_size=20), st.floats(min_value=0.0, max_value=1.0))
def test_crossing_in_two_steps_equals_crossing_in_one(people: list[tuple[float, ...]], cut: float) -> None:
    """What the engine does at every review: carry the unused budget over to the next interval."""
    base, w, w_end, u, u_end, start, length, share = _columns(people)
    end = start + length
    middle = start + cut * length
    m = TwoBreakMultiplier(base, w, w_end, u, u_end)
    whole = m.integral(start, end)
    target = share * whole
    once, _ = m.crossing(start, end, target)
    first, used = m.crossing(start, middle, target)
    second, _ = m.crossing(middle, end, target - used)
    twice = np.where(np.isfinite(first), first, second)
    # A budget within rounding of the whole interval's integral may be judged either way after the
    # subtraction (a measure-zero event for exponential budgets): only the clear cases must agree.
    clear = np.abs(target - whole) > 1e-9 * (1.0 + whole)
    assert np.array_equal(np.isfinite(once)[clear], np.isfinite(twice)[clear])
    finite = np.isfinite(once) & np.isfinite(twice)
    scale = 1e-9 * (1.0 + np.abs(start) + np.abs(end))
    # A crossing exactly at the cut may be found at the end of one step or the start of the next.
    assert np.all(np.abs(once[finite] - twice[finite]) <= scale[finite] + 1e-9 * np.abs(target[finite]))


# --------------------------------------------------------------------------- crossing times are exponential
N_KS = 20_000


Params = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _exit_times_in_steps(
    params: Params, start: np.ndarray, hazard: float, step: float, budget: np.ndarray, until: float
) -> np.ndarray:
    """Exit times drawn the engine's way (``Membership._carrier_exits``): step by step, for the people still
    on, with the multiplier built for that subset and each person's unused budget carried over."""
    time = np.full(start.size, np.inf)
    budget = budget.copy()
    t0 = 0.0
    while t0 < until:
        t1 = t0 + step
        who = np.nonzero(np.isinf(time) & (start < t1))[0]
        begin = np.maximum(t0, start[who])
        m = TwoBreakMultiplier(*(column[who] for column in params))
        crossed, used = m.crossing(begin, np.full(who.size, t1), budget[who] / hazard)
        budget[who] -= used * hazard
        left = np.isfinite(crossed)
        time[who[left]] = crossed[left]
        t0 = t1
    return time


def test_crossing_times_of_a_constant_multiplier_are_exponential() -> None:
    rng = np.random.default_rng(20240611)
    rate = 0.7
    start = rng.uniform(0.0, 10.0, N_KS)
    m = TwoBreakMultiplier(
        np.full(N_KS, rate), np.ones(N_KS), rng.uniform(0, 20, N_KS), np.ones(N_KS), rng.uniform(0, 20, N_KS)
    )
    time, _ = m.crossing(start, np.full(N_KS, np.inf), rng.exponential(1.0, N_KS))
    result = stats.kstest(time - start, stats.expon(scale=1.0 / rate).cdf)
    assert result.pvalue > 0.001, result


def test_crossing_times_drawn_step_by_step_are_exponential() -> None:
    """A unit-exponential budget spent over 7-day steps at a constant hazard exits at an Exp(hazard) time."""
    rng = np.random.default_rng(7)
    hazard = 0.05
    start = rng.uniform(0.0, 30.0, N_KS)
    ones = np.ones(N_KS)
    params = (ones, ones, start + 3.0, ones, start + 11.0)  # breakpoints, but every factor 1
    time = _exit_times_in_steps(params, start, hazard, 7.0, rng.exponential(1.0, N_KS), until=600.0)
    assert np.all(np.isfinite(time))  # P(exit after 570 days) = e^-28.5 per person
    result = stats.kstest(time - start, stats.expon(scale=1.0 / hazard).cdf)
    assert result.pvalue > 0.001, result


def test_step_by_step_crossing_of_a_piecewise_multiplier_has_exponential_cumulative_hazard() -> None:
    """With a two-break multiplier, the cumulative hazard at the exit time is Exp(1) (time change)."""
    rng = np.random.default_rng(11)
    hazard = 0.03
    start = rng.uniform(0.0, 30.0, N_KS)
    params = (
        np.full(N_KS, 1.5),
        np.full(N_KS, 4.0),
        start + rng.uniform(0, 10, N_KS),
        np.full(N_KS, 2.0),
        start + rng.uniform(0, 40, N_KS),
    )
    m = TwoBreakMultiplier(*params)
    time = _exit_times_in_steps(params, start, hazard, 7.0, rng.exponential(1.0, N_KS), until=600.0)
    assert np.all(np.isfinite(time))
    cumulative = hazard * m.integral(start, time)
    result = stats.kstest(cumulative, stats.expon().cdf)
    assert result.pvalue > 0.001, result


# --------------------------------------------------------------------------- first_order_statistics
UNLIMITED = 2**62


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=30), min_size=0, max_size=12),
    st.lists(st.one_of(st.integers(min_value=0, max_value=40), st.just(UNLIMITED)), min_size=12, max_size=12),
    st.integers(min_value=0, max_value=2**32),
)
def test_first_order_statistics_keeps_min_count_sorted_in_unit_interval(
    counts: list[int], allowed: list[int], seed: int
) -> None:
    counts_array = np.array(counts, dtype=np.int64)
    allowed_array = np.array(allowed[: len(counts)], dtype=np.int64)
    group, fraction = first_order_statistics(np.random.default_rng(seed), counts_array, allowed_array)
    kept = np.minimum(counts_array, allowed_array)
    assert np.array_equal(np.bincount(group, minlength=len(counts)), kept)
    assert np.all(np.diff(group) >= 0)  # grouped, groups in order
    assert np.all((fraction >= 0) & (fraction < 1))
    same_group = np.diff(group) == 0
    assert np.all(np.diff(fraction)[same_group] > 0)  # sorted within each group


@pytest.mark.parametrize(("n", "k"), [(1, 1), (5, 2), (12, 12), (30, 7)])
def test_first_order_statistics_have_the_order_statistic_laws(n: int, k: int) -> None:
    """The j-th smallest of n uniforms is Beta(j, n − j + 1): each kept rank against its law (KS)."""
    rng = np.random.default_rng(20240611 + n)
    people = 4000
    group, fraction = first_order_statistics(rng, np.full(people, n), np.full(people, k))
    rank = np.arange(group.size) - np.repeat(np.arange(people) * k, k)
    for j in range(k):
        result = stats.kstest(fraction[rank == j], stats.beta(j + 1, n - j).cdf)
        assert result.pvalue > 0.001, (j, result)


def test_first_order_statistics_match_sorting_a_full_sample() -> None:
    """Mean of each kept rank equals the mean of the same rank of a sorted full sample (4 SE)."""
    rng = np.random.default_rng(5)
    people, n, k = 20_000, 9, 4
    _, fraction = first_order_statistics(rng, np.full(people, n), np.full(people, k))
    ours = fraction.reshape(people, k)
    for j in range(k):
        expected = (j + 1) / (n + 1)  # E[U_(j+1)] of n uniforms
        se = ours[:, j].std(ddof=1) / math.sqrt(people)
        assert abs(ours[:, j].mean() - expected) < 4 * se


# --------------------------------------------------------------------------- Poisson counts
@pytest.mark.parametrize("mean", [0.003, 0.3, 1.99, 2.0, 7.5, 40.0])
def test_poisson_counts_have_the_poisson_law(mean: float) -> None:
    """Counts at one mean, on either side of the switch from inversion to numpy's sampler: chi-square
    against the Poisson pmf (cells with ≥ 5 expected, the tail pooled) and the mean within 4 SE."""
    rng = np.random.default_rng(20240611)
    n = 200_000
    counts = poisson_counts(rng, np.full(n, mean))
    assert abs(counts.mean() - mean) < 4 * math.sqrt(mean / n)
    top = int(stats.poisson.ppf(1 - 5 / n, mean))
    observed = np.bincount(np.minimum(counts, top), minlength=top + 1)
    expected = stats.poisson.pmf(np.arange(top + 1), mean) * n
    expected[top] = stats.poisson.sf(top - 1, mean) * n
    keep = expected >= 5
    statistic = ((observed[keep] - expected[keep]) ** 2 / expected[keep]).sum()
    assert stats.chi2.sf(statistic, keep.sum() - 1) > 0.001


def test_poisson_counts_keep_each_mean_with_its_person() -> None:
    """Mixed means (both samplers in one call): each person's count follows their own mean — the sum over
    people with mean m is Poisson(m · people) — and a zero mean gives zero."""
    rng = np.random.default_rng(7)
    means = np.tile([0.0, 0.05, 1.0, 5.0, 12.0, 100.0], 30_000)
    counts = poisson_counts(rng, means)
    assert counts.dtype == np.int64
    assert np.all(counts[means == 0] == 0)
    for mean in (0.05, 1.0, 5.0, 12.0, 100.0):
        total = counts[means == mean].sum()
        expected = mean * 30_000
        assert abs(total - expected) < 4 * math.sqrt(expected), (mean, total, expected)
