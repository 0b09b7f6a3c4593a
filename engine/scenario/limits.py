"""Platform limits on touches (DOMAIN-FACTS.md, "Platform rules and limits").

The model enforces these per member; this module states them and warns when a scenario's campaigns ask for
more than a platform allows (the extra sends will not reach anyone).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

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


def _sends_per_day(campaign: Campaign) -> float:
    schedule = campaign.schedule
    if schedule.every_days is not None:
        return 1.0 / schedule.every_days
    return 0.0  # given days and event-driven sends are checked per day below or are per member


def limit_warnings(scenario: Scenario) -> list[str]:
    """Warnings for campaigns that together ask for more broadcasts than a platform allows."""
    groups: dict[tuple[str, str], list[Campaign]] = defaultdict(list)
    limits: dict[tuple[str, str], TouchLimit] = {}
    for campaign in scenario.campaigns:
        limit = touch_limit(scenario, campaign)
        if limit is not None:
            key = (campaign.carrier, campaign.channel)
            groups[key].append(campaign)
            limits[key] = limit
    warnings = []
    for key, campaigns in groups.items():
        limit = limits[key]
        asked = sum(_sends_per_day(c) for c in campaigns) * limit.period_days
        per_day: dict[int, int] = defaultdict(int)
        for campaign in campaigns:
            for day in campaign.schedule.days or ():
                per_day[int(day // limit.period_days)] += 1
        busiest = max(per_day.values(), default=0)
        if asked > limit.count + 1e-9 or busiest > limit.count:
            names = ", ".join(c.id for c in campaigns)
            amount = max(asked, busiest)
            warnings.append(
                f"campaigns {names} send {amount:g} {key[1]} broadcasts per {limit.period_days:g} day(s) on "
                f"carrier '{key[0]}', but {limit.rule}; sends beyond the limit will not reach anyone"
            )
    return warnings
