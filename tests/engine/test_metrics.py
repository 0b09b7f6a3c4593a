"""Every metric of :mod:`engine.metrics` on small hand-made ledgers, and seed 004's worked example end to end.

Each expected number is worked out by hand in the test from DESIGN.md's "Metric definitions".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.ledger import CostKind, Costs, Ledger, Memberships, People, Purchases, Stage
from engine.metrics import (
    METRIC_INFO,
    METRIC_NAMES,
    clv,
    compute_breakdown,
    compute_metrics,
    payback_days,
    repurchase_rate,
    retention,
    subset,
    top20_revenue_share,
)
from engine.runner import run
from engine.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
NAN = float("nan")
INF = float("inf")

# ---------------------------------------------------------------------------------------------------------
# A builder of hand-made ledgers


def person(
    *,
    source: int = 0,
    lure: int = -1,
    carrier: int = -1,
    visit: float = 0.0,
    join: float = NAN,
    leave: float | None = None,
    first: float | None = None,
    stage: Stage | None = None,
) -> dict[str, Any]:
    """One person. ``leave`` defaults to inf for members (still in) and nan otherwise; ``first`` (the first
    purchase day) defaults to their earliest purchase in the ledger."""
    member = not math.isnan(join)
    return {
        "source": source,
        "lure": lure,
        "carrier": carrier if carrier >= 0 or not member else 0,
        "visit": visit,
        "join": join,
        "leave": (INF if member else NAN) if leave is None else leave,
        "first": first,
        "stage": (Stage.INTRO if member else Stage.NOT_MEMBER) if stage is None else stage,
    }


def buy(who: int, day: float, amount: float, cogs: float = 0.0, fee: float = 0.0, product: int = 0) -> tuple:
    """One purchase: (person, day, amount, cost of goods, fee, product)."""
    return (who, day, amount, cogs, fee, product)


def cost(
    kind: CostKind,
    amount: float,
    *,
    day: float = 0.0,
    source: int = -1,
    lure: int = -1,
    carrier: int = -1,
    who: int = -1,
) -> tuple:
    """One cost entry: (day, kind, amount, source, lure, carrier, person)."""
    return (day, int(kind), amount, source, lure, carrier, who)


def make_ledger(
    people: Sequence[dict[str, Any]] = (),
    purchases: Sequence[tuple] = (),
    costs: Sequence[tuple] = (),
    *,
    visitors: Sequence[int] | None = None,
    horizon: float = 400.0,
    acquisition: float = 30.0,
    clv_horizon: float = 365.0,
    discount_rate: float = 0.0,
    source_lure: Sequence[int] = (-1,),
    source_carrier: Sequence[int] = (-1,),
    n_lures: int = 0,
    n_carriers: int = 1,
) -> Ledger:
    n_sources = len(source_lure)
    first_bought = np.full(len(people), np.nan)
    for who, day, *_ in purchases:
        first_bought[who] = np.fmin(first_bought[who], day)
    first = np.array([first_bought[i] if p["first"] is None else p["first"] for i, p in enumerate(people)])

    def column(key: str, dtype: Any) -> np.ndarray:
        return np.array([p[key] for p in people], dtype=dtype)

    people_table = People(
        source=column("source", np.int16),
        lure=column("lure", np.int16),
        carrier=column("carrier", np.int16),
        visit_day=column("visit", np.float64),
        join_day=column("join", np.float64),
        leave_day=column("leave", np.float64),
        activation_day=np.full(len(people), np.nan),
        deal_seeker=np.zeros(len(people), dtype=bool),
        first_purchase_day=first.astype(np.float64),
        stage_end=column("stage", np.int8),
        tier_end=np.full(len(people), -1, dtype=np.int8),
        touches=np.zeros(len(people), dtype=np.int64),
        annoyed_out=np.zeros(len(people), dtype=bool),
        service_cost=np.zeros(len(people)),
    )
    bought = list(zip(*purchases, strict=True)) if purchases else [()] * 6
    purchase_table = Purchases(
        person=np.array(bought[0], dtype=np.int64),
        day=np.array(bought[1], dtype=np.float64),
        amount=np.array(bought[2], dtype=np.float64),
        cost_of_goods=np.array(bought[3], dtype=np.float64),
        fee=np.array(bought[4], dtype=np.float64),
        product=np.array(bought[5], dtype=np.int16),
        venue=np.full(len(purchases), -1, dtype=np.int16),
        campaign=np.full(len(purchases), -1, dtype=np.int16),
    )
    paid = list(zip(*costs, strict=True)) if costs else [()] * 7
    cost_table = Costs(
        day=np.array(paid[0], dtype=np.float64),
        kind=np.array(paid[1], dtype=np.int8),
        amount=np.array(paid[2], dtype=np.float64),
        source=np.array(paid[3], dtype=np.int16),
        lure=np.array(paid[4], dtype=np.int16),
        carrier=np.array(paid[5], dtype=np.int16),
        person=np.array(paid[6], dtype=np.int64),
        campaign=np.full(len(costs), -1, dtype=np.int16),
    )
    members = [i for i, p in enumerate(people) if not math.isnan(p["join"])]
    membership_table = Memberships(
        person=np.array(members, dtype=np.int64),
        carrier=np.array([people[i]["carrier"] for i in members], dtype=np.int16),
        join_day=np.array([people[i]["join"] for i in members], dtype=np.float64),
        exit_day=np.array([people[i]["leave"] for i in members], dtype=np.float64),
    )
    return Ledger(
        horizon_days=horizon,
        acquisition_days=acquisition,
        clv_horizon_days=clv_horizon,
        discount_rate=discount_rate,
        source_ids=tuple(f"s{i}" for i in range(n_sources)),
        lure_ids=tuple(f"l{i}" for i in range(n_lures)),
        carrier_ids=tuple(f"c{i}" for i in range(n_carriers)),
        product_ids=("p0", "p1"),
        source_lure=np.array(source_lure, dtype=np.int16),
        source_carrier=np.array(source_carrier, dtype=np.int16),
        visitors=np.array([0] * n_sources if visitors is None else visitors, dtype=np.int64),
        turned_away=np.zeros(n_carriers, dtype=np.int64),
        people=people_table,
        purchases=purchase_table,
        costs=cost_table,
        memberships=membership_table,
        snapshot_days=np.zeros(0),
        snapshot_stages=np.zeros((0, 5), dtype=np.int64),
    )


def test_the_builder_derives_first_purchases_and_memberships() -> None:
    ledger = make_ledger(
        [person(join=3.0), person()], [buy(0, 9.0, 1.0), buy(0, 4.0, 1.0)], visitors=[2], source_carrier=[0]
    )
    np.testing.assert_array_equal(ledger.people.first_purchase_day, [4.0, np.nan])
    np.testing.assert_array_equal(ledger.people.leave_day, [np.inf, np.nan])
    np.testing.assert_array_equal(ledger.memberships.person, [0])


# ---------------------------------------------------------------------------------------------------------
# Counts and money

# Every cost kind once, each amount a distinct power of two, so any mix-up of kinds shows in the totals.
EVERY_KIND = [cost(kind, float(2**i), source=0) for i, kind in enumerate(CostKind)]
ACQUISITION = 1.0 + 2.0 + 4.0 + 8.0  # media, source fixed, lure, referral reward
OPS = 16.0 + 32.0 + 64.0 + 128.0 + 256.0  # account open and running, staff, touches, platform fees


def counting_ledger() -> Ledger:
    """Three members (one never buys), two buyers who never joined, one visitor-only person absent (counted
    in visitors)."""
    people = [
        person(join=1.0),  # 0: member, buys twice
        person(join=2.0),  # 1: member, never buys
        person(join=3.0, leave=50.0, stage=Stage.CHURNED),  # 2: member, left, buys once
        person(),  # 3: buyer, never joined
        person(source=1),  # 4: buyer, never joined
    ]
    purchases = [
        buy(0, 1.0, 100.0, cogs=40.0, fee=5.0),
        buy(0, 60.0, 50.0, cogs=20.0, fee=1.0),
        buy(2, 10.0, 30.0, cogs=10.0),
        buy(3, 0.0, 20.0, cogs=5.0, fee=2.0),
        buy(4, 5.0, 10.0),
    ]
    return make_ledger(
        people, purchases, EVERY_KIND, visitors=[40, 7], source_lure=[-1, -1], source_carrier=[0, -1]
    )


def test_counts() -> None:
    metrics = compute_metrics(counting_ledger())
    assert metrics["visitors"] == 47
    assert metrics["new_members"] == 3
    assert metrics["new_customers"] == 4


def test_acquisition_cost_counts_only_acquisition_kinds() -> None:
    metrics = compute_metrics(counting_ledger())
    assert metrics["acquisition_cost"] == ACQUISITION
    assert metrics["cost_per_member"] == ACQUISITION / 3
    assert metrics["cac"] == ACQUISITION / 4


def test_money_totals() -> None:
    metrics = compute_metrics(counting_ledger())
    revenue = 100.0 + 50.0 + 30.0 + 20.0 + 10.0
    margin = revenue - (40.0 + 20.0 + 10.0 + 5.0)
    fees = 5.0 + 1.0 + 2.0
    assert metrics["revenue"] == revenue
    assert metrics["gross_margin"] == margin  # fees are an ops cost, not in the gross margin
    assert metrics["ops_cost"] == OPS + fees
    assert metrics["total_cost"] == ACQUISITION + OPS + fees
    assert metrics["profit"] == margin - ACQUISITION - OPS - fees


def test_members_end_and_dormant_share() -> None:
    people = [
        person(join=0.0, stage=Stage.DORMANT),
        person(join=0.0, stage=Stage.DORMANT),
        person(join=0.0, stage=Stage.INTRO),
        person(join=0.0, stage=Stage.MATURE),
        person(join=0.0, leave=100.0, stage=Stage.DORMANT),  # gone: neither a member nor dormant at the end
        person(),
    ]
    metrics = compute_metrics(make_ledger(people))
    assert metrics["members_end"] == 4
    assert metrics["dormant_share_end"] == 0.5


def test_unserved_leads_are_the_leads_without_a_finished_consultation() -> None:
    """Five leads, two served (their waits recorded): three were never served; the mean wait is over the
    served ones only. Hand-made ledgers without leads report zero."""
    ledger = replace(
        make_ledger(),
        leads_total=5,
        lead_staff=np.zeros(2, dtype=np.int16),
        lead_wait_days=np.array([0.5, 1.0]),
        lead_bought=np.array([True, False]),
    )
    metrics = compute_metrics(ledger)
    assert metrics["unserved_leads"] == 3.0
    assert metrics["mean_wait_days"] == 0.75
    assert compute_metrics(counting_ledger())["unserved_leads"] == 0.0


def test_metric_names_are_the_computed_keys() -> None:
    assert tuple(compute_metrics(counting_ledger())) == METRIC_NAMES


UNDEFINED_WHEN_EMPTY = {
    "cost_per_member",
    "cac",
    "retention_d30",
    "retention_d90",
    "retention_d180",
    "repurchase_rate",
    "clv",
    "net_value",
    "ltv_cac",
    "payback_days",
    "top20_revenue_share",
    "dormant_share_end",
    "touches_per_member",
    "k_factor",
    "referral_share",
    "staff_utilisation",
    "mean_wait_days",
}


def test_an_empty_ledger_has_totals_of_zero_and_undefined_ratios() -> None:
    metrics = compute_metrics(make_ledger())
    assert {name for name, value in metrics.items() if value is None} == UNDEFINED_WHEN_EMPTY
    assert all(value == 0.0 for name, value in metrics.items() if name not in UNDEFINED_WHEN_EMPTY)


def test_no_members_but_customers() -> None:
    metrics = compute_metrics(make_ledger([person()], [buy(0, 0.0, 10.0)], [cost(CostKind.MEDIA, 5.0)]))
    assert metrics["cost_per_member"] is None
    assert metrics["members_end"] == 0
    assert metrics["dormant_share_end"] is None
    assert metrics["cac"] == 5.0
    assert metrics["retention_d30"] is None


def test_members_but_no_customers() -> None:
    metrics = compute_metrics(make_ledger([person(join=0.0)], [], [cost(CostKind.LURE, 6.0)]))
    assert metrics["cost_per_member"] == 6.0
    assert metrics["cac"] is None
    for name in ("clv", "net_value", "ltv_cac", "payback_days", "repurchase_rate", "top20_revenue_share"):
        assert metrics[name] is None, name
    assert metrics["retention_d30"] == 1.0


def test_free_acquisition_leaves_ltv_cac_undefined_but_net_value_defined() -> None:
    metrics = compute_metrics(make_ledger([person()], [buy(0, 0.0, 10.0, cogs=4.0)]))
    assert metrics["cac"] == 0.0
    assert metrics["clv"] == 6.0
    assert metrics["net_value"] == 6.0
    assert metrics["ltv_cac"] is None
    assert metrics["payback_days"] == 0.0


# ---------------------------------------------------------------------------------------------------------
# Retention: of members who joined at least N days before the end, the share still in N days after joining


def retention_ledger() -> Ledger:
    """Horizon 400: eligible for d30 if joined ≤ 370, d90 ≤ 310, d180 ≤ 220."""
    people = [
        person(join=370.0),  # d30 boundary: eligible, stays
        person(join=371.0, leave=380.0),  # joined too late for any: would count as gone
        person(join=0.0, leave=30.0),  # leaves exactly at join + 30: gone for all
        person(join=10.0, leave=40.5),  # stayed 30.5 days: kept at d30, gone at d90 and d180
        person(join=310.0),  # d90 boundary: eligible, stays
        person(join=220.0, leave=400.0),  # d180 boundary: leaves exactly at join + 180: gone at d180 only
        person(join=100.0),  # stays throughout
        person(),  # never joined
        person(),  # never joined
    ]
    return make_ledger(people)


def test_retention_hand_counts() -> None:
    ledger = retention_ledger()
    # d30 eligible: 370, 0, 10, 310, 220, 100 → stayed: 370, 10, 310, 220, 100
    assert retention(ledger, 30) == 5 / 6
    # d90 eligible: 0, 10, 310, 220, 100 → stayed: 310, 220, 100
    assert retention(ledger, 90) == 3 / 5
    # d180 eligible: 0, 10, 220, 100 → stayed: 100
    assert retention(ledger, 180) == 1 / 4
    metrics = compute_metrics(ledger)
    assert (metrics["retention_d30"], metrics["retention_d90"], metrics["retention_d180"]) == (
        5 / 6,
        3 / 5,
        1 / 4,
    )


def test_retention_undefined_when_nobody_joined_early_enough() -> None:
    ledger = make_ledger([person(join=370.5), person(join=310.5), person()])
    assert retention(ledger, 30) == 1.0
    metrics = compute_metrics(ledger)
    assert metrics["retention_d30"] == 1.0
    assert metrics["retention_d90"] is None
    assert metrics["retention_d180"] is None
    assert retention(make_ledger([person(join=370.5), person()]), 30) is None


# ---------------------------------------------------------------------------------------------------------
# Repurchase: of customers whose first purchase was ≥ 180 days before the end, the share who bought again
# within 180 days of it


def test_repurchase_rate_hand_count() -> None:
    people = [person() for _ in range(7)]
    purchases = [
        buy(0, 400.0, 1.0),  # second purchase of 0 exactly 180 days after the first (listed first: unsorted)
        buy(0, 220.0, 1.0),  # 0: first purchase exactly at the eligibility boundary (400 − 180)
        buy(1, 0.0, 1.0),
        buy(1, 180.5, 1.0),  # 1: second purchase half a day too late
        buy(2, 300.0, 1.0),
        buy(2, 50.0, 1.0),
        buy(2, 10.0, 1.0),  # 2: first at 10, second at 50 (a third at 300 is irrelevant)
        buy(3, 221.0, 1.0),
        buy(3, 230.0, 1.0),  # 3: first purchase too late to be eligible
        buy(4, 5.0, 1.0),  # 4: bought once
        buy(5, 20.0, 1.0),
        buy(5, 20.0, 1.0),  # 5: two purchases on the same day: bought again
        # 6: never bought
    ]
    ledger = make_ledger(people, purchases)
    # eligible: 0, 1, 2, 4, 5 → bought again within 180 days: 0, 2, 5
    assert repurchase_rate(ledger) == 3 / 5
    assert compute_metrics(ledger)["repurchase_rate"] == 3 / 5


def test_repurchase_rate_undefined_without_an_early_enough_customer() -> None:
    ledger = make_ledger([person(), person()], [buy(0, 220.5, 1.0), buy(0, 221.0, 1.0)])
    assert repurchase_rate(ledger) is None
    assert repurchase_rate(make_ledger([person()], [buy(0, 220.0, 1.0)])) == 0.0


# ---------------------------------------------------------------------------------------------------------
# CLV: per cohort customer (first purchase ≥ clv_horizon_days before the end), revenue − goods − fees −
# their service costs over the window, discounted


def clv_ledger() -> Ledger:
    """Horizon 400, CLV window 365: the cohort bought first on day ≤ 35."""
    people = [person(join=0.0) for _ in range(4)]
    purchases = [
        buy(0, 35.0, 100.0, cogs=40.0, fee=5.0),  # 0: first exactly at the cohort boundary: 55
        buy(0, 400.0, 50.0, cogs=10.0),  # … and exactly at the end of its window: 40
        buy(1, 0.0, 200.0, cogs=50.0, fee=10.0),  # 1: 140
        buy(1, 365.5, 1000.0),  # … half a day after its window: not counted
        buy(2, 36.0, 500.0),  # 2: first purchase a day too late: not in the cohort
    ]
    costs = [
        cost(CostKind.TOUCH, 15.0, day=10.0, who=1),  # a service cost of 1 in its window: −15
        cost(CostKind.TOUCH, 1000.0, day=370.0, who=1),  # after its window
        cost(CostKind.TOUCH, 7.0, day=50.0, who=2),  # of a customer outside the cohort
        cost(CostKind.TOUCH, 9.0, day=50.0, who=3),  # of a member who never bought
        cost(CostKind.STAFF, 10_000.0, day=50.0),  # not a per-person cost
        cost(CostKind.MEDIA, 90.0),  # acquisition: CAC = 90 / 3 customers = 30
    ]
    return make_ledger(people, purchases, costs)


def test_clv_hand_value() -> None:
    ledger = clv_ledger()
    expected = ((55.0 + 40.0) + (140.0 - 15.0)) / 2
    assert clv(ledger) == expected
    metrics = compute_metrics(ledger)
    assert metrics["clv"] == expected
    assert metrics["cac"] == 30.0
    assert metrics["net_value"] == expected - 30.0
    assert metrics["ltv_cac"] == expected / 30.0


def test_clv_undefined_without_a_cohort() -> None:
    ledger = make_ledger([person()], [buy(0, 35.5, 100.0)], [cost(CostKind.MEDIA, 10.0)])
    metrics = compute_metrics(ledger)
    assert metrics["new_customers"] == 1
    assert metrics["cac"] == 10.0
    assert metrics["clv"] is None
    assert metrics["net_value"] is None
    assert metrics["ltv_cac"] is None
    assert metrics["payback_days"] is None


def test_clv_discounts_continuously_from_the_first_purchase() -> None:
    # one customer, first purchase on day 10; 8% a year; 73 days = 0.2 years, 146 days = 0.4 years
    ledger = make_ledger(
        [person(join=0.0)],
        [buy(0, 10.0, 100.0), buy(0, 83.0, 100.0)],
        [cost(CostKind.TOUCH, 10.0, day=156.0, who=0)],
        discount_rate=0.08,
    )
    # 100 + 100·e^(−0.08·73/365) − 10·e^(−0.08·146/365) = 100 + 100·e^(−0.016) − 10·e^(−0.032), with
    # e^(−0.016) = 0.98412732005528512 and e^(−0.032) = 0.96850658207919758 (30-digit decimal arithmetic)
    hand = 100.0 + 98.412732005528512 - 9.6850658207919758
    assert hand == pytest.approx(188.72766618473654, rel=1e-15)
    assert clv(ledger) == pytest.approx(hand, rel=1e-13)
    undiscounted = replace(ledger, discount_rate=0.0)
    assert clv(undiscounted) == 190.0


def test_no_discounting_at_rate_zero() -> None:
    ledger = make_ledger([person()], [buy(0, 0.0, 100.0), buy(0, 300.0, 100.0)])
    assert clv(ledger) == 200.0


# ---------------------------------------------------------------------------------------------------------
# Payback: the first whole day after the first purchase at which the cohort's mean cumulative contribution
# reaches CAC


def payback_ledger(media: float) -> Ledger:
    people = [person(), person()]
    purchases = [
        buy(0, 0.0, 20.0),  # offset 0 (day 0)
        buy(0, 5.5, 30.0),  # offset 5.5 (day 5)
        buy(1, 10.0, 10.0),  # offset 0 (day 0)
        buy(1, 13.9, 50.0, cogs=10.0),  # offset 3.9 (day 3): 40
        buy(1, 20.0, 20.0),  # offset 10 (day 10)
    ]
    return make_ledger(people, purchases, [cost(CostKind.MEDIA, media)])


def test_payback_hand_day() -> None:
    # CAC = 120 / 2 = 60; mean cumulative contribution: day 0: 15, day 3: 35, day 5: 50, day 10: 60
    ledger = payback_ledger(120.0)
    metrics = compute_metrics(ledger)
    assert metrics["cac"] == 60.0
    assert metrics["payback_days"] == 10.0
    assert payback_days(ledger, 50.0) == 5.0
    assert payback_days(ledger, 35.5) == 5.0
    assert payback_days(ledger, 15.0) == 0.0


def test_payback_counts_service_costs() -> None:
    ledger = payback_ledger(120.0)
    served = replace(
        ledger,
        costs=make_ledger(
            [person(), person()],
            costs=[cost(CostKind.MEDIA, 120.0), cost(CostKind.TOUCH, 2.0, day=15.0, who=1)],
        ).costs,
    )
    # a service cost of 2 on day 15 for customer 1 (offset 5): day 10's mean is now 59 < CAC 60
    metrics = compute_metrics(served)
    assert metrics["cac"] == 60.0
    assert metrics["clv"] == 59.0
    assert metrics["payback_days"] is None
    assert payback_days(served, 49.0) == 5.0  # day 5: (20 + 10 + 40 + 30 − 2) / 2 = 49


def test_payback_never_reached_or_without_cac() -> None:
    ledger = payback_ledger(120.2)  # CAC 60.1 > the cohort's mean contribution of 60
    assert compute_metrics(ledger)["payback_days"] is None
    assert payback_days(payback_ledger(120.0), None) is None


# ---------------------------------------------------------------------------------------------------------
# Concentration


def test_top20_revenue_share_of_ten_customers() -> None:
    people = [person() for _ in range(10)]
    purchases = [buy(i, 1.0, 10.0 * (i + 1)) for i in range(10)]  # revenues 10, 20, …, 100
    ledger = make_ledger(people, purchases)
    # total 550; the top ceil(0.2·10) = 2 customers: 100 + 90
    assert top20_revenue_share(ledger) == 190.0 / 550.0
    assert compute_metrics(ledger)["top20_revenue_share"] == 190.0 / 550.0


def test_top20_revenue_share_rounds_the_count_up_and_sums_per_customer() -> None:
    people = [person() for _ in range(12)]  # person 11 never buys
    purchases = [buy(i, 1.0, float(i + 1)) for i in range(11)]  # revenues 1 … 11
    purchases.append(buy(0, 2.0, 20.0))  # customer 0 now has 21, the top
    ledger = make_ledger(people, purchases)
    # 11 customers: the top ceil(2.2) = 3: 21 + 11 + 10; total 66 + 20 = 86
    assert top20_revenue_share(ledger) == 42.0 / 86.0


def test_top20_revenue_share_undefined_without_purchases() -> None:
    assert top20_revenue_share(make_ledger([person(join=0.0)])) is None


# ---------------------------------------------------------------------------------------------------------
# Breakdowns by source, lure and carrier


def breakdown_ledger() -> Ledger:
    """Source 0 → lure 0, carrier 0; source 1 → no lure, carrier 1; source 2 → lure 0, carrier 1."""
    people = [
        person(source=0, lure=0, carrier=0, join=1.0),  # 0
        person(source=1, carrier=1, join=2.0),  # 1
        person(source=2, lure=0, carrier=1, join=3.0),  # 2
        person(source=0),  # 3: bought, never joined
        person(source=2, lure=0, carrier=1, join=4.0, leave=100.0),  # 4
    ]
    purchases = [
        buy(4, 5.0, 40.0),
        buy(0, 1.0, 100.0),
        buy(3, 0.0, 7.0),
        buy(2, 3.0, 11.0),
        buy(4, 30.0, 13.0),
    ]
    costs = [
        cost(CostKind.MEDIA, 300.0, source=0, lure=0, carrier=0),
        cost(CostKind.MEDIA, 50.0, source=1, carrier=1),
        cost(CostKind.LURE, 20.0, source=2, lure=0, carrier=1),
        cost(CostKind.TOUCH, 3.0, day=6.0, source=2, lure=0, carrier=1, who=4),
        cost(CostKind.ACCOUNT_RUNNING, 1000.0, carrier=1),  # carrier only
    ]
    return make_ledger(
        people,
        purchases,
        costs,
        visitors=[100, 20, 30],
        source_lure=[0, -1, 0],
        source_carrier=[0, 1, 1],
        n_lures=2,
        n_carriers=2,
    )


def test_subset_by_source() -> None:
    part = subset(breakdown_ledger(), "source", 2)
    np.testing.assert_array_equal(part.people.join_day, [3.0, 4.0])  # persons 2 and 4, renumbered 0 and 1
    np.testing.assert_array_equal(part.purchases.person, [1, 0, 1])
    np.testing.assert_array_equal(part.purchases.amount, [40.0, 11.0, 13.0])
    np.testing.assert_array_equal(part.costs.amount, [20.0, 3.0])
    np.testing.assert_array_equal(part.costs.person, [-1, 1])
    np.testing.assert_array_equal(part.memberships.person, [0, 1])
    np.testing.assert_array_equal(part.visitors, [0, 0, 30])
    metrics = compute_metrics(part)
    assert metrics["new_customers"] == 2
    assert metrics["acquisition_cost"] == 20.0
    assert metrics["ops_cost"] == 3.0
    assert metrics["revenue"] == 64.0


def test_subset_by_lure() -> None:
    part = subset(breakdown_ledger(), "lure", 0)
    # the sources offering the lure (0 and 2) and everyone they brought: persons 0, 2, 3 (never joined), 4
    np.testing.assert_array_equal(part.people.join_day, [1.0, 3.0, np.nan, 4.0])
    np.testing.assert_array_equal(part.purchases.person, [3, 0, 2, 1, 3])
    np.testing.assert_array_equal(part.costs.amount, [300.0, 20.0, 3.0])
    np.testing.assert_array_equal(part.costs.person, [-1, -1, 3])
    np.testing.assert_array_equal(part.visitors, [100, 0, 30])  # the sources whose offer uses the lure
    assert len(subset(breakdown_ledger(), "lure", 1).people) == 0


def test_subset_by_carrier() -> None:
    part = subset(breakdown_ledger(), "carrier", 1)
    np.testing.assert_array_equal(part.people.join_day, [2.0, 3.0, 4.0])  # persons 1, 2, 4
    np.testing.assert_array_equal(part.purchases.person, [2, 1, 2])
    np.testing.assert_array_equal(part.costs.amount, [50.0, 20.0, 3.0, 1000.0])
    np.testing.assert_array_equal(part.costs.person, [-1, -1, 2, -1])
    np.testing.assert_array_equal(part.memberships.person, [0, 1, 2])
    np.testing.assert_array_equal(part.visitors, [0, 20, 30])
    metrics = compute_metrics(part)
    assert metrics["ops_cost"] == 1003.0  # the account cost appears in the carrier view
    assert metrics["members_end"] == 2


def test_subset_rejects_an_unknown_dimension() -> None:
    with pytest.raises(ValueError, match="staff"):
        subset(breakdown_ledger(), "staff", 0)


def test_breakdown_by_source_adds_up_when_every_cost_has_a_source() -> None:
    every_cost_tagged = make_ledger(
        costs=[
            cost(CostKind.MEDIA, 300.0, source=0, lure=0, carrier=0),
            cost(CostKind.SOURCE_FIXED, 70.0, source=1, carrier=1),
            cost(CostKind.LURE, 20.0, source=2, lure=0, carrier=1),
            cost(CostKind.REFERRAL_REWARD, 4.0, source=2, lure=0, carrier=1),
            cost(CostKind.TOUCH, 3.0, day=6.0, source=2, lure=0, carrier=1, who=4),
        ]
    ).costs
    ledger = replace(breakdown_ledger(), costs=every_cost_tagged)
    totals = compute_metrics(ledger)
    by_source = compute_breakdown(ledger)["source"]
    assert set(by_source) == {"s0", "s1", "s2"}
    for name in ("visitors", "new_customers", "acquisition_cost", "revenue", "new_members"):
        assert sum(by_source[g][name] for g in by_source) == totals[name], name
    assert totals["acquisition_cost"] == 394.0
    assert by_source["s2"]["cac"] == 24.0 / 2  # persons 2 and 4 bought
    breakdown = compute_breakdown(ledger)
    assert set(breakdown) == {"source", "lure", "carrier", "campaign", "tier"}
    assert set(breakdown["lure"]) == {"l0", "l1"}
    assert set(breakdown["carrier"]) == {"c0", "c1"}
    assert breakdown["lure"]["l0"]["visitors"] == 130.0
    assert breakdown["carrier"]["c1"]["acquisition_cost"] == 94.0


# ---------------------------------------------------------------------------------------------------------
# Seed 004's worked example, end to end: exact numbers, zero-width CIs


@pytest.mark.parametrize(
    ("file", "clv_value", "net"),
    [("seed004_single_purchase.yaml", 100.0, 70.0), ("seed004_retained.yaml", 200.0, 170.0)],
)
def test_seed004_worked_example(file: str, clv_value: float, net: float) -> None:
    scenario = load_scenario(ROOT / "scenarios" / "examples" / file).scenario
    result = run(scenario, reps=3, seed=1)
    assert result.reps == 3
    for replication in result.replications:
        assert replication.metrics["cac"] == 30.0
        assert replication.metrics["clv"] == clv_value
        assert replication.metrics["net_value"] == net
    summary = result.summary()
    for name, expected in (("cac", 30.0), ("clv", clv_value), ("net_value", net)):
        assert summary[name].mean == expected, name
        assert summary[name].ci_low == summary[name].mean, name
        assert summary[name].ci_high == summary[name].mean, name
        assert summary[name].defined == 3


def test_readme_metric_table_uses_the_labels_of_the_tables_and_reports() -> None:
    """README's "Metric definitions" names every metric with the Chinese label that every table, report and
    export shows (engine.metrics.METRICS), so that a reader finds the same words everywhere."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Metric definitions", 1)[1].split("\n## ", 1)[0]
    rows = [line.split(" | ", 1)[0].lstrip("| ") for line in section.splitlines() if line.startswith("| `")]
    labelled: dict[str, str] = {}
    for row in rows:
        for part in row.split(", "):
            name, _, label = part.partition(" ")
            name = name.strip("`")
            if name == "retention_d30/d90/d180":
                for days, zh in zip((30, 90, 180), label.split("/"), strict=True):
                    labelled[f"retention_d{days}"] = zh if zh.endswith("留存率") else f"{zh}留存率"
            else:
                labelled[name] = label
    assert set(labelled) == set(METRIC_NAMES)
    assert {name: label for name, label in labelled.items() if label != METRIC_INFO[name].zh} == {}
