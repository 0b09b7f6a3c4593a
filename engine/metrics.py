"""Metrics: pure functions of one replication's ledger (DESIGN.md, "Metric definitions").

Each metric is ``float`` or ``None`` (undefined, e.g. CAC with no customers); :data:`METRICS` lists them in
report order with Chinese and English labels and the reason a value can be missing.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from engine.ledger import ACQUISITION_KINDS, OPS_KINDS, Costs, Ledger, Stage

Value = float | None


@dataclass(frozen=True)
class MetricInfo:
    """How a metric is shown and what its absence means."""

    name: str
    zh: str
    en: str
    unit: str  # "count", "money", "share", "days", "ratio"
    missing: str = ""  # why the value can be null
    better: Literal["higher", "lower"] | None = None
    """Which way is better whatever the strategy (a higher CAC is worse); None where the direction is the
    plan's choice (more spending, more touches). Verdicts say "better/worse" only where it is set."""


METRICS: tuple[MetricInfo, ...] = (
    MetricInfo("visitors", "访客", "visitors", "count"),
    MetricInfo("new_members", "新增私域用户", "new members", "count", better="higher"),
    MetricInfo("new_customers", "新客户", "new customers", "count", better="higher"),
    MetricInfo("acquisition_cost", "获客成本总额", "acquisition cost", "money"),
    MetricInfo(
        "cost_per_member", "单个私域用户成本", "cost per member", "money", "no new members", better="lower"
    ),
    MetricInfo("cac", "获客成本 CAC", "CAC", "money", "no new customers", better="lower"),
    MetricInfo(
        "retention_d30",
        "30天留存率",
        "30-day retention",
        "share",
        "no member joined 30+ days before the end",
        better="higher",
    ),
    MetricInfo(
        "retention_d90",
        "90天留存率",
        "90-day retention",
        "share",
        "no member joined 90+ days before the end",
        better="higher",
    ),
    MetricInfo(
        "retention_d180",
        "180天留存率",
        "180-day retention",
        "share",
        "no member joined 180+ days before the end",
        better="higher",
    ),
    MetricInfo(
        "repurchase_rate",
        "复购率",
        "repurchase rate",
        "share",
        "no customer's first purchase was 180+ days before the end",
        better="higher",
    ),
    MetricInfo(
        "clv",
        "客户终身价值 CLV",
        "CLV",
        "money",
        "no customer observed for the full CLV window",
        better="higher",
    ),
    MetricInfo(
        "net_value",
        "净价值 (CLV−CAC)",
        "net value (CLV − CAC)",
        "money",
        "CLV or CAC undefined",
        better="higher",
    ),
    MetricInfo(
        "ltv_cac", "LTV:CAC", "LTV:CAC", "ratio", "CLV or CAC undefined, or CAC is zero", better="higher"
    ),
    MetricInfo(
        "payback_days",
        "回本天数",
        "payback days",
        "days",
        "cohort contribution never reaches CAC within the CLV window (or CAC undefined)",
        better="lower",
    ),
    MetricInfo("revenue", "收入", "revenue", "money", better="higher"),
    MetricInfo("gross_margin", "毛利", "gross margin", "money", better="higher"),
    MetricInfo("ops_cost", "运营成本", "ops cost", "money"),
    MetricInfo("total_cost", "总成本", "total cost", "money"),
    MetricInfo("profit", "利润", "profit", "money", better="higher"),
    MetricInfo("top20_revenue_share", "前20%客户收入占比", "top-20% revenue share", "share", "no customers"),
    MetricInfo("k_factor", "裂变系数 K", "K factor", "ratio", "no new members"),
    MetricInfo(
        "referral_share", "转介绍新客占比", "referral share of new customers", "share", "no new customers"
    ),
    MetricInfo("touches_per_member", "人均触达次数", "touches per member", "ratio", "no new members"),
    MetricInfo("annoyance_exits", "打扰流失人数", "annoyance exits", "count", better="lower"),
    MetricInfo("staff_utilisation", "顾问利用率", "staff utilisation", "share", "no staff pool"),
    MetricInfo(
        "mean_wait_days", "平均等待天数", "mean wait (days)", "days", "no lead was served", better="lower"
    ),
    MetricInfo("unserved_leads", "未接待线索", "leads never served", "count", better="lower"),
    MetricInfo("bans", "封号次数", "bans of public accounts", "count", better="lower"),
    MetricInfo("members_end", "期末私域用户数", "members at end", "count", better="higher"),
    MetricInfo(
        "dormant_share_end",
        "期末休眠占比",
        "dormant share at end",
        "share",
        "no members at the end",
        better="lower",
    ),
)
METRIC_NAMES: tuple[str, ...] = tuple(m.name for m in METRICS)
METRIC_INFO: dict[str, MetricInfo] = {m.name: m for m in METRICS}


