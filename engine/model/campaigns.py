"""Campaign rules at work: one simpy event per send, its effect a vectorized operation on the audience.

A send at time ``t``: the audience mask over the carrier's members, the platform limit (DOMAIN-FACTS), who
the message reaches (the carrier's reach per message), annoyance and the exits it causes, and who buys
because of it (with the offer applied). Costs and staff minutes are recorded per send.

Membership at ``t`` is exact (exits are drawn ahead for the review step); tiers and stages are those of the
last review. Purchase clocks are drawn only for the members whose purchase state the send reads — the
audience when its conditions or event depend on purchases, the reached members whose response depends on
whether they have stopped buying, the responders before their purchase is recorded, the reached members
without a first purchase (whether a touch is in their CLV window) — so a send costs in proportion to what
it touches, not to the whole pool; a memoryless clock drawn in pieces has the same law as drawn at once.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import TYPE_CHECKING

import numpy as np
import simpy

from engine.ledger import CostKind
from engine.model.population import repeat_purchases
from engine.scenario.limits import TouchLimit, send_times
from engine.scenario.schema import Campaign

if TYPE_CHECKING:
    from engine.model.simulation import Simulation

ANNOYANCE_DAYS = 7.0  # time constant of the annoyance level: it counts about a week of touches
PURCHASE_FIELDS = frozenset({"purchases", "spend", "days_since_last_purchase"})
"""Audience fields that change with purchases: reading them needs the members' purchase clocks drawn."""
EVENT_COLUMNS = {
    "joined": "join_day",
    "activated": "activation_day",
    "first_purchase": "first_purchase_day",
    "went_dormant": "dormant_since",
}


def annoyance_limit(touches_per_week: float) -> float:
    """The annoyance level above which a touch is excess: the level that touching at exactly the tolerated
    pace (one touch every 7 / tolerance days) settles at, 1 / (1 − exp(−1 / tolerance)); with no tolerance,
    every touch is excess."""
    if touches_per_week <= 0:
        return 1.0 - 1e-9
    return 1.0 / -math.expm1(-1.0 / touches_per_week) + 1e-9


def limit_columns(campaigns: tuple[Campaign, ...], limits: list[TouchLimit | None]) -> dict[str, tuple]:
    """Extra population columns the campaigns need: platform-limit counters and event bookkeeping."""
    columns: dict[str, tuple] = {}
    for campaign, limit in zip(campaigns, limits, strict=True):
        if limit is not None:
            key = f"{campaign.carrier}_{campaign.channel}"
            columns[f"limit_period_{key}"] = (np.int64, -1)
            columns[f"limit_count_{key}"] = (np.int64, 0)
        if campaign.schedule.on is not None:
            columns[f"event_sent_{campaign.id}"] = (np.float64, np.nan)
    return columns


