"""Figure data: pure functions of a replication's ledger → small arrays, and their summary over replications.

Like :mod:`engine.metrics`, every function here reads a :class:`~engine.ledger.Ledger` and computes; nothing
runs the model. :func:`replication_series` gathers what the report's figures need from one replication as
plain JSON values (lists of numbers, ``None`` for "undefined"), small enough to travel back from a worker
process and to be checkpointed with the replication's metrics. :func:`summarize_series` turns the series of
all replications into ``series.json``: per point, the mean and 95% CI over replications
(:func:`engine.stats.summarize`), or the mean alone for counts shown as flows and bars.

Curves and their definitions:

- **retention**: at day d after joining, of members who joined at least d days before the end, the share
  still in the private domain (the ``retention_dN`` metrics are points of this curve); overall, by source
  and by carrier (a carrier's view is the sources whose path ends on it, as in the metric breakdowns);
- **pool**: members present at each stage review, by lifecycle stage (the model's snapshots) and by carrier
  (from the memberships), and the cumulative number who left the private domain;
- **payback**: the CLV cohort's mean cumulative discounted contribution by whole days after the first
  purchase (it reaches ``cac`` at ``payback_days`` and ends at ``clv``);
- **clv quantiles**: per-customer CLV of the CLV cohort (:func:`engine.metrics.customer_clv`) at every
  percentile (their mean is ``clv``);
- **lorenz**: share of revenue from the poorest ``p`` of customers (its value at 0.8 is
  ``1 − top20_revenue_share``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from engine.ledger import CostKind, Ledger, Stage
from engine.metrics import RETENTION_DAYS, clv_cohort, customer_clv
from engine.stats import summarize

ReplicationSeries = dict[str, Any]
"""One replication's figure data: JSON values only (dicts, lists, numbers, None)."""

PRESENT_STAGES = (Stage.INTRO, Stage.GROWTH, Stage.MATURE, Stage.DORMANT)
"""Stages of members still in the private domain (churned members have left it)."""
FUNNEL_STEPS = ("visitors", "members", "activated", "first_purchase", "repeat", "fans")
"""The funnel, each step a subset of the one before (visitors are counted, not recorded one by one)."""
LEFT = "left"
"""Flow end of members who left the private domain before the end of the horizon."""
PERCENTILES = 101
"""Points of the CLV quantile function and of the Lorenz curve: 0%, 1%, …, 100%."""
FEES = "venue_fees"
"""Cost line of venue/platform fees kept on purchases (besides the ``platform_fee`` cost entries)."""


def _jsonable(values: np.ndarray) -> list[float | None]:
    """Floats as JSON numbers, nan as None."""
    return [None if np.isnan(v) else float(v) for v in values.tolist()]


# ---------------------------------------------------------------------- flow and funnel
def flow_ends(ledger: Ledger) -> tuple[str, ...]:
    """Where the Sankey's members end: their value tier if the scenario has tiers, else their lifecycle
    stage (members still in the private domain), or :data:`LEFT`."""
    if ledger.tier_ids:
        return (*(f"tier:{tier}" for tier in ledger.tier_ids), "tier:", LEFT)
    return (*(f"stage:{Stage(stage).name.lower()}" for stage in PRESENT_STAGES), LEFT)


def member_flow(ledger: Ledger) -> np.ndarray:
    """New members by source, carrier joined through and end (:func:`flow_ends`): ``(S, C, E)`` counts."""
    people = ledger.people
    joined = ~np.isnan(people.join_day) & (people.carrier >= 0)
    n_sources, n_carriers = len(ledger.source_ids), len(ledger.carrier_ids)
    present = people.leave_day == np.inf
    if ledger.tier_ids:
        n_tiers = len(ledger.tier_ids)
        tier = people.tier_end.astype(np.int64)
        end = np.where(tier >= 0, tier, n_tiers)  # "tier:" = a member in no tier
        n_ends = n_tiers + 2
    else:
        end = np.clip(people.stage_end.astype(np.int64), 0, len(PRESENT_STAGES) - 1)
        n_ends = len(PRESENT_STAGES) + 1
    end = np.where(present, end, n_ends - 1)
    cell = (people.source.astype(np.int64) * n_carriers + people.carrier.astype(np.int64)) * n_ends + end
    counts = np.bincount(cell[joined], minlength=n_sources * n_carriers * n_ends)
    return counts.reshape(n_sources, n_carriers, n_ends)


