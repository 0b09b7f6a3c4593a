"""Purchase occasions: a customer's transactions on one calendar day are one purchase, returns treated.

Buy-till-you-die models count purchase occasions, not order lines: with calendar dates, every transaction of
a customer on one day is summed into one purchase (as Fader, Hardie & Lee do with CDNOW); with day numbers
(the engine's own log) transactions at distinct times stay distinct.

Returns (negative amounts) are never fitted silently. ``error`` (the default) refuses the file and says how
many there are and where; ``drop`` ignores them; ``net`` subtracts each return from the same customer's
latest purchase on or before its day (the order it most likely returns), and a purchase netted to zero or
less is no purchase at all (a fully returned order). A return with no earlier purchase is dropped and counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.calibrate.choices import Returns
from engine.calibrate.reading import TransactionLog
from engine.calibrate.values import problem_rows
from engine.errors import CalibrationError


@dataclass(frozen=True)
class Occasions:
    """Purchase occasions sorted by customer then day, and what was done to get them."""

    customer: np.ndarray
    day: np.ndarray
    amount: np.ndarray
    transactions: int
    """Rows read from the file."""
    returns: int
    """Rows with a negative amount."""
    returned_amount: float
    """Their total (positive)."""
    unmatched_returns: int
    """Returns with no earlier purchase of the same customer (dropped)."""
    fully_returned: int
    """Purchases netted to zero or less and so removed (``--returns net``)."""
    treatment: Returns


def purchase_occasions(log: TransactionLog, returns: Returns = Returns.error) -> Occasions:
    """Group ``log`` into purchase occasions and treat its returns as asked.

    Raises:
        CalibrationError: there are returns and ``returns`` is ``error``; or nothing is left to fit.
    """
    negative = log.amount < 0
    n_returns = int(negative.sum())
    if n_returns and returns is Returns.error:
        raise CalibrationError(
            f"{log.path}: column '{log.columns.amount}': "
            f"{problem_rows(log.row, negative, log.row_word)} negative "
            f"(returns or refunds, {-log.amount[negative].sum():,.2f} in all); choose --returns net "
            "(subtract each from the customer's latest purchase on or before it) or --returns drop "
            "(ignore them)"
        )
    day = np.floor(log.day) if log.dates.origin is not None else log.day
    sales = pd.DataFrame(
        {"customer": log.customer[~negative], "day": day[~negative], "amount": log.amount[~negative]}
    )
    grouped = sales.groupby(["customer", "day"], sort=True, as_index=False)["amount"].sum()
    unmatched = fully_returned = 0
    if n_returns and returns is Returns.net:
        grouped, unmatched, fully_returned = _net(
            grouped,
            pd.DataFrame(
                {"customer": log.customer[negative], "day": day[negative], "refund": -log.amount[negative]}
            ),
        )
    if grouped.empty:
        raise CalibrationError(
            f"{log.path}: no purchases left to fit once the returns are treated ({returns})"
        )
    return Occasions(
        customer=grouped["customer"].to_numpy(np.int64),
        day=grouped["day"].to_numpy(np.float64),
        amount=grouped["amount"].to_numpy(np.float64),
        transactions=int(log.amount.size),
        returns=n_returns,
        returned_amount=float(np.abs(log.amount[negative]).sum()),
        unmatched_returns=unmatched,
        fully_returned=fully_returned,
        treatment=returns,
    )


def _net(purchases: pd.DataFrame, refunds: pd.DataFrame) -> tuple[pd.DataFrame, int, int]:
    """Subtract each refund from the customer's latest purchase on or before its day."""
    purchases = purchases.reset_index(drop=True)
    keyed = purchases.assign(occasion=np.arange(len(purchases))).sort_values("day", kind="stable")
    matched = pd.merge_asof(
        refunds.sort_values("day", kind="stable"),
        keyed[["customer", "day", "occasion"]],
        on="day",
        by="customer",
        direction="backward",
    )
    unmatched = int(matched["occasion"].isna().sum())
    found = matched.dropna(subset=["occasion"])
    owed = np.bincount(found["occasion"].astype(np.int64), weights=found["refund"], minlength=len(purchases))
    amount = purchases["amount"].to_numpy() - owed
    kept = amount > 1e-9
    netted = purchases.assign(amount=amount)[kept].reset_index(drop=True)
    return netted, unmatched, int((~kept).sum())
