"""Figure data (engine/series.py): hand-made ledgers with hand counts, and the identities that tie each curve
to the metrics of the same ledger (retention points, payback day, CLV, top-20% share, profit, pool size)."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from engine.ledger import CostKind, Ledger, Memberships, Stage
from engine.metrics import (
    clv,
    compute_breakdown,
    compute_metrics,
    customer_clv,
    payback_days,
    retention,
    top20_revenue_share,
)
from engine.model.compiled import compile_scenario
from engine.model.simulation import simulate
from engine.run_folder import RunFolder
from engine.runner import ReplicationTask, run
from engine.scenario import load_scenario
from engine.series import (
    FUNNEL_STEPS,
    LEFT,
    flow_ends,
    funnel,
    is_replication_series,
    lorenz,
    member_flow,
    members_on_carriers,
    money,
    payback_curve,
    replication_series,
    retention_curve,
    retention_days,
    summarize_series,
)
from engine.stats import summarize
from tests.engine.conftest import RETAIL
from tests.engine.test_metrics import INF, NAN, buy, cost, make_ledger, person

TIERED_RETAIL_YAML = f"""\
extends: {RETAIL}
meta: {{name: "Retail stores, a twentieth of the traffic, with tiers (series tests)"}}
horizon: {{acquisition_days: 120, horizon_days: 500, clv_horizon_days: 365}}
sources:
  - id: store_qr
    reach: {{organic_per_day: 60}}
  - id: douyin_ads
    reach: {{max_paid_per_day: 3000}}
tiers:
  - {{id: die_hard, label: {{zh: 铁杆粉丝, en: die-hard fans}}, when: {{purchases: {{gte: 4}}}}}}
  - {{id: paying, label: {{zh: 付费, en: paying}}, when: {{purchases: {{gte: 1}}}}}}
  - {{id: others, label: {{zh: 普通, en: ordinary}}}}
