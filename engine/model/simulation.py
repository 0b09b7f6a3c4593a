"""The vectorized discrete-event simulation of one replication.

simpy's Environment is the clock and owns every scheduled event. Two kinds of process run on it:

* one arrival process per source: each day's visitors from that source are one event, whose effect (who
  buys, who joins, who is admitted to a full carrier) is a vectorized operation creating rows;
* the review process: every ``horizon.step_days`` it draws, exactly and in bulk, what everyone's memoryless
  clocks did since the last review (carrier exits, purchases, dropouts), then reviews lifecycle stages.

See :mod:`engine.model.clocks` for why the bulk draws have the same law as one event at a time.
"""

from __future__ import annotations

import math

import numpy as np
import simpy

from engine.ledger import CostKind, Ledger, Stage
from engine.model.campaigns import CampaignRunner, limit_columns
from engine.model.clocks import TwoBreakMultiplier, first_order_statistics
from engine.model.compiled import CompiledScenario, SourcePlan, compile_scenario
from engine.model.population import UNLIMITED_PURCHASES, ActiveRows, Population
from engine.model.reach import SourceReach
from engine.model.recorder import Recorder
from engine.model.rules import RuleContext
from engine.model.staff import StaffPools
from engine.model.streams import Streams, make_streams, replication_seed
from engine.scenario.limits import touch_limit
from engine.scenario.schema import Campaign, Scenario


def _normalised(weights: list[float]) -> np.ndarray:
    """Weights as probabilities; all-zero weights mean an even split."""
    array = np.array(weights, dtype=np.float64)
    total = array.sum()
    return array / total if total > 0 else np.full(array.size, 1.0 / max(array.size, 1))


def simulate(scenario: Scenario | CompiledScenario, seed: int, replication: int = 0) -> Ledger:
    """Run one replication of ``scenario`` and return its ledger."""
    compiled = scenario if isinstance(scenario, CompiledScenario) else compile_scenario(scenario)
    return Simulation(compiled, replication_seed(seed, replication)).run()