def unknown_metric_message(name: str, option: str) -> str:
    """What every command says when ``option`` names no metric: a near-miss guess and the allowed names."""
    guess = difflib.get_close_matches(name, METRIC_NAMES, n=1)
    hint = f" — did you mean '{guess[0]}'?" if guess else ""
    return f"{option} '{name}': no such metric{hint}; allowed: {', '.join(METRIC_NAMES)}"


RETENTION_DAYS = (30, 90, 180)
REPURCHASE_WINDOW_DAYS = 180.0


def _ratio(numerator: float, denominator: float) -> Value:
    return float(numerator / denominator) if denominator else None


def _cost_total(costs: Costs, kinds: tuple[int, ...]) -> float:
    return float(costs.amount[np.isin(costs.kind, kinds)].sum())


def retention(ledger: Ledger, days: float) -> Value:
    """Of members who joined at least ``days`` before the end, the share still in the private domain
    ``days`` after joining."""
    people = ledger.people
    eligible = people.join_day <= ledger.horizon_days - days
    if not eligible.any():
        return None
    stayed = people.leave_day[eligible] > people.join_day[eligible] + days
    return float(stayed.mean())


def _second_purchase_day(ledger: Ledger) -> np.ndarray:
    """Per person, the day of their second purchase (nan if none); no sort needed."""
    purchases = ledger.purchases
    first = ledger.people.first_purchase_day
    second = np.full(len(ledger.people), np.inf)
    day_of_first = first[purchases.person]
    later = purchases.day > day_of_first
    np.minimum.at(second, purchases.person[later], purchases.day[later])
    # two purchases at the very same time as the first: the second is then that time too
    at_first = purchases.person[purchases.day == day_of_first]
    twice = np.bincount(at_first, minlength=len(ledger.people)) >= 2
    second[twice] = first[twice]
    second[np.isinf(second)] = np.nan
    return second


def repurchase_rate(ledger: Ledger) -> Value:
    """Of customers whose first purchase was at least 180 days before the end, the share who bought again
    within 180 days of it."""
    first = ledger.people.first_purchase_day
    eligible = first <= ledger.horizon_days - REPURCHASE_WINDOW_DAYS
    if not eligible.any():
        return None
    second = _second_purchase_day(ledger)[eligible]
    return float((second <= first[eligible] + REPURCHASE_WINDOW_DAYS).mean())


def _windowed(ledger: Ledger) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The CLV cohort, and each purchase and per-person cost entry of a cohort member inside their CLV window.

    Returns ``(cohort_mask, person, offset_days, contribution)``: the last three per purchase (its margin:
    revenue − product cost − venue fee) or per-person cost entry (its amount, negative), ``offset_days``
    counted from that member's first purchase, the contribution discounted continuously to it.
    """
    people, purchases, costs = ledger.people, ledger.purchases, ledger.costs
    first = people.first_purchase_day
    cohort = first <= ledger.horizon_days - ledger.clv_horizon_days
    rate = ledger.discount_rate / 365.0

    def window(
        person: np.ndarray, day: np.ndarray, value: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        offset = day - first[person]
        inside = cohort[person] & (offset >= 0) & (offset <= ledger.clv_horizon_days)
        return person[inside], offset[inside], value[inside] * np.exp(-rate * offset[inside])

    margin = purchases.amount - purchases.cost_of_goods - purchases.fee
    person_p, offset_p, value_p = window(purchases.person, purchases.day, margin)
    served = costs.person >= 0
    person_c, offset_c, value_c = window(costs.person[served], costs.day[served], -costs.amount[served])
    return (
        cohort,
        np.concatenate((person_p, person_c)),
        np.concatenate((offset_p, offset_c)),
        np.concatenate((value_p, value_c)),
    )


def _contributions(ledger: Ledger) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CLV cohort and their discounted contributions within the CLV window.

    Returns ``(cohort_mask, offset_days, contribution)`` where the last two are per purchase or per-person
    service cost of a cohort member, ``offset_days`` counted from that member's first purchase.
    """
    cohort, _, offset, value = _windowed(ledger)
    # touch costs of cohort members, already discounted and binned by whole days after the first purchase
    touch_costs = (
        ledger.service_cost_by_offset.sum(axis=0) if ledger.service_cost_by_offset.size else np.zeros(0)
    )
    offset_t = np.nonzero(touch_costs)[0].astype(np.float64)
    value_t = -touch_costs[offset_t.astype(np.int64)]
    return cohort, np.concatenate((offset, offset_t)), np.concatenate((value, value_t))


