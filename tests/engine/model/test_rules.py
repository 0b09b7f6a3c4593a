"""Rule conditions (engine.model.rules) evaluated on a hand-built population.

Each test builds a few people whose column values sit on, just inside and just outside a condition's
boundary, and checks the exact mask. Conditions are parsed the way a scenario file would give them (through
``Tier.model_validate``), so ``{field: value}`` and ``{field: {gt|gte|lt|lte|in: …}}`` take the same path
as in a run.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from engine.ledger import Stage
from engine.model.population import Population
from engine.model.rules import RuleContext
from engine.scenario.operations import Condition, Tier

NOW = 100.0
IDS = {
    "tier": ("fans", "paying", "rest"),
    "carrier": ("wecom", "group"),
    "source": ("douyin", "store"),
    "lure": ("coupon", "gift"),
}


def conditions(when: dict[str, Any]) -> dict[str, Condition]:
    """``when`` parsed as a scenario file's tier rule."""
    return Tier.model_validate({"id": "t", "when": when}).when


def population(**columns: list[Any]) -> Population:
    """A population of as many people as the given column lists are long, other columns at defaults."""
    sizes = {len(values) for values in columns.values()}
    assert len(sizes) == 1, sizes
    (size,) = sizes
    pop = Population(n_carriers=len(IDS["carrier"]), capacity=4)
    rows = pop.add(size)
    for name, values in columns.items():
        pop.column(name)[rows] = values
    return pop


def mask(
    pop: Population, when: dict[str, Any], rows: np.ndarray | None = None, now: float = NOW
) -> list[bool]:
    context = RuleContext(pop, IDS)
    rows = np.arange(pop.size) if rows is None else rows
    return context.mask(conditions(when), rows, now).tolist()


# ---------------------------------------------------------------------------------------------- numbers
PURCHASES = [0, 1, 2, 3, 5]
SPEND = [0.0, 99.99, 100.0, 100.01, 500.0]


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ({"purchases": 2}, [False, False, True, False, False]),
        ({"purchases": {"gt": 2}}, [False, False, False, True, True]),
        ({"purchases": {"gte": 2}}, [False, False, True, True, True]),
        ({"purchases": {"lt": 2}}, [True, True, False, False, False]),
        ({"purchases": {"lte": 2}}, [True, True, True, False, False]),
        ({"purchases": {"in": [1, 5]}}, [False, True, False, False, True]),
        ({"purchases": {"gte": 1, "lt": 3}}, [False, True, True, False, False]),  # every operator must hold
        ({"spend": {"gt": 100}}, [False, False, False, True, True]),
        ({"spend": {"gte": 100}}, [False, False, True, True, True]),
        ({"spend": {"lt": 100}}, [True, True, False, False, False]),
        ({"spend": {"lte": 100}}, [True, True, True, False, False]),
        ({"spend": 100.0}, [False, False, True, False, False]),
        ({"purchases": {"gte": 1}, "spend": {"lte": 100}}, [False, True, True, False, False]),  # all hold
        ({}, [True, True, True, True, True]),  # no conditions: everyone
    ],
)
def test_numeric_comparisons(when: dict[str, Any], expected: list[bool]) -> None:
    pop = population(purchases=PURCHASES, spend=SPEND)
    assert mask(pop, when) == expected


def test_mask_is_over_the_given_rows_in_their_order() -> None:
    pop = population(purchases=PURCHASES, spend=SPEND)
    rows = np.array([4, 0, 2])
    assert mask(pop, {"purchases": {"gte": 2}}, rows) == [True, False, True]
    assert mask(pop, {"purchases": {"gte": 2}}, np.zeros(0, dtype=np.int64)) == []


def test_interactions_and_deal_seeker() -> None:
    pop = population(interactions=[0, 1, 4], deal_seeker=[False, True, True])
    assert mask(pop, {"interactions": {"gte": 1}}) == [False, True, True]
    assert mask(pop, {"deal_seeker": True}) == [False, True, True]
    assert mask(pop, {"deal_seeker": False, "interactions": 0}) == [True, False, False]


# ---------------------------------------------------------------------------------------------- named things
def test_tier_by_id() -> None:
    pop = population(tier=[0, 1, 2, -1])  # fans, paying, rest, no tier
    assert mask(pop, {"tier": "fans"}) == [True, False, False, False]
    assert mask(pop, {"tier": "rest"}) == [False, False, True, False]
    assert mask(pop, {"tier": {"in": ["fans", "rest"]}}) == [True, False, True, False]


def test_stage_by_id() -> None:
    stages = [Stage.INTRO, Stage.GROWTH, Stage.MATURE, Stage.DORMANT, Stage.CHURNED, Stage.NOT_MEMBER]
    pop = population(stage=[int(s) for s in stages])
    assert mask(pop, {"stage": "intro"}) == [True, False, False, False, False, False]
    assert mask(pop, {"stage": "growth"}) == [False, True, False, False, False, False]
    assert mask(pop, {"stage": "mature"}) == [False, False, True, False, False, False]
    assert mask(pop, {"stage": "dormant"}) == [False, False, False, True, False, False]
    assert mask(pop, {"stage": {"in": ["intro", "dormant"]}}) == [True, False, False, True, False, False]