def funnel(ledger: Ledger) -> list[float | None]:
    """:data:`FUNNEL_STEPS`: visitors; new members; of them, those activated; of those, who bought; who
    bought again; who are in the top value tier at the end (None when the scenario has no tiers)."""
    people, purchases = ledger.people, ledger.purchases
    members = ~np.isnan(people.join_day)
    activated = members & np.isfinite(people.activation_day)
    bought = activated & ~np.isnan(people.first_purchase_day)
    purchase_count = np.bincount(purchases.person, minlength=len(people))
    repeat = bought & (purchase_count >= 2)
    steps: list[float | None] = [float(ledger.visitors.sum())]
    steps += [float(mask.sum()) for mask in (members, activated, bought, repeat)]
    steps.append(float(np.sum(repeat & (people.tier_end == 0))) if ledger.tier_ids else None)
    return steps


# ---------------------------------------------------------------------- retention
def retention_days(ledger: Ledger) -> np.ndarray:
    """Days after joining at which retention is drawn: every week (every two weeks beyond 400 days of
    horizon) up to the horizon, plus the days of the ``retention_dN`` metrics."""
    step = 7.0 if ledger.horizon_days <= 400 else 14.0
    grid = np.arange(0.0, ledger.horizon_days + 1e-9, step)
    extra = [float(d) for d in RETENTION_DAYS if d <= ledger.horizon_days]
    return np.unique(np.concatenate((grid, extra)))


def retention_curve(
    join_day: np.ndarray, leave_day: np.ndarray, horizon: float, days: np.ndarray
) -> np.ndarray:
    """At each of ``days``: of members who joined at least d days before ``horizon``, the share still in the
    private domain d days after joining (nan where no one is eligible) — :func:`engine.metrics.retention`."""
    curve = np.full(days.size, np.nan)
    # one day at a time: memory stays O(members), not O(members × days) (560 MB at 10^6 members)
    for k, day in enumerate(days.tolist()):
        eligible = join_day <= horizon - day
        count = np.count_nonzero(eligible)
        if count:  # the same comparisons as engine.metrics.retention, so the points agree exactly
            curve[k] = np.count_nonzero(eligible & (leave_day > join_day + day)) / count
    return curve


def retention_by_group(ledger: Ledger, days: np.ndarray) -> dict[str, Any]:
    """Retention curves of all members, by source and by carrier (the sources whose path ends on it)."""
    people = ledger.people
    members = ~np.isnan(people.join_day)
    join, leave, source = people.join_day[members], people.leave_day[members], people.source[members]
    horizon = ledger.horizon_days

    def curve(mask: np.ndarray) -> list[float | None]:
        return _jsonable(retention_curve(join[mask], leave[mask], horizon, days))

    carrier_of_source = ledger.source_carrier[source] if source.size else source
    return {
        "all": curve(np.ones(join.size, dtype=bool)),
        "source": {sid: curve(source == i) for i, sid in enumerate(ledger.source_ids)},
        "carrier": {cid: curve(carrier_of_source == i) for i, cid in enumerate(ledger.carrier_ids)},
    }


# ---------------------------------------------------------------------- pool over time
def members_on_carriers(ledger: Ledger, days: np.ndarray) -> np.ndarray:
    """Members on each carrier at each of ``days``: joined at or before d and not yet left. ``(D, C)``."""
    memberships = ledger.memberships
    counts = np.zeros((days.size, len(ledger.carrier_ids)), dtype=np.int64)
    for carrier in range(len(ledger.carrier_ids)):
        on = memberships.carrier == carrier
        joins = np.sort(memberships.join_day[on])
        exits = np.sort(memberships.exit_day[on])
        counts[:, carrier] = np.searchsorted(joins, days, side="right") - np.searchsorted(
            exits, days, side="right"
        )
    return counts


