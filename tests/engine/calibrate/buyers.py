"""Simulated data with known BG/NBD parameters: organic buyers whose purchases the engine writes as a
transaction log. The engine-loop tests and ``bench/calibration_speed.py`` both calibrate on it (so this
module imports neither pytest nor anything else of the tests)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from engine.model.simulation import simulate
from engine.scenario.schema import Scenario
from engine.transactions import purchase_table

TRUE = {"r": 0.6, "alpha": 25.0, "a": 1.2, "b": 5.0}
"""Purchase rate gamma(0.6, 25/day): a purchase every 42 days on average; dropout beta(1.2, 5)."""
HORIZON = 540.0


def buyers_scenario(customers: int) -> Scenario:
    """Organic buyers only: everyone buys on arrival (day 0–180) and nobody joins the private domain, so the
    engine's buying is exactly BG/NBD with the parameters above."""
    return Scenario.model_validate(
        {
            "meta": {"name": "BG/NBD buyers"},
            "horizon": {"acquisition_days": 180, "horizon_days": HORIZON, "clv_horizon_days": 360},
            "sources": [
                {
                    "id": "organic",
                    "arrivals": "fixed",
                    "reach": {"organic_per_day": customers / 180},
                    "first_purchase_probability": 1.0,
                }
            ],
            "behaviour": {
                "purchase_rate": {"dist": "gamma", "shape": TRUE["r"], "rate": TRUE["alpha"]},
                "dropout": {"dist": "beta", "a": TRUE["a"], "b": TRUE["b"]},
            },
            "products": [{"id": "item", "price": {"dist": "lognormal", "mean": 100, "sd": 50}}],
        }
    )


def write_buyers_log(path: Path, customers: int, seed: int) -> Path:
    """The purchases of ``customers`` such buyers (simulated with ``seed``), written to ``path`` as Parquet
    (columns ``customer_id``, ``day``, ``amount``)."""
    pq.write_table(purchase_table(0, simulate(buyers_scenario(customers), seed)), path)
    return path
