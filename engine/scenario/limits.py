"""Platform limits on touches (DOMAIN-FACTS.md, "Platform rules and limits").

The model enforces these per member; this module states them and warns when a scenario's campaigns ask for
more than a platform allows (the extra sends will not reach anyone).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from engine.scenario.operations import Schedule
from engine.scenario.schema import Campaign, Scenario


@dataclass(frozen=True)
class TouchLimit:
    """At most ``count`` broadcasts per member per ``period_days`` on one carrier through one channel."""

    count: int
    period_days: float
    rule: str  # the platform rule, for messages


WECOM_BROADCAST = TouchLimit(
    1, 1.0, "WeCom: a customer receives at most one broadcast per staff member per day"
)
SUBSCRIPTION_ARTICLE = TouchLimit(1, 1.0, "subscription official account: 1 broadcast a day")
SERVICE_ARTICLE = TouchLimit(4, 30.0, "service official account: 4 broadcasts a month")


def touch_limit(scenario: Scenario, campaign: Campaign) -> TouchLimit | None:
    """The platform limit a campaign's sends count against, if any."""
    carrier = next(c for c in scenario.carriers if c.id == campaign.carrier)
    if campaign.channel == "wecom_1on1" and carrier.kind == "wecom":
        return WECOM_BROADCAST
    if campaign.channel == "oa_article" and carrier.kind == "official_account":
        return SUBSCRIPTION_ARTICLE if carrier.account_type == "subscription" else SERVICE_ARTICLE
    return None


def send_times(schedule: Schedule, horizon_days: float) -> np.ndarray:
    """When a campaign sends: its given days or every N days within [start_day, end_day] and the horizon;
    a campaign on a member event is checked once a day."""
    end = min(schedule.end_day if schedule.end_day is not None else horizon_days, horizon_days)
    if schedule.every_days is not None:
        return np.arange(schedule.start_day, end + 1e-9, schedule.every_days)
    if schedule.days is not None:
        return np.array(sorted(d for d in schedule.days if schedule.start_day <= d <= end))
    return np.arange(math.ceil(schedule.start_day), math.floor(end) + 1, 1.0)


def limit_warnings(scenario: Scenario) -> list[str]:
    """Warnings for campaigns whose broadcasts, taken together, exceed a platform limit in some period
    (event-driven campaigns are per member and are not counted)."""
    groups: dict[tuple[str, str], list[Campaign]] = defaultdict(list)
    limits: dict[tuple[str, str], TouchLimit] = {}
    for campaign in scenario.campaigns:
        limit = touch_limit(scenario, campaign)
        if limit is not None and campaign.schedule.on is None:
            key = (campaign.carrier, campaign.channel)
            groups[key].append(campaign)
            limits[key] = limit
    horizon = scenario.horizon.horizon_days
    warnings = []
    for key, campaigns in groups.items():
        limit = limits[key]
        periods = [
            np.floor(send_times(c.schedule, horizon) / limit.period_days).astype(np.int64) for c in campaigns
        ]
        counts = (
            np.bincount(np.concatenate(periods)) if any(p.size for p in periods) else np.zeros(1, np.int64)
        )
        busiest = int(counts.max())
        if busiest > limit.count:
            names = ", ".join(c.id for c, p in zip(campaigns, periods, strict=True) if p.size)
            warnings.append(
                f"campaigns {names} send up to {busiest} {key[1]} broadcasts per {limit.period_days:g} days "
                f"on carrier '{key[0]}', but {limit.rule}; sends beyond the limit will not reach anyone"
            )
    return warnings