def customer_clv(ledger: Ledger) -> np.ndarray:
    """The CLV of each customer of the CLV cohort (in people order): their discounted contribution within
    their CLV window, as :func:`clv` counts it (its purchases and per-person costs, less the touch costs the
    model keeps per person in ``People.service_cost``). Their mean is :func:`clv`."""
    people = ledger.people
    cohort, person, _, value = _windowed(ledger)
    total = np.bincount(person, weights=value, minlength=len(people))
    return (total - people.service_cost)[cohort]


@dataclass(frozen=True)
class ClvCohort:
    """The CLV cohort's size and its discounted contributions, by days after each one's first purchase."""

    size: int
    offset: np.ndarray
    contribution: np.ndarray


def clv_cohort(ledger: Ledger) -> ClvCohort:
    """Customers observed for the full CLV window, and what they contributed within it."""
    cohort, offset, contribution = _contributions(ledger)
    return ClvCohort(int(cohort.sum()), offset, contribution)


def clv(ledger: Ledger, cohort: ClvCohort | None = None) -> Value:
    """Mean discounted contribution per cohort customer over the CLV window (see DESIGN.md)."""
    cohort = cohort or clv_cohort(ledger)
    return float(cohort.contribution.sum() / cohort.size) if cohort.size else None


def payback_days(ledger: Ledger, cac: Value, cohort: ClvCohort | None = None) -> Value:
    """First whole day d ≥ 0 after the first purchase at which the cohort's mean cumulative contribution
    (purchases up to the end of day d) reaches CAC; None if never within the CLV window."""
    if cac is None:
        return None
    cohort = cohort or clv_cohort(ledger)
    n, offset, contribution = cohort.size, cohort.offset, cohort.contribution
    if n == 0:
        return None
    days = int(np.ceil(ledger.clv_horizon_days)) + 1
    per_day = np.bincount(np.floor(offset).astype(np.int64), weights=contribution, minlength=days)[:days]
    reached = np.nonzero(np.cumsum(per_day) / n >= cac - 1e-9)[0]
    return float(reached[0]) if reached.size else None


def top20_revenue_share(ledger: Ledger) -> Value:
    """Share of revenue from the top 20% of customers (people with a purchase) by revenue."""
    purchases = ledger.purchases
    if len(purchases) == 0:
        return None
    revenue = np.bincount(purchases.person, weights=purchases.amount)
    revenue = np.sort(revenue[revenue > 0])[::-1]
    total = revenue.sum()
    if revenue.size == 0 or total <= 0:
        return None
    top = int(np.ceil(0.2 * revenue.size))
    return float(revenue[:top].sum() / total)


