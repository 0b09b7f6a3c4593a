"""Purchase occasions, returns and each customer's frequency, recency, age and mean spend."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.calibrate.calibration import Calibration
from engine.calibrate.customers import TimeUnit, summarise_customers
from engine.calibrate.occasions import Returns, purchase_occasions
from engine.calibrate.reading import read_transactions
from engine.errors import CalibrationError


def test_cdnow_summary_matches_the_published_one(cdnow: Calibration, cdnow_reference: pd.DataFrame) -> None:
    """Reading CDNOW's 6 919 transactions reproduces the per-customer x, t_x, T and mean repeat spend that
    ship with the data (rounded there to 2 decimals)."""
    s = cdnow.summary
    assert s.customers == 2357 == len(cdnow_reference)
    np.testing.assert_array_equal(s.frequency, cdnow_reference["x"])
    np.testing.assert_allclose(s.recency, cdnow_reference["t_x"], atol=0.005)
    np.testing.assert_allclose(s.age, cdnow_reference["T"], atol=0.005)
    repeat = s.frequency > 0
    np.testing.assert_allclose(s.mean_spend[repeat], cdnow_reference["zbar"][repeat], atol=0.005)
    assert s.holdout_length == 39.0
    assert cdnow.occasions.transactions == 6919
    assert s.holdout_purchases.sum() + s.frequency.sum() + s.customers == cdnow.occasions.day.size


def orders(tmp_path: Path, rows: list[tuple[str, str, float]]) -> Path:
    path = tmp_path / "orders.csv"
    pd.DataFrame(rows, columns=["customer_id", "date", "amount"]).to_csv(path, index=False)
    return path


def test_same_day_orders_are_one_purchase(tmp_path: Path) -> None:
    path = orders(
        tmp_path, [("a", "2024-01-01 09:00", 10), ("a", "2024-01-01 18:00", 5), ("a", "2024-01-03", 7)]
    )
    occasions = purchase_occasions(read_transactions(path))
    assert occasions.day.tolist() == [0.0, 2.0]
    assert occasions.amount.tolist() == [15.0, 7.0]


RETURNS = [
    ("a", "2024-01-01", 100.0),
    ("a", "2024-01-05", 40.0),
    ("a", "2024-01-09", -40.0),  # returns the 5 January order in full
    ("b", "2024-01-02", 50.0),
    ("b", "2024-01-03", -20.0),  # part of the 2 January order
    ("c", "2024-01-04", -5.0),  # no earlier purchase
    ("c", "2024-01-06", 30.0),
]


def test_returns_are_refused_by_default(tmp_path: Path) -> None:
    log = read_transactions(orders(tmp_path, RETURNS))
    with pytest.raises(
        CalibrationError,
        match=r"'amount': 3 of 7 rows \(lines 4, 6, 7\) are negative .*65\.00 in all.*--returns net",
    ):
        purchase_occasions(log)


def test_returns_dropped(tmp_path: Path) -> None:
    occasions = purchase_occasions(read_transactions(orders(tmp_path, RETURNS)), Returns.drop)
    assert occasions.amount.tolist() == [100.0, 40.0, 50.0, 30.0]
    assert (occasions.returns, occasions.returned_amount) == (3, 65.0)


def test_returns_netted_against_the_latest_earlier_purchase(tmp_path: Path) -> None:
    occasions = purchase_occasions(read_transactions(orders(tmp_path, RETURNS)), Returns.net)
    assert occasions.customer.tolist() == [0, 1, 2]  # a's 5 January order is gone: fully returned
    assert occasions.amount.tolist() == [100.0, 30.0, 30.0]
    assert (occasions.fully_returned, occasions.unmatched_returns) == (1, 1)


def test_single_purchases_are_refused(tmp_path: Path) -> None:
    rows = [(f"c{i}", "2024-01-01", 10.0) for i in range(30)]
    occasions = purchase_occasions(read_transactions(orders(tmp_path, rows)))
    with pytest.raises(
        CalibrationError, match=r"every customer made a single purchase .*30 customers.*--customer-col"
    ):
        summarise_customers(occasions, TimeUnit.week, None, "orders.csv")


def test_calibration_end_outside_the_data(tmp_path: Path) -> None:
    rows = [(f"c{i % 12}", f"2024-01-{1 + i // 12:02d}", 10.0) for i in range(36)]
    occasions = purchase_occasions(read_transactions(orders(tmp_path, rows)))
    with pytest.raises(CalibrationError, match="--calibration-end is after the end of the data"):
        summarise_customers(occasions, TimeUnit.day, 10.0, "orders.csv")
    with pytest.raises(CalibrationError, match="--observation-end is before the last purchase"):
        summarise_customers(occasions, TimeUnit.day, None, "orders.csv", observation_end_day=1.0)
    summary = summarise_customers(occasions, TimeUnit.day, 1.0, "orders.csv", observation_end_day=10.0)
    assert summary.holdout_length == 9.0
    assert summary.age.tolist() == [1.0] * 12
    assert summary.holdout_purchases.tolist() == [1] * 12
