"""Each customer's frequency, recency, age and mean spend at the end of the calibration period.

In the notation of Fader, Hardie & Lee (2005), a customer first bought at time 0 (their first purchase
occasion), then made ``x`` repeat purchases in the calibration period, the last at ``t_x``; ``T`` is the time
from the first purchase to the end of the calibration period. Times are in the fitting unit (days or weeks).
Mean spend is the mean of the repeat purchases only (the first purchase is often atypical, as in FHL's
"RFM and CLV"). Customers whose first purchase falls after the calibration period are not in its cohort.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.calibrate.choices import TimeUnit
from engine.calibrate.occasions import Occasions
from engine.errors import CalibrationError

MIN_REPEAT_CUSTOMERS = 10
"""Fewer customers with a repeat purchase than this leave repeat buying unidentified."""


@dataclass(frozen=True)
class CustomerSummary:
    """The calibration cohort: one entry per customer, in the fitting unit."""

    unit: TimeUnit
    customer: np.ndarray
    """Customer code (see :class:`~engine.calibrate.reading.TransactionLog`), ascending."""
    frequency: np.ndarray
    """Repeat purchases in the calibration period (x)."""
    recency: np.ndarray
    """Time of the last calibration purchase after the first (t_x; 0 when x = 0)."""
    age: np.ndarray
    """Time from the first purchase to the end of the calibration period (T)."""
    first_day: np.ndarray
    """Day (since the log's origin) of the first purchase."""
    mean_spend: np.ndarray
    """Mean amount of the calibration repeat purchases (nan when x = 0)."""
    holdout_purchases: np.ndarray
    """Purchases after the calibration period, up to the end of the log."""
    repeat_days: np.ndarray
    """Days (since the origin) of every repeat purchase of the cohort, calibration and holdout."""
    calibration_end_day: float
    observation_end_day: float
    first_purchase_range: tuple[float, float]
    """Earliest and latest first purchase (days) in the cohort."""
    late_customers: int
    """Customers whose first purchase is after the calibration period (left out)."""

    @property
    def customers(self) -> int:
        return int(self.frequency.size)

    @property
    def holdout_length(self) -> float:
        """Length of the holdout period in the fitting unit (0: none)."""
        return (self.observation_end_day - self.calibration_end_day) / self.unit.days

    @property
    def repeaters(self) -> np.ndarray:
        """Mask of customers with at least one calibration repeat purchase."""
        return self.frequency > 0


def summarise_customers(
    occasions: Occasions,
    unit: TimeUnit,
    calibration_end_day: float | None,
    where: str,
    observation_end_day: float | None = None,
) -> CustomerSummary:
    """Frequency, recency, age, mean spend and holdout purchases of each customer of the cohort.

    Args:
        occasions: purchase occasions sorted by customer and day.
        unit: fitting unit.
        calibration_end_day: last day of the calibration period (days since origin); None: the end of the
            data, with no holdout.
        where: the file, for messages.
        observation_end_day: end of the data (the day it was exported); None: the last purchase day.

    Raises:
        CalibrationError: the calibration end is outside the data, or too few customers bought again.
    """
    last_seen = float(occasions.day.max())
    observation_end = last_seen if observation_end_day is None else float(observation_end_day)
    if observation_end < last_seen:
        raise CalibrationError(
            f"{where}: --observation-end is before the last purchase in the file; the data cannot end before "
            "its last purchase"
        )
    end = observation_end if calibration_end_day is None else float(calibration_end_day)
    first_seen = float(occasions.day.min())
    if end < first_seen:
        raise CalibrationError(f"{where}: --calibration-end is before the first purchase in the file")
    if end > observation_end:
        raise CalibrationError(
            f"{where}: --calibration-end is after the end of the data (the last purchase, or "
            "--observation-end), so the calibration period would include time with no data"
        )
    customer, day, amount = occasions.customer, occasions.day, occasions.amount
    starts = np.r_[0, np.nonzero(np.diff(customer))[0] + 1]
    first = day[starts]
    cohort_of = np.repeat(first <= end, np.diff(np.r_[starts, customer.size]))
    late = int((first > end).sum())
    customer, day, amount = customer[cohort_of], day[cohort_of], amount[cohort_of]
    starts = np.r_[0, np.nonzero(np.diff(customer))[0] + 1]
    first, first_amount = day[starts], amount[starts]
    index = np.repeat(np.arange(starts.size), np.diff(np.r_[starts, customer.size]))
    calibration = day <= end
    count = np.bincount(index[calibration], minlength=starts.size)
    last = np.full(starts.size, -np.inf)
    np.maximum.at(last, index[calibration], day[calibration])
    spent = np.bincount(index[calibration], weights=amount[calibration], minlength=starts.size)
    frequency = count - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_spend = np.where(frequency > 0, (spent - first_amount) / frequency, np.nan)
    holdout = np.bincount(index[~calibration], minlength=starts.size)
    is_first = np.zeros(day.size, dtype=bool)
    is_first[starts] = True
    summary = CustomerSummary(
        unit=unit,
        customer=customer[starts],
        frequency=frequency.astype(np.int64),
        recency=(last - first) / unit.days,
        age=(end - first) / unit.days,
        first_day=first,
        mean_spend=mean_spend,
        holdout_purchases=holdout.astype(np.int64),
        repeat_days=day[~is_first],
        calibration_end_day=end,
        observation_end_day=observation_end,
        first_purchase_range=(float(first.min()), float(first.max())),
        late_customers=late,
    )
    repeaters = int(summary.repeaters.sum())
    if repeaters < MIN_REPEAT_CUSTOMERS:
        single = (
            "every customer made a single purchase" if repeaters == 0 else f"only {repeaters} bought again"
        )
        raise CalibrationError(
            f"{where}: {single} in the calibration period ({summary.customers} customers); repeat buying "
            f"cannot be fitted from fewer than {MIN_REPEAT_CUSTOMERS} customers who bought again. Check that "
            "--customer-col names customers (not orders) and --calibration-end leaves enough time"
        )
    return summary
