"""The vectorized discrete-event simulation of one replication.

simpy's Environment is the clock and owns every scheduled event. Two kinds of process run on it:

* one arrival process per source: each day's visitors from that source are one event, whose effect (who
  buys, who joins, who is admitted to a full carrier) is a vectorized operation creating rows;
* the review process: every ``horizon.step_days`` it draws, exactly and in bulk, what everyone's memoryless
  clocks did since the last review (purchases, dropouts), reviews lifecycle stages and tiers (redrawing the
  carrier exits of members who turned dormant or active again) and starts the step's referrals.

Campaign sends (:mod:`engine.model.campaigns`) and consultations (:mod:`engine.model.staff`) run on the same
clock. Carrier memberships and their exit clocks are kept by :class:`~engine.model.membership.Membership`,
purchase clocks and the recording of purchases by :class:`~engine.model.buying.Buying`; the simulation owns
one of each. See :mod:`engine.model.clocks` for why the bulk draws have the same law as one event at a time.
"""

from __future__ import annotations

import math
from collections.abc import Generator

import numpy as np
import simpy

from engine.ledger import CostKind, Ledger, Stage
from engine.model.buying import Buying
from engine.model.campaigns import Annoyance, CampaignRunner, limit_columns
from engine.model.compiled import CompiledScenario, SourcePlan, compile_scenario
from engine.model.membership import Membership
from engine.model.population import ActiveRows, Population, repeat_purchases
from engine.model.reach import SourceReach
from engine.model.recorder import Recorder
from engine.model.rules import RuleContext
from engine.model.staff import StaffPools
from engine.model.streams import Streams, make_streams, replication_seed
from engine.scenario.limits import touch_limit
from engine.scenario.schema import Scenario


def simulate(scenario: Scenario | CompiledScenario, seed: int, replication: int = 0) -> Ledger:
    """Run one replication of ``scenario`` and return its ledger."""
    compiled = scenario if isinstance(scenario, CompiledScenario) else compile_scenario(scenario)
    return Simulation(compiled, replication_seed(seed, replication)).run()


