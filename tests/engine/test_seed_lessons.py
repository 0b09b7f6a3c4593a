"""Seed lessons reproduced by the shipped example scenarios: direction and rough size of each effect.

Each pair runs on the same seeds (common random numbers), so the paired difference per replication is
compared with its own Student-t 95% confidence interval.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from engine.runner import run
from engine.scenario import load_scenario
from engine.stats import summarize

EXAMPLES = "scenarios/examples"
REPS = 4
SEED = 11


def _paired(first: str, second: str, metric: str) -> tuple[float, float, float]:
    """Mean and 95% CI of ``metric(second) − metric(first)`` over paired replications."""
    a = run(load_scenario(f"{EXAMPLES}/{first}.yaml").scenario, REPS, SEED)
    b = run(load_scenario(f"{EXAMPLES}/{second}.yaml").scenario, REPS, SEED)
    diffs = [
        rb.metrics[metric] - ra.metrics[metric] for ra, rb in zip(a.replications, b.replications, strict=True)
    ]
    summary = summarize(diffs)
    assert summary.mean is not None and summary.ci_low is not None and summary.ci_high is not None
    return summary.mean, summary.ci_low, summary.ci_high


@pytest.mark.slow
def test_seed001_q9_daily_group_deals_pay_in_a_restaurant() -> None:
    """High-frequency category: daily deals are tolerated and add profit (seed 001 Q9)."""
    mean, low, high = _paired("seed001_q9_restaurant", "seed001_q9_restaurant_daily_deals", "profit")
    assert low > 0, (mean, low, high)
    _, _, annoyed_high = _paired(
        "seed001_q9_restaurant", "seed001_q9_restaurant_daily_deals", "annoyance_exits"
    )
    assert annoyed_high < 50  # a handful at most among thousands of members


@pytest.mark.slow
def test_seed001_q9_daily_group_deals_empty_a_low_frequency_brands_groups() -> None:
    """Low-frequency category: the same daily deals annoy members out of the groups and cost profit."""
    mean, low, high = _paired("seed001_q9_low_frequency", "seed001_q9_low_frequency_daily_deals", "profit")
    assert high < 0, (mean, low, high)
    base = run(load_scenario(f"{EXAMPLES}/seed001_q9_low_frequency.yaml").scenario, REPS, SEED).summary()
    deals = run(
        load_scenario(f"{EXAMPLES}/seed001_q9_low_frequency_daily_deals.yaml").scenario, REPS, SEED
    ).summary()
    assert base["members_end"].mean is not None and deals["members_end"].mean is not None
    assert deals["members_end"].mean < 0.1 * base["members_end"].mean  # the pool all but empties
    assert np.isclose(base["annoyance_exits"].mean or 0.0, 0.0)
    assert (deals["annoyance_exits"].mean or 0.0) > 0.5 * (base["new_members"].mean or 0.0)


@pytest.mark.slow
def test_seed002_the_same_budget_on_referral_brings_three_times_the_customers() -> None:
    """Seed 002: 100 000 a month on ads → ~100 customers a month; on referral incentives → ~300; CAC −2/3."""
    months = 12
    ads = run(load_scenario(f"{EXAMPLES}/seed002_ads.yaml").scenario, REPS, SEED).breakdown_summary()
    referral = run(load_scenario(f"{EXAMPLES}/seed002_referral.yaml").scenario, REPS, SEED)
    by_referral = referral.breakdown_summary()["source"]["referral"]
    by_ads = ads["source"]["ads"]
    assert by_ads["new_customers"].mean / months == pytest.approx(100, rel=0.1)
    assert by_referral["new_customers"].mean / months == pytest.approx(300, rel=0.15)
    assert by_ads["acquisition_cost"].mean / months == pytest.approx(100_000, rel=0.01)
    assert by_referral["acquisition_cost"].mean / months == pytest.approx(100_000, rel=0.15)
    ratio = by_referral["cac"].mean / by_ads["cac"].mean
    assert ratio == pytest.approx(1 / 3, abs=0.04)  # "CAC down by two thirds"
    summary = referral.summary()
    assert summary["k_factor"].mean > 0 and summary["referral_share"].mean > 0


@pytest.mark.slow
def test_seed004_fifteen_accounts_thirty_thousand_customers_ten_million_a_year() -> None:
    """Seed 004: 15 personal accounts gather ~30 000 customers in a year; with 2 staff, the members'
    purchases pass 10 million CNY a year."""
    from engine.model.simulation import simulate

    scenario = load_scenario(f"{EXAMPLES}/seed004_wechat_accounts.yaml").scenario
    assert scenario.carriers[0].accounts == 15 and scenario.staff[0].headcount == 2
    ledger = simulate(scenario, SEED)
    people, purchases = ledger.people, ledger.purchases
    members_after_a_year = np.sum((people.join_day <= 365) & (people.leave_day > 365))
    assert 27_000 <= members_after_a_year <= 33_000
    by_member = (people.join_day[purchases.person] <= purchases.day) & (
        people.leave_day[purchases.person] > purchases.day
    )
    second_year = (purchases.day >= 365) & (purchases.day < 730)
    assert purchases.amount[by_member & second_year].sum() > 10_000_000


@pytest.mark.slow
def test_seed003_people_who_carry_the_relationship_keep_members_at_a_cost() -> None:
    """Seed 003: a brand persona and seed users lower exits (higher retention) and cost money; KOL posts bring
    members for their fee."""
    base = run(load_scenario("scenarios/retail_store_wecom.yaml").scenario, 3, SEED)
    levers = run(load_scenario(f"{EXAMPLES}/seed003_people_carry_the_relationship.yaml").scenario, 3, SEED)
    base_summary, lever_summary = base.summary(), levers.summary()
    gain = summarize(
        [
            b.metrics["retention_d90"] - a.metrics["retention_d90"]  # type: ignore[operator]
            for a, b in zip(base.replications, levers.replications, strict=True)
        ]
    )
    assert gain.ci_low is not None and gain.ci_low > 0, gain  # paired on the same seeds
    kol = levers.breakdown_summary()["source"]["kol_posts"]
    media_fees = kol["acquisition_cost"].mean - 5 * kol["new_members"].mean  # lure: 5 CNY per new member
    assert media_fees == pytest.approx(80_000)
    assert kol["new_members"].mean > 100
    # seed users: 20 groups (or more, opened as they fill) × 3 × 200 CNY a month on top of the base's ops cost
    extra_ops = lever_summary["ops_cost"].mean - base_summary["ops_cost"].mean
    assert extra_ops >= 20 * 3 * 200 * 730 / 30 * 0.99


@pytest.mark.slow
def test_seed001_q10_doubling_advisers_converts_more_leads_at_a_cost() -> None:
    """Seed 001 Q10: with 2 advisers a clinic's leads queue and cool; with 4 they are served at once: more
    customers, lower CAC, and twice the adviser cost."""
    mean, low, _ = _paired("seed001_q10_clinic", "seed001_q10_clinic_double_advisers", "new_customers")
    assert low > 0, mean
    _, _, wait_high = _paired("seed001_q10_clinic", "seed001_q10_clinic_double_advisers", "mean_wait_days")
    assert wait_high < 0
    _, _, cac_high = _paired("seed001_q10_clinic", "seed001_q10_clinic_double_advisers", "cac")
    assert cac_high < 0
    extra, low_extra, high_extra = _paired(
        "seed001_q10_clinic", "seed001_q10_clinic_double_advisers", "ops_cost"
    )
    assert extra == pytest.approx(2 * 15_000 / 30 * 545) and low_extra == pytest.approx(high_extra)


def _cost_per_member_in_pool(name: str, days: tuple[float, ...]) -> list[float]:
    """Acquisition cost so far / members in the pool, at the given days (one replication)."""
    from engine.ledger import ACQUISITION_KINDS
    from engine.model.simulation import simulate

    ledger = simulate(load_scenario(f"{EXAMPLES}/{name}.yaml").scenario, SEED)
    acquisition = np.isin(ledger.costs.kind, ACQUISITION_KINDS)
    people = ledger.people
    return [
        float(ledger.costs.amount[acquisition & (ledger.costs.day <= day)].sum())
        / float(np.sum((people.join_day <= day) & (people.leave_day > day)))
        for day in days
    ]


@pytest.mark.slow
def test_seed003_harvest_and_trap_makes_the_cost_per_member_climb() -> None:
    """Seed 003: harvesting and trapping members makes them leave, so the same spend holds an ever smaller
    share of what it bought — cost per member in the pool climbs; an open base keeps it flat."""
    quarters = (90.0, 180.0, 270.0, 360.0)
    open_base = _cost_per_member_in_pool("seed003_open_base", quarters)
    harvest = _cost_per_member_in_pool("seed003_harvest_and_trap", quarters)
    assert open_base[-1] / open_base[0] < 1.2
    assert harvest[-1] / harvest[0] > 3.0
    assert all(later > earlier for earlier, later in itertools.pairwise(harvest))