def pool(ledger: Ledger) -> dict[str, Any]:
    """Members present at each stage review by lifecycle stage and by carrier; cumulative leavers."""
    days = ledger.snapshot_days
    stages = ledger.snapshot_stages
    return {
        "days": days.tolist(),
        "stages": stages[:, : len(PRESENT_STAGES)].tolist(),
        "churned": stages[:, Stage.CHURNED].tolist() if len(stages) else [],
        "carriers": members_on_carriers(ledger, days).tolist(),
    }


# ---------------------------------------------------------------------- value
def payback_curve(ledger: Ledger) -> list[float | None]:
    """The CLV cohort's mean cumulative contribution at the end of each whole day 0 … ⌈clv_horizon⌉ after
    the first purchase (all None without a cohort), as :func:`engine.metrics.payback_days` reads it."""
    cohort = clv_cohort(ledger)
    days = int(np.ceil(ledger.clv_horizon_days)) + 1
    if cohort.size == 0:
        return [None] * days
    offset = np.floor(cohort.offset).astype(np.int64)
    per_day = np.bincount(offset, weights=cohort.contribution, minlength=days)[:days]
    return _jsonable(np.cumsum(per_day) / cohort.size)


def clv_quantiles(ledger: Ledger) -> list[float | None]:
    """Per-customer CLV at the percentiles 0, 1, …, 100 (all None without a CLV cohort)."""
    values = customer_clv(ledger)
    if values.size == 0:
        return [None] * PERCENTILES
    return _jsonable(np.quantile(values, np.linspace(0.0, 1.0, PERCENTILES)))


def lorenz(ledger: Ledger) -> list[float | None]:
    """Concentration curve of revenue: at p = k/100, the share of revenue from the ⌊p·n⌋ customers who
    spent least (customers: people with revenue > 0, as for ``top20_revenue_share``)."""
    purchases = ledger.purchases
    revenue = np.bincount(purchases.person, weights=purchases.amount) if len(purchases) else np.zeros(0)
    revenue = np.sort(revenue[revenue > 0])
    total = revenue.sum()
    if revenue.size == 0 or total <= 0:
        return [None] * PERCENTILES
    cumulative = np.concatenate(([0.0], np.cumsum(revenue)))
    counts = (np.arange(PERCENTILES) * revenue.size) // (PERCENTILES - 1)
    share = cumulative[counts] / total
    share[-1] = 1.0
    return _jsonable(share)


def money(ledger: Ledger) -> dict[str, float]:
    """Revenue, product cost and every cost line (the :class:`CostKind` entries and venue fees)."""
    costs = ledger.costs
    by_kind = np.bincount(costs.kind.astype(np.int64), weights=costs.amount, minlength=len(CostKind))
    lines = {kind.name.lower(): float(by_kind[kind]) for kind in CostKind}
    return {
        "revenue": float(ledger.purchases.amount.sum()),
        "cost_of_goods": float(ledger.purchases.cost_of_goods.sum()),
        **lines,
        FEES: float(ledger.purchases.fee.sum()),
    }


# ---------------------------------------------------------------------- one replication
def replication_series(ledger: Ledger) -> ReplicationSeries:
    """Everything the report draws from one replication, as JSON values."""
    days = retention_days(ledger)
    return {
        "ids": series_ids(ledger),
        "flow": member_flow(ledger).tolist(),
        "funnel": funnel(ledger),
        "retention_days": days.tolist(),
        "retention": retention_by_group(ledger, days),
        "pool": pool(ledger),
        "payback": payback_curve(ledger),
        "clv_quantiles": clv_quantiles(ledger),
        "lorenz": lorenz(ledger),
        "money": money(ledger),
    }


