"""One calibration: transaction log → customers → buying and spend fits → goodness of fit.

``transaction log ──► engine.calibrate`` (DESIGN.md): this module reads nothing but the user's file and
imports nothing of the model; :mod:`engine.calibrate.fragment` turns the result into a scenario block.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.calibrate import bgnbd, gamma_gamma, paretonbd
from engine.calibrate.choices import ModelName, Returns, TimeUnit
from engine.calibrate.customers import CustomerSummary, summarise_customers
from engine.calibrate.estimation import Fit
from engine.calibrate.fit_quality import (
    BuyingModel,
    Histogram,
    Holdout,
    Tracking,
    histogram,
    holdout,
    tracking,
)
from engine.calibrate.occasions import Occasions, purchase_occasions
from engine.calibrate.reading import Columns, TransactionLog, read_transactions

MODEL_TITLES = {ModelName.bgnbd: "BG/NBD", ModelName.paretonbd: "Pareto/NBD"}


@dataclass(frozen=True)
class CalibrationRequest:
    """What to read and fit."""

    path: Path
    columns: Columns = field(default_factory=Columns)
    unit: TimeUnit = TimeUnit.week
    calibration_end: str | None = None
    """Last date (or day number) of the calibration period; None: the whole log, no holdout."""
    observation_end: str | None = None
    """End of the data (the export date); None: the last transaction."""
    model: ModelName = ModelName.bgnbd
    returns: Returns = Returns.error
    date_format: str | None = None


@dataclass(frozen=True)
class Calibration:
    """Everything a calibration found, for the table, the JSON object and the scenario fragment."""

    request: CalibrationRequest
    log: TransactionLog
    occasions: Occasions
    summary: CustomerSummary
    buying: Fit
    buying_model: BuyingModel
    spend: Fit
    spend_model: gamma_gamma.GammaGamma
    spend_left_out: int
    """Repeat buyers left out of the spend fit for a mean spend of zero or less."""
    independence: gamma_gamma.IndependenceCheck
    repeat_amounts: np.ndarray
    """Amounts of the calibration repeat purchases (for the fragment when Gamma-Gamma's variance is
    infinite)."""
    histogram: Histogram
    tracking: Tracking
    holdout: Holdout | None

    def label(self, day: float) -> str:
        """A day of the log as a date (or day number)."""
        return self.log.dates.label(day)


def calibrate(request: CalibrationRequest) -> Calibration:
    """Read ``request.path``, fit the buying and spend models and check the fit.

    Raises:
        CalibrationError: bad input (see :mod:`engine.calibrate.reading` and the other steps).
    """
    log = read_transactions(request.path, request.columns, request.date_format)
    occasions = purchase_occasions(log, request.returns)
    end = _day(log, request.calibration_end, "--calibration-end")
    observed = _day(log, request.observation_end, "--observation-end")
    summary = summarise_customers(occasions, request.unit, end, str(request.path), observed)
    if request.model is ModelName.bgnbd:
        buying = bgnbd.fit(summary)
        model: BuyingModel = bgnbd.BGNBD.from_fit(buying)
    else:
        buying = paretonbd.fit(summary)
        model = paretonbd.ParetoNBD.from_fit(buying)
    spend = gamma_gamma.fit(summary, str(request.path))
    x, mean_spend, left_out = gamma_gamma.spend_customers(summary)
    return Calibration(
        request=request,
        log=log,
        occasions=occasions,
        summary=summary,
        buying=buying,
        buying_model=model,
        spend=spend,
        spend_model=gamma_gamma.GammaGamma.from_fit(spend),
        spend_left_out=left_out,
        independence=gamma_gamma.independence_check(x, mean_spend),
        repeat_amounts=_repeat_amounts(occasions, summary.calibration_end_day),
        histogram=histogram(model, summary, len(buying.parameters)),
        tracking=tracking(model, summary),
        holdout=holdout(model, summary),
    )


def _day(log: TransactionLog, text: str | None, option: str) -> float | None:
    """A date option in days since the log's origin (a date counts from its midnight)."""
    if text is None:
        return None
    day = log.dates.to_day(text, option)
    return float(np.floor(day)) if log.dates.origin is not None else day


def _repeat_amounts(occasions: Occasions, end: float) -> np.ndarray:
    """Amounts of every purchase but each customer's first, in the calibration period."""
    first = np.r_[True, np.diff(occasions.customer) != 0]
    return occasions.amount[~first & (occasions.day <= end)]
