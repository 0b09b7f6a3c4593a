"""Purchase mix by tier and staff time taken by campaign touches."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.metrics import compute_metrics
from engine.model.simulation import simulate
from engine.scenario.schema import Scenario


def _scenario(**extra: object) -> Scenario:
    base = {
        "meta": {"name": "mix"},
        "horizon": {"acquisition_days": 20, "horizon_days": 80, "clv_horizon_days": 60},
        "sources": [
            {
                "id": "s",
                "arrivals": "fixed",
                "reach": {"organic_per_day": 100},
                "take_rate": 1.0,
                "first_purchase_probability": 1.0,
                "path": "p",
            }
        ],
        "paths": [{"id": "p", "carrier": "wecom"}],
        "carriers": [
            {"id": "wecom", "kind": "wecom", "monthly_exit_rate": 0.0, "capacity_per_account": 10**6}
        ],
        "behaviour": {
            "purchase_rate": {"dist": "fixed", "value": 0.2},
            "dropout": {"dist": "fixed", "value": 0.0},
        },
        "tiers": [{"id": "fan", "when": {"purchases": {"gte": 3}}}, {"id": "new"}],
        "products": [
            {
                "id": "traffic",
                "role": "traffic",
                "price": {"dist": "fixed", "value": 10},
                "weight": 1,
                "weight_by_tier": {"fan": 0},
            },
            {
                "id": "profit",
                "role": "profit",
                "price": {"dist": "fixed", "value": 100},
                "weight": 1,
                "weight_by_tier": {"new": 0},
            },
        ],
    }
    return Scenario.model_validate(base | extra)


def test_each_tier_buys_its_own_mix() -> None:
    """Fans buy only the profit product, new members only the traffic product, people not yet reviewed
    half and half. Tiers are set at the weekly reviews, so a purchase follows the tier of the review before
    it: rebuild that tier from the ledger."""
    ledger = simulate(_scenario(), seed=4)
    purchases, people = ledger.purchases, ledger.people
    review = np.floor(purchases.day / 7.0) * 7.0  # the review whose tier the purchase used
    before = np.zeros(purchases.person.size, dtype=np.int64)
    person, day = purchases.person, purchases.day
    by_person: dict[int, np.ndarray] = {}
    for who in np.unique(person):
        by_person[int(who)] = np.sort(day[person == who])
    for i in range(person.size):
        before[i] = np.searchsorted(by_person[int(person[i])], review[i], side="right")
    reviewed = people.join_day[person] <= review
    fan = reviewed & (before >= 3)
    new = reviewed & (before < 3)
    assert fan.sum() > 1000 and new.sum() > 1000
    assert np.all(purchases.product[fan] == 1)
    assert np.all(purchases.product[new] == 0)
    unreviewed = ~reviewed
    share = purchases.product[unreviewed].mean()
    se = math.sqrt(0.25 / unreviewed.sum())
    assert abs(share - 0.5) < 4 * se


def test_campaign_touches_take_staff_time() -> None:
    scenario = _scenario(
        staff=[{"id": "ops", "role": "operator", "headcount": 2, "hours_per_day": 8, "monthly_cost": 0}],
        campaigns=[
            {
                "id": "care",
                "channel": "wecom_1on1",
                "carrier": "wecom",
                "schedule": {"every_days": 7, "end_day": 49},  # all work done well before day 80
                "response": {"default": 0.0},
                "staff_minutes_per_touch": 3.0,
                "staff": "ops",
            }
        ],
    )
    ledger = simulate(scenario, seed=1)
    minutes = float(ledger.campaign_staff_minutes[0])
    assert minutes == 3.0 * float(ledger.campaign_reached[0]) > 0
    busy_clock_days = minutes / (24 * 60) / (8 / 24)
    assert float(ledger.staff_busy_days[0]) == pytest.approx(busy_clock_days, rel=1e-12)
    metrics = compute_metrics(ledger)
    assert metrics["staff_utilisation"] == pytest.approx(busy_clock_days / (2 * 80), rel=1e-12)


def test_offers_cut_the_price_not_the_cost_of_goods() -> None:
    """A 90%-off campaign sells a 100 CNY product (60% cost of goods) for 10: each sale loses 50."""
    scenario = _scenario(
        products=[{"id": "item", "price": {"dist": "fixed", "value": 100}, "unit_cost_share": 0.6}],
        tiers=[],
        campaigns=[
            {
                "id": "sale",
                "channel": "wecom_1on1",
                "carrier": "wecom",
                "schedule": {"every_days": 7},
                "response": {"default": 0.5},
                "offer": {"discount": 0.9},
            }
        ],
    )
    ledger = simulate(scenario, seed=2)
    purchases = ledger.purchases
    caused = purchases.campaign == 0
    assert caused.sum() > 100
    np.testing.assert_allclose(purchases.amount[caused], 10.0)
    np.testing.assert_allclose(purchases.cost_of_goods[caused], 60.0)
    np.testing.assert_allclose(purchases.cost_of_goods[~caused], 60.0)
