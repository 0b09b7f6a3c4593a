"""Campaigns in the simulation: reach, responses, platform limits, disturbance, offers, venues, tiers, event
schedules, reactivation, touch costs in CLV, determinism.

Most checks are exact (counts the model must get right to the unit, read back from the ledger); the
statistical ones use a fixed seed and a tolerance of Z = 4 standard errors of the simulated quantity, each
stating its SE. Populations are a few thousand members on one carrier; horizons are one to three months.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pytest

from engine.ledger import OPS_KINDS, CostKind, Ledger
from engine.metrics import campaign_metrics, compute_metrics, tier_metrics
from engine.model.campaigns import ANNOYANCE_DAYS, Annoyance
from engine.model.compiled import compile_scenario
from engine.model.population import Population
from engine.model.simulation import Simulation, simulate
from engine.model.streams import replication_seed
from engine.scenario.schema import Scenario
from tests.engine.model.scenarios import campaign
from tests.engine.model.scenarios import member_scenario as shared_member_scenario

Z = 4.0  # tolerance in standard errors
SEED = 20240612
N = 3000  # members


def member_scenario(
    build_scenario: Any, campaigns: Iterable[Mapping[str, Any]] = (), **options: Any
) -> Scenario:
    """The shared :func:`~tests.engine.model.scenarios.member_scenario`, N members unless told otherwise."""
    return shared_member_scenario(build_scenario, campaigns, **{"members": N, **options})


def simulate_logging_sends(
    scenario: Scenario, seed: int
) -> tuple[Ledger, list[tuple[int, float, np.ndarray]]]:
    """Run like :func:`simulate` and return, for every send, ``(campaign index, time, rows reached)``."""
    sim = Simulation(compile_scenario(scenario), replication_seed(seed, 0))
    log: list[tuple[int, float, np.ndarray]] = []
    for runner in sim.campaigns:
        original = runner.send

        def send(now: float, runner: Any = runner, original: Any = original) -> None:
            before = sim.population.touches.copy()
            original(now)
            reached = np.nonzero(sim.population.touches[: before.size] - before)[0]
            log.append((runner.index, now, reached))

        runner.send = send  # the campaign's process calls self.send
    return sim.run(), log


def members_on_at(ledger: Ledger, carrier: int, times: np.ndarray) -> np.ndarray:
    """For each time, how many people were on ``carrier`` (joined at or before it, not yet left)."""
    m = ledger.memberships
    on = m.carrier == carrier
    start, exit_ = m.join_day[on], m.exit_day[on]
    return ((start[None, :] <= times[:, None]) & (exit_[None, :] > times[:, None])).sum(axis=1)


def per_person(ledger: Ledger, carrier: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Each person's start on and exit from ``carrier`` (nan: never on it)."""
    n = len(ledger.people)
    start, exit_ = np.full(n, np.nan), np.full(n, np.nan)
    m = ledger.memberships
    on = m.carrier == carrier
    start[m.person[on]] = m.join_day[on]
    exit_[m.person[on]] = m.exit_day[on]
    return start, exit_


def campaign_purchases(ledger: Ledger, index: int) -> np.ndarray:
    """Purchases per person caused by campaign ``index``."""
    p = ledger.purchases
    return np.bincount(p.person[p.campaign == index], minlength=len(ledger.people))


# ============================================================================ reach and response
@pytest.mark.parametrize("monthly_exit_rate", [0.0, 0.3])
def test_reach_and_response(build_scenario: Any, monthly_exit_rate: float) -> None:
    """Reach per message × reach multiplier = r; each reached member buys with p. The audience of a send is
    the carrier's members at that instant (every send, days 0..31)."""
    per_message, multiplier, p = 0.8, 0.5, 0.05
    r = per_message * multiplier
    scenario = member_scenario(
        build_scenario,
        [
            campaign(
                reach_multiplier=multiplier,
                response={"default": p},
                staff_minutes_per_touch=2.0,
                cost_per_touch=0.5,
            )
        ],
        carrier={"reach_per_message": per_message, "monthly_exit_rate": monthly_exit_rate},
        behaviour={"purchase_rate": {"dist": "fixed", "value": 0.02}},  # organic purchases too
    )
    ledger = simulate(scenario, SEED)
    horizon = 31
    send_days = np.arange(horizon + 1, dtype=np.float64)
    assert ledger.campaign_sends.tolist() == [horizon + 1]
    audience = int(ledger.campaign_audience[0])
    assert audience == members_on_at(ledger, 0, send_days).sum()
    if monthly_exit_rate == 0:
        assert audience == N * horizon  # everyone joined in (0, 1) and stays: days 1..31
    assert ledger.campaign_blocked.tolist() == [0]  # moments: no platform limit

    reached = int(ledger.campaign_reached[0])
    se = math.sqrt(audience * r * (1 - r))  # binomial(audience, r)
    assert abs(reached - r * audience) < Z * se, (reached, r * audience, se)
    assert int(ledger.people.touches.sum()) == reached

    caused = ledger.purchases.campaign == 0
    responses = int(caused.sum())
    se = math.sqrt(reached * p * (1 - p))  # binomial(reached, p)
    assert abs(responses - p * reached) < Z * se, (responses, p * reached, se)
    # caused purchases happen at send times; organic ones (campaign −1) are the rest
    assert np.all(np.isin(ledger.purchases.day[caused], send_days))
    organic = ledger.purchases.campaign == -1
    assert organic.sum() > 100 and np.all(caused | organic)
    assert not np.any(np.isin(ledger.purchases.day[organic], send_days))
    # nobody answers one send twice
    pairs = ledger.purchases.person[caused] * 1000 + ledger.purchases.day[caused].astype(np.int64)
    assert np.unique(pairs).size == responses

    metrics = campaign_metrics(ledger, 0)
    assert metrics["reached"] == reached
    assert metrics["audience"] == audience
    assert metrics["responses"] == responses
    assert metrics["cost"] == pytest.approx(0.5 * reached)
    assert metrics["staff_hours"] == pytest.approx(2.0 * reached / 60)
    assert metrics["attributed_revenue"] == pytest.approx(100.0 * responses)
    assert compute_metrics(ledger)["touches_per_member"] == pytest.approx(reached / N)