"""


@pytest.fixture(scope="module")
def tiered_scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("series") / "tiered_retail.yaml"
    path.write_text(TIERED_RETAIL_YAML, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def simulated(tiered_scenario: Path) -> Ledger:
    """One stochastic replication with two sources, two carriers, activation, tiers and departures."""
    return simulate(compile_scenario(load_scenario(tiered_scenario).scenario), 5, 0)


# ---------------------------------------------------------------------------------------------------------
# Hand-made ledgers


def flow_ledger() -> Ledger:
    """Two sources on two carriers: three members still in (intro, mature, dormant), one who left, and a
    buyer who never joined."""
    people = [
        person(source=0, carrier=0, join=1.0, stage=Stage.INTRO),
        person(source=0, carrier=0, join=2.0, stage=Stage.MATURE),
        person(source=1, carrier=1, join=3.0, leave=50.0, stage=Stage.CHURNED),
        person(source=1, carrier=0, join=4.0, stage=Stage.DORMANT),
        person(source=1),
    ]
    purchases = [buy(0, 5.0, 10.0), buy(0, 9.0, 30.0), buy(1, 6.0, 20.0), buy(4, 1.0, 100.0)]
    return make_ledger(
        people,
        purchases,
        visitors=[10, 20],
        source_lure=(0, -1),
        source_carrier=(0, 1),
        n_lures=1,
        n_carriers=2,
    )


def test_member_flow_counts_each_member_once_by_source_carrier_and_end() -> None:
    ledger = flow_ledger()
    ends = flow_ends(ledger)
    assert ends == ("stage:intro", "stage:growth", "stage:mature", "stage:dormant", LEFT)
    counts = member_flow(ledger)
    assert counts.shape == (2, 2, 5)
    assert counts.sum() == 4  # the buyer who never joined is not in the flow of members
    assert counts[0, 0].tolist() == [1, 0, 1, 0, 0]
    assert counts[1, 1].tolist() == [0, 0, 0, 0, 1]  # left: the last end
    assert counts[1, 0].tolist() == [0, 0, 0, 1, 0]


def test_member_flow_ends_in_tiers_when_the_scenario_has_them() -> None:
    ledger = flow_ledger()
    tiers = np.array([0, 1, -1, -1, -1], dtype=np.int8)  # the dormant member is in no tier
    ledger = replace(ledger, tier_ids=("fans", "others"), people=replace(ledger.people, tier_end=tiers))
    assert flow_ends(ledger) == ("tier:fans", "tier:others", "tier:", LEFT)
    counts = member_flow(ledger)
    assert counts.sum(axis=(0, 1)).tolist() == [1, 1, 1, 1]


def test_funnel_steps_are_nested_hand_counts() -> None:
    ledger = flow_ledger()
    activated = np.array([1.0, 2.5, NAN, 4.5, NAN])
    ledger = replace(ledger, people=replace(ledger.people, activation_day=activated))
    assert FUNNEL_STEPS == ("visitors", "members", "activated", "first_purchase", "repeat", "fans")
    # 30 visitors; 4 members; 3 activated; of them persons 0 and 1 bought; only person 0 twice; no tiers
    assert funnel(ledger) == [30.0, 4.0, 3.0, 2.0, 1.0, None]
    tiers = np.array([0, 0, -1, -1, -1], dtype=np.int8)
    tiered = replace(
        ledger, tier_ids=("fans",), people=replace(ledger.people, activation_day=activated, tier_end=tiers)
    )
    assert funnel(tiered)[-1] == 1.0  # person 1 is a fan but bought once: not past the repeat step


def test_retention_curve_hand_values() -> None:
    join = np.array([0.0, 0.0, 10.0, 50.0])
    leave = np.array([5.0, INF, 25.0, INF])
    curve = retention_curve(join, leave, 60.0, np.array([0.0, 10.0, 20.0, 55.0]))
    # d=0: all 4 eligible, all still in; d=10: 4 eligible (50 ≤ 50), person 0 gone → 3/4;
    # d=20: 3 eligible, persons 0 and 2 gone → 1/3; d=55: only 2 joined by day 5 → 1/2
    assert curve.tolist() == [1.0, 0.75, pytest.approx(1 / 3), 0.5]
    assert np.isnan(retention_curve(join, leave, 60.0, np.array([61.0]))).all()


def test_members_on_carriers_counts_joined_and_not_yet_left() -> None:
    ledger = make_ledger(n_carriers=2)
    memberships = Memberships(
        person=np.array([0, 1, 1, 2]),
        carrier=np.array([0, 0, 1, 1], dtype=np.int16),
        join_day=np.array([0.0, 5.0, 6.0, 10.0]),
        exit_day=np.array([INF, 8.0, INF, 10.0]),
    )
    ledger = replace(ledger, memberships=memberships)
    counts = members_on_carriers(ledger, np.array([0.0, 5.0, 7.0, 8.0, 10.0]))
    assert counts.tolist() == [[1, 0], [2, 0], [2, 1], [1, 1], [1, 1]]  # exit at 10 the day it joined


def value_ledger(discount_rate: float) -> Ledger:
    """Three customers in the CLV cohort (one with a per-person cost), one bought too late to count."""
    people = [person(join=0.0), person(join=0.0), person(), person()]
    purchases = [
        buy(0, 0.0, 100.0, cogs=40.0, fee=1.0),
        buy(0, 200.0, 100.0, cogs=40.0),
        buy(1, 10.0, 50.0, cogs=20.0),
        buy(2, 20.0, 10.0),
        buy(3, 300.0, 1000.0),  # first purchase at 300 > 400 − 365: outside the cohort
    ]
    costs = [cost(CostKind.MEDIA, 90.0), cost(CostKind.TOUCH, 5.0, day=12.0, who=1)]
    return make_ledger(people, purchases, costs, discount_rate=discount_rate)


@pytest.mark.parametrize("rate", [0.0, 0.08])
def test_customer_clv_hand_values_average_to_the_clv_metric(rate: float) -> None:
    ledger = value_ledger(rate)
    values = customer_clv(ledger)
    daily = rate / 365
    expected = [59.0 + 60.0 * np.exp(-daily * 200), 30.0 - 5.0 * np.exp(-daily * 2), 10.0]
    assert values.tolist() == pytest.approx(expected)
    assert values.mean() == pytest.approx(clv(ledger))


def test_payback_curve_ends_at_clv_and_reaches_cac_on_the_payback_day() -> None:
    ledger = value_ledger(0.0)
    curve = payback_curve(ledger)
    assert len(curve) == 366
    # days after each one's own first purchase: all three first purchases on day 0 (59 + 30 + 10), the
    # touch cost of person 1 on day 2, the second purchase of person 0 on day 200
    assert curve[0] == pytest.approx(99.0 / 3)
    assert curve[2] == curve[199] == pytest.approx(94.0 / 3)
    assert curve[200] == curve[-1] == pytest.approx(154.0 / 3) == pytest.approx(clv(ledger))
    for cac in (22.5, 40.0, 60.0):
        reached = [day for day, value in enumerate(curve) if value >= cac - 1e-9]
        assert (float(reached[0]) if reached else None) == payback_days(ledger, cac)
    assert payback_days(ledger, 40.0) == 200.0


def test_lorenz_hand_values_and_the_top_20_identity() -> None:
    purchases = [buy(i, 1.0, amount) for i, amount in enumerate([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 100.0])]
    ledger = make_ledger([person() for _ in range(7)], purchases)
    curve = lorenz(ledger)
    total = 121.0
    assert curve[0] == 0.0 and curve[-1] == 1.0
    assert curve[50] == pytest.approx(6.0 / total)  # ⌊0.5·7⌋ = 3 poorest customers: 1 + 2 + 3
    assert curve[80] == pytest.approx(1 - top20_revenue_share(ledger))  # ⌊0.8·7⌋ = 5 vs the top ⌈1.4⌉ = 2
    assert lorenz(make_ledger([person()])) == [None] * 101


def test_money_lines_add_up_to_profit() -> None:
    ledger = value_ledger(0.0)
    lines = money(ledger)
    profit = lines["revenue"] - sum(value for key, value in lines.items() if key != "revenue")
    assert profit == pytest.approx(compute_metrics(ledger)["profit"])
    assert lines["media"] == 90.0 and lines["touch"] == 5.0 and lines["venue_fees"] == 1.0


# ---------------------------------------------------------------------------------------------------------
# A simulated replication: every curve agrees with the metrics of the same ledger


def test_simulated_series_agree_with_the_metrics(simulated: Ledger) -> None:
    ledger = simulated
    metrics = compute_metrics(ledger)
    breakdown = compute_breakdown(ledger)
    series = replication_series(ledger)
    assert is_replication_series(json.loads(json.dumps(series, allow_nan=False)))

    flow = np.array(series["flow"])
    assert flow.sum() == metrics["new_members"] > 100
    assert flow[..., -1].sum() > 0  # some left: the check on the last end is not vacuous
    assert series["funnel"][0] == metrics["visitors"]
    assert series["funnel"][1] == metrics["new_members"]
    assert all(a >= b for a, b in itertools.pairwise(series["funnel"]))
    assert series["funnel"][-1] is not None and series["funnel"][-1] > 0  # die-hard fans exist

    days = series["retention_days"]
    for d in (30, 90, 180):
        assert series["retention"]["all"][days.index(d)] == pytest.approx(retention(ledger, d))
        for carrier, curve in series["retention"]["carrier"].items():
            expected = breakdown["carrier"][carrier][f"retention_d{d}"]
            assert curve[days.index(d)] == (None if expected is None else pytest.approx(expected))

    present = [
        int(np.sum((ledger.people.join_day <= t) & (ledger.people.leave_day > t)))
        for t in ledger.snapshot_days
    ]
    assert [sum(row) for row in series["pool"]["stages"]] == present  # pool by stage = members present
    assert series["pool"]["stages"][-1] and sum(series["pool"]["stages"][-1]) == metrics["members_end"]
    on_carriers = np.array(series["pool"]["carriers"])
    assert (on_carriers.sum(axis=1) >= np.array(present)).all()  # a member can sit on two carriers

    assert series["payback"][-1] == pytest.approx(metrics["clv"])
    reached = [day for day, value in enumerate(series["payback"]) if value >= metrics["cac"] - 1e-9]
    assert (reached[0] if reached else None) == metrics["payback_days"]
    quantiles = series["clv_quantiles"]
    assert quantiles == sorted(quantiles) and quantiles[0] < quantiles[-1]
    assert customer_clv(ledger).mean() == pytest.approx(metrics["clv"])
    assert series["lorenz"][80] == pytest.approx(1 - metrics["top20_revenue_share"])
    lines = series["money"]
    assert lines["revenue"] - sum(v for k, v in lines.items() if k != "revenue") == pytest.approx(
        metrics["profit"]
    )


def test_retention_days_include_the_metric_days() -> None:
    days = retention_days(make_ledger(horizon=730.0))
    assert {0.0, 14.0, 30.0, 90.0, 180.0, 728.0} <= set(days.tolist())
    assert np.all(np.diff(days) > 0)


# ---------------------------------------------------------------------------------------------------------
# Over replications


def test_summaries_are_engine_stats_per_point(tiered_scenario: Path) -> None:
    scenario = load_scenario(tiered_scenario).scenario
    result = run(scenario, 3, 2, series=True)
    series = [r.series for r in result.replications]
    summary = result.series_summary()
    assert (
        summary is not None and summary["reps"] == 3 and summary["tier"] == ["die_hard", "paying", "others"]
    )
    for i in (0, 10, 100, 365):
        point = summarize([s["payback"][i] for s in series])
        assert summary["payback"]["mean"][i] == point.mean
        assert (summary["payback"]["ci_low"][i], summary["payback"]["ci_high"][i]) == (
            point.ci_low,
            point.ci_high,
        )
    assert summary["flow"]["mean"] == np.mean([s["flow"] for s in series], axis=0).tolist()
    members = summarize([r.metrics["new_members"] for r in result.replications]).mean
    assert np.sum(summary["flow"]["mean"]) == pytest.approx(members)
    assert summary["funnel"]["steps"] == list(FUNNEL_STEPS)
    assert result.summary()["revenue"].mean == pytest.approx(summary["money"]["revenue"])
    assert run(scenario, 2, 2).series_summary() is None  # a run that kept no figure data has none


def test_replications_that_disagree_on_their_days_are_refused(simulated: Ledger) -> None:
    series = replication_series(simulated)
    other = json.loads(json.dumps(series))
    other["retention_days"] = other["retention_days"][:-1]
    with pytest.raises(ValueError, match="retention days"):
        summarize_series([series, other])


def test_a_checkpoint_keeps_the_figure_data_and_one_without_it_is_run_again(
    tiered_scenario: Path, tmp_path: Path
) -> None:
    loaded = load_scenario(tiered_scenario)
    folder = RunFolder.create(tmp_path / "out", loaded, 2, 1, False, force=False)
    with_series = ReplicationTask(loaded.scenario, 1, series=True)
    folder.save(with_series(0))
    folder.save(ReplicationTask(loaded.scenario, 1)(1))  # no figure data: damaged for a report
    kept = folder.finished()
    assert list(kept) == [0]
    assert kept[0].series == json.loads(json.dumps(with_series(0).replication.series))