def is_replication_series(data: object) -> bool:
    """``data`` has the top-level shape :func:`replication_series` makes (a check for damaged checkpoints)."""
    return isinstance(data, dict) and list(data) == [
        "ids",
        "flow",
        "funnel",
        "retention_days",
        "retention",
        "pool",
        "payback",
        "clv_quantiles",
        "lorenz",
        "money",
    ]


# ---------------------------------------------------------------------- over replications
Band = dict[str, list[float | None]]
"""A curve over replications: ``{"mean": […], "ci_low": […], "ci_high": […]}``, None where undefined."""


def band(curves: Sequence[Sequence[float | None]]) -> Band:
    """Per point, the mean and 95% CI over replications (:func:`engine.stats.summarize`)."""
    points = [summarize(values) for values in zip(*curves, strict=True)]
    return {
        "mean": [p.mean for p in points],
        "ci_low": [p.ci_low for p in points],
        "ci_high": [p.ci_high for p in points],
    }


def _mean(arrays: Sequence[Any]) -> Any:
    """Element-wise mean over replications of equally shaped nested lists of numbers."""
    return np.mean(np.array(arrays, dtype=np.float64), axis=0).tolist()


def _same(values: Sequence[Any], what: str) -> Any:
    if any(value != values[0] for value in values[1:]):
        raise ValueError(f"replications disagree on {what}")
    return values[0]


def summarize_series(series: Sequence[ReplicationSeries]) -> dict[str, Any]:
    """``series.json``: the figure data of a run, each replication's :func:`replication_series` (in index
    order) summarised over replications."""
    if not series:
        raise ValueError("no replications to summarise")
    ledger_ids = _same([s["ids"] for s in series], "the scenario's ids")
    retention = [s["retention"] for s in series]
    pools = [s["pool"] for s in series]
    pool_days = _same([p["days"] for p in pools], "the stage review days")
    carriers = ledger_ids["carrier"]
    return {
        "reps": len(series),
        **ledger_ids,
        "flow": {"mean": _mean([s["flow"] for s in series])},
        "funnel": {"steps": list(FUNNEL_STEPS), **band([s["funnel"] for s in series])},
        "retention": {
            "days": _same([s["retention_days"] for s in series], "the retention days"),
            "all": band([r["all"] for r in retention]),
            "source": {g: band([r["source"][g] for r in retention]) for g in ledger_ids["source"]},
            "carrier": {g: band([r["carrier"][g] for r in retention]) for g in carriers},
        },
        "pool": {
            "days": pool_days,
            "stages": {
                Stage(stage).name.lower(): band([[row[i] for row in p["stages"]] for p in pools])
                for i, stage in enumerate(PRESENT_STAGES)
            },
            "churned": band([p["churned"] for p in pools]),
            "carriers": {
                carrier: band([[row[i] for row in p["carriers"]] for p in pools])
                for i, carrier in enumerate(carriers)
            },
        },
        "payback": band([s["payback"] for s in series]),
        "clv_quantiles": band([s["clv_quantiles"] for s in series]),
        "lorenz": band([s["lorenz"] for s in series]),
        "money": {key: float(np.mean([s["money"][key] for s in series])) for key in series[0]["money"]},
    }


def series_ids(ledger: Ledger) -> dict[str, Any]:
    """The ids the series' indices refer to, and how sources map to lures and carriers."""
    return {
        "source": list(ledger.source_ids),
        "lure": list(ledger.lure_ids),
        "carrier": list(ledger.carrier_ids),
        "tier": list(ledger.tier_ids),
        "source_lure": ledger.source_lure.astype(np.int64).tolist(),
        "source_carrier": ledger.source_carrier.astype(np.int64).tolist(),
        "flow_ends": list(flow_ends(ledger)),
        "clv_horizon_days": ledger.clv_horizon_days,
        "horizon_days": ledger.horizon_days,
    }
