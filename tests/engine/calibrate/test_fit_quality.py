"""Goodness of fit: histogram, weekly tracking and holdout, each held to a direct computation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engine.calibrate import bgnbd, fit_quality
from engine.calibrate.calibration import Calibration
from engine.calibrate.customers import CustomerSummary, TimeUnit


def test_cdnow_histogram(cdnow: Calibration) -> None:
    h = cdnow.histogram
    assert h.labels == ("0", "1", "2", "3", "4", "5", "6", "7+")
    assert h.actual.tolist() == [1411, 439, 214, 100, 62, 38, 29, 64]  # FHL's figure 2, actual
    assert h.expected.sum() == pytest.approx(2357, abs=1e-6)
    # every bin expects ≥ 5 customers: 8 bins − 1 − 4 parameters; BG/NBD fits CDNOW's histogram well
    assert h.degrees_of_freedom == 3
    assert h.p_value is not None and h.p_value > 0.05
    model = bgnbd.BGNBD.from_fit(cdnow.buying)
    direct = model.purchase_count_probabilities(cdnow.summary.age, 7).sum(axis=0)
    np.testing.assert_allclose(h.expected[:7], direct, rtol=1e-12)


def test_a_wrong_model_fails_the_chi_square(cdnow: Calibration) -> None:
    wrong = bgnbd.BGNBD(r=0.5, alpha=4.4, a=0.79, b=2.4)  # twice the purchase-rate shape
    h = fit_quality.histogram(wrong, cdnow.summary, 4)
    assert h.p_value is not None and h.p_value < 1e-6


def test_chi_square_pools_small_bins() -> None:
    value, dof, _ = fit_quality._chi_square(
        np.array([50.0, 30, 10, 3, 1, 0]), np.array([48.0, 31, 11, 4, 1.5, 0.5]), 1
    )
    # the last three bins (4 + 1.5 + 0.5 = 6 expected) are pooled into one: 4 bins, 4 − 1 − 1 = 2 df
    assert dof == 2
    assert value == pytest.approx(2**2 / 48 + 1 / 31 + 1 / 11 + (4 - 6) ** 2 / 6)
    assert fit_quality._chi_square(np.array([3.0, 1]), np.array([2.0, 2]), 1) == (None, None, None)


def test_histogram_interpolation_over_many_ages() -> None:
    rng = np.random.default_rng(3)
    n = 3000
    age = rng.uniform(5, 60, n)  # 3 000 distinct ages: interpolated on the grid
    summary = CustomerSummary(
        unit=TimeUnit.week,
        customer=np.arange(n),
        frequency=rng.integers(0, 9, n),
        recency=age / 2,
        age=age,
        first_day=-age * 7,
        mean_spend=np.full(n, np.nan),
        holdout_purchases=np.zeros(n, dtype=np.int64),
        repeat_days=np.zeros(0),
        calibration_end_day=0.0,
        observation_end_day=0.0,
        first_purchase_range=(0.0, 0.0),
        late_customers=0,
    )
    model = bgnbd.BGNBD(r=0.3, alpha=4.0, a=0.8, b=2.5)
    h = fit_quality.histogram(model, summary, 4)
    direct = model.purchase_count_probabilities(age, 7).sum(axis=0)
    np.testing.assert_allclose(h.expected[:7], direct, rtol=1e-4)


def test_cdnow_tracking(cdnow: Calibration) -> None:
    t, s = cdnow.tracking, cdnow.summary
    assert t.week.size == 78 and t.day[-1] == s.observation_end_day == 545
    assert t.actual[-1] == s.frequency.sum() + s.holdout_purchases.sum() == 4339
    assert np.all(np.diff(t.actual) >= 0) and np.all(np.diff(t.expected) > 0)
    model = bgnbd.BGNBD.from_fit(cdnow.buying)
    for k in (10, 38, 77):
        direct = model.expected_repeat_purchases(np.maximum(t.day[k] - s.first_day, 0) / 7).sum()
        assert t.expected[k] == pytest.approx(direct, rel=1e-5)
    assert t.calibration_end_week == pytest.approx(272 / 7)


def test_cdnow_holdout(cdnow: Calibration) -> None:
    h, s = cdnow.holdout, cdnow.summary
    assert h is not None and h.length == 39.0
    assert h.actual_total == s.holdout_purchases.sum() == 1882
    model = bgnbd.BGNBD.from_fit(cdnow.buying)
    expected = model.conditional_expected_purchases(39.0, s.frequency.astype(float), s.recency, s.age)
    assert h.expected_total == pytest.approx(expected.sum())
    assert h.mean_absolute_error == pytest.approx(np.mean(np.abs(expected - s.holdout_purchases)))
    assert h.correlation == pytest.approx(np.corrcoef(expected, s.holdout_purchases)[0, 1])
    assert sum(row.customers for row in h.by_frequency) == 2357
    # FHL's figure 4: customers with no calibration repeat purchase made 0.24 each in the holdout
    assert h.by_frequency[0].actual_mean == pytest.approx(0.237, abs=0.001)
    no_holdout = dataclasses.replace(s, observation_end_day=s.calibration_end_day)
    assert fit_quality.holdout(model, no_holdout) is None


def test_tracking_of_day_numbers_below_zero(cdnow: Calibration) -> None:
    """Day numbers that start below 0: the weeks run from the first purchase, not from day 0."""
    s = cdnow.summary
    shifted = dataclasses.replace(
        s,
        first_day=s.first_day - 1000,
        repeat_days=s.repeat_days - 1000,
        calibration_end_day=s.calibration_end_day - 1000,
        observation_end_day=s.observation_end_day - 1000,
    )
    model = bgnbd.BGNBD.from_fit(cdnow.buying)
    moved, original = fit_quality.tracking(model, shifted), cdnow.tracking
    assert moved.week.size == original.week.size == 78
    np.testing.assert_array_equal(moved.actual, original.actual)
    np.testing.assert_allclose(moved.expected, original.expected, rtol=1e-9)
    assert moved.calibration_end_week == pytest.approx(original.calibration_end_week)