class Simulation:
    """State and processes of one replication. Use :func:`simulate` unless you need the pieces."""

    def __init__(self, compiled: CompiledScenario, seed: np.random.SeedSequence) -> None:
        self.compiled = compiled
        self.scenario = compiled.scenario
        self.streams: Streams = make_streams(
            seed, compiled.source_ids, tuple(campaign.id for campaign in self.scenario.campaigns)
        )
        self.env = simpy.Environment()
        limits = [touch_limit(self.scenario, campaign) for campaign in self.scenario.campaigns]
        self.population = Population(
            compiled.n_carriers,
            capacity=self._expected_people(),
            extra_columns=limit_columns(self.scenario.campaigns, limits),
        )
        self.staff = StaffPools(self)
        self.annoyance = Annoyance(self.population)
        self.campaigns = [
            CampaignRunner(self, index, campaign, limit)
            for index, (campaign, limit) in enumerate(zip(self.scenario.campaigns, limits, strict=True))
        ]
        self.recorder = Recorder(compiled)
        self.membership = Membership(compiled, self.population, self.recorder)
        self.buying = Buying(compiled, self.population, self.recorder, self.staff, self.streams.purchases)
        self._fixed_carry = [0.0] * len(compiled.sources)
        self._reach = [
            SourceReach(plan, source, self.scenario.horizon.acquisition_days)
            for plan, source in zip(compiled.sources, self.scenario.sources, strict=True)
        ]
        self._members = ActiveRows()  # people who joined and had not left at the last review
        self._churned = 0  # people who have left the private domain
        self._clock = 0.0  # time up to which everyone's clocks have been drawn
        referral = self.scenario.referral
        self._referral_source = compiled.source_ids.index(referral.source) if referral is not None else -1
        if referral is not None:
            per_tier = [
                referral.monthly_rate_by_tier.get(t.id, referral.monthly_rate) for t in self.scenario.tiers
            ]
            # per day, indexed by tier + 1 so that "no tier" (-1) takes the default
            self._referral_rate = (
                np.array([referral.monthly_rate, *per_tier]) * referral.service_quality / 30.0
            )
        self.rules = RuleContext(
            self.population,
            {
                "tier": tuple(t.id for t in self.scenario.tiers),
                "carrier": compiled.carrier_ids,
                "source": compiled.source_ids,
                "lure": compiled.lure_ids,
            },
        )
        self._deal_rate = self.scenario.behaviour.deal_seeker_rate_multiplier

    def _expected_people(self) -> int:
        """A first guess at how many people the replication creates (the population grows past it)."""
        days = self.scenario.horizon.acquisition_days
        total = 0.0
        for plan in self.compiled.sources:
            share = plan.precision * max(plan.first_purchase_probability, plan.join_probability)
            total += plan.visitors_per_day * days * min(1.0, share * 1.2)
        return int(min(total, 5e7)) + 1024

    # ------------------------------------------------------------------ processes
    def run(self) -> Ledger:
        """Run the horizon and return the ledger."""
        for plan in self.compiled.sources:
            self.env.process(self._arrivals(plan))
        self.env.process(self._reviews())
        for campaign in self.campaigns:
            self.env.process(campaign.process())
        # `until=horizon` would skip the events due at the horizon itself; leads still queueing then are cut
        horizon = self.scenario.horizon.horizon_days
        self.env.run(until=horizon + 1e-9)
        # a send due at the horizon itself may have run after the last review: classify everyone once more
        self.advance_to(horizon)
        self._classify(horizon)
        return self.recorder.ledger(
            self.population,
            self.membership.accounts,
            self.staff,
            source_bans=np.array([reach.bans for reach in self._reach], dtype=np.int64),
        )

    def _arrivals(self, plan: SourcePlan) -> Generator[simpy.Event, None, None]:
        """One event per day of the acquisition window: that day's visitors from one source."""
        if plan.fixed_cost:
            self.recorder.cost(
                0.0,
                CostKind.SOURCE_FIXED,
                plan.fixed_cost,
                source=plan.index,
                lure=plan.lure,
                carrier=plan.carrier,
            )
        reach = self._reach[plan.index]
        end = reach.active_until
        for day in range(math.floor(reach.active_from), math.ceil(end)):
            start = max(float(day), reach.active_from)
            if start >= end:
                break
            yield self.env.timeout(start - self.env.now)
            duration = min(float(day) + 1.0, end) - start
            if reach.closed(start, duration, self.streams.arrivals[plan.index]):
                continue  # banned: no visitors, no spend
            fees = reach.post_cost(start, duration)
            if fees:
                self.recorder.cost(
                    start, CostKind.MEDIA, fees, source=plan.index, lure=plan.lure, carrier=plan.carrier
                )
            self._arrive(plan, start, duration)

    def _reviews(self) -> Generator[simpy.Event, None, None]:
        """Every step: draw exits ahead for the step; at its end advance purchases, charge, review."""
        horizon = self.scenario.horizon
        membership = self.membership
        start = 0.0
        # the step's end is set before the review: friends referred at the review join within the step
        membership.step_end = min(horizon.step_days, horizon.horizon_days)
        self._review(0.0)
        membership.begin_step()
        while start < horizon.horizon_days:
            end = membership.step_end
            yield self.env.timeout(end - self.env.now)
            self.advance_to(end)
            self.staff.charge(start, end)
            accounts = membership.accounts
            for carrier in np.nonzero(accounts * self.compiled.carrier_cost_per_day)[0]:
                amount = accounts[carrier] * self.compiled.carrier_cost_per_day[carrier] * (end - start)
                self.recorder.cost(end, CostKind.ACCOUNT_RUNNING, float(amount), carrier=int(carrier))
            membership.step_end = min(end + horizon.step_days, horizon.horizon_days)
            self._review(end)
            membership.begin_step()
            start = end

    # ------------------------------------------------------------------ arrivals
    def _visitor_count(self, plan: SourcePlan, rng: np.random.Generator, day: float, duration: float) -> int:
        """Visitors over [day, day + duration): a Poisson count, or the expected count with its fraction
        carried over to the next day."""
        expected = self._reach[plan.index].expected_visitors(day, duration)
        if plan.poisson:
            return int(rng.poisson(expected))
        carry = self._fixed_carry[plan.index] + expected
        count = math.floor(carry + 1e-9)
        self._fixed_carry[plan.index] = carry - count
        return count

    def _arrive(self, plan: SourcePlan, day: float, duration: float, visitors: int | None = None) -> None:
        """Visitors from a source over [day, day + duration): who is targetable, buys, joins, is admitted.

        ``visitors`` is drawn from the source's reach unless given (referred friends)."""
        rng = self.streams.arrivals[plan.index]
        referred = visitors is not None
        if visitors is None:
            visitors = self._visitor_count(plan, rng, day, duration)
        self.recorder.visitors[plan.index] += visitors
        if plan.spend_per_day and not referred:  # referred friends cost rewards, not the source's spend
            self.recorder.cost(
                day,
                CostKind.MEDIA,
                plan.spend_per_day * duration,
                source=plan.index,
                lure=plan.lure,
                carrier=plan.carrier,
            )
        targetable = int(rng.binomial(visitors, plan.precision)) if plan.precision < 1 else visitors
        if targetable == 0:
            return
        # every draw is made per targetable visitor, whoever stays: a lever that changes who joins leaves the
        # stream's later draws where they were (common random numbers)
        visit = day + rng.random(targetable) * duration
        rate, dropout, repeats = self._traits(plan, targetable)
        buys = rng.random(targetable) < plan.first_purchase_probability
        offered = np.ones(targetable, dtype=bool) if plan.offer_to_all else buys
        joins = offered & (rng.random(targetable) < plan.join_probability)
        wanted = int(joins.sum())
        if wanted:
            admitted = self.membership.admit(plan.carrier, wanted, day)
            if admitted < wanted:
                joins[np.nonzero(joins)[0][admitted:]] = False
        keep = buys | joins
        count = int(keep.sum())
        if count == 0:
            return
        buys, joins, visit = buys[keep], joins[keep], visit[keep]
        rate, dropout, repeats = rate[keep], dropout[keep], repeats[keep]
        self._create_people(plan, visit, buys, joins, rate, dropout, repeats)
        if plan.index == self._referral_source and joins.any():
            reward = self.scenario.referral.reward_per_join * int(joins.sum())  # type: ignore[union-attr]
            self.recorder.cost(
                day, CostKind.REFERRAL_REWARD, reward, source=plan.index, lure=plan.lure, carrier=plan.carrier
            )

    def _traits(self, plan: SourcePlan, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What ``count`` targetable visitors are like as buyers: purchase rate, dropout probability and
        repeat purchases before dropping out. Drawn for every targetable visitor, kept or not, so a lever that
        changes who stays leaves the stream's later draws where they were (common random numbers)."""
        rng = self.streams.traits[plan.index]
        behaviour = self.scenario.behaviour
        rate = behaviour.purchase_rate.sample(rng, count)
        dropout = np.clip(behaviour.dropout.sample(rng, count), 0.0, 1.0)
        return rate, dropout, repeat_purchases(rng, dropout)

    def _create_people(
        self,
        plan: SourcePlan,
        visit: np.ndarray,
        buys: np.ndarray,
        joins: np.ndarray,
        rate: np.ndarray,
        dropout: np.ndarray,
        repeats: np.ndarray,
    ) -> None:
        """Rows for the people kept from an arrival: their traits, the memberships of those who join (with
        their consultation leads), then their first purchases and purchase clocks."""
        pop = self.population
        activation = self.scenario.activation
        count = visit.size
        rows = pop.add(count)
        col = pop.column
        col("source")[rows] = plan.index
        col("visit_day")[rows] = visit
        col("rate")[rows] = rate
        col("dropout")[rows] = dropout
        col("purchases_left")[rows] = 1 + repeats

        joined = np.nonzero(joins)[0]
        members = rows.start + joined
        n_joined = joined.size
        if n_joined:
            join_day = visit[joined]
            col("lure")[members] = plan.lure
            col("carrier")[members] = plan.carrier
            col("join_day")[members] = join_day
            col("leave_day")[members] = np.inf
            col("stage")[members] = Stage.INTRO
            col("fulfilment_day")[members] = join_day + plan.fulfilment_delay_days
            joining = self.streams.membership[plan.index]
            deal_seekers = members[joining.random(n_joined) < plan.deal_seeker_share]
            col("deal_seeker")[deal_seekers] = True
            col("rate")[deal_seekers] *= self._deal_rate
            activated = joining.random(n_joined) < activation.activation_rate
            activation_day = np.where(
                activated, join_day + joining.random(n_joined) * activation.window_days, np.inf
            )
            col("activation_day")[members] = activation_day
            self.recorder.cost(
                float(visit.min()),
                CostKind.LURE,
                plan.lure_cost * n_joined,
                source=plan.index,
                lure=plan.lure,
                carrier=plan.carrier,
            )
            self.membership.join(
                plan.carrier, members, join_day, activated, activation_day, joining, now=float(self.env.now)
            )
            if plan.consultation is not None:
                self.staff.add_leads(members, join_day, plan.consultation, joining)

        self.buying.add_people(rows, visit, buys, joins, self.streams.buying[plan.index])

    # ------------------------------------------------------------------ clocks between reviews
    def advance_to(self, now: float) -> None:
        """Draw everyone's clocks from where they were last drawn up to ``now`` (a review, the end)."""
        self._settle()
        if now > self._clock:
            self.buying.advance(now)
            self._clock = now

    def bring_up_to(self, rows: np.ndarray, now: float) -> None:
        """Make the purchase state of ``rows`` exact at ``now`` (a send looks at them): only their clocks
        are drawn when each person's clock can be drawn on its own, everyone's otherwise."""
        if self.buying.per_person_clocks:
            self._settle()
            self.buying.bring_up_to(rows, now)
        else:
            self.advance_to(now)

    def _settle(self) -> None:
        """What must be drawn before purchase clocks are: new memberships' exits, consultations' sales."""
        self.membership.settle()
        self.buying.record_consultation_sales()

    # ------------------------------------------------------------------ stage review
    def _review(self, now: float) -> None:
        """Classify members by lifecycle stage and tier at ``now``, record the pool, start referrals."""
        members = self._classify(now)
        counts = np.bincount(self.population.stage[members], minlength=5)[:5].astype(np.int64)
        counts[Stage.CHURNED] = self._churned
        self.recorder.snapshot(now, counts)
        self._referrals(members, now)

    def _classify(self, now: float) -> np.ndarray:
        """Lifecycle stage and tier of everyone who has joined, at ``now``; returns the current members."""
        pop = self.population
        lifecycle = self.scenario.lifecycle
        join, leave = pop.join_day, pop.leave_day
        rows, dropped = self._members.refresh(pop.size, lambda r: ~np.isnan(join[r]) & ~(leave[r] <= now))
        gone = dropped[~np.isnan(join[dropped])]
        self._churned += gone.size
        stage_column = pop.column("stage")
        stage_column[gone] = Stage.CHURNED
        members = rows[join[rows] <= now]
        purchases = pop.purchases[members]
        # members join at their visit and buy from then on: the last purchase, if any, is the later activity
        last_activity = np.fmax(pop.last_purchase_day[members], join[members])
        stage = np.where(purchases > 0, Stage.GROWTH, Stage.INTRO).astype(np.int8)
        stage[purchases >= lifecycle.mature_after_purchases] = Stage.MATURE
        stage[now - last_activity >= lifecycle.dormant_after_days] = Stage.DORMANT
        was_dormant = stage_column[members] == Stage.DORMANT
        now_dormant = stage == Stage.DORMANT
        pop.column("dormant_since")[members[now_dormant & ~was_dormant]] = now
        stage_column[members] = stage
        changed = was_dormant != now_dormant
        self.membership.restage(members[changed], was_dormant[changed], now)
        self._review_tiers(members, now)
        return members

    def _review_tiers(self, members: np.ndarray, now: float) -> None:
        """Each member takes the first tier (highest first) whose rule holds."""
        tiers = self.scenario.tiers
        if not tiers or members.size == 0:
            return
        tier = np.full(members.size, -1, dtype=np.int8)
        for index in range(len(tiers) - 1, -1, -1):  # lowest first, so higher tiers overwrite
            tier[self.rules.mask(tiers[index].when, members, now)] = index
        self.population.column("tier")[members] = tier

    def _referrals(self, members: np.ndarray, now: float) -> None:
        """Friends the members refer during the next step, arriving through the referral source.

        Rates are fixed for the step by each member's tier at this review (a referral is a memoryless
        clock: Poisson counts over the step). Referrals, like every source, run in the acquisition window.
        """
        if self._referral_source < 0 or members.size == 0:
            return
        horizon = self.scenario.horizon
        reach = self._reach[self._referral_source]
        start = max(now, reach.active_from)
        duration = min(now + horizon.step_days, reach.active_until) - start
        rng = self.streams.arrivals[self._referral_source]
        # the source's own daily process draws its bans; referred friends only respect them
        if duration <= 0 or reach.is_closed(start):
            return
        rate = self._referral_rate[self.population.tier[members].astype(np.int64) + 1]
        friends = int(rng.poisson(rate.sum() * duration))
        if friends:
            self._arrive(self.compiled.sources[self._referral_source], start, duration, visitors=friends)
