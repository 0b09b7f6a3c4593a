"""Property tests of the model over random small scenarios: conservation, money, determinism, breakdowns.

Each example is tiny (≤ 30 acquisition days, ≤ 120 days in all, a few hundred visitors) so that hypothesis
can try many shapes of scenario: several sources, lures with deal-seekers and fulfilment delays, paths with
steps, carriers of small capacity that turn joiners away or open accounts, activation onto a second carrier,
both purchase timings.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.ledger import ACQUISITION_KINDS, CostKind, Ledger, Stage
from engine.metrics import compute_breakdown, compute_metrics
from engine.model.simulation import simulate
from engine.scenario.schema import Scenario

PROPERTY_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REL = 1e-6


def unit(low: float = 0.0, high: float = 1.0) -> st.SearchStrategy[float]:
    return st.floats(min_value=low, max_value=high, allow_nan=False)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """A random valid scenario with at most a few hundred visitors."""
    acquisition = draw(st.one_of(st.integers(1, 30).map(float), unit(0.5, 30.0)))
    clv_days = draw(unit(1.0, 60.0))
    horizon = min(120.0, acquisition + clv_days + draw(unit(0.0, 30.0)))
    step = draw(st.sampled_from([1.0, 2.5, 7.0, 14.0]))

    n_carriers = draw(st.integers(1, 2))
    carriers = []
    for c in range(n_carriers):
        accounts = draw(st.integers(0, 3))
        carriers.append(
            {
                "id": f"carrier{c}",
                "monthly_exit_rate": draw(st.sampled_from([0.0, 0.05, 0.3, 0.9])),
                "capacity_per_account": draw(st.integers(1, 60)),
                "accounts": accounts,
                "when_full": draw(st.sampled_from(["turn_away", "open_account"])),
                "max_accounts": draw(st.integers(1, 5)),
                "account_open_cost": draw(unit(0.0, 50.0)),
                "cost_per_account_month": draw(unit(0.0, 300.0)),
            }
        )
    paths = [
        {
            "id": f"path{c}",
            "carrier": f"carrier{c}",
            "steps": [
                {"name": f"step{k}", "pass_rate": draw(unit(0.05, 1.0))}
                for k in range(draw(st.integers(0, 3)))
            ],
        }
        for c in range(n_carriers)
    ]
    lures = [
        {
            "id": f"lure{k}",
            "kind": draw(st.sampled_from(["reward", "service", "relationship"])),
            "take_rate_multiplier": draw(unit(0.0, 4.0)),
            "cost_per_taker": draw(unit(0.0, 20.0)),
            "fulfilment_delay_days": draw(unit(0.0, 20.0)),
            "waiting_exit_multiplier": draw(unit(1.0, 5.0)),
            "deal_seeker_share": draw(unit()),
        }
        for k in range(draw(st.integers(0, 2)))
    ]
    activation: dict[str, Any] = {
        "window_days": draw(unit(0.0, 20.0)),
        "activation_rate": draw(unit()),
        "unactivated_exit_multiplier": draw(unit(1.0, 5.0)),
    }
    if n_carriers > 1 and draw(st.booleans()):
        activation |= {
            "second_carrier": draw(st.sampled_from([c["id"] for c in carriers])),
            "second_carrier_rate": draw(unit()),
        }
    usable_paths = [p["id"] for p in paths]

    n_sources = draw(st.integers(1, 3))
    sources = []
    for s in range(n_sources):
        source: dict[str, Any] = {
            "id": f"source{s}",
            "kind": draw(st.sampled_from(["social", "ecommerce", "offline", "paid", "referral"])),
            "arrivals": draw(st.sampled_from(["poisson", "fixed"])),
            "spend_per_day": draw(st.sampled_from([0.0, 10.0, 250.0])),
            "fixed_cost": draw(st.sampled_from([0.0, 99.5])),
            "reach": {
                "organic_per_day": draw(unit(0.0, 8.0)),
                "max_paid_per_day": draw(unit(0.0, 6.0)),
                "saturation_spend": draw(unit(1.0, 500.0)),
            },
            "visit_rate": draw(unit()),
            "precision": draw(unit()),
            "first_purchase_probability": draw(unit()),
            "join_offered_to": draw(st.sampled_from(["all", "buyers"])),
            "take_rate": draw(unit()),
            "path": draw(st.one_of(st.none(), st.sampled_from(usable_paths))),
        }
        if lures and draw(st.booleans()):
            source["lure"] = draw(st.sampled_from([lure["id"] for lure in lures]))
        sources.append(source)

    purchase_rate = draw(
        st.one_of(
            st.builds(
                lambda shape, mean: {"dist": "gamma", "shape": shape, "rate": shape / mean},
                unit(0.3, 5.0),
                unit(0.005, 0.3),
            ),
            st.builds(lambda value: {"dist": "fixed", "value": value}, unit(0.0, 0.3)),
        )
    )
    dropout = draw(
        st.one_of(
            st.builds(lambda a, b: {"dist": "beta", "a": a, "b": b}, unit(0.2, 5.0), unit(0.2, 10.0)),
            st.builds(lambda value: {"dist": "fixed", "value": value}, unit()),
        )
    )
    products = [
        {
            "id": f"product{k}",
            "price": draw(
                st.one_of(
                    st.builds(lambda v: {"dist": "fixed", "value": v}, unit(0.0, 500.0)),
                    st.builds(
                        lambda m, sd: {"dist": "lognormal", "mean": m, "sd": sd},
                        unit(1.0, 500.0),
                        unit(0.0, 200.0),
                    ),
                )
            ),
            "unit_cost": draw(unit(0.0, 50.0)),
            "unit_cost_share": draw(unit(0.0, 0.8)),
            "weight": draw(unit(0.1, 5.0)),
        }
        for k in range(draw(st.integers(1, 2)))
    ]
    data = {
        "meta": {"name": "random"},
        "horizon": {
            "acquisition_days": acquisition,
            "horizon_days": horizon,
            "clv_horizon_days": clv_days,
            "discount_rate": draw(st.sampled_from([0.0, 0.1])),
            "step_days": step,
        },
        "sources": sources,
        "lures": lures,
        "paths": paths,
        "carriers": carriers,
        "activation": activation,
        "lifecycle": {
            "mature_after_purchases": draw(st.integers(1, 5)),
            "dormant_after_days": draw(unit(5.0, 60.0)),
            "dormant_exit_multiplier": draw(unit(1.0, 4.0)),
        },
        "behaviour": {
            "purchase_rate": purchase_rate,
            "dropout": dropout,
            "timing": draw(st.sampled_from(["poisson", "regular"])),
            "membership_rate_multiplier": draw(unit(0.5, 2.0)),
            "deal_seeker_rate_multiplier": draw(unit(0.0, 1.5)),
            "deal_seeker_exit_multiplier": draw(unit(1.0, 4.0)),
        },
        "products": products,
    }
    return Scenario.model_validate(data)


cases = st.tuples(scenarios(), st.integers(0, 2**32 - 1))


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL, abs_tol=REL)


# =============================================================================== conservation
@PROPERTY_SETTINGS
@given(cases)
def test_every_visitor_is_counted_once(case: tuple[Scenario, int]) -> None:
    scenario, seed = case
    ledger = simulate(scenario, seed)
    people = ledger.people
    metrics = compute_metrics(ledger)
    visitors = int(ledger.visitors.sum())
    joined = ~np.isnan(people.join_day)
    bought = ~np.isnan(people.first_purchase_day)

    # Every row is exactly one of: buyer only, member at the end, left the private domain.
    buyer_only = ~joined & bought
    member_end = people.leave_day == np.inf
    left = np.isfinite(people.leave_day)
    assert np.all(buyer_only.astype(int) + member_end + left == 1)
    assert np.array_equal(joined, member_end | left)  # leave_day is nan exactly for people who never joined
    lost = visitors - len(people)
    assert lost >= 0
    assert buyer_only.sum() + member_end.sum() + left.sum() + lost == visitors

    assert metrics["visitors"] == visitors
    assert metrics["new_members"] == joined.sum() <= visitors
    assert metrics["new_customers"] == bought.sum() <= visitors
    assert metrics["members_end"] == member_end.sum() <= metrics["new_members"]

    # Fixed arrivals bring the expected number exactly (fractions carried over).
    for index, source in enumerate(scenario.sources):
        if source.arrivals == "fixed":
            reach = source.reach
            per_day = reach.organic_per_day + reach.max_paid_per_day * -math.expm1(
                -source.spend_per_day / reach.saturation_spend
            )
            expected = per_day * source.visit_rate * scenario.horizon.acquisition_days
            assert abs(ledger.visitors[index] - expected) < 1 + 1e-6, (
                index,
                ledger.visitors[index],
                expected,
            )

    # Times are ordered and inside the horizon.
    assert np.all(people.visit_day[joined] == people.join_day[joined])
    assert np.all(people.leave_day[joined] >= people.join_day[joined])
    assert np.all((people.visit_day >= 0) & (people.visit_day < scenario.horizon.acquisition_days))
    purchases = ledger.purchases
    assert np.all(purchases.day >= people.visit_day[purchases.person])
    assert np.all(purchases.day <= ledger.horizon_days)
    if len(purchases):
        first = np.full(len(people), np.inf)
        np.minimum.at(first, purchases.person, purchases.day)
        np.testing.assert_array_equal(first[bought], people.first_purchase_day[bought])
        assert np.all(first[~bought] == np.inf)  # nobody without a first purchase day ever bought

    # Memberships: a person leaves the private domain at the last exit from their carriers.
    memberships = ledger.memberships
    assert np.all(memberships.exit_day >= memberships.join_day)
    assert np.all(joined[memberships.person])
    last_exit = np.full(len(people), -np.inf)
    np.maximum.at(last_exit, memberships.person, memberships.exit_day)
    np.testing.assert_array_equal(last_exit[joined], people.leave_day[joined])

    # Lifecycle stages at the end: -1 for non-members, churned exactly for those who left, and every review's
    # stage counts (churned included) add up to the people who had joined by then.
    assert np.all(people.stage_end[~joined] == Stage.NOT_MEMBER)
    assert np.all(people.stage_end[left] == Stage.CHURNED)
    assert np.all(
        np.isin(people.stage_end[member_end], [Stage.INTRO, Stage.GROWTH, Stage.MATURE, Stage.DORMANT])
    )
    assert ledger.snapshot_days[-1] == ledger.horizon_days and np.all(np.diff(ledger.snapshot_days) > 0)
    joined_by = (people.join_day[joined][None, :] <= ledger.snapshot_days[:, None]).sum(axis=1)
    np.testing.assert_array_equal(ledger.snapshot_stages.sum(axis=1), joined_by)
    np.testing.assert_array_equal(
        ledger.snapshot_stages[-1], np.bincount(people.stage_end[joined].astype(np.int64), minlength=5)[:5]
    )

    # Capacity: a carrier that turns joiners away never holds more than its accounts allow.
    for index, carrier in enumerate(scenario.carriers):
        on = np.sum((memberships.carrier == index) & (memberships.exit_day == np.inf))
        if carrier.when_full == "turn_away":
            assert ledger.accounts_end[index] == carrier.accounts
            assert on <= carrier.accounts * carrier.capacity_per_account
        else:
            assert ledger.accounts_end[index] <= max(carrier.accounts, carrier.max_accounts)
            if ledger.turned_away[index]:  # turned away only once no more accounts could be opened
                assert ledger.accounts_end[index] >= carrier.max_accounts


# =============================================================================== money
@PROPERTY_SETTINGS
@given(cases)
def test_money_adds_up(case: tuple[Scenario, int]) -> None:
    scenario, seed = case
    ledger = simulate(scenario, seed)
    m = compute_metrics(ledger)
    assert close(m["profit"], m["gross_margin"] - m["total_cost"])
    assert close(m["total_cost"], m["acquisition_cost"] + m["ops_cost"])
    assert close(m["revenue"], float(ledger.purchases.amount.sum()))
    assert close(m["gross_margin"], m["revenue"] - float(ledger.purchases.cost_of_goods.sum()))

    # The acquisition cost rebuilt from the scenario: media spend over the window, fixed costs, and each
    # lure's cost per member who took it.
    acquisition = scenario.horizon.acquisition_days
    lure_index = {lure.id: i for i, lure in enumerate(scenario.lures)}
    joined = ~np.isnan(ledger.people.join_day)
    expected = sum(s.spend_per_day * acquisition + s.fixed_cost for s in scenario.sources)
    expected += sum(
        lure.cost_per_taker * np.sum(joined & (ledger.people.lure == lure_index[lure.id]))
        for lure in scenario.lures
    )
    assert close(m["acquisition_cost"], expected)
    costs = ledger.costs
    assert np.all(costs.amount >= 0)
    assert np.all((costs.day >= 0) & (costs.day <= ledger.horizon_days))

    # Without account openings, running costs are accounts × monthly cost / 30 × horizon days.
    if all(c.when_full == "turn_away" for c in scenario.carriers):
        running = sum(
            c.accounts * c.cost_per_account_month / 30 * scenario.horizon.horizon_days
            for c in scenario.carriers
        )
        assert close(float(costs.amount[costs.kind == CostKind.ACCOUNT_RUNNING].sum()), running)
        assert not np.any(costs.kind == CostKind.ACCOUNT_OPEN)
    if m["new_customers"]:
        assert close(m["cac"], m["acquisition_cost"] / m["new_customers"])


# =============================================================================== determinism
def assert_same_ledgers(a: Ledger, b: Ledger) -> None:
    for table in ("people", "purchases", "costs", "memberships"):
        left, right = getattr(a, table), getattr(b, table)
        for name in left.__dataclass_fields__:
            x, y = getattr(left, name), getattr(right, name)
            assert x.dtype == y.dtype, (table, name)
            assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), (table, name)
    for name in ("visitors", "turned_away", "snapshot_days", "snapshot_stages", "accounts_end"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


def same_metrics(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.keys() == b.keys() and all(
        (a[k] is None and b[k] is None) or (a[k] is not None and b[k] is not None and a[k] == b[k]) for k in a
    )


@PROPERTY_SETTINGS
@given(cases)
def test_same_seed_same_ledger_and_other_seed_other_purchases(case: tuple[Scenario, int]) -> None:
    scenario, seed = case
    first = simulate(scenario, seed)
    again = simulate(scenario, seed)
    assert_same_ledgers(first, again)
    assert same_metrics(compute_metrics(first), compute_metrics(again))

    other = simulate(scenario, seed + 1)
    if len(first.purchases) and len(other.purchases):
        differs = len(first.purchases) != len(other.purchases) or not np.array_equal(
            first.purchases.day, other.purchases.day
        )
        assert differs
    # Another replication under the same root seed is another draw too.
    replica = simulate(scenario, seed, replication=1)
    if len(first.purchases) and len(replica.purchases):
        assert len(first.purchases) != len(replica.purchases) or not np.array_equal(
            first.purchases.day, replica.purchases.day
        )


# =============================================================================== breakdowns
@PROPERTY_SETTINGS
@given(cases)
def test_breakdowns_add_up_to_the_totals(case: tuple[Scenario, int]) -> None:
    scenario, seed = case
    ledger = simulate(scenario, seed)
    total = compute_metrics(ledger)
    breakdown = compute_breakdown(ledger)
    by_source = breakdown["source"].values()
    for name in ("visitors", "new_customers", "new_members", "revenue", "gross_margin", "acquisition_cost"):
        assert close(sum(row[name] for row in by_source), total[name]), name
    # Every member joined through exactly one (primary) carrier.
    assert sum(row["new_members"] for row in breakdown["carrier"].values()) == total["new_members"]
    # Acquisition costs are all tagged with their source, so the lure view holds exactly the lure costs.
    lure_costs = float(ledger.costs.amount[ledger.costs.kind == CostKind.LURE].sum())
    lure_view = sum(row["acquisition_cost"] for row in breakdown["lure"].values())
    in_lure_sources = float(
        ledger.costs.amount[np.isin(ledger.costs.kind, ACQUISITION_KINDS) & (ledger.costs.lure >= 0)].sum()
    )
    assert close(lure_view, in_lure_sources)
    assert lure_costs <= lure_view + REL


# =============================================================================== engine bugs (regressions)
NO_PEOPLE: dict[str, Any] = {
    "meta": {"name": "nobody comes"},
    "horizon": {"acquisition_days": 5, "horizon_days": 20, "clv_horizon_days": 10},
    "sources": [{"id": "kol", "fixed_cost": 500.0, "spend_per_day": 10.0, "reach": {"organic_per_day": 0}}],
    "products": [{"id": "tea"}],
}


def test_breakdown_of_a_ledger_without_people() -> None:
    """A campaign that brings nobody (a KOL fee, no visitors) still has a breakdown: its cost, no people.

    Regression: metrics.subset once remapped costs.person through an empty index array (IndexError)."""
    ledger = simulate(Scenario.model_validate(NO_PEOPLE), 1)
    assert len(ledger.people) == 0 and len(ledger.costs) > 0
    breakdown = compute_breakdown(ledger)
    assert breakdown["source"]["kol"]["acquisition_cost"] == 500.0 + 10.0 * 5


LAST_STEP: dict[str, Any] = {
    "meta": {"name": "last step"},
    # horizon a multiple of step_days: the last review is due exactly at the horizon
    "horizon": {"acquisition_days": 1, "horizon_days": 203, "clv_horizon_days": 180, "step_days": 7},
    "sources": [
        {
            "id": "shop",
            "arrivals": "fixed",
            "reach": {"organic_per_day": 1000},
            "first_purchase_probability": 1.0,
            "take_rate": 1.0,
            "path": "add",
        }
    ],
    "paths": [{"id": "add", "carrier": "wecom"}],
    "carriers": [{"id": "wecom", "monthly_exit_rate": 0.1, "cost_per_account_month": 30.0}],
    "behaviour": {
        "purchase_rate": {"dist": "fixed", "value": 1.0},
        "dropout": {"dist": "fixed", "value": 0.0},
    },
    "products": [{"id": "tea", "price": {"dist": "fixed", "value": 1.0}}],
}


def test_the_last_step_of_the_horizon_is_simulated() -> None:
    """1000 buyers at 1 purchase a day, members leaving at 10% a month, one account at 30 a month: the last
    7 days (196, 203] must have purchases (~1000 a day), exits, their running cost and a stage review.

    Regression: Simulation.run once used env.run(until=horizon_days); simpy stops before the events due at
    `until`, so the review step ending at the horizon never ran."""
    ledger = simulate(Scenario.model_validate(LAST_STEP), 1)
    horizon = ledger.horizon_days
    days = ledger.purchases.day
    assert np.sum(days > horizon - 7) > 5000  # expected about 7000; zero if the step is skipped
    exits = ledger.memberships.exit_day
    # ~500 still on at day 196 (S = 0.9^(196/30)), of whom 500·(1 − 0.9^(7/30)) ≈ 12 leave in the last step
    assert np.sum((exits > horizon - 7) & np.isfinite(exits)) > 0
    running = float(ledger.costs.amount[ledger.costs.kind == CostKind.ACCOUNT_RUNNING].sum())
    assert running == pytest.approx(30.0 / 30.0 * horizon)
    assert ledger.snapshot_days[-1] == horizon


SECOND_IS_PRIMARY: dict[str, Any] = {
    "meta": {"name": "second carrier is also a path carrier"},
    "horizon": {"acquisition_days": 1, "horizon_days": 100, "clv_horizon_days": 90},
    "sources": [
        {
            "id": "shop",
            "arrivals": "fixed",
            "reach": {"organic_per_day": 1000},
            "take_rate": 1.0,
            "path": "join_group",
        }
    ],
    "paths": [{"id": "join_group", "carrier": "group"}],
    "carriers": [{"id": "group", "monthly_exit_rate": 0.5}],
    # Nobody is activated, so every exit from the group comes "before activation".
    "activation": {"activation_rate": 0.0, "second_carrier": "group"},
    "products": [{"id": "tea"}],
}


def test_second_carrier_that_is_also_a_path_carrier() -> None:
    """Members who joined the group through a path, when the group is also activation's second carrier
    (e.g. WeCom members are guided into the group while another source's path ends in the group), must keep
    their membership record and leave day when they leave the group before activation."""
    ledger = simulate(Scenario.model_validate(SECOND_IS_PRIMARY), 1)
    people = ledger.people
    joined = ~np.isnan(people.join_day)
    assert joined.sum() == 1000
    assert not np.isnan(people.leave_day[joined]).any()  # 903 of 1000 are nan
    assert len(ledger.memberships) == 1000  # 97 rows: the leavers' memberships are erased
    # S(30) = 0.5 at 50% a month: 1000 members give SE sqrt(0.25/1000) = 0.016; reported 0.097.
    assert abs(compute_metrics(ledger)["retention_d30"] - 0.5) < 4 * math.sqrt(0.25 / 1000)