class CampaignRunner:
    """The send processes of one campaign."""

    def __init__(self, sim: Simulation, index: int, campaign: Campaign, limit: TouchLimit | None) -> None:
        self.sim = sim
        self.index = index
        self.campaign = campaign
        self.limit = limit
        self.rng = sim.streams.campaigns[index]
        scenario = sim.scenario
        self.carrier = sim.compiled.carrier_ids.index(campaign.carrier)
        carrier = scenario.carriers[self.carrier]
        self.reach = carrier.reach_per_message * campaign.reach_multiplier
        tier_ids = [t.id for t in scenario.tiers]
        response = campaign.response
        # index by tier + 1 so that "no tier" (-1) takes the default
        persona = sim.compiled.carrier_response_multiplier[self.carrier]
        self.response = np.minimum(
            1.0,
            persona
            * np.array([response.default, *(response.by_tier.get(t, response.default) for t in tier_ids)]),
        )
        self.annoyance_limit = annoyance_limit(scenario.disturbance.tolerance())
        self.exit_probability = scenario.disturbance.exit_probability_per_excess_touch
        self.limit_key = f"{campaign.carrier}_{campaign.channel}"
        horizon = scenario.horizon
        self.discount_per_day = horizon.discount_rate / 365.0
        self.clv_days = horizon.clv_horizon_days
        self.cohort_end = horizon.horizon_days - horizon.clv_horizon_days
        self._audience_reads_purchases = bool(PURCHASE_FIELDS & set(campaign.audience))

    def process(self) -> Generator[simpy.Event, None, None]:
        """Send on the campaign's schedule until its end day or the horizon."""
        env = self.sim.env
        for time in send_times(self.campaign.schedule, self.sim.scenario.horizon.horizon_days):
            yield env.timeout(float(time) - env.now)
            self.send(float(time))

    def _audience(self, now: float) -> np.ndarray:
        sim = self.sim
        pop = sim.population
        carrier = self.carrier
        rows = sim.membership.present_memberships(carrier, now)
        rows = rows[(pop.member_start[carrier, rows] <= now) & (pop.member_exit[carrier, rows] > now)]
        on = self.campaign.schedule.on
        if self._audience_reads_purchases:
            sim.bring_up_to(rows, now)
        elif on == "first_purchase":
            sim.bring_up_to(rows[np.isnan(pop.first_purchase_day[rows])], now)
        if on is not None:
            event = pop.column(EVENT_COLUMNS[on])[rows]
            sent = pop.column(f"event_sent_{self.campaign.id}")[rows]
            delay = self.campaign.schedule.delay_days
            due = (
                (event + delay <= now) & (event + delay >= self.campaign.schedule.start_day) & (event != sent)
            )
            rows = rows[due]
        return rows[sim.rules.mask(self.campaign.audience, rows, now)]

    def _mark_sent(self, rows: np.ndarray) -> None:
        """Event campaigns: members who were sent to are not sent to again for the same event (those who did
        not match the audience or hit a platform limit stay due and are tried again at the next check)."""
        on = self.campaign.schedule.on
        if on is not None:
            pop = self.sim.population
            pop.column(f"event_sent_{self.campaign.id}")[rows] = pop.column(EVENT_COLUMNS[on])[rows]

    def _within_limit(self, rows: np.ndarray, now: float) -> np.ndarray:
        """Drop the members who have had their platform allowance for this period; count the rest."""
        if self.limit is None:
            return rows
        pop = self.sim.population
        period_column = pop.column(f"limit_period_{self.limit_key}")
        count_column = pop.column(f"limit_count_{self.limit_key}")
        period = int(now // self.limit.period_days)
        fresh = period_column[rows] != period
        count_column[rows[fresh]] = 0
        period_column[rows[fresh]] = period
        allowed = count_column[rows] < self.limit.count
        self.sim.recorder.campaign_blocked[self.index] += int((~allowed).sum())
        rows = rows[allowed]
        count_column[rows] += 1
        return rows

    def send(self, now: float) -> None:
        """One send: audience → platform limit → reach → annoyance exits → responses and purchases."""
        sim = self.sim
        sim.membership.settle()  # membership at the send is exact
        recorder = sim.recorder
        audience = self._within_limit(self._audience(now), now)
        self._mark_sent(audience)
        recorder.campaign_sends[self.index] += 1
        recorder.campaign_audience[self.index] += audience.size
        reached = audience[self.rng.random(audience.size) < self.reach]
        if reached.size == 0:
            return
        recorder.campaign_reached[self.index] += reached.size
        # whether a touch falls in someone's CLV window depends on their first purchase: draw the clocks of
        # those who had none yet (always, not only when touches cost money, so that a cost is only a cost)
        sim.bring_up_to(reached[np.isnan(sim.population.first_purchase_day[reached])], now)
        minutes = reached.size * self.campaign.staff_minutes_per_touch
        recorder.campaign_staff_minutes[self.index] += minutes
        if self.campaign.staff is not None:
            sim.staff.add_work(self.campaign.staff, minutes, reached.size)
        stayed = self._touch(reached, now)
        self._respond(stayed, now)
        cost = self.campaign.cost_per_touch
        if cost:
            # tagged with the source (and its lure and carrier) of the people touched, so views add up
            per_source = np.bincount(sim.population.source[reached], minlength=len(sim.compiled.sources))
            for plan, touched in zip(sim.compiled.sources, per_source, strict=True):
                if touched:
                    recorder.cost(
                        now,
                        CostKind.TOUCH,
                        cost * float(touched),
                        source=plan.index,
                        lure=plan.lure,
                        carrier=plan.carrier,
                        campaign=self.index,
                    )
            self._service_costs(reached, now, cost)

    def _touch(self, reached: np.ndarray, now: float) -> np.ndarray:
        """Count the touch, raise annoyance, let the annoyed leave; returns those still on the carrier."""
        pop = self.sim.population
        pop.column("touches")[reached] += 1
        last = pop.last_touch_day[reached]
        decay = np.where(np.isnan(last), 0.0, np.exp(-(now - np.nan_to_num(last)) / ANNOYANCE_DAYS))
        level = pop.annoyance[reached] * decay + 1.0
        pop.column("annoyance")[reached] = level
        pop.column("last_touch_day")[reached] = now
        over = level > self.annoyance_limit
        leaving = over & (self.rng.random(reached.size) < self.exit_probability)
        if leaving.any():
            self.sim.membership.leave_carrier(reached[leaving], self.carrier, now)
            pop.column("annoyed_out")[reached[leaving]] = True
        return reached[~leaving]

    def _respond(self, reached: np.ndarray, now: float) -> None:
        """Who of ``reached`` buys: the response of their tier, times the dropped-out multiplier for those
        who have stopped buying. Whether someone has stopped is looked up (their clock drawn to ``now``) only
        where it decides the outcome: when their uniform draw falls between the two probabilities."""
        sim = self.sim
        pop = sim.population
        probability = self.response[pop.tier[reached].astype(np.int64) + 1]
        draw = self.rng.random(reached.size)
        multiplier = self.campaign.response.dropped_out_multiplier
        undecided = (draw >= probability * min(1.0, multiplier)) & (draw < probability * max(1.0, multiplier))
        if undecided.any():
            sim.bring_up_to(reached[undecided], now)
            dropped_out = pop.purchases_left[reached] <= 0
            probability = probability * np.where(dropped_out, multiplier, 1.0)
        buyers = reached[draw < probability]
        if buyers.size == 0:
            return
        sim.bring_up_to(buyers, now)  # their purchases so far come before this one
        pop.column("interactions")[buyers] += 1
        revived = buyers[pop.purchases_left[buyers] <= 0]
        sim.buying.record_campaign_purchases(buyers, now, self.rng, self.campaign, self.index)
        if revived.size:  # a response brings a dropped-out buyer back, with a fresh dropout clock
            pop.column("purchases_left")[revived] = repeat_purchases(self.rng, pop.dropout[revived])
            sim.buying.revive_buyers(revived, now)
        sim.buying.after_extra_purchases(buyers)

    def _service_costs(self, reached: np.ndarray, now: float, cost: float) -> None:
        """Touch costs inside each person's CLV window count against their CLV (discounted)."""
        pop = self.sim.population
        first = pop.first_purchase_day[reached]
        offset = now - first
        inside = (offset >= 0) & (offset <= self.clv_days)
        who, offset = reached[inside], offset[inside]
        value = cost * np.exp(-self.discount_per_day * offset)
        pop.column("service_cost")[who] += value
        cohort = first[inside] <= self.cohort_end
        np.add.at(
            self.sim.recorder.service_cost_by_offset,
            (pop.source[who[cohort]], np.floor(offset[cohort]).astype(np.int64)),
            value[cohort],
        )