def test_response_by_tier_and_audience_by_tier(build_scenario: Any) -> None:
    """Tier 'engaged' (activated members) answer with 0.6, others with 0; a second campaign only targets
    'engaged'. Activation happens at joining for 40% of members; tiers are set at the day-7 review, before
    the first send on day 8."""
    p = 0.6
    scenario = member_scenario(
        build_scenario,
        [
            campaign(
                "all",
                schedule={"every_days": 1, "start_day": 8},
                response={"default": 0.0, "by_tier": {"engaged": p}},
            ),
            campaign(
                "engaged_only",
                channel="wecom_1on1",
                audience={"tier": "engaged"},
                schedule={"every_days": 1, "start_day": 8},
            ),
        ],
        activation={"window_days": 0, "activation_rate": 0.4},
        tiers=[{"id": "engaged", "when": {"activated": True}}, {"id": "rest"}],
    )
    ledger = simulate(scenario, SEED)
    people = ledger.people
    activated = np.isfinite(people.activation_day)
    assert abs(activated.mean() - 0.4) < Z * math.sqrt(0.4 * 0.6 / N), activated.mean()  # binomial
    sends = 31 - 8 + 1
    # 'all' reaches everyone at every send; 'engaged_only' only the activated
    assert people.touches[activated].tolist() == [2 * sends] * int(activated.sum())
    assert people.touches[~activated].tolist() == [sends] * int((~activated).sum())
    assert ledger.campaign_audience.tolist() == [N * sends, int(activated.sum()) * sends]

    responses = campaign_purchases(ledger, 0)
    assert responses[~activated].sum() == 0
    touched = int(activated.sum()) * sends
    se = math.sqrt(touched * p * (1 - p))  # binomial(activated members × sends, p)
    assert abs(responses.sum() - p * touched) < Z * se, (responses.sum(), p * touched, se)
    assert campaign_purchases(ledger, 1).sum() == 0  # default response 0
    assert people.tier_end[activated].tolist() == [0] * int(activated.sum())
    assert people.tier_end[~activated].tolist() == [1] * int((~activated).sum())


# ============================================================================ platform limits
def test_two_daily_wecom_broadcasts_reach_each_member_once_a_day(build_scenario: Any) -> None:
    """WeCom: one broadcast per member per day. 'morning' sends at days 0..31, 'evening' at 0.5..30.5: from
    day 1 on, evening finds every member served that day; moments are not limited."""
    scenario = member_scenario(
        build_scenario,
        [
            campaign("morning", channel="wecom_1on1"),
            campaign("evening", channel="wecom_1on1", schedule={"every_days": 1, "start_day": 0.5}),
            campaign("moments", channel="moments"),
        ],
    )
    ledger, log = simulate_logging_sends(scenario, SEED)
    joined_early = int(np.sum(ledger.people.join_day <= 0.5))  # evening at 0.5 is their first broadcast
    assert ledger.campaign_sends.tolist() == [32, 31, 32]
    assert ledger.campaign_audience.tolist() == [31 * N, joined_early, 31 * N]
    assert ledger.campaign_reached.tolist() == [31 * N, joined_early, 31 * N]
    # evening's would-be audience: those joined by 0.5 were served by nobody yet; every later send all N
    assert ledger.campaign_blocked.tolist() == [0, 30 * N, 0]
    assert campaign_metrics(ledger, 1)["blocked_by_platform"] == 30 * N

    per_day = np.zeros((32, N), dtype=np.int64)
    for index, time, reached in log:
        if index in (0, 1):
            np.add.at(per_day, (int(time), reached), 1)
    assert per_day.max() == 1
    assert np.all(per_day[1:].sum(axis=0) == 31)  # and the limit is all that stopped them


