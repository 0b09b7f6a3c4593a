"""What members do for the brand: referrals (裂变), and carriers run as a brand persona or with seed users.

Referrals: members refer friends at monthly_rate (by tier) × service_quality per 30 days; at each review the
friends of the next step are a Poisson draw around Σ members × rate × step, and they arrive through the
referral source's own offer and path. Expectations are read from the review snapshots (members at each
review) or, for a pool that cannot grow, in closed form. Persona and seed users multiply a carrier's exit
hazard (checked against exponential survival) and a persona multiplies responses to touches.

Statistical checks use a fixed seed and a tolerance of Z = 4 standard errors; each states its SE.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.errors import ScenarioError
from engine.ledger import CostKind, Ledger
from engine.metrics import compute_metrics
from engine.model.simulation import simulate
from engine.scenario.loading import load_scenario
from engine.scenario.references import check_references
from engine.scenario.schema import Scenario
from engine.theory import exponential_survival, hazard_from_period_rate
from tests.engine.model.conftest import merge
from tests.engine.model.scenarios import NEUTRAL_EXITS, Z, assert_survival, campaign, member_scenario

SEED = 20240614

# ============================================================================ referrals
N = 2000  # members joining on day 0
ACQUISITION = 60.0
STEP = 7.0
MONTHLY_RATE = 0.6
QUALITY = 0.5
REWARD = 50.0


def referral_scenario(
    build_scenario: Any,
    *,
    referral: dict[str, Any] | None = None,
    ref_source: dict[str, Any] | None = None,
    carrier: dict[str, Any] | None = None,
    horizon_days: float = 90.0,
    **sections: Any,
) -> Scenario:
    """N members joining one carrier on day 0 (fixed arrivals, half buy on the visit), nobody ever leaving
    or buying again; friends arrive through source ``ref`` (kind referral, no reach of its own), buy on the
    visit and — unless ``ref_source`` says otherwise — never join, so the pool stays N."""
    overrides: dict[str, Any] = {
        "horizon": {
            "acquisition_days": ACQUISITION,
            "horizon_days": horizon_days,
            "clv_horizon_days": 30.0,
            "step_days": STEP,
        },
        "sources": [
            {
                "id": "src",
                "arrivals": "fixed",
                "reach": {"organic_per_day": N},
                "active_until_day": 1.0,
                "first_purchase_probability": 0.5,
                "take_rate": 1.0,
                "path": "add",
            },
            merge(
                {"id": "ref", "kind": "referral", "first_purchase_probability": 1.0, "take_rate": 0.0},
                ref_source or {},
            ),
        ],
        "paths": [{"id": "add", "carrier": "wecom"}],
        "carriers": [
            merge(
                {"id": "wecom", "kind": "wecom", "monthly_exit_rate": 0.0, "capacity_per_account": 1_000_000},
                carrier or {},
            )
        ],
        "behaviour": {
            "purchase_rate": {"dist": "fixed", "value": 0.0},
            "dropout": {"dist": "fixed", "value": 0.0},
        },
        "referral": merge(
            {"source": "ref", "monthly_rate": MONTHLY_RATE, "service_quality": QUALITY}, referral or {}
        ),
    }
    return build_scenario(merge(overrides, sections))


def members_at_reviews(ledger: Ledger) -> np.ndarray:
    """Members (intro, growth, mature, dormant) at each review."""
    return ledger.snapshot_stages[:, :4].sum(axis=1)


def expected_referrals(ledger: Ledger, daily_rate: float) -> float:
    """Σ over reviews in the acquisition window of members × daily rate × the step that review covers."""
    days = ledger.snapshot_days
    duration = np.clip(np.minimum(STEP, ledger.acquisition_days - days), 0.0, None)
    return float(np.sum(members_at_reviews(ledger) * daily_rate * duration))


def referred(ledger: Ledger) -> np.ndarray:
    return ledger.people.source == ledger.referral_source


def test_a_fixed_pool_refers_at_rate_times_quality(build_scenario: Any) -> None:
    """N members, none joining or leaving after day 0: friends over the window are Poisson with mean
    N·m·q/30·(60 − 7) (the members join during day 0, so the review at 0 finds none; the reviews at 7 … 56
    cover [7, 60)). SE √mean. The last review covers only [56, 60): its friends are Poisson(N·m·q/30·4)."""
    ledger = simulate(referral_scenario(build_scenario), SEED)
    daily = MONTHLY_RATE * QUALITY / 30
    members = members_at_reviews(ledger)
    inside = ledger.snapshot_days < ACQUISITION
    assert members[0] == 0 and np.all(members[inside][1:] == N)
    expected = N * daily * (ACQUISITION - STEP)
    assert expected_referrals(ledger, daily) == pytest.approx(expected)
    friends = int(ledger.visitors[1])
    assert abs(friends - expected) < Z * math.sqrt(expected), (friends, expected)
    # friends who buy on the visit are rows: all of them, all inside [7, 60)
    visits = ledger.people.visit_day[referred(ledger)]
    assert visits.size == friends
    assert visits.min() >= STEP and visits.max() < ACQUISITION
    last = int(np.sum(visits >= 56.0))
    expected_last = N * daily * 4.0
    assert abs(last - expected_last) < Z * math.sqrt(expected_last), (last, expected_last)


def test_referrals_stop_when_acquisition_ends(build_scenario: Any) -> None:
    """Members stay to day 200, but friends come only in the acquisition window."""
    ledger = simulate(referral_scenario(build_scenario, horizon_days=200.0), SEED)
    assert members_at_reviews(ledger)[-1] == N
    visits = ledger.people.visit_day[referred(ledger)]
    assert visits.size > 0 and visits.max() < ACQUISITION


def test_referred_joiners_earn_rewards_and_make_the_k_factor(build_scenario: Any) -> None:
    """Friends join (take rate 1) and refer in turn: the pool grows, so the expected number of friends is
    read from the review snapshots (Poisson given the pool, SE √mean). Rewards are reward_per_join × friends
    who joined, to the cent; k_factor and referral_share are the referred shares of joiners and buyers."""
    scenario = referral_scenario(
        build_scenario,
        referral={"reward_per_join": REWARD},
        ref_source={"take_rate": 1.0, "path": "add"},
    )
    ledger = simulate(scenario, SEED)
    daily = MONTHLY_RATE * QUALITY / 30
    expected = expected_referrals(ledger, daily)
    assert expected > N * daily * (ACQUISITION - STEP)  # the pool grew
    friends = int(ledger.visitors[1])
    assert abs(friends - expected) < Z * math.sqrt(expected), (friends, expected)

    people, costs = ledger.people, ledger.costs
    ref = referred(ledger)
    joined = ~np.isnan(people.join_day)
    bought = ~np.isnan(people.first_purchase_day)
    assert int(ref.sum()) == friends and bool(np.all(joined[ref]))
    rewards = costs.amount[costs.kind == CostKind.REFERRAL_REWARD]
    assert rewards.sum() == pytest.approx(REWARD * friends, rel=1e-12)
    assert np.all(costs.source[costs.kind == CostKind.REFERRAL_REWARD] == 1)
    metrics = compute_metrics(ledger)
    assert metrics["k_factor"] == pytest.approx(friends / (N + friends), rel=1e-12)
    assert metrics["k_factor"] == pytest.approx(rewards.sum() / REWARD / joined.sum(), rel=1e-12)
    # half the first members bought on the visit, every friend did
    assert metrics["referral_share"] == pytest.approx(friends / bought.sum(), rel=1e-12)
    assert 0 < metrics["referral_share"] < 1
    assert metrics["acquisition_cost"] == pytest.approx(REWARD * friends, rel=1e-12)


def test_rewards_are_paid_only_for_friends_admitted(build_scenario: Any) -> None:
    """The carrier has room for 100 more than the first N and turns the rest away: exactly 100 friends join,
    and exactly 100 rewards are paid; the others are turned away but still buy."""
    scenario = referral_scenario(
        build_scenario,
        referral={"reward_per_join": REWARD},
        ref_source={"take_rate": 1.0, "path": "add"},
        carrier={"capacity_per_account": N + 100, "when_full": "turn_away"},
    )
    ledger = simulate(scenario, SEED)
    ref = referred(ledger)
    friends = int(ledger.visitors[1])
    assert friends > 100
    joined = ~np.isnan(ledger.people.join_day)
    assert int(np.sum(ref & joined)) == 100
    assert int(ref.sum()) == friends
    assert int(ledger.turned_away[0]) == friends - 100
    costs = ledger.costs
    assert costs.amount[costs.kind == CostKind.REFERRAL_REWARD].sum() == pytest.approx(100 * REWARD)
    assert compute_metrics(ledger)["k_factor"] == pytest.approx(100 / (N + 100))


def test_tier_rates_apply_to_the_members_of_each_tier(build_scenario: Any) -> None:
    """Tier "buyers" (a purchase) refers at 1.2 a month, tier "rest" is not listed and takes the default
    0.3: friends ≈ Σ_{reviews ≥ 7} (B·1.2 + (N − B)·0.3)·q/30·step, B the members who bought (day 0)."""
    by_tier, default = 1.2, 0.3
    scenario = referral_scenario(
        build_scenario,
        referral={"monthly_rate": default, "monthly_rate_by_tier": {"buyers": by_tier}},
        tiers=[{"id": "buyers", "when": {"purchases": {"gte": 1}}}, {"id": "rest"}],
    )
    ledger = simulate(scenario, SEED)
    buyers = int(np.sum(~np.isnan(ledger.people.first_purchase_day) & (ledger.people.source == 0)))
    assert abs(buyers - 0.5 * N) < Z * math.sqrt(N * 0.25), buyers  # binomial(N, 0.5)
    expected = (buyers * by_tier + (N - buyers) * default) * QUALITY / 30 * (ACQUISITION - STEP)
    friends = int(ledger.visitors[1])
    assert abs(friends - expected) < Z * math.sqrt(expected), (friends, expected)
    # not what the default rate alone, or the tier rate alone, would give
    for wrong_rate in (default, by_tier):
        wrong = N * wrong_rate * QUALITY / 30 * (ACQUISITION - STEP)
        assert abs(friends - wrong) > Z * math.sqrt(wrong), (friends, wrong)


def test_a_tier_rate_raises_referrals(build_scenario: Any) -> None:
    """Everyone in one tier "fans" referring at 3× the default: about 3× the friends of the same scenario
    without the tier rate (each run within 4 SE of its own expectation, and clearly apart)."""
    tiers = [{"id": "fans"}]
    plain = simulate(referral_scenario(build_scenario, tiers=tiers), SEED)
    fans = simulate(
        referral_scenario(
            build_scenario, referral={"monthly_rate_by_tier": {"fans": 3 * MONTHLY_RATE}}, tiers=tiers
        ),
        SEED,
    )
    counts = []
    for ledger, rate in ((plain, MONTHLY_RATE), (fans, 3 * MONTHLY_RATE)):
        assert np.all(ledger.people.tier_end[ledger.people.source == 0] == 0)
        expected = N * rate * QUALITY / 30 * (ACQUISITION - STEP)
        friends = int(ledger.visitors[1])
        assert abs(friends - expected) < Z * math.sqrt(expected), (rate, friends, expected)
        counts.append(friends)
    assert counts[1] > 2 * counts[0]


def test_no_referrals_without_good_service(build_scenario: Any) -> None:
    """service_quality 0 multiplies every rate (default and tier) by 0: no friend, no reward."""
    scenario = referral_scenario(
        build_scenario,
        referral={
            "service_quality": 0.0,
            "reward_per_join": REWARD,
            "monthly_rate": 100.0,
            "monthly_rate_by_tier": {"fans": 100.0},
        },
        ref_source={"take_rate": 1.0, "path": "add"},
        tiers=[{"id": "fans"}],
    )
    ledger = simulate(scenario, SEED)
    assert int(ledger.visitors[1]) == 0
    assert not np.any(referred(ledger))
    assert not np.any(ledger.costs.kind == CostKind.REFERRAL_REWARD)
    metrics = compute_metrics(ledger)
    assert metrics["k_factor"] == 0.0 and metrics["referral_share"] == 0.0


def test_the_referral_source_must_be_of_kind_referral(build_scenario: Any, tmp_path: Path) -> None:
    """Naming a paid source, or an unknown one, or an unknown tier, is a reference problem."""
    paid = referral_scenario(build_scenario, ref_source={"kind": "paid"})
    problems = check_references(paid)
    assert [location for location, _ in problems] == [("referral", "source")]
    assert "kind referral" in problems[0][1] and "paid" in problems[0][1]
    assert check_references(referral_scenario(build_scenario)) == []

    unknown = referral_scenario(build_scenario, referral={"source": "friends"})
    assert [location for location, _ in check_references(unknown)] == [("referral", "source")]
    no_tier = referral_scenario(build_scenario, referral={"monthly_rate_by_tier": {"kocs": 1.0}})
    assert [location for location, _ in check_references(no_tier)] == [
        ("referral", "monthly_rate_by_tier", "kocs")
    ]

    path = tmp_path / "paid_referral.yaml"
    path.write_text(
        "meta: {name: paid referral}\n"
        "sources:\n"
        "  - {id: ads, kind: paid, reach: {organic_per_day: 10}}\n"
        "products: [{id: goods}]\n"
        "referral: {source: ads}\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError, match="kind referral"):
        load_scenario(path)


def test_referral_source_spend_is_booked_once_per_day(build_scenario: Any) -> None:
    """10 a day of spend on the referral source over 60 days is 600 of media spend, friends or not."""
    ledger = simulate(referral_scenario(build_scenario, ref_source={"spend_per_day": 10.0}), SEED)
    costs = ledger.costs
    media = costs.amount[(costs.kind == CostKind.MEDIA) & (costs.source == 1)]
    assert media.sum() == pytest.approx(10.0 * ACQUISITION)  # the model books ~1 130


def test_referrals_respect_the_referral_source_active_window(build_scenario: Any) -> None:
    """A referral programme active until day 20: no friend should arrive after day 20."""
    ledger = simulate(referral_scenario(build_scenario, ref_source={"active_until_day": 20.0}), SEED)
    visits = ledger.people.visit_day[referred(ledger)]
    assert visits.size > 0
    assert visits.max() < 20.0  # the model brings friends up to day 60


# ============================================================================ persona and seed users
N_MEMBERS = 20_000
MONTHLY_EXIT = 0.1
SURVIVAL_DAYS = (30, 90, 180)


def carrier_scenario(build_scenario: Any, carrier: dict[str, Any]) -> Scenario:
    """N_MEMBERS joining one carrier on day 0, every exit multiplier other than the carrier's own 1."""
    return member_scenario(
        build_scenario,
        members=N_MEMBERS,
        horizon=200,
        clv=180,
        carrier={"monthly_exit_rate": MONTHLY_EXIT, "capacity_per_account": 100_000, **carrier},
        **NEUTRAL_EXITS,
    )