def compute_metrics(ledger: Ledger) -> dict[str, Value]:
    """Every metric of DESIGN.md for one replication."""
    people, purchases, costs = ledger.people, ledger.purchases, ledger.costs
    joined = ~np.isnan(people.join_day)
    bought = ~np.isnan(people.first_purchase_day)
    referred = (
        people.source == ledger.referral_source if ledger.referral_source >= 0 else np.zeros_like(joined)
    )
    new_members = float(joined.sum())
    new_customers = float(bought.sum())
    acquisition = _cost_total(costs, ACQUISITION_KINDS)
    revenue = float(purchases.amount.sum())
    gross_margin = revenue - float(purchases.cost_of_goods.sum())
    ops = _cost_total(costs, OPS_KINDS) + float(purchases.fee.sum())
    cac = _ratio(acquisition, new_customers)
    cohort = clv_cohort(ledger)
    value = clv(ledger, cohort)
    members_end_mask = people.leave_day == np.inf
    members_end = float(members_end_mask.sum())
    result: dict[str, Value] = {
        "visitors": float(ledger.visitors.sum()),
        "new_members": new_members,
        "new_customers": new_customers,
        "acquisition_cost": acquisition,
        "cost_per_member": _ratio(acquisition, new_members),
        "cac": cac,
    }
    for days in RETENTION_DAYS:
        result[f"retention_d{days}"] = retention(ledger, days)
    result.update(
        repurchase_rate=repurchase_rate(ledger),
        clv=value,
        net_value=value - cac if value is not None and cac is not None else None,
        ltv_cac=_ratio(value, cac) if value is not None and cac is not None else None,
        payback_days=payback_days(ledger, cac, cohort),
        revenue=revenue,
        gross_margin=gross_margin,
        ops_cost=ops,
        total_cost=acquisition + ops,
        profit=gross_margin - acquisition - ops,
        top20_revenue_share=top20_revenue_share(ledger),
        k_factor=_ratio(float(np.sum(referred & joined)), new_members),
        referral_share=_ratio(float(np.sum(referred & bought)), new_customers),
        touches_per_member=_ratio(float(people.touches.sum()), new_members),
        annoyance_exits=float(people.annoyed_out.sum()),
        staff_utilisation=_ratio(
            float(ledger.staff_busy_days.sum()), float(ledger.staff_headcount.sum()) * ledger.horizon_days
        ),
        mean_wait_days=float(ledger.lead_wait_days.mean()) if ledger.lead_wait_days.size else None,
        unserved_leads=float(ledger.leads_total - ledger.lead_wait_days.size),
        bans=float(ledger.source_bans.sum()),
        members_end=members_end,
        dormant_share_end=_ratio(
            float(np.sum(people.stage_end[members_end_mask] == Stage.DORMANT)), members_end
        ),
    )
    return result


# ---------------------------------------------------------------------- breakdowns
BREAKDOWN_DIMENSIONS = ("source", "lure", "carrier")


def subset(ledger: Ledger, dimension: str, index: int) -> Ledger:
    """The part of a ledger attributable to one source, lure or carrier.

    A lure's view is the sources that offer it, a carrier's view the sources whose path ends on it: their
    visitors, the people they brought (members or not) and the costs tagged with the group. Every cost but
    carrier accounts is tagged with its source's lure and carrier, so views of one dimension add up to the
    total; account costs appear only in the carrier view. A carrier used only as a second carrier (多点留存)
    has no sources, so its view is empty.
    """
    people = ledger.people
    if dimension == "source":
        sources = np.array([index])
    elif dimension == "lure":
        sources = np.nonzero(ledger.source_lure == index)[0]
    elif dimension == "carrier":
        sources = np.nonzero(ledger.source_carrier == index)[0]
    else:
        raise ValueError(f"unknown breakdown dimension {dimension!r}")
    person_mask = np.isin(people.source, sources)
    rows = np.nonzero(person_mask)[0]
    renumber = np.full(len(people), -1, dtype=np.int64)
    renumber[rows] = np.arange(rows.size)

    def take(table, mask):  # type: ignore[no-untyped-def]
        return replace(table, **{name: getattr(table, name)[mask] for name in table.__dataclass_fields__})

    new_people = take(people, person_mask)
    purchases = take(ledger.purchases, person_mask[ledger.purchases.person])
    purchases = replace(purchases, person=renumber[purchases.person])
    cost_mask = getattr(ledger.costs, dimension) == index
    costs = take(ledger.costs, cost_mask)
    served = costs.person >= 0
    person = np.full(len(costs), -1, dtype=np.int64)
    person[served] = renumber[costs.person[served]]
    costs = replace(costs, person=person)
    memberships = take(ledger.memberships, person_mask[ledger.memberships.person])
    memberships = replace(memberships, person=renumber[memberships.person])
    visitors = np.zeros_like(ledger.visitors)
    visitors[sources] = ledger.visitors[sources]
    service = np.zeros_like(ledger.service_cost_by_offset)
    if service.size:
        service[sources] = ledger.service_cost_by_offset[sources]
    return replace(
        ledger,
        service_cost_by_offset=service,
        people=new_people,
        purchases=purchases,
        costs=costs,
        memberships=memberships,
        visitors=visitors,
    )


