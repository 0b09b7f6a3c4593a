"""Per-customer results of a calibration: history, P(alive), holdout forecast against actual, expected spend.

The table a finance analyst checks a forecast against, customer by customer, and the data of the scatter of
conditional expectations against actual holdout purchases. ``--customers-out FILE`` writes it as CSV (or
Parquet for a ``.parquet`` name), atomically.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from engine.calibrate.calibration import Calibration
from engine.errors import CalibrationError
from engine.output import atomic_path

COLUMNS = (
    "customer",
    "first_purchase",
    "frequency",
    "recency",
    "age",
    "mean_spend",
    "probability_alive",
    "expected_holdout_purchases",
    "holdout_purchases",
    "expected_spend_per_purchase",
)
"""Columns in order; times in the fitting unit; the holdout columns are empty without a holdout."""


def customer_table(calibration: Calibration) -> pd.DataFrame:
    """One row per customer of the cohort, in the order of first appearance in the file."""
    s = calibration.summary
    x = s.frequency.astype(np.float64)
    model = calibration.buying_model
    expected_holdout = (
        calibration.holdout.expected if calibration.holdout is not None else np.full(x.size, np.nan)
    )
    actual_holdout = (
        s.holdout_purchases.astype(np.float64) if calibration.holdout is not None else expected_holdout
    )
    with np.errstate(invalid="ignore"):
        spend = calibration.spend_model.conditional_expected_spend(x, np.nan_to_num(s.mean_spend))
    spend = np.where(x > 0, spend, calibration.spend_model.mean_purchase_value())
    return pd.DataFrame(
        {
            "customer": calibration.log.customer_labels[s.customer],
            "first_purchase": [calibration.label(day) for day in s.first_day],
            "frequency": s.frequency,
            "recency": s.recency,
            "age": s.age,
            "mean_spend": s.mean_spend,
            "probability_alive": model.probability_alive(x, s.recency, s.age),
            "expected_holdout_purchases": expected_holdout,
            "holdout_purchases": actual_holdout,
            "expected_spend_per_purchase": spend,
        },
        columns=list(COLUMNS),
    )


def write_customer_table(calibration: Calibration, path: Path) -> None:
    """Write :func:`customer_table` to ``path`` (CSV, or Parquet for .parquet), atomically.

    Raises:
        CalibrationError: the file cannot be written.
    """
    table = customer_table(calibration)
    try:
        with atomic_path(path) as temporary:
            if path.suffix.lower() == ".parquet":
                table.to_parquet(temporary, index=False)
            else:
                table.to_csv(temporary, index=False, encoding="utf-8")
    except OSError as error:
        raise CalibrationError(f"--customers-out {path}: cannot write ({error.strerror or error})") from None