@pytest.mark.parametrize(
    ("case", "carrier", "factor"),
    [
        ("persona ×0.5", {"persona": True, "persona_exit_multiplier": 0.5}, 0.5),
        ("no persona: multiplier unused", {"persona": False, "persona_exit_multiplier": 0.5}, 1.0),
        ("seed users ×0.6", {"seed_users_per_account": 3, "seed_user_exit_multiplier": 0.6}, 0.6),
        (
            "no seed users: multiplier unused",
            {"seed_users_per_account": 0, "seed_user_exit_multiplier": 0.6},
            1.0,
        ),
        (
            "persona and seed users ×0.5×0.6",
            {
                "persona": True,
                "persona_exit_multiplier": 0.5,
                "seed_users_per_account": 3,
                "seed_user_exit_multiplier": 0.6,
            },
            0.3,
        ),
    ],
)
def test_persona_and_seed_users_scale_the_exit_hazard(
    build_scenario: Any, case: str, carrier: dict[str, Any], factor: float
) -> None:
    """S(t) = exp(−h·factor·t), h the carrier's hazard from its monthly exit rate; binomial SE."""
    ledger = simulate(carrier_scenario(build_scenario, carrier), SEED)
    hazard = factor * hazard_from_period_rate(MONTHLY_EXIT, 30)
    for days in SURVIVAL_DAYS:
        assert_survival(ledger, days, exponential_survival(days, hazard), N_MEMBERS, case)