def test_source_and_lure_by_id() -> None:
    pop = population(source=[0, 1, 1, 0], lure=[0, 1, -1, 1])
    assert mask(pop, {"source": "douyin"}) == [True, False, False, True]
    assert mask(pop, {"source": "store"}) == [False, True, True, False]
    assert mask(pop, {"lure": "gift"}) == [False, True, False, True]
    assert mask(pop, {"lure": {"in": ["coupon", "gift"]}}) == [True, True, False, True]  # -1: no lure
    assert mask(pop, {"source": "store", "lure": "gift"}) == [False, True, False, False]


def test_carrier_membership_at_the_evaluation_time() -> None:
    """On a carrier at ``now`` means joined at or before now and not yet left: start ≤ now < exit."""
    pop = population(purchases=[0] * 7)
    wecom, group = 0, 1
    # person:               0       1       2      3      4        5       6
    start = np.array([10.0, NOW, NOW + 1, 10.0, 10.0, np.nan, 50.0])
    exit_ = np.array([np.inf, np.inf, np.inf, NOW, NOW + 1e-9, np.nan, 60.0])
    pop.member_start[wecom, :7] = start
    pop.member_exit[wecom, :7] = exit_
    # person 5 is on the group only; person 0 on both
    pop.member_start[group, [0, 5]] = [20.0, 30.0]
    pop.member_exit[group, [0, 5]] = [np.inf, np.inf]
    on_wecom = [True, True, False, False, True, False, False]
    assert mask(pop, {"carrier": "wecom"}) == on_wecom
    assert mask(pop, {"carrier": "group"}) == [True, False, False, False, False, True, False]
    assert mask(pop, {"carrier": {"in": ["wecom", "group"]}}) == [True, True, False, False, True, True, False]
    # at an earlier time the answer is the membership then: person 6 was on between 50 and 60
    assert mask(pop, {"carrier": "wecom"}, now=55.0) == [True, False, False, True, True, False, True]


# ---------------------------------------------------------------------------------------------- times
def test_days_since_last_purchase_treats_never_as_infinitely_long_ago() -> None:
    pop = population(last_purchase_day=[NOW, NOW - 30, NOW - 30.5, np.nan])
    assert mask(pop, {"days_since_last_purchase": {"lte": 30}}) == [True, True, False, False]
    assert mask(pop, {"days_since_last_purchase": {"gt": 30}}) == [False, False, True, True]
    # never bought beats any finite bound
    assert mask(pop, {"days_since_last_purchase": {"gt": 3000}}) == [False, False, False, True]
    assert mask(pop, {"days_since_last_purchase": {"lt": 1e9}}) == [True, True, True, False]


def test_days_since_last_touch_treats_never_as_infinitely_long_ago() -> None:
    pop = population(last_touch_day=[NOW - 1, NOW - 7, np.nan])
    assert mask(pop, {"days_since_last_touch": {"gte": 7}}) == [False, True, True]
    assert mask(pop, {"days_since_last_touch": {"lt": 7}}) == [True, False, False]


def test_days_since_join() -> None:
    pop = population(join_day=[0.0, NOW - 30, NOW - 29.9, np.nan])
    assert mask(pop, {"days_since_join": {"gte": 30}}) == [True, True, False, False]
    assert mask(pop, {"days_since_join": {"lt": 30}}) == [False, False, True, False]  # nan: not a member


def test_activated_at_the_evaluation_time() -> None:
    """Activated means the activation time has come: nan (not a member) and inf (never) are not."""
    pop = population(activation_day=[NOW - 5, NOW, NOW + 0.5, np.inf, np.nan])
    assert mask(pop, {"activated": True}) == [True, True, False, False, False]
    assert mask(pop, {"activated": False}) == [False, False, True, True, True]
    # the same person read earlier or later
    assert mask(pop, {"activated": True}, now=NOW + 1) == [True, True, True, False, False]
    assert mask(pop, {"activated": True}, now=NOW - 10) == [False, False, False, False, False]


def test_conditions_on_several_kinds_of_field_combine() -> None:
    pop = population(
        tier=[0, 0, 1, 0],
        purchases=[3, 3, 3, 1],
        last_purchase_day=[NOW - 10, np.nan, NOW - 10, NOW - 10],
        activation_day=[1.0, 1.0, 1.0, 1.0],
    )
    when = {
        "tier": "fans",
        "purchases": {"gte": 2},
        "days_since_last_purchase": {"lte": 30},
        "activated": True,
    }
    assert mask(pop, when) == [True, False, False, False]
