"""Scenario builders and checks shared by the model tests: members joining one carrier, and their survival."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from engine.ledger import Ledger
from engine.scenario.schema import Scenario
from tests.engine.model.conftest import merge

Z = 4.0  # tolerance in standard errors (about 6e-5 two-sided false-alarm rate per comparison)
NEUTRAL_EXITS: dict[str, Any] = {
    "activation": {"window_days": 0, "activation_rate": 1.0, "unactivated_exit_multiplier": 1.0},
    "lifecycle": {"dormant_exit_multiplier": 1.0},
}
"""Sections making every member active at once and every lifecycle exit multiplier 1."""


def member_scenario(
    build_scenario: Any,
    campaigns: Iterable[Mapping[str, Any]] = (),
    *,
    members: int,
    acquisition: float = 1,
    horizon: float = 31,
    clv: float = 30,
    carrier: Mapping[str, Any] | None = None,
    source: Mapping[str, Any] | None = None,
    **sections: Any,
) -> Scenario:
    """``members`` people joining one carrier during the acquisition window (fixed arrivals, everyone joins,
    nobody buys on the visit); no carrier exits, no purchases of their own, never dropping out, no
    annoyance exits — unless ``carrier``, ``source`` or ``sections`` say otherwise (merged onto these)."""
    carrier_data = merge(
        {"id": "wecom", "kind": "wecom", "monthly_exit_rate": 0.0, "capacity_per_account": 1_000_000},
        carrier or {},
    )
    source_data = merge(
        {
            "id": "src",
            "arrivals": "fixed",
            "reach": {"organic_per_day": members / acquisition},
            "first_purchase_probability": 0.0,
            "take_rate": 1.0,
            "path": "add",
        },
        source or {},
    )
    overrides: dict[str, Any] = {
        "horizon": {"acquisition_days": acquisition, "horizon_days": horizon, "clv_horizon_days": clv},
        "sources": [source_data],
        "paths": [{"id": "add", "carrier": carrier_data["id"]}],
        "carriers": [carrier_data],
        "behaviour": {
            "purchase_rate": {"dist": "fixed", "value": 0.0},
            "dropout": {"dist": "fixed", "value": 0.0},
        },
        "disturbance": {"exit_probability_per_excess_touch": 0.0},
        "campaigns": list(campaigns),
    }
    return build_scenario(merge(overrides, sections))


def campaign(campaign_id: str = "push", **fields: Any) -> dict[str, Any]:
    """A daily moments post on carrier 'wecom' that nobody answers, unless ``fields`` say otherwise."""
    return {
        "id": campaign_id,
        "channel": "moments",
        "carrier": "wecom",
        "schedule": {"every_days": 1},
        "response": {"default": 0.0},
        **fields,
    }


def assert_survival(ledger: Ledger, days: float, expected: float, members: int, *context: Any) -> None:
    """The share of the ``members`` members still in the private domain ``days`` after joining is
    ``expected``: each stays independently, so the share is binomial with SE sqrt(S(1 − S)/n)."""
    people = ledger.people
    joined = ~np.isnan(people.join_day)
    assert joined.sum() == members
    share = float(np.mean(people.leave_day[joined] > people.join_day[joined] + days))
    se = math.sqrt(expected * (1 - expected) / members)
    assert abs(share - expected) < Z * se, (*context, days, share, expected, se)