def test_seed_users_cost_per_account_and_day(build_scenario: Any) -> None:
    """4 accounts (20 000 members, 6 000 a account) × (90 running + 3 seed users × 30) / 30 = 24 a day, each
    review charging it for its step: 24 × 200 days = 4 800 of ops cost, exactly."""
    carrier = {
        "capacity_per_account": 6000,
        "cost_per_account_month": 90.0,
        "seed_users_per_account": 3,
        "seed_user_monthly_cost": 30.0,
    }
    ledger = simulate(carrier_scenario(build_scenario, carrier), SEED)
    assert int(ledger.accounts_end[0]) == 4
    costs = ledger.costs
    running = costs.kind == CostKind.ACCOUNT_RUNNING
    days = np.sort(costs.day[running])
    steps = np.diff(np.concatenate([[0.0], days]))
    np.testing.assert_allclose(np.sort(costs.amount[running]), np.sort(4 * 6.0 * steps), rtol=1e-12)
    assert costs.amount[running].sum() == pytest.approx(4 * 6.0 * 200, rel=1e-12)
    assert compute_metrics(ledger)["ops_cost"] == pytest.approx(4800.0, rel=1e-12)


def test_seed_user_cost_needs_seed_users(build_scenario: Any) -> None:
    """A seed-user price with no seed users costs nothing."""
    carrier = {"seed_users_per_account": 0, "seed_user_monthly_cost": 30.0}
    ledger = simulate(carrier_scenario(build_scenario, carrier), SEED)
    assert not np.any(ledger.costs.kind == CostKind.ACCOUNT_RUNNING)


N_TOUCHED = 5000


@pytest.mark.parametrize(
    ("persona", "response", "probability"),
    [(False, 0.2, 0.2), (True, 0.2, 0.3), (True, 0.8, 1.0)],
)
def test_a_persona_raises_responses_to_touches(
    build_scenario: Any, persona: bool, response: float, probability: float
) -> None:
    """One send on day 5 reaching all 5 000 members: responders ≈ reached × min(1, p × 1.5) with a persona
    (binomial SE; all of them when capped at 1), reached × p without one."""
    scenario = member_scenario(
        build_scenario,
        [campaign(schedule={"days": [5.0]}, response={"default": response})],
        members=N_TOUCHED,
        carrier={"persona": persona, "persona_response_multiplier": 1.5},
    )
    ledger = simulate(scenario, SEED)
    reached = int(ledger.campaign_reached[0])
    assert reached == N_TOUCHED
    responders = int(np.sum(ledger.purchases.campaign == 0))
    if probability == 1.0:
        assert responders == reached
    else:
        se = math.sqrt(reached * probability * (1 - probability))
        assert abs(responders - reached * probability) < Z * se, (responders, reached * probability, se)
