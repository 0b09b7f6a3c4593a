"""How well a fitted buying model describes the data, in and out of the calibration period.

Three checks, after Fader, Hardie & Lee (2005):

* the calibration-period histogram of repeat purchases, actual against expected (Σ over customers of
  P(X(T_i) = x)), with a chi-square test on bins pooled to an expected count of at least 5;
* weekly tracking: cumulative repeat purchases of the cohort week by week, actual against expected
  (Σ over customers of E[X(t − first purchase)]), across calibration and holdout;
* holdout: each customer's conditional expectation E[Y(t) | x, t_x, T] for the holdout period against their
  actual holdout purchases (mean absolute error, correlation, totals, and the means by calibration frequency).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy import stats

from engine.calibrate.customers import CustomerSummary

HISTOGRAM_BINS = 8
"""0, 1, …, 6 and '7+' repeat purchases, as in FHL's figure 2."""
GRID_POINTS = 512
"""Customer ages (T) beyond this many distinct values are interpolated on a grid of this size."""
MIN_EXPECTED = 5.0


class BuyingModel(Protocol):
    """What the checks need of a fitted buying model (BG/NBD or Pareto/NBD)."""

    def expected_repeat_purchases(self, t: np.ndarray) -> np.ndarray: ...

    def purchase_count_probabilities(self, t: np.ndarray, counts: int) -> np.ndarray: ...

    def conditional_expected_purchases(
        self, t: float, x: np.ndarray, t_x: np.ndarray, age: np.ndarray
    ) -> np.ndarray: ...

    def probability_alive(self, x: np.ndarray, t_x: np.ndarray, age: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class Histogram:
    """Customers by calibration repeat purchases: actual and expected, and a chi-square test."""

    labels: tuple[str, ...]
    actual: np.ndarray
    expected: np.ndarray
    chi_square: float | None
    degrees_of_freedom: int | None
    p_value: float | None


@dataclass(frozen=True)
class Tracking:
    """Cumulative repeat purchases of the cohort at the end of each week since the log's first day."""

    week: np.ndarray
    """Week number (1, 2, …); the last may end at the end of the log, before a full week."""
    day: np.ndarray
    """Days since the origin at the end of each week."""
    actual: np.ndarray
    expected: np.ndarray
    calibration_end_week: float
    """Where the calibration period ends, in weeks (a vertical line on the figure)."""


@dataclass(frozen=True)
class FrequencyRow:
    """Holdout purchases of the customers with one calibration frequency (FHL's figure 4)."""

    label: str
    customers: int
    actual_mean: float
    expected_mean: float


@dataclass(frozen=True)
class Holdout:
    """Conditional expectations for the holdout period against what customers did."""

    length: float
    """Holdout length in the fitting unit."""
    customers: int
    actual_total: int
    expected_total: float
    mean_absolute_error: float
    correlation: float
    by_frequency: tuple[FrequencyRow, ...]
    expected: np.ndarray
    """Per customer, in the summary's order."""


def _bin_labels() -> tuple[str, ...]:
    return (*(str(k) for k in range(HISTOGRAM_BINS - 1)), f"{HISTOGRAM_BINS - 1}+")


def histogram(model: BuyingModel, summary: CustomerSummary, parameters: int) -> Histogram:
    """Actual against expected calibration repeat purchases (see the module docstring)."""
    top = HISTOGRAM_BINS - 1
    actual = np.bincount(np.minimum(summary.frequency, top), minlength=HISTOGRAM_BINS)
    ages, counts = np.unique(summary.age, return_counts=True)
    if ages.size > GRID_POINTS:
        grid = np.linspace(ages[0], ages[-1], GRID_POINTS)
        on_grid = model.purchase_count_probabilities(grid, top)
        probabilities = np.column_stack([np.interp(ages, grid, on_grid[:, k]) for k in range(top)])
    else:
        probabilities = model.purchase_count_probabilities(ages, top)
    probabilities = np.column_stack([probabilities, 1.0 - probabilities.sum(axis=1)])
    expected = counts @ probabilities
    chi_square, dof, p_value = _chi_square(actual.astype(np.float64), expected, parameters)
    return Histogram(_bin_labels(), actual, expected, chi_square, dof, p_value)


def _chi_square(
    actual: np.ndarray, expected: np.ndarray, parameters: int
) -> tuple[float | None, int | None, float | None]:
    """Pearson's chi-square on bins pooled from the top until each expects at least 5 customers."""
    pooled_actual, pooled_expected = list(actual), list(expected)
    while len(pooled_expected) > 1 and pooled_expected[-1] < MIN_EXPECTED:
        last_expected, last_actual = pooled_expected.pop(), pooled_actual.pop()
        pooled_expected[-1] += last_expected
        pooled_actual[-1] += last_actual
    observed, wanted = np.array(pooled_actual), np.array(pooled_expected)
    dof = observed.size - 1 - parameters
    if dof < 1 or np.any(wanted < MIN_EXPECTED):
        return None, None, None
    value = float(np.sum((observed - wanted) ** 2 / wanted))
    return value, dof, float(stats.chi2.sf(value, dof))


def tracking(model: BuyingModel, summary: CustomerSummary) -> Tracking:
    """Weekly cumulative repeat purchases, actual and expected (see the module docstring)."""
    end = summary.observation_end_day
    # weeks from the log's first day: day 0 for dates and the engine's day numbers, earlier for day numbers
    # that start below 0
    start = min(0.0, float(np.floor(summary.first_day.min())))
    weeks = max(int(np.ceil((end - start) / 7.0)), 1)
    day = np.minimum(start + 7.0 * np.arange(1, weeks + 1), end)
    if day[-1] < end:
        day = np.r_[day, end]
    repeats = np.sort(summary.repeat_days)
    actual = np.searchsorted(repeats, day, side="right")
    unit = summary.unit.days
    longest = max((end - float(summary.first_day.min())) / unit, 1e-9)
    grid = np.linspace(0.0, longest, 4 * GRID_POINTS)
    on_grid = model.expected_repeat_purchases(grid)
    # first purchases to the nearest 1/100 day (a quarter of an hour): day numbers are continuous, and
    # E[X(t)] moves by a negligible amount in that time
    firsts, counts = np.unique(np.round(summary.first_day, 2), return_counts=True)
    expected = np.array([counts @ np.interp(np.maximum(d - firsts, 0.0) / unit, grid, on_grid) for d in day])
    return Tracking(
        week=np.arange(1, day.size + 1),
        day=day,
        actual=actual,
        expected=expected,
        calibration_end_week=(summary.calibration_end_day - start) / 7.0,
    )


def holdout(model: BuyingModel, summary: CustomerSummary) -> Holdout | None:
    """Holdout predictions against actual purchases; None without a holdout period."""
    length = summary.holdout_length
    if length <= 0:
        return None
    expected = model.conditional_expected_purchases(
        length, summary.frequency.astype(np.float64), summary.recency, summary.age
    )
    actual = summary.holdout_purchases
    top = HISTOGRAM_BINS - 1
    bucket = np.minimum(summary.frequency, top)
    rows = []
    for k, label in enumerate(_bin_labels()):
        members = bucket == k
        if members.any():
            rows.append(
                FrequencyRow(
                    label, int(members.sum()), float(actual[members].mean()), float(expected[members].mean())
                )
            )
    spread = np.std(actual) > 0 and np.std(expected) > 0
    return Holdout(
        length=float(length),
        customers=summary.customers,
        actual_total=int(actual.sum()),
        expected_total=float(expected.sum()),
        mean_absolute_error=float(np.mean(np.abs(expected - actual))),
        correlation=float(np.corrcoef(expected, actual)[0, 1]) if spread else float("nan"),
        by_frequency=tuple(rows),
        expected=expected,
    )
