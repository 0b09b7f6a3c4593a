"""A calibration as one JSON-ready object: parameters with standard errors and CIs, the fit checks as
tables and series a report draws its figures from, and the engine's reading of the fit.

Shape (README, "siyu calibrate")::

    {"file", "model", "time_unit",
     "data": {"transactions", "purchase_occasions", "customers", "repeat_customers", "late_customers",
              "first_purchase_from", "first_purchase_to", "calibration_end", "observation_end",
              "holdout_length", "date_format", "returns": {"treatment", "rows", "amount", "unmatched",
              "fully_returned"}},
     "buying": FIT, "spend": FIT + {"left_out", "mean_purchase_value", "purchase_value_sd", "independence"},
     "fit": {"histogram": {...}, "tracking": {...}, "holdout": {...} | null},
     "engine": {"behaviour": {...}, "price": {...}} | {"unavailable": REASON},
     "fragment": PATH | null}

with FIT = {"model", "parameters": {NAME: {"estimate", "se", "ci_low", "ci_high", "at_bound"}},
"log_likelihood", "aic", "bic", "customers", "converged"}. Non-finite numbers are null.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from engine.calibrate.calibration import Calibration
from engine.calibrate.estimation import Fit
from engine.calibrate.fragment import engine_buying, engine_price
from engine.errors import CalibrationError


def _number(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _numbers(values: np.ndarray) -> list[float | None]:
    return [_number(v) for v in np.asarray(values, dtype=np.float64)]


def fit_json(fit: Fit) -> dict[str, Any]:
    """A fit's parameters and likelihood."""
    return {
        "model": fit.model,
        "parameters": {
            p.name: {
                "estimate": _number(p.estimate),
                "se": _number(p.se),
                "ci_low": _number(p.ci_low),
                "ci_high": _number(p.ci_high),
                "at_bound": p.at_bound,
            }
            for p in fit.parameters
        },
        "log_likelihood": _number(fit.log_likelihood),
        "aic": _number(fit.aic),
        "bic": _number(fit.bic),
        "customers": fit.customers,
        "converged": fit.converged,
    }


def calibration_json(calibration: Calibration, fragment: Path | None = None) -> dict[str, Any]:
    """The whole calibration (see the module docstring)."""
    summary, occasions = calibration.summary, calibration.occasions
    check = calibration.independence
    histogram, tracking, holdout = calibration.histogram, calibration.tracking, calibration.holdout
    return {
        "file": str(calibration.request.path),
        "model": calibration.request.model.value,
        "time_unit": summary.unit.value,
        "data": {
            "transactions": occasions.transactions,
            "purchase_occasions": int(occasions.day.size),
            "customers": summary.customers,
            "repeat_customers": int(summary.repeaters.sum()),
            "late_customers": summary.late_customers,
            "first_purchase_from": calibration.label(summary.first_purchase_range[0]),
            "first_purchase_to": calibration.label(summary.first_purchase_range[1]),
            "calibration_end": calibration.label(summary.calibration_end_day),
            "observation_end": calibration.label(summary.observation_end_day),
            "holdout_length": _number(summary.holdout_length),
            "date_format": calibration.log.dates.format,
            "returns": {
                "treatment": occasions.treatment.value,
                "rows": occasions.returns,
                "amount": _number(occasions.returned_amount),
                "unmatched": occasions.unmatched_returns,
                "fully_returned": occasions.fully_returned,
            },
        },
        "buying": fit_json(calibration.buying),
        "spend": fit_json(calibration.spend)
        | {
            "left_out": calibration.spend_left_out,
            "mean_purchase_value": _number(calibration.spend_model.mean_purchase_value()),
            "purchase_value_sd": _number(calibration.spend_model.purchase_value_sd()),
            "independence": {
                "correlation": _number(check.correlation),
                "ci_low": _number(check.ci_low),
                "ci_high": _number(check.ci_high),
                "p_value": _number(check.p_value),
                "customers": check.customers,
                "verdict": check.verdict,
                "message": check.message,
            },
        },
        "fit": {
            "histogram": {
                "repeat_purchases": list(histogram.labels),
                "actual": [int(v) for v in histogram.actual],
                "expected": _numbers(histogram.expected),
                "chi_square": _number(histogram.chi_square),
                "degrees_of_freedom": histogram.degrees_of_freedom,
                "p_value": _number(histogram.p_value),
            },
            "tracking": {
                "week": [int(w) for w in tracking.week],
                "day": _numbers(tracking.day),
                "actual_cumulative": [int(v) for v in tracking.actual],
                "expected_cumulative": _numbers(tracking.expected),
                "calibration_end_week": _number(tracking.calibration_end_week),
            },
            "holdout": None
            if holdout is None
            else {
                "length": _number(holdout.length),
                "customers": holdout.customers,
                "actual_total": holdout.actual_total,
                "expected_total": _number(holdout.expected_total),
                "mean_absolute_error": _number(holdout.mean_absolute_error),
                "correlation": _number(holdout.correlation),
                "by_frequency": [
                    {
                        "repeat_purchases": row.label,
                        "customers": row.customers,
                        "actual_mean": _number(row.actual_mean),
                        "expected_mean": _number(row.expected_mean),
                    }
                    for row in holdout.by_frequency
                ],
            },
        },
        "engine": _engine_json(calibration),
        "fragment": str(fragment) if fragment is not None else None,
    }


def _engine_json(calibration: Calibration) -> dict[str, Any]:
    """The fit in the engine's terms, or why there is none."""
    try:
        buying = engine_buying(calibration)
    except CalibrationError as reason:
        return {"unavailable": str(reason)}
    price = engine_price(calibration)
    return {
        "behaviour": {
            "purchase_rate": {"dist": "gamma", "shape": buying.shape, "rate": buying.rate_days},
            "dropout": {"dist": "beta", "a": buying.a, "b": buying.b},
            "membership_rate_multiplier": 1.0,
            "deal_seeker_rate_multiplier": 1.0,
        },
        "price": {"dist": "lognormal", "mean": price.mean, "sd": price.sd, "from": price.source},
    }