class Simulation:
    """State and processes of one replication. Use :func:`simulate` unless you need the pieces."""

    def __init__(self, compiled: CompiledScenario, seed: np.random.SeedSequence) -> None:
        self.compiled = compiled
        self.scenario = compiled.scenario
        self.streams: Streams = make_streams(seed, len(compiled.sources), len(self.scenario.campaigns))
        self.env = simpy.Environment()
        limits = [touch_limit(self.scenario, campaign) for campaign in self.scenario.campaigns]
        self.population = Population(
            compiled.n_carriers,
            capacity=self._expected_people(),
            extra_columns=limit_columns(self.scenario.campaigns, limits),
        )
        self.staff = StaffPools(self)
        self.campaigns = [
            CampaignRunner(self, index, campaign, limit)
            for index, (campaign, limit) in enumerate(zip(self.scenario.campaigns, limits, strict=True))
        ]
        self.recorder = Recorder(compiled)
        self.accounts = compiled.carrier_accounts.copy()
        self.members_on = np.zeros(compiled.n_carriers, dtype=np.int64)
        self._fixed_carry = [0.0] * len(compiled.sources)
        self._reach = [
            SourceReach(plan, source, self.scenario.horizon.acquisition_days)
            for plan, source in zip(compiled.sources, self.scenario.sources, strict=True)
        ]
        self._buyers = ActiveRows()  # people who may still buy
        self._open = [ActiveRows() for _ in range(compiled.n_carriers)]  # memberships with no exit drawn yet
        self._present = [ActiveRows() for _ in range(compiled.n_carriers)]  # memberships not ended yet
        self._step_end = 0.0  # end of the current review step: exits are drawn up to it
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
        behaviour = self.scenario.behaviour
        self._membership_multiplier = behaviour.membership_rate_multiplier
        self._deal_rate = behaviour.deal_seeker_rate_multiplier
        self._deal_exit = behaviour.deal_seeker_exit_multiplier
        self._source_wait_multiplier = np.array([s.waiting_exit_multiplier for s in compiled.sources])
        self._prices = [product.price for product in self.scenario.products]
        self._product_index = {product.id: i for i, product in enumerate(self.scenario.products)}
        venues = self.scenario.venues
        self._venue_index = {venue.id: i for i, venue in enumerate(venues)}
        self._venue_mix_members = _normalised([v.share_members for v in venues])
        self._venue_mix_others = _normalised([v.share_others for v in venues])

    def _expected_people(self) -> int:
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
        self.recorder.source_bans = np.array([reach.bans for reach in self._reach], dtype=np.int64)
        return self.recorder.ledger(self.population, self.accounts, self.staff)

    def _arrivals(self, plan: SourcePlan):  # type: ignore[no-untyped-def]
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

    def _reviews(self):  # type: ignore[no-untyped-def]
        """Every step: draw exits ahead for the step; at its end advance purchases, charge, review."""
        horizon = self.scenario.horizon
        start = 0.0
        self._step_end = min(horizon.step_days, horizon.horizon_days)
        self._review(0.0)
        self._exits_ahead()
        while start < horizon.horizon_days:
            end = self._step_end
            yield self.env.timeout(end - self.env.now)
            self.advance_to(end)
            self.staff.charge(start, end)
            for carrier in np.nonzero(self.accounts * self.compiled.carrier_cost_per_day)[0]:
                amount = self.accounts[carrier] * self.compiled.carrier_cost_per_day[carrier] * (end - start)
                self.recorder.cost(end, CostKind.ACCOUNT_RUNNING, float(amount), carrier=int(carrier))
            self._step_end = min(end + horizon.step_days, horizon.horizon_days)
            self._review(end)
            self._exits_ahead()
            start = end

    def _exits_ahead(self) -> None:
        """Draw every open membership's exit up to the end of the coming step."""
        changed = self._carrier_exits(self._step_end)
        self._cancel_late_activations(changed)
        self._update_leave_day(changed)

    # ------------------------------------------------------------------ arrivals
    def _visitor_count(self, plan: SourcePlan, rng: np.random.Generator, day: float, duration: float) -> int:
        expected = self._reach[plan.index].expected_visitors(day, duration)
        if plan.poisson:
            return int(rng.poisson(expected))
        carry = self._fixed_carry[plan.index] + expected
        count = math.floor(carry + 1e-9)
        self._fixed_carry[plan.index] = carry - count
        return count

    def _admit(self, carrier: int, wanted: int, day: float) -> int:
        """How many of ``wanted`` joiners a carrier takes, opening accounts if the scenario says so."""
        capacity = self.compiled.carrier_capacity[carrier]
        free = int(self.accounts[carrier] * capacity - self.members_on[carrier])
        if wanted > free and self.compiled.carrier_opens[carrier]:
            needed = math.ceil((wanted - free) / capacity)
            opened = int(min(needed, self.compiled.carrier_max_accounts[carrier] - self.accounts[carrier]))
            if opened > 0:
                self.accounts[carrier] += opened
                free += opened * int(capacity)
                self.recorder.cost(
                    day,
                    CostKind.ACCOUNT_OPEN,
                    opened * self.compiled.carrier_open_cost[carrier],
                    carrier=carrier,
                )
        admitted = max(0, min(wanted, free))
        self.recorder.turned_away[carrier] += wanted - admitted
        self.members_on[carrier] += admitted
        return admitted

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
        buys = rng.random(targetable) < plan.first_purchase_probability
        offered = np.ones(targetable, dtype=bool) if plan.offer_to_all else buys
        joins = offered & (rng.random(targetable) < plan.join_probability)
        wanted = int(joins.sum())
        if wanted:
            admitted = self._admit(plan.carrier, wanted, day)
            if admitted < wanted:
                joins[np.nonzero(joins)[0][admitted:]] = False
        keep = buys | joins
        count = int(keep.sum())
        if count == 0:
            return
        buys, joins = buys[keep], joins[keep]
        visit = day + rng.random(count) * duration
        self._create_people(plan, visit, buys, joins)
        if plan.index == self._referral_source and joins.any():
            reward = self.scenario.referral.reward_per_join * int(joins.sum())  # type: ignore[union-attr]
            self.recorder.cost(
                day, CostKind.REFERRAL_REWARD, reward, source=plan.index, lure=plan.lure, carrier=plan.carrier
            )

    def _create_people(
        self, plan: SourcePlan, visit: np.ndarray, buys: np.ndarray, joins: np.ndarray
    ) -> None:
        pop = self.population
        rng = self.streams.traits[plan.index]
        behaviour = self.scenario.behaviour
        activation = self.scenario.activation
        count = visit.size
        rows = pop.add(count)
        col = pop.column
        col("source")[rows] = plan.index
        col("visit_day")[rows] = visit
        rate = behaviour.purchase_rate.sample(rng, count)
        dropout = np.clip(behaviour.dropout.sample(rng, count), 0.0, 1.0)
        repeats = np.full(count, UNLIMITED_PURCHASES, dtype=np.int64)
        dies = dropout > 0
        repeats[dies] = rng.geometric(dropout[dies])
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
            deal_seekers = members[rng.random(n_joined) < plan.deal_seeker_share]
            col("deal_seeker")[deal_seekers] = True
            col("rate")[deal_seekers] *= self._deal_rate
            activated = rng.random(n_joined) < activation.activation_rate
            activation_day = np.where(
                activated, join_day + rng.random(n_joined) * activation.window_days, np.inf
            )
            col("activation_day")[members] = activation_day
            pop.member_start[plan.carrier, members] = join_day
            pop.member_exit[plan.carrier, members] = np.inf
            pop.exit_budget[plan.carrier, members] = rng.exponential(1.0, n_joined)
            self.recorder.cost(
                float(visit.min()),
                CostKind.LURE,
                plan.lure_cost * n_joined,
                source=plan.index,
                lure=plan.lure,
                carrier=plan.carrier,
            )
            moved = self._second_carrier(plan, rng, members, activated, activation_day)
            self._draw_exits([(plan.carrier, members), (self.compiled.second_carrier, moved)])
            if plan.consultation is not None:
                self.staff.add_leads(members, join_day, plan.consultation, rng)

        bought = np.nonzero(buys)[0]
        buying = self.streams.buying[plan.index]
        if bought.size:
            self._record_purchases(rows.start + bought, visit[bought], buying)
        if behaviour.timing == "regular":
            self._schedule_regular(np.arange(rows.start, rows.stop))
        else:
            self._outside_buyers_lifetime(rows.start + np.nonzero(~joins)[0], buying)

    def _outside_buyers_lifetime(self, who: np.ndarray, rng: np.random.Generator) -> None:
        """Draw at once every future purchase of people who never joined the private domain.

        Nothing can touch them again (public traffic cannot be re-contacted), so their purchase clock keeps
        one rate until the horizon: a Poisson process on (visit, horizon], cut where they drop out. This is
        the same law as drawing it step by step, for a fraction of the work.
        """
        pop = self.population
        who = who[(pop.purchases_left[who] > 0) & (pop.rate[who] > 0)]
        if who.size == 0:
            return
        begin = pop.visit_day[who]
        length = self.scenario.horizon.horizon_days - begin
        counts = rng.poisson(pop.rate[who] * length)
        group, fraction = first_order_statistics(rng, counts, pop.purchases_left[who])
        person = who[group]
        time = begin[group] + fraction * length[group]
        self._record_purchases(person, time, rng)

    def _second_carrier(
        self,
        plan: SourcePlan,
        rng: np.random.Generator,
        members: np.ndarray,
        activated: np.ndarray,
        activation_day: np.ndarray,
    ) -> np.ndarray:
        """Guide activated members onto a second carrier too (多点留存); returns who was moved."""
        second = self.compiled.second_carrier
        if second < 0 or second == plan.carrier:
            return np.zeros(0, dtype=np.int64)
        moves = activated & (rng.random(members.size) < self.scenario.activation.second_carrier_rate)
        wanted = int(moves.sum())
        if wanted == 0:
            return np.zeros(0, dtype=np.int64)
        admitted = self._admit(second, wanted, float(activation_day[moves].min()))
        chosen = np.nonzero(moves)[0][:admitted]
        who = members[chosen]
        self.population.member_start[second, who] = activation_day[chosen]
        self.population.member_exit[second, who] = np.inf
        self.population.exit_budget[second, who] = rng.exponential(1.0, who.size)

        # ------------------------------------------------------------------ services to campaigns
        return who

    def present_memberships(self, carrier: int, now: float) -> np.ndarray:
        """Rows whose membership of ``carrier`` has not ended by ``now`` (it may not have started yet)."""
        exits = self.population.member_exit[carrier]
        rows, _ = self._present[carrier].refresh(self.population.size, lambda r: exits[r] > now)
        return rows

    def leave_carrier(self, who: np.ndarray, carrier: int, now: float) -> None:
        """``who`` leave ``carrier`` at ``now`` (for a reason other than the carrier's exit clock)."""
        self.population.member_exit[carrier, who] = now
        self.members_on[carrier] -= who.size
        self._cancel_late_activations(who)
        self._update_leave_day(who)

    def record_campaign_purchases(
        self, who: np.ndarray, now: float, rng: np.random.Generator, campaign: Campaign, index: int
    ) -> None:
        """Purchases caused by a campaign's touch, at ``now``, with its offer."""
        self._record_purchases(who, np.full(who.size, now), rng, campaign, index)

    def _record_consultation_sales(self) -> None:
        """Purchases after consultations, recorded in bulk (per product) at the next advance."""
        sales = self.staff.take_sales()
        by_product: dict[str | None, list[tuple[int, float]]] = {}
        for person, day, product in sales:
            by_product.setdefault(product, []).append((person, day))
        for product, rows in by_product.items():
            who, days = (np.array(column) for column in zip(*rows, strict=True))
            self._record_purchases(who.astype(np.int64), days, self.streams.purchases, product=product)

    def revive_buyers(self, who: np.ndarray) -> None:
        """Buyers who had dropped out buy again: put them back among the live buyers."""
        self._buyers.add(who)

    # ------------------------------------------------------------------ clocks between reviews
    def advance_to(self, now: float) -> None:
        """Draw everyone's clocks from where they were last drawn up to ``now`` (a review or a send)."""
        self._record_consultation_sales()
        if now > self._clock:
            self._advance(self._clock, now)
            self._clock = now

    def _advance(self, t0: float, t1: float) -> None:
        """Purchases in [t0, t1] (exits were drawn ahead, for the whole step)."""
        if self.scenario.behaviour.timing == "poisson":
            self._poisson_purchases(t0, t1)
        else:
            self._regular_purchases(t1)

    def _exit_multiplier(self, who: np.ndarray) -> TwoBreakMultiplier:
        pop = self.population
        lifecycle = self.scenario.lifecycle
        activation = self.scenario.activation
        base = np.where(pop.deal_seeker[who], self._deal_exit, 1.0)
        base = base * np.where(pop.stage[who] == Stage.DORMANT, lifecycle.dormant_exit_multiplier, 1.0)
        wait = self._source_wait_multiplier[pop.source[who]]
        activation_day = pop.activation_day[who]
        return TwoBreakMultiplier(
            base,
            wait,
            pop.fulfilment_day[who],
            np.full(who.size, activation.unactivated_exit_multiplier),
            activation_day,
        )

    def _carrier_exits(self, t1: float) -> np.ndarray:
        """Draw every open membership's exit clock up to ``t1``; returns the people who left a carrier.

        Exits are drawn ahead, at each review for the step to come (and for new memberships when they
        start), so membership is known exactly at any send within the step.
        """
        pop = self.population
        changed: list[np.ndarray] = []
        for carrier in range(self.compiled.n_carriers):
            exits = pop.member_exit[carrier]
            open_rows, _ = self._open[carrier].refresh(
                pop.size, lambda rows, exits=exits: exits[rows] == np.inf
            )
            changed.append(self._exit_times(carrier, open_rows, t1))
        return np.unique(np.concatenate(changed)) if changed else np.zeros(0, dtype=np.int64)

    def _exit_times(self, carrier: int, who: np.ndarray, t1: float) -> np.ndarray:
        """Advance the exit clocks of open memberships ``who`` on ``carrier`` to ``t1``; returns who left."""
        pop = self.population
        hazard = self.compiled.carrier_hazard[carrier]
        start = pop.member_start[carrier, who]
        begin = np.maximum(start, pop.exit_drawn_to[carrier, who])
        who, begin = who[begin < t1], begin[begin < t1]
        if who.size == 0:
            return who
        pop.exit_drawn_to[carrier, who] = t1
        if hazard == 0:
            return np.zeros(0, dtype=np.int64)
        multiplier = self._exit_multiplier(who)
        target = pop.exit_budget[carrier, who] / hazard
        time, used = multiplier.crossing(begin, np.full(who.size, t1), target)
        pop.exit_budget[carrier, who] -= used * hazard
        left = np.isfinite(time)
        gone = who[left]
        pop.member_exit[carrier, gone] = time[left]
        self.members_on[carrier] -= gone.size
        return gone

    def _draw_exits(self, who_by_carrier: list[tuple[int, np.ndarray]]) -> None:
        """Draw new memberships' exits up to the end of the current step."""
        changed = [
            self._exit_times(carrier, who, self._step_end) for carrier, who in who_by_carrier if carrier >= 0
        ]
        gone = np.unique(np.concatenate(changed)) if changed else np.zeros(0, dtype=np.int64)
        self._cancel_late_activations(gone)
        self._update_leave_day(gone)

    def _cancel_late_activations(self, changed: np.ndarray) -> None:
        """A member who left their first carrier before the activation time is never activated."""
        second = self.compiled.second_carrier
        if changed.size == 0:
            return
        pop = self.population
        primary = pop.carrier[changed]
        primary_exit = pop.member_exit[primary, changed]
        late = primary_exit < pop.activation_day[changed]
        who = changed[late]
        if who.size == 0:
            return
        pop.column("activation_day")[who] = np.inf
        if second >= 0:
            secondary = who[pop.carrier[who] != second]  # for the others it is their first carrier
            pending = secondary[~np.isnan(pop.member_start[second, secondary])]
            still_counted = pending[pop.member_exit[second, pending] == np.inf]
            self.members_on[second] -= still_counted.size
            pop.member_start[second, pending] = np.nan
            pop.member_exit[second, pending] = np.nan

    def _update_leave_day(self, changed: np.ndarray) -> None:
        """People gone from every carrier have left the private domain, at their last exit."""
        if changed.size == 0:
            return
        pop = self.population
        exits = pop.member_exit[:, changed]
        still_on = np.any(exits == np.inf, axis=0)
        gone = changed[~still_on]
        pop.column("leave_day")[gone] = np.nanmax(pop.member_exit[:, gone], axis=0)

    def _poisson_purchases(self, t0: float, t1: float) -> None:
        pop = self.population
        rng = self.streams.purchases
        left = pop.purchases_left
        rate = pop.rate
        joined = pop.join_day
        leave_day = pop.leave_day
        # People who never joined had their whole purchase history drawn when they arrived. Members who
        # leave the private domain can never be reached again either: once they leave (in this interval),
        # the rest of their history is drawn to the horizon and they drop out of the live buyers.
        buyers, _ = self._buyers.refresh(
            pop.size,
            lambda rows: (
                (left[rows] > 0) & (rate[rows] > 0) & ~np.isnan(joined[rows]) & (leave_day[rows] >= t0)
            ),
        )
        who = buyers[pop.visit_day[buyers] < t1]
        if who.size == 0:
            return
        begin = np.maximum(t0, pop.visit_day[who])
        leave = leave_day[who]
        end = np.where(leave <= t1, self.scenario.horizon.horizon_days, t1)
        member_end = np.clip(leave, begin, end)
        # intensity (expected purchases) inside the private domain, then outside it, in this interval
        base = pop.rate[who]
        member_intensity = base * self._membership_multiplier * (member_end - begin)
        total_intensity = member_intensity + base * (end - member_end)
        counts = rng.poisson(total_intensity)
        buying = np.nonzero(counts)[0]  # over a short interval most have none: carry on with the others
        who, counts, begin, member_end, base = (x[buying] for x in (who, counts, begin, member_end, base))
        member_intensity, total_intensity = member_intensity[buying], total_intensity[buying]
        group, fraction = first_order_statistics(rng, counts, left[who])
        # map each purchase's share of the intensity back to a time through the piecewise-constant rate
        intensity = fraction * total_intensity[group]
        inside = intensity < member_intensity[group]
        with np.errstate(divide="ignore", invalid="ignore"):
            time = np.where(
                inside,
                begin[group] + intensity / (base[group] * self._membership_multiplier),
                member_end[group] + (intensity - member_intensity[group]) / base[group],
            )
        self._record_purchases(who[group], time, rng)

    def _schedule_regular(self, who: np.ndarray) -> None:
        """Regular timing: the next purchase comes exactly 1/rate days after the last one (or joining)."""
        pop = self.population
        anchor = np.where(
            np.isnan(pop.last_purchase_day[who]), pop.visit_day[who], pop.last_purchase_day[who]
        )
        member = ~np.isnan(pop.join_day[who]) & (pop.leave_day[who] > anchor)
        rate = pop.rate[who] * np.where(member, self._membership_multiplier, 1.0)
        with np.errstate(divide="ignore", over="ignore"):
            gap = np.where(rate > 0, 1.0 / rate, np.inf)
        pop.column("next_regular_day")[who] = np.where(pop.purchases_left[who] > 0, anchor + gap, np.inf)

    def _regular_purchases(self, t1: float) -> None:
        pop = self.population
        while True:
            who = np.nonzero(pop.next_regular_day < t1)[0]
            if who.size == 0:
                return
            self._record_purchases(who, pop.next_regular_day[who], self.streams.purchases)
            self._schedule_regular(who)

    def _record_purchases(
        self,
        person: np.ndarray,
        day: np.ndarray,
        rng: np.random.Generator,
        campaign: Campaign | None = None,
        campaign_index: int = -1,
        product: str | None = None,
    ) -> None:
        """Record purchases (products, amounts and venues drawn from ``rng``; a campaign's offer applies to
        the purchases it caused) and update each buyer's counters (a buyer may appear several times)."""
        if person.size == 0:
            return
        pop = self.population
        offer = campaign.offer if campaign is not None else None
        n_products = len(self._prices)
        product_id = offer.product if offer is not None and offer.product is not None else product
        if product_id is not None:
            chosen_product = np.full(person.size, self._product_index[product_id], dtype=np.int64)
        elif self.compiled.product_weights_by_tier is not None:
            chosen_product = self._products_by_tier(person, rng)
        elif n_products > 1:
            chosen_product = rng.choice(n_products, size=person.size, p=self.compiled.product_weights)
        else:
            chosen_product = np.zeros(person.size, dtype=np.int64)
        amount = np.empty(person.size)
        for index, price in enumerate(self._prices):
            chosen = np.nonzero(chosen_product == index)[0]
            if chosen.size:
                amount[chosen] = price.sample(rng, chosen.size)
        if offer is not None:
            amount = np.maximum(0.0, amount * (1.0 - offer.discount) - offer.coupon)
        venue = self._venues_for(person, day, rng, campaign)
        self.recorder.purchases(person, day, chosen_product.astype(np.int16), amount, venue, campaign_index)

        bought, group = np.unique(person, return_inverse=True)
        n = np.bincount(group)
        first = np.full(bought.size, np.inf)
        np.minimum.at(first, group, day)
        last = np.full(bought.size, -np.inf)
        np.maximum.at(last, group, day)
        pop.column("purchases")[bought] += n
        pop.column("purchases_left")[bought] -= n
        pop.column("spend")[bought] += np.bincount(group, weights=amount)
        first_col = pop.column("first_purchase_day")
        first_col[bought] = np.fmin(first_col[bought], first)
        last_col = pop.column("last_purchase_day")
        last_col[bought] = np.fmax(last_col[bought], last)

    def _products_by_tier(self, person: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Products drawn from the purchase mix of each buyer's tier."""
        mix = self.compiled.product_weights_by_tier
        assert mix is not None
        row = self.population.tier[person].astype(np.int64) + 1
        chosen = np.empty(person.size, dtype=np.int64)
        for tier_row in np.unique(row):
            at = np.nonzero(row == tier_row)[0]
            chosen[at] = rng.choice(mix.shape[1], size=at.size, p=mix[tier_row])
        return chosen

    def _venues_for(
        self, person: np.ndarray, day: np.ndarray, rng: np.random.Generator, campaign: Campaign | None
    ) -> np.ndarray | None:
        """Venue of each purchase: the campaign's, else drawn from the members' or others' venue mix."""
        if not self._venue_index:
            return None
        if campaign is not None and campaign.venue is not None:
            return np.full(person.size, self._venue_index[campaign.venue], dtype=np.int16)
        pop = self.population
        member = (pop.join_day[person] <= day) & (pop.leave_day[person] > day)
        venue = np.empty(person.size, dtype=np.int16)
        for mask, weights in ((member, self._venue_mix_members), (~member, self._venue_mix_others)):
            count = int(mask.sum())
            if count:
                venue[mask] = rng.choice(weights.size, size=count, p=weights)
        return venue

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
        last_activity = np.where(purchases > 0, pop.last_purchase_day[members], join[members])
        stage = np.where(
            purchases >= lifecycle.mature_after_purchases,
            Stage.MATURE,
            np.where(purchases > 0, Stage.GROWTH, Stage.INTRO),
        )
        stage = np.where(now - last_activity >= lifecycle.dormant_after_days, Stage.DORMANT, stage)
        went_dormant = members[(stage == Stage.DORMANT) & (stage_column[members] != Stage.DORMANT)]
        pop.column("dormant_since")[went_dormant] = now
        stage_column[members] = stage
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
        if duration <= 0 or reach.closed(start, duration, rng):
            return
        rate = self._referral_rate[self.population.tier[members].astype(np.int64) + 1]
        friends = int(rng.poisson(rate.sum() * duration))
        if friends:
            self._arrive(self.compiled.sources[self._referral_source], start, duration, visitors=friends)
