"""Common random numbers: a lever changed on one source leaves the other sources' draws alone."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.model.simulation import simulate
from engine.scenario.schema import Scenario


def _scenario(sources: list[dict[str, Any]]) -> Scenario:
    return Scenario.model_validate(
        {
            "meta": {"name": "crn"},
            "horizon": {"acquisition_days": 30, "horizon_days": 120, "clv_horizon_days": 90},
            "sources": sources,
            "paths": [{"id": "p", "carrier": "wecom"}],
            "carriers": [
                {"id": "wecom", "kind": "wecom", "monthly_exit_rate": 0.05, "capacity_per_account": 10**6}
            ],
            "products": [{"id": "x", "price": {"dist": "lognormal", "mean": 50, "sd": 10}}],
        }
    )


def _source(name: str, take_rate: float) -> dict[str, Any]:
    return {
        "id": name,
        "reach": {"organic_per_day": 200},
        "first_purchase_probability": 0.5,
        "take_rate": take_rate,
        "path": "p",
    }


def _people_of(ledger: Any, source: str) -> dict[str, np.ndarray]:
    index = ledger.source_ids.index(source)
    mine = ledger.people.source == index
    return {
        "visit": ledger.people.visit_day[mine],
        "join": ledger.people.join_day[mine],
        "visitors": ledger.visitors[index],
    }


def test_changing_one_sources_take_rate_keeps_its_visitors_and_the_other_source() -> None:
    base = simulate(_scenario([_source("a", 0.3), _source("b", 0.3)]), seed=5)
    varied = simulate(_scenario([_source("a", 0.3), _source("b", 0.6)]), seed=5)
    assert _people_of(base, "b")["visitors"] == _people_of(varied, "b")["visitors"]
    a_base, a_varied = _people_of(base, "a"), _people_of(varied, "a")
    assert a_base["visitors"] == a_varied["visitors"]
    np.testing.assert_array_equal(a_base["visit"], a_varied["visit"])
    np.testing.assert_array_equal(a_base["join"], a_varied["join"])


def test_removing_a_source_keeps_the_draws_of_the_others() -> None:
    three = simulate(_scenario([_source("a", 0.3), _source("b", 0.3), _source("c", 0.3)]), seed=5)
    two = simulate(_scenario([_source("a", 0.3), _source("c", 0.3)]), seed=5)
    for name in ("a", "c"):
        assert _people_of(three, name)["visitors"] == _people_of(two, name)["visitors"]
        np.testing.assert_array_equal(_people_of(three, name)["visit"], _people_of(two, name)["visit"])