CAMPAIGN_METRICS: tuple[MetricInfo, ...] = (
    MetricInfo("sends", "发送次数", "sends", "count"),
    MetricInfo("audience", "目标人次", "audience (member-sends)", "count"),
    MetricInfo("reached", "触达人次", "touches reached", "count"),
    MetricInfo("blocked_by_platform", "超平台限制未发", "blocked by platform limits", "count"),
    MetricInfo("responses", "响应购买", "purchases caused", "count"),
    MetricInfo("cost", "活动成本", "campaign cost", "money"),
    MetricInfo("attributed_revenue", "归因收入", "attributed revenue", "money"),
    MetricInfo("attributed_margin", "归因毛利", "attributed margin", "money"),
    MetricInfo("margin_per_touch", "单次触达毛利", "margin per touch", "money", "no touch reached anyone"),
    MetricInfo("staff_hours", "人工工时", "staff hours", "count"),
)
TIER_METRICS: tuple[MetricInfo, ...] = (
    MetricInfo("members_end", "期末人数", "members at end", "count"),
    MetricInfo(
        "share_of_members_end", "期末占比", "share of members at end", "share", "no members at the end"
    ),
    MetricInfo("revenue_per_member", "人均收入", "revenue per member", "money", "no members in the tier"),
)
DIMENSION_METRICS: dict[str, tuple[MetricInfo, ...]] = {
    **{dimension: METRICS for dimension in BREAKDOWN_DIMENSIONS},
    "campaign": CAMPAIGN_METRICS,
    "tier": TIER_METRICS,
}
"""The metrics each breakdown dimension reports."""


def campaign_metrics(ledger: Ledger, index: int) -> dict[str, Value]:
    """What one campaign did: sends, reach, purchases it caused, its cost and the margin attributed to it."""
    purchases = ledger.purchases
    caused = purchases.campaign == index
    revenue = float(purchases.amount[caused].sum())
    margin = revenue - float(purchases.cost_of_goods[caused].sum() + purchases.fee[caused].sum())
    reached = float(ledger.campaign_reached[index])
    return {
        "sends": float(ledger.campaign_sends[index]),
        "audience": float(ledger.campaign_audience[index]),
        "reached": reached,
        "blocked_by_platform": float(ledger.campaign_blocked[index]),
        "responses": float(caused.sum()),
        "cost": float(ledger.costs.amount[ledger.costs.campaign == index].sum()),
        "attributed_revenue": revenue,
        "attributed_margin": margin,
        "margin_per_touch": _ratio(margin, reached),
        "staff_hours": float(ledger.campaign_staff_minutes[index]) / 60.0,
    }


def tier_metrics(ledger: Ledger, index: int) -> dict[str, Value]:
    """The tier mix at the end: members in the tier, their share, their revenue per head."""
    people = ledger.people
    in_tier = people.tier_end == index
    members_end = float(np.sum(people.leave_day == np.inf))
    count = float(in_tier.sum())
    revenue = float(ledger.purchases.amount[in_tier[ledger.purchases.person]].sum()) if count else 0.0
    return {
        "members_end": count,
        "share_of_members_end": _ratio(count, members_end),
        "revenue_per_member": _ratio(revenue, count),
    }


def compute_breakdown(ledger: Ledger) -> dict[str, dict[str, dict[str, Value]]]:
    """Metrics per source, lure and carrier (the sources behind each), per campaign, and the tier mix."""
    ids = {"source": ledger.source_ids, "lure": ledger.lure_ids, "carrier": ledger.carrier_ids}
    breakdown = {
        dimension: {
            group_id: compute_metrics(subset(ledger, dimension, i))
            for i, group_id in enumerate(ids[dimension])
        }
        for dimension in BREAKDOWN_DIMENSIONS
    }
    breakdown["campaign"] = {c: campaign_metrics(ledger, i) for i, c in enumerate(ledger.campaign_ids)}
    breakdown["tier"] = {t: tier_metrics(ledger, i) for i, t in enumerate(ledger.tier_ids)}
    return breakdown