def test_service_account_sends_at_most_four_articles_per_30_days(build_scenario: Any) -> None:
    """A service official account allows 4 broadcasts per 30-day period; a daily article from day 0 to 90
    reaches members (joined in (0, 1)) on days 1-4, 30-33, 60-63 and 90: 13 touches each."""
    scenario = member_scenario(
        build_scenario,
        [campaign("article", channel="oa_article", carrier="oa")],
        carrier={"id": "oa", "kind": "official_account", "account_type": "service"},
        horizon=90,
        clv=60,
    )
    ledger, log = simulate_logging_sends(scenario, SEED)
    assert ledger.people.touches.tolist() == [13] * N
    assert ledger.campaign_reached.tolist() == [13 * N]
    assert ledger.campaign_blocked.tolist() == [(25 + 26 + 26) * N]
    per_period = np.zeros((4, N), dtype=np.int64)
    days_reached = set()
    for _, time, reached in log:
        np.add.at(per_period, (int(time // 30), reached), 1)
        if reached.size:
            days_reached.add(int(time))
    assert per_period[:3].tolist() == [[4] * N] * 3
    assert per_period.max() <= 4
    assert days_reached == {1, 2, 3, 4, 30, 31, 32, 33, 60, 61, 62, 63, 90}


def test_subscription_account_sends_one_article_a_day(build_scenario: Any) -> None:
    scenario = member_scenario(
        build_scenario,
        [
            campaign("news", channel="oa_article", carrier="oa"),
            campaign(
                "deals", channel="oa_article", carrier="oa", schedule={"every_days": 1, "start_day": 0.25}
            ),
        ],
        carrier={"id": "oa", "kind": "official_account", "account_type": "subscription"},
    )
    ledger, log = simulate_logging_sends(scenario, SEED)
    per_day = np.zeros((32, N), dtype=np.int64)
    for _, time, reached in log:
        np.add.at(per_day, (int(time), reached), 1)
    assert per_day.max() == 1
    early = ledger.people.join_day <= 0.25
    assert np.array_equal(ledger.people.touches, 31 + early.astype(np.int64))
    assert ledger.campaign_blocked.tolist() == [0, 30 * N]


# ============================================================================ disturbance
def annoyance_scenario(
    build_scenario: Any, every_days: float, horizon: float = 61, **disturbance: Any
) -> Scenario:
    return member_scenario(
        build_scenario,
        [campaign(schedule={"every_days": every_days})],
        horizon=horizon,
        clv=horizon - 1,
        disturbance=disturbance,
    )


@pytest.mark.parametrize(
    ("category", "every_days"),
    [("daily", 2.0), ("weekly", 3.0)],
)
def test_touches_within_tolerance_cause_no_exits(
    build_scenario: Any, category: str, every_days: float
) -> None:
    """Touches at a pace below the category's tolerance (daily 7, weekly 3 a week) never make anyone leave,
    even with exit probability 1 per excess touch."""
    scenario = annoyance_scenario(
        build_scenario, every_days, category_frequency=category, exit_probability_per_excess_touch=1.0
    )
    ledger = simulate(scenario, SEED)
    metrics = compute_metrics(ledger)
    assert metrics["annoyance_exits"] == 0
    assert metrics["members_end"] == N
    assert ledger.people.touches.min() >= 60 // every_days


@pytest.mark.parametrize(
    ("category", "every_days"),
    [("daily", 1.0), ("weekly", 7 / 3), ("monthly", 7.0), ("monthly", 30.0)],
)
def test_touches_at_the_tolerated_pace_cause_no_exits(
    build_scenario: Any, category: str, every_days: float
) -> None:
    """Daily deals for a daily-bought category are tolerated (seed 001 Q9): touching exactly as often as the
    tolerance says (7, 3, 1 a week), or less, should make nobody leave."""
    scenario = annoyance_scenario(
        build_scenario, every_days, category_frequency=category, exit_probability_per_excess_touch=0.03
    )
    assert compute_metrics(simulate(scenario, SEED))["annoyance_exits"] == 0


def test_touches_beyond_a_rare_category_tolerance_cause_exits(build_scenario: Any) -> None:
    """Rare category: tolerance 0.5 a week, so every touch is excess (the level is at least 1) and each one
    makes the member leave with q. Daily touches on days 1..61 (members joined in (0, 1)):
    P(annoyed out) = 1 − (1 − q)^61, and 30-day retention = (1 − q)^30 (touches on days 1..30)."""
    q = 0.02
    ledger = simulate(
        annoyance_scenario(
            build_scenario, 1.0, category_frequency="rare", exit_probability_per_excess_touch=q
        ),
        SEED,
    )
    calm = simulate(
        annoyance_scenario(
            build_scenario, 1.0, category_frequency="rare", exit_probability_per_excess_touch=0.0
        ),
        SEED,
    )
    metrics, calm_metrics = compute_metrics(ledger), compute_metrics(calm)
    touches = 61
    expected = 1 - (1 - q) ** touches
    se = math.sqrt(expected * (1 - expected) / N)  # binomial over members
    assert abs(metrics["annoyance_exits"] / N - expected) < Z * se, (metrics["annoyance_exits"], expected * N)
    assert calm_metrics["annoyance_exits"] == 0
    # with no carrier exit clock, every departure is an annoyance exit, at a touch
    people = ledger.people
    left = np.isfinite(people.leave_day)
    assert np.array_equal(left, people.annoyed_out)
    assert np.all(people.leave_day[left] == np.round(people.leave_day[left]))
    # the number of touches until leaving is geometric(q), cut at 61
    assert np.all(people.touches[left] == people.leave_day[left])
    k = np.arange(1, touches + 1)
    pmf = q * (1 - q) ** (k - 1)
    mean = (k * pmf).sum() + touches * (1 - q) ** touches
    var = (k**2 * pmf).sum() + touches**2 * (1 - q) ** touches - mean**2
    assert abs(people.touches.mean() - mean) < Z * math.sqrt(var / N)

    retention = (1 - q) ** 30
    se = math.sqrt(retention * (1 - retention) / N)
    assert abs(metrics["retention_d30"] - retention) < Z * se, (metrics["retention_d30"], retention, se)
    assert calm_metrics["retention_d30"] == 1.0
    assert metrics["members_end"] < calm_metrics["members_end"] == N


# ============================================================================ offers
PRICES = {"goods": 100.0, "gift": 40.0}


def assert_even_split(counts: np.ndarray) -> None:
    """Two products of weight 1 each: the first one's share of the purchases is binomial(n, 0.5)."""
    n = int(counts.sum())
    assert abs(counts[0] / n - 0.5) < Z * math.sqrt(0.25 / n), counts


@pytest.mark.parametrize(
    ("offer", "product"),
    [
        ({"discount": 0.2, "coupon": 15.0}, None),
        ({"discount": 0.2, "coupon": 15.0, "product": "gift"}, "gift"),
        ({"discount": 0.0, "coupon": 30.0, "product": "goods"}, "goods"),
        ({"discount": 0.5, "coupon": 45.0}, None),  # the gift would cost −25: it is free
    ],
)
def test_offer_sets_the_price_of_the_purchases_it_causes(
    build_scenario: Any, offer: dict[str, Any], product: str | None
) -> None:
    scenario = member_scenario(
        build_scenario,
        [campaign(offer=offer, response={"default": 0.1})],
        products=[
            {"id": "goods", "price": {"dist": "fixed", "value": PRICES["goods"]}, "weight": 1.0},
            {"id": "gift", "price": {"dist": "fixed", "value": PRICES["gift"]}, "weight": 1.0},
        ],
        behaviour={"purchase_rate": {"dist": "fixed", "value": 0.05}},
        members=1000,
    )
    ledger = simulate(scenario, SEED)
    purchases = ledger.purchases
    price = np.array([PRICES[p] for p in ledger.product_ids])[purchases.product]
    caused = purchases.campaign == 0
    assert caused.sum() > 1000
    discounted = np.maximum(0.0, price * (1 - offer["discount"]) - offer["coupon"])
    np.testing.assert_allclose(purchases.amount[caused], discounted[caused], rtol=0, atol=1e-9)
    np.testing.assert_array_equal(purchases.amount[~caused], price[~caused])  # organic: full price
    organic_products = np.bincount(purchases.product[~caused], minlength=2)
    assert_even_split(organic_products)  # the mix, 1:1
    caused_products = np.bincount(purchases.product[caused], minlength=2)
    if product is not None:
        assert caused_products[ledger.product_ids.index(product)] == caused.sum()
    else:
        assert_even_split(caused_products)


# ============================================================================ venues
def test_venue_fees_and_mix(build_scenario: Any) -> None:
    """Members buy in the mall (3 parts) or the app (1 part), others on Tmall; purchases a campaign causes
    go to its venue. fee = fee_rate × amount for every purchase, and the fees are ops costs."""
    fees = {"mall": 0.02, "app": 0.0, "tmall": 0.05, "live": 0.1}
    scenario = build_scenario(
        {
            "horizon": {"acquisition_days": 10, "horizon_days": 70, "clv_horizon_days": 60},
            "sources": [
                {
                    "id": "src",
                    "arrivals": "fixed",
                    "reach": {"organic_per_day": 400},
                    "first_purchase_probability": 0.6,
                    "take_rate": 0.5,
                    "path": "add",
                    "spend_per_day": 100.0,
                }
            ],
            "paths": [{"id": "add", "carrier": "wecom"}],
            "carriers": [
                {"id": "wecom", "kind": "wecom", "monthly_exit_rate": 0.3, "cost_per_account_month": 300.0}
            ],
            "behaviour": {"purchase_rate": {"dist": "gamma", "shape": 2.0, "rate": 40.0}},
            "products": [
                {"id": "goods", "price": {"dist": "lognormal", "mean": 100, "sd": 30}, "unit_cost_share": 0.4}
            ],
            "venues": [
                {"id": "mall", "fee_rate": fees["mall"], "share_members": 3},
                {"id": "app", "fee_rate": fees["app"], "share_members": 1},
                {"id": "tmall", "fee_rate": fees["tmall"], "share_others": 1},
                {"id": "live", "fee_rate": fees["live"]},
            ],
            "campaigns": [campaign(response={"default": 0.02}, venue="live", cost_per_touch=0.1)],
            "disturbance": {"exit_probability_per_excess_touch": 0.0},
        }
    )
    ledger = simulate(scenario, SEED)
    people, purchases = ledger.people, ledger.purchases
    venue_ids = ledger.venue_ids
    rate = np.array([fees[v] for v in venue_ids])
    np.testing.assert_allclose(purchases.fee, rate[purchases.venue] * purchases.amount, rtol=1e-12, atol=0)

    caused = purchases.campaign == 0
    assert caused.sum() > 100
    assert np.all(purchases.venue[caused] == venue_ids.index("live"))
    member = (people.join_day[purchases.person] <= purchases.day) & (
        people.leave_day[purchases.person] > purchases.day
    )
    organic_member = ~caused & member
    organic_other = ~caused & ~member
    assert organic_other.sum() > 1000 and organic_member.sum() > 1000
    # others include members after they left the private domain
    left_then_bought = organic_other & ~np.isnan(people.join_day[purchases.person])
    assert left_then_bought.sum() > 50
    assert np.all(purchases.venue[organic_other] == venue_ids.index("tmall"))
    in_mall = purchases.venue[organic_member] == venue_ids.index("mall")
    assert np.all(in_mall | (purchases.venue[organic_member] == venue_ids.index("app")))
    n = int(organic_member.sum())
    se = math.sqrt(0.75 * 0.25 / n)  # binomial share of members' purchases in the mall
    assert abs(in_mall.mean() - 0.75) < Z * se, (in_mall.mean(), se)

    metrics = compute_metrics(ledger)
    costs = ledger.costs
    ops_entries = float(costs.amount[np.isin(costs.kind, OPS_KINDS)].sum())
    assert float(costs.amount[costs.kind == CostKind.TOUCH].sum()) == pytest.approx(
        0.1 * ledger.campaign_reached[0]
    )
    assert metrics["ops_cost"] == pytest.approx(ops_entries + purchases.fee.sum(), rel=1e-12)
    assert purchases.fee.sum() > 0.01 * metrics["revenue"]
    assert metrics["gross_margin"] == pytest.approx(metrics["revenue"] * 0.6, rel=1e-12)
    assert metrics["total_cost"] == pytest.approx(
        metrics["acquisition_cost"] + metrics["ops_cost"], rel=1e-12
    )
    assert metrics["profit"] == pytest.approx(metrics["gross_margin"] - metrics["total_cost"], rel=1e-12)
    attributed = campaign_metrics(ledger, 0)
    revenue = purchases.amount[caused].sum()
    assert attributed["attributed_margin"] == pytest.approx(revenue * 0.6 - 0.1 * revenue, rel=1e-12)


# ============================================================================ tiers
TIERS = [
    {"id": "fans", "when": {"purchases": {"gte": 3}, "spend": {"gte": 250}}},
    {"id": "active", "when": {"days_since_last_purchase": {"lte": 14}}},
    {"id": "paying", "when": {"purchases": {"gte": 1}}},
    {"id": "others"},
]


def tier_scenario(build_scenario: Any, campaign_end: float) -> Scenario:
    return build_scenario(
        {
            "horizon": {"acquisition_days": 10, "horizon_days": 70, "clv_horizon_days": 60},
            "sources": [
                {
                    "id": "src",
                    "arrivals": "fixed",
                    "reach": {"organic_per_day": 300},
                    "first_purchase_probability": 0.3,
                    "take_rate": 0.7,
                    "path": "add",
                }
            ],
            "paths": [{"id": "add", "carrier": "wecom"}],
            "carriers": [{"id": "wecom", "kind": "wecom", "monthly_exit_rate": 0.1}],
            "behaviour": {"purchase_rate": {"dist": "gamma", "shape": 1.0, "rate": 30.0}},
            "products": [{"id": "goods", "price": {"dist": "lognormal", "mean": 100, "sd": 40}}],
            "tiers": TIERS,
            "campaigns": [
                campaign(
                    response={"default": 0.01, "dropped_out_multiplier": 1.0},
                    schedule={"every_days": 1, "end_day": campaign_end},
                )
            ],
            "disturbance": {"exit_probability_per_excess_touch": 0.0},
        }
    )


def expected_tiers(ledger: Ledger) -> np.ndarray:
    """Each person's first tier whose rule holds on the ledger at the end; −1 for non-members."""
    people, purchases = ledger.people, ledger.purchases
    n = len(people)
    count = np.bincount(purchases.person, minlength=n)
    spend = np.bincount(purchases.person, weights=purchases.amount, minlength=n)
    last = np.full(n, -np.inf)
    np.maximum.at(last, purchases.person, purchases.day)
    since = ledger.horizon_days - last  # inf: never bought
    tier = np.select([(count >= 3) & (spend >= 250), since <= 14, count >= 1], [0, 1, 2], default=3)
    return np.where(people.leave_day == np.inf, tier, -1)


def test_tiers_at_the_end_follow_the_first_matching_rule(build_scenario: Any) -> None:
    ledger = simulate(tier_scenario(build_scenario, campaign_end=69), SEED)
    expected = expected_tiers(ledger)
    people = ledger.people
    assert np.array_equal(people.tier_end, expected), np.sum(people.tier_end != expected)
    members_end = people.leave_day == np.inf
    counts = np.bincount(expected[members_end], minlength=4)
    assert counts.min() > 50  # every tier is populated
    never_joined = np.isnan(people.join_day)
    assert never_joined.sum() > 100 and np.all(people.tier_end[never_joined] == -1)
    assert np.sum(~members_end & ~never_joined) > 100  # members who left have no tier either

    rows = [tier_metrics(ledger, i) for i in range(len(TIERS))]
    assert [r["members_end"] for r in rows] == counts.tolist()
    assert sum(r["share_of_members_end"] for r in rows) == pytest.approx(1.0, abs=1e-12)
    fans_revenue = ledger.purchases.amount[expected[ledger.purchases.person] == 0].sum()
    assert rows[0]["revenue_per_member"] == pytest.approx(fans_revenue / counts[0])


def test_tiers_at_the_end_include_a_send_at_the_horizon(build_scenario: Any) -> None:
    ledger = simulate(tier_scenario(build_scenario, campaign_end=70), SEED)
    assert np.array_equal(ledger.people.tier_end, expected_tiers(ledger))


# ============================================================================ event schedules
@pytest.mark.parametrize(
    ("on", "delay", "start_day"),
    [("joined", 2.0, 0.0), ("joined", 10.0, 0.0), ("joined", 2.0, 12.5), ("activated", 3.0, 0.0)],
)
def test_event_schedule_touches_each_member_once_after_the_delay(
    build_scenario: Any, on: str, delay: float, start_day: float
) -> None:
    """Checked daily: a member is touched on the first whole day at or after event + delay, once, if that
    is within [start_day, horizon] and they are still on the carrier (reach 1, no other campaign)."""
    horizon = 31.0
    scenario = member_scenario(
        build_scenario,
        [campaign(schedule={"on": on, "delay_days": delay, "start_day": start_day}, cost_per_touch=1.0)],
        acquisition=30,
        horizon=horizon,
        clv=1,
        carrier={"monthly_exit_rate": 0.3},
        activation={"window_days": 4, "activation_rate": 0.6},
    )
    ledger = simulate(scenario, SEED)
    people = ledger.people
    event = people.join_day if on == "joined" else people.activation_day  # inf: never activated
    _, exit_ = per_person(ledger)
    with np.errstate(invalid="ignore"):
        due = np.ceil(event + delay)
    touched = (event + delay >= start_day) & (event + delay <= horizon) & (exit_ > due)
    assert touched.sum() > 500 and (~touched).sum() > 50
    assert np.array_equal(people.touches, touched.astype(np.int64))
    # the touch happens on the due day: one cost entry of 1 per touch, on the day of the send
    costs = ledger.costs
    touch = costs.kind == CostKind.TOUCH
    by_day = np.bincount(costs.day[touch].astype(np.int64), weights=costs.amount[touch], minlength=32)
    assert np.array_equal(by_day, np.bincount(due[touched].astype(np.int64), minlength=32).astype(float))


# ============================================================================ reactivation
def reactivation_scenario(build_scenario: Any, multiplier: float, rate: float) -> Scenario:
    """Buyers stop after their first repeat purchase (dropout 1: two purchases in all); a weekly campaign
    that every reached member answers unless they dropped out (then with ``multiplier``)."""
    return member_scenario(
        build_scenario,
        [
            campaign(
                schedule={"every_days": 7}, response={"default": 1.0, "dropped_out_multiplier": multiplier}
            )
        ],
        horizon=91,
        clv=90,
        behaviour={
            "purchase_rate": {"dist": "fixed", "value": rate},
            "dropout": {"dist": "fixed", "value": 1.0},
        },
        members=2000,
    )


SENDS = 13  # days 7, 14, ..., 91


def test_reactivated_buyers_buy_at_every_send(build_scenario: Any) -> None:
    ledger = simulate(reactivation_scenario(build_scenario, 1.0, rate=0.05), SEED)
    assert campaign_purchases(ledger, 0).tolist() == [SENDS] * 2000
    organic = np.bincount(ledger.purchases.person[ledger.purchases.campaign == -1], minlength=2000)
    # revived buyers buy on their own again between sends, beyond the two purchases dropout allowed
    assert organic.max() > 2


def test_dropped_out_buyers_ignore_campaigns_without_reactivation(build_scenario: Any) -> None:
    ledger = simulate(reactivation_scenario(build_scenario, 0.0, rate=0.05), SEED)
    total = np.bincount(ledger.purchases.person, minlength=2000)
    assert total.tolist() == [2] * 2000  # the two purchases their dropout allows, and no more


def test_dropped_out_multiplier_scales_the_response(build_scenario: Any) -> None:
    """No purchases of their own: sends 1 and 2 use up the two purchases; then a dropped-out member answers
    with m and, revived with one purchase left, answers the next send surely and drops out again. The
    purchase count over 13 sends is computed exactly by a Markov chain over (left, purchases)."""
    m = 0.5
    ledger = simulate(reactivation_scenario(build_scenario, m, rate=0.0), SEED)
    counts = campaign_purchases(ledger, 0)
    # states: left ∈ {0, 1, 2}; distribution over (left, purchases)
    dist = np.zeros((3, SENDS + 1))
    dist[2, 0] = 1.0
    for _ in range(SENDS):
        new = np.zeros_like(dist)
        new[1, 1:] += dist[2, :-1]  # left 2: buys
        new[0, 1:] += dist[1, :-1]  # left 1: buys, drops out
        new[1, 1:] += m * dist[0, :-1]  # dropped out: answers with m, revived with 1 left
        new[0, :] += (1 - m) * dist[0, :]
        dist = new
    pmf = dist.sum(axis=0)
    k = np.arange(SENDS + 1)
    mean = (k * pmf).sum()
    sd = math.sqrt((k**2 * pmf).sum() - mean**2)
    assert counts.min() >= 2
    assert abs(counts.mean() - mean) < Z * sd / math.sqrt(counts.size), (counts.mean(), mean)
    # and the whole distribution: chi-square-free check of P(count = k) for the likeliest values
    for value in np.argsort(pmf)[-3:]:
        share = float(np.mean(counts == value))
        se = math.sqrt(pmf[value] * (1 - pmf[value]) / counts.size)
        assert abs(share - pmf[value]) < Z * se, (value, share, pmf[value])


# ============================================================================ touch costs in CLV
def clv_scenario(build_scenario: Any, cost: float, discount_rate: float) -> Scenario:
    return build_scenario(
        {
            "horizon": {
                "acquisition_days": 10,
                "horizon_days": 70,
                "clv_horizon_days": 60,
                "discount_rate": discount_rate,
            },
            "sources": [
                {
                    "id": "src",
                    "arrivals": "fixed",
                    "reach": {"organic_per_day": 300},
                    "first_purchase_probability": 0.5,
                    "take_rate": 1.0,
                    "path": "add",
                }
            ],
            "paths": [{"id": "add", "carrier": "wecom"}],
            "carriers": [{"id": "wecom", "kind": "wecom", "monthly_exit_rate": 0.1}],
            "behaviour": {
                "purchase_rate": {"dist": "fixed", "value": 0.02},
                "dropout": {"dist": "fixed", "value": 0.1},
            },
            "campaigns": [campaign(response={"default": 0.02}, cost_per_touch=cost)],
            "disturbance": {"exit_probability_per_excess_touch": 0.0},
        }
    )


@pytest.mark.parametrize("discount_rate", [0.0, 0.5])
def test_touch_costs_lower_clv_and_raise_ops_cost(build_scenario: Any, discount_rate: float) -> None:
    """Same seed, cost per touch 0 vs 1: the runs differ only in money. Each daily send (days 0..70, reach
    1) touches everyone on the carrier; CLV falls by the mean over the cohort (first purchase by day 10) of
    the touches at days d with first ≤ d ≤ first + 60, discounted by exp(−rate·(d − first)/365)."""
    free = simulate(clv_scenario(build_scenario, 0.0, discount_rate), SEED)
    paid = simulate(clv_scenario(build_scenario, 1.0, discount_rate), SEED)
    np.testing.assert_array_equal(free.purchases.amount, paid.purchases.amount)
    np.testing.assert_array_equal(free.people.touches, paid.people.touches)

    people = paid.people
    start, exit_ = per_person(paid)
    first = people.first_purchase_day
    days = np.arange(71, dtype=np.float64)[None, :]
    with np.errstate(invalid="ignore"):
        on = (start[:, None] <= days) & (exit_[:, None] > days)
        offset = days - first[:, None]
        inside = on & (offset >= 0) & (offset <= 60)
    assert np.array_equal(on.sum(axis=1), people.touches)  # reach 1: every send while on the carrier
    weight = np.where(inside, np.exp(-discount_rate / 365 * np.where(inside, offset, 0.0)), 0.0)
    service = weight.sum(axis=1)
    np.testing.assert_allclose(people.service_cost, service, rtol=1e-12, atol=1e-12)
    assert np.all(free.people.service_cost == 0)

    cohort = first <= 10
    assert cohort.sum() > 1000 and (np.isnan(first) | ~cohort).sum() > 100
    m_free, m_paid = compute_metrics(free), compute_metrics(paid)
    drop = service[cohort].mean()
    assert drop > 20
    assert m_free["clv"] - m_paid["clv"] == pytest.approx(drop, rel=1e-9)
    reached = float(paid.campaign_reached[0])
    assert reached == people.touches.sum()
    assert m_paid["ops_cost"] - m_free["ops_cost"] == pytest.approx(reached, rel=1e-12)
    assert m_free["profit"] - m_paid["profit"] == pytest.approx(reached, rel=1e-12)
    assert m_paid["acquisition_cost"] == m_free["acquisition_cost"]
    assert m_paid["revenue"] == m_free["revenue"]


# ============================================================================ determinism
def full_scenario(build_scenario: Any) -> Scenario:
    return build_scenario(
        {
            "horizon": {"acquisition_days": 20, "horizon_days": 80, "clv_horizon_days": 60},
            "sources": [
                {
                    "id": "ads",
                    "reach": {"organic_per_day": 150},
                    "first_purchase_probability": 0.3,
                    "take_rate": 0.6,
                    "lure": "coupon",
                    "path": "add",
                    "spend_per_day": 50.0,
                }
            ],
            "lures": [{"id": "coupon", "cost_per_taker": 2.0, "deal_seeker_share": 0.3}],
            "paths": [{"id": "add", "carrier": "wecom", "steps": [{"name": "scan", "pass_rate": 0.8}]}],
            "carriers": [
                {"id": "wecom", "kind": "wecom", "monthly_exit_rate": 0.1},
                {
                    "id": "oa",
                    "kind": "official_account",
                    "account_type": "service",
                    "monthly_exit_rate": 0.05,
                },
            ],
            "activation": {
                "window_days": 5,
                "activation_rate": 0.7,
                "second_carrier": "oa",
                "second_carrier_rate": 0.5,
            },
            "products": [
                {"id": "goods", "price": {"dist": "lognormal", "mean": 100, "sd": 30}},
                {"id": "gift", "price": {"dist": "fixed", "value": 30.0}, "weight": 0.5},
            ],
            "venues": [
                {"id": "mall", "fee_rate": 0.02, "share_members": 1},
                {"id": "tmall", "fee_rate": 0.05, "share_others": 1},
            ],
            "tiers": TIERS,
            "campaigns": [
                campaign(
                    "daily",
                    channel="wecom_1on1",
                    response={"default": 0.02, "by_tier": {"fans": 0.1}},
                    offer={"discount": 0.1},
                    cost_per_touch=0.2,
                ),
                campaign(
                    "again", channel="wecom_1on1", schedule={"every_days": 3}, response={"default": 0.05}
                ),
                campaign(
                    "article",
                    channel="oa_article",
                    carrier="oa",
                    schedule={"every_days": 2},
                    response={"default": 0.01},
                    offer={"product": "gift", "coupon": 5.0},
                ),
                campaign(
                    "welcome",
                    schedule={"on": "joined", "delay_days": 1},
                    response={"default": 0.1},
                    venue="tmall",
                ),
            ],
            "disturbance": {"category_frequency": "weekly", "exit_probability_per_excess_touch": 0.05},
        }
    )


def ledger_fields(ledger: Ledger) -> dict[str, Any]:
    """Every array and value of a ledger, tables flattened to ``table.column``."""
    fields: dict[str, Any] = {}
    for field in dataclasses.fields(ledger):
        value = getattr(ledger, field.name)
        if dataclasses.is_dataclass(value):
            for column in dataclasses.fields(value):
                fields[f"{field.name}.{column.name}"] = getattr(value, column.name)
        else:
            fields[field.name] = value
    return fields


def test_same_seed_gives_identical_ledgers_with_campaigns(build_scenario: Any) -> None:
    scenario = full_scenario(build_scenario)
    first, second = ledger_fields(simulate(scenario, SEED)), ledger_fields(simulate(scenario, SEED))
    assert first.keys() == second.keys()
    for name, value in first.items():
        if isinstance(value, np.ndarray):
            assert value.dtype == second[name].dtype, name
            assert np.array_equal(value, second[name], equal_nan=value.dtype.kind == "f"), name
        else:
            assert value == second[name], name
    assert all(first["campaign_reached"] > 0)
    assert first["campaign_blocked"][:2].sum() > 0  # 'again' and 'daily' collide on WeCom
    other = ledger_fields(simulate(scenario, SEED + 1))
    assert not np.array_equal(first["purchases.amount"], other["purchases.amount"])


# ============================================================================ clocks drawn in pieces
@pytest.mark.parametrize("audience", [{"purchases": {"gte": 0}}, {"spend": {"gte": 0}}])
def test_purchase_clocks_drawn_at_every_send_have_the_same_law(
    build_scenario: Any, audience: dict[str, Any]
) -> None:
    """A send draws the purchase clocks of only the members it reads: an audience on purchases or spend
    draws everyone's at every send, one on days since joining draws none (they wait for the review). A
    memoryless clock drawn in pieces has the same law as drawn at once, so with campaigns that sell nothing
    the purchases per member match those of the scenario without any campaign (and each other): means
    within Z two-sample standard errors, as are the shares of members still buying at the end."""

    def run(campaigns: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        scenario = member_scenario(
            build_scenario,
            campaigns,
            members=4000,
            horizon=120,
            clv=30,
            carrier={"monthly_exit_rate": 0.3},
            behaviour={
                "purchase_rate": {"dist": "fixed", "value": 0.05},
                "dropout": {"dist": "fixed", "value": 0.2},
                "membership_rate_multiplier": 2.0,
            },
        )
        ledger = simulate(scenario, SEED)
        counts = np.bincount(ledger.purchases.person, minlength=len(ledger.people)).astype(float)
        return counts, (ledger.people.leave_day == np.inf).astype(float)

    reads = run([campaign(audience=audience, schedule={"every_days": 1})])
    waits = run([campaign(audience={"days_since_join": {"gte": 0}}, schedule={"every_days": 1})])
    alone = run([])
    assert reads[0].mean() > 1.0  # members buy: the law is not trivially zero
    for a, b in ((reads, alone), (waits, alone), (reads, waits)):
        for x, y in zip(a, b, strict=True):
            se = math.sqrt(x.var(ddof=1) / x.size + y.var(ddof=1) / y.size)
            assert abs(x.mean() - y.mean()) < Z * se, (x.mean(), y.mean(), se)


def test_annoyance_level_is_the_decayed_count_of_touches_across_rescales() -> None:
    """The level kept as a scaled sum equals Σ exp(−(now − t_k) / 7) over each person's touches, also after
    the epoch has moved (touches spread over 5 000 days: e^(5000/7) would overflow without it); the touch
    reports exactly those above the limit."""
    rng = np.random.default_rng(3)
    population = Population(n_carriers=1, capacity=16)
    population.add(6)
    annoyance = Annoyance(population)
    times = np.sort(np.concatenate((rng.uniform(0, 5000, 300), [4000.0, 4000.5, 4001.0, 4001.2])))
    touched: list[list[float]] = [[] for _ in range(6)]
    for now in times:
        rows = np.flatnonzero(rng.random(6) < 0.6)
        if now >= 4000.0:
            rows = np.array([0, 1])  # a burst on two people
        for row in rows.tolist():
            touched[row].append(float(now))
        direct = np.array([sum(math.exp(-(now - t) / ANNOYANCE_DAYS) for t in touched[r]) for r in rows])
        over = annoyance.touch(rows, float(now), 2.5)
        np.testing.assert_array_equal(over, np.flatnonzero(direct > 2.5))
        np.testing.assert_allclose(annoyance.level(rows, float(now)), direct, rtol=1e-9)
    assert annoyance.epoch > 0.0  # it did move
