"""Campaign rules at work: one simpy event per send, its effect a vectorized operation on the audience.

A send at time ``t``: the audience mask over the carrier's members, the platform limit (DOMAIN-FACTS), who
the message reaches (the carrier's reach per message), annoyance and the exits it causes, and who buys
because of it (with the offer applied). Costs and staff minutes are recorded per send.

Membership at ``t`` is exact (exits are drawn ahead); tiers and stages are those of the last review.
Purchase clocks are drawn only for the members whose purchase state the send reads — the audience when its
conditions or event depend on purchases; in one call, the reached members who may buy (their draw below
their tier's probability: their purchases so far come first, and whether they have stopped buying decides
it) and the reached members without a first purchase (whether a touch is in their CLV window) — so a send
costs in proportion to what it touches, not to the whole pool; a memoryless clock drawn in pieces has the
same law as drawn at once.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import TYPE_CHECKING

import numpy as np
import simpy

from engine.ledger import CostKind
from engine.model.population import Population, repeat_purchases
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


class Annoyance:
    """Every person's annoyance level: a count of touches that decays by exp(−Δt / ANNOYANCE_DAYS).

    Kept as ``Σ exp((t_k − epoch) / ANNOYANCE_DAYS)`` over a person's touches ``t_k`` (the population's
    ``annoyance`` column), so the level at ``now`` is the column times exp(−(now − epoch) / ANNOYANCE_DAYS)
    and a touch adds one number shared by everyone touched at ``now``: no per-person decay to compute.
    The epoch moves forward (the column rescaled) before the numbers could overflow.
    """

    RESCALE_AFTER = 300.0  # e^300 ≈ 1e130: far from overflow

    def __init__(self, population: Population) -> None:
        self.population = population
        self.epoch = 0.0

    def touch(self, rows: np.ndarray, now: float, limit: float) -> np.ndarray:
        """One touch for each of ``rows`` (distinct) at ``now``; returns the positions in ``rows`` whose
        level after the touch is above ``limit``."""
        scaled = (now - self.epoch) / ANNOYANCE_DAYS
        if scaled > self.RESCALE_AFTER:
            column = self.population.column("annoyance")
            column[: self.population.size] *= math.exp(-scaled)
            self.epoch, scaled = now, 0.0
        weight = math.exp(scaled)
        column = self.population.column("annoyance")
        level = column[rows] + weight
        column[rows] = level
        return np.nonzero(level > limit * weight)[0]

    def level(self, rows: np.ndarray, now: float) -> np.ndarray:
        """Annoyance levels of ``rows`` at ``now``."""
        return self.population.annoyance[rows] * math.exp(-(now - self.epoch) / ANNOYANCE_DAYS)


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
        self._one_response = bool((self.response == self.response[0]).all())
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
        rows = sim.membership.present_memberships(carrier, now)  # their exits are after now
        rows = rows[pop.member_start[carrier][rows] <= now]  # a second carrier's membership may start later
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
        if not self.campaign.audience:
            return rows
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
        reached = audience if self.reach >= 1.0 else audience[self.rng.random(audience.size) < self.reach]
        if reached.size == 0:
            return
        recorder.campaign_reached[self.index] += reached.size
        # each reached member's response draw; only those below their tier's probability can buy
        draw = self.rng.random(reached.size)
        probability = self._probability(reached)
        maybe = draw < probability
        # the purchase state of the members the send reads, drawn up to now in one go: who may buy (their
        # purchases so far come first, and whether they have stopped buying decides their probability) and
        # who had no first purchase yet (whether a touch is in their CLV window; always, so that a cost is
        # only a cost)
        first_purchase = sim.population.first_purchase_day[reached]
        sim.bring_up_to(reached[maybe | np.isnan(first_purchase)], now)
        minutes = reached.size * self.campaign.staff_minutes_per_touch
        recorder.campaign_staff_minutes[self.index] += minutes
        if self.campaign.staff is not None:
            sim.staff.add_work(self.campaign.staff, minutes, reached.size)
        leaving = self._touch(reached, now)
        maybe[leaving] = False
        if maybe.any():
            at = np.nonzero(maybe)[0]
            self._respond(
                reached[at], draw[at], probability if np.isscalar(probability) else probability[at], now
            )
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

    def _probability(self, reached: np.ndarray) -> np.ndarray | float:
        """Each reached member's response probability (of their tier) before the dropped-out multiplier."""
        if self._one_response:
            return float(self.response[0])
        return self.response[self.sim.population.tier[reached].astype(np.int64) + 1]

    def _touch(self, reached: np.ndarray, now: float) -> np.ndarray:
        """Count the touch, raise annoyance, let the annoyed leave; returns a mask of who left."""
        pop = self.sim.population
        pop.column("touches")[reached] += 1
        pop.column("last_touch_day")[reached] = now
        over = self.sim.annoyance.touch(reached, now, self.annoyance_limit)
        leaving = np.zeros(reached.size, dtype=bool)
        if over.size:
            leaving[over[self.rng.random(over.size) < self.exit_probability]] = True
            gone = reached[leaving]
            if gone.size:
                self.sim.membership.leave_carrier(gone, self.carrier, now)
                pop.column("annoyed_out")[gone] = True
        return leaving

    def _respond(
        self, candidates: np.ndarray, draw: np.ndarray, probability: np.ndarray | float, now: float
    ) -> None:
        """Who of the ``candidates`` (reached, still on the carrier, their draw below their tier's
        probability, purchase state drawn up to ``now``) buys: the dropped-out multiplier (at most 1, so
        only candidates can buy) applies to those who have stopped buying. A response brings a dropped-out
        buyer back."""
        sim = self.sim
        pop = sim.population
        multiplier = self.campaign.response.dropped_out_multiplier
        if multiplier < 1.0:
            dropped_out = pop.purchases_left[candidates] <= 0
            buyers = candidates[draw < probability * np.where(dropped_out, multiplier, 1.0)]
        else:
            buyers = candidates
        if buyers.size == 0:
            return
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
