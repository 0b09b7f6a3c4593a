"""Fixtures of the model tests: a builder of small scenarios from a base plus overrides."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from engine.scenario.schema import Scenario

# A scenario with one deterministic source, no private domain and one fixed-price product. Tests override
# what they need; nested mappings are merged, lists replaced.
BASE_SCENARIO: dict[str, Any] = {
    "meta": {"name": "model test"},
    "horizon": {"acquisition_days": 1, "horizon_days": 200, "clv_horizon_days": 180},
    "sources": [
        {
            "id": "src",
            "arrivals": "fixed",
            "reach": {"organic_per_day": 100},
            "first_purchase_probability": 1.0,
        }
    ],
    "products": [{"id": "goods", "price": {"dist": "fixed", "value": 100.0}}],
}


def merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``overrides`` applied: mappings merged key by key, anything else replaced."""
    result = copy.deepcopy(dict(base))
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


ScenarioBuilder = Callable[..., Scenario]


@pytest.fixture(scope="session")
def build_scenario() -> ScenarioBuilder:
    """``build_scenario(overrides)`` validates :data:`BASE_SCENARIO` merged with ``overrides``."""

    def build(overrides: Mapping[str, Any] | None = None) -> Scenario:
        return Scenario.model_validate(merge(BASE_SCENARIO, overrides or {}))

    return build
