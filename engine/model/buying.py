"""Purchases: everyone's purchase clocks and how each purchase is recorded.

A person buys on a memoryless clock (``behaviour.timing: poisson``) or exactly every 1 / rate days
(``regular``), faster while a member of the private domain, until they drop out. People who never joined
have their whole purchase history drawn when they arrive; members' purchases are drawn in bulk up to each
advance of the simulation. Campaign touches and consultations cause purchases too. Each purchase gets a
product, an amount and a venue, and updates its buyer's counters.

See :mod:`engine.model.clocks` for why the bulk draws have the same law as one event at a time.
"""

from __future__ import annotations

import numpy as np

from engine.model.clocks import first_order_statistics, poisson_counts
from engine.model.compiled import CompiledScenario
from engine.model.population import ActiveRows, Population, distinct
from engine.model.recorder import Recorder
from engine.model.staff import StaffPools
from engine.scenario.schema import Campaign


def _cdf(probabilities: np.ndarray) -> np.ndarray:
    """The distribution function ``rng.choice(n, p=probabilities)`` builds on every call, built once."""
    cdf = probabilities.cumsum(axis=-1)
    return cdf / cdf[..., -1:]


def _choose(rng: np.random.Generator, cdf: np.ndarray, size: int) -> np.ndarray:
    """Indices drawn from the distribution ``cdf``: the same numbers as ``rng.choice(cdf.size, size, p=…)``
    (one uniform each, searched in the distribution function) without its checks on every call."""
    return cdf.searchsorted(rng.random(size), side="right")


def _normalised(weights: list[float]) -> np.ndarray:
    """Weights as probabilities; all-zero weights mean an even split."""
    array = np.array(weights, dtype=np.float64)
    total = array.sum()
    return array / total if total > 0 else np.full(array.size, 1.0 / max(array.size, 1))


class Buying:
    """The purchase clocks of one replication and the recording of every purchase.

    ``rng`` is the purchases stream: organic purchases drawn between reviews and sales after consultations.
    """

    def __init__(
        self,
        compiled: CompiledScenario,
        population: Population,
        recorder: Recorder,
        staff: StaffPools,
        rng: np.random.Generator,
    ) -> None:
        self.compiled = compiled
        self.scenario = compiled.scenario
        self.population = population
        self.recorder = recorder
        self.staff = staff
        self.rng = rng
        self._buyers = ActiveRows()  # people who may still buy
        self._membership_multiplier = self.scenario.behaviour.membership_rate_multiplier
        self._prices = [product.price for product in self.scenario.products]
        self._product_index = {product.id: i for i, product in enumerate(self.scenario.products)}
        venues = self.scenario.venues
        self._venue_index = {venue.id: i for i, venue in enumerate(venues)}
        self._venue_cdf_members = _cdf(_normalised([v.share_members for v in venues]))
        self._venue_cdf_others = _cdf(_normalised([v.share_others for v in venues]))
        self._product_cdf = _cdf(compiled.product_weights)
        by_tier = compiled.product_weights_by_tier
        self._product_cdf_by_tier = _cdf(by_tier) if by_tier is not None else None

    # ------------------------------------------------------------------ new people
    def add_people(
        self, rows: slice, visit: np.ndarray, buys: np.ndarray, joins: np.ndarray, rng: np.random.Generator
    ) -> None:
        """New people ``rows``: those who came to buy buy at their visit, then everyone's clock starts.

        With regular timing everyone's next purchase is scheduled; with Poisson timing the whole history of
        those who did not join is drawn at once (members' purchases are drawn at each advance).
        """
        bought = np.nonzero(buys)[0]
        if bought.size:
            self._record_purchases(rows.start + bought, visit[bought], rng, grouped=True)
        if self.scenario.behaviour.timing == "regular":
            self._schedule_regular(np.arange(rows.start, rows.stop))
        else:
            self._outside_buyers_lifetime(rows.start + np.nonzero(~joins)[0], rng)

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
        counts = poisson_counts(rng, pop.rate[who] * length)
        group, fraction = first_order_statistics(rng, counts, pop.purchases_left[who])
        person = who[group]
        time = begin[group] + fraction * length[group]
        self._record_purchases(person, time, rng, grouped=True)

    # ------------------------------------------------------------------ clocks between advances
    @property
    def per_person_clocks(self) -> bool:
        """Whether each member's purchase clock can be drawn on its own (Poisson timing), so a send need
        only bring the members it looks at up to date (:meth:`bring_up_to`)."""
        return self.scenario.behaviour.timing == "poisson"

    def advance(self, t1: float) -> None:
        """Every live buyer's purchases up to ``t1`` (exits were drawn ahead, for the whole step)."""
        if not self.per_person_clocks:
            self._regular_purchases(t1)
            return
        horizon = self.scenario.horizon.horizon_days
        # People who never joined had their whole purchase history drawn when they arrived; members who
        # left have had theirs drawn to the horizon: neither is a live buyer any more.
        pop = self.population
        buyers, _ = self._buyers.refresh(pop.size, lambda rows: self._drawable(rows, horizon))
        self._poisson_purchases(
            buyers[(pop.purchases_drawn_to[buyers] < t1) & (pop.visit_day[buyers] < t1)], t1
        )

    def bring_up_to(self, rows: np.ndarray, t1: float) -> None:
        """Draw the purchases of members ``rows`` (Poisson timing) up to ``t1``, so that their counters,
        last purchase and dropout are exact at ``t1``; the others' clocks wait for the next advance. A
        memoryless clock drawn in pieces has the same law as drawn at once."""
        self._poisson_purchases(rows[self._drawable(rows, t1) & (self.population.visit_day[rows] < t1)], t1)

    def _drawable(self, rows: np.ndarray, t1: float) -> np.ndarray:
        """Which ``rows`` are members still buying whose purchase clock is drawn to before ``t1``."""
        pop = self.population
        return (
            (pop.purchases_left[rows] > 0)
            & (pop.rate[rows] > 0)
            & ~np.isnan(pop.join_day[rows])
            & (pop.purchases_drawn_to[rows] < t1)
        )

    def _poisson_purchases(self, who: np.ndarray, t1: float) -> None:
        """Purchases of members ``who`` from where each one's clock was drawn to up to ``t1``, and the rest
        of the history of those who left the private domain by ``t1``."""
        if who.size == 0:
            return
        pop = self.population
        rng = self.rng
        left = pop.purchases_left
        drawn_to = pop.column("purchases_drawn_to")
        begin = np.maximum(drawn_to[who], pop.visit_day[who])
        leave = pop.leave_day[who]
        # members who leave can never be reached again: the rest of their history is drawn to the horizon
        end = np.where(leave <= t1, self.scenario.horizon.horizon_days, t1)
        drawn_to[who] = end
        member_end = np.clip(leave, begin, end)
        # intensity (expected purchases) inside the private domain, then outside it, in this interval
        base = pop.rate[who]
        member_intensity = base * self._membership_multiplier * (member_end - begin)
        total_intensity = member_intensity + base * (end - member_end)
        counts = poisson_counts(rng, total_intensity)
        buying = np.nonzero(counts)[0]  # over a short interval most have none: carry on with the others
        if buying.size == 0:
            return
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
        self._record_purchases(who[group], time, rng, grouped=True)

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
        """Regular timing: every purchase due before ``t1``, each scheduling the next."""
        pop = self.population
        while True:
            who = np.nonzero(pop.next_regular_day < t1)[0]
            if who.size == 0:
                return
            self._record_purchases(who, pop.next_regular_day[who], self.rng, grouped=True)
            self._schedule_regular(who)

    # ------------------------------------------------------------------ services to campaigns and staff
    def record_campaign_purchases(
        self, who: np.ndarray, now: float, rng: np.random.Generator, campaign: Campaign, index: int
    ) -> None:
        """Purchases caused by a campaign's touch, at ``now``, with its offer."""
        self._record_purchases(who, np.full(who.size, now), rng, campaign, index, grouped=True)

    def after_extra_purchases(self, who: np.ndarray) -> None:
        """Buyers who bought outside their own clock (a campaign, a consultation): with regular timing their
        next purchase is counted from this one."""
        if self.scenario.behaviour.timing == "regular":
            self._schedule_regular(distinct(who))

    def revive_buyers(self, who: np.ndarray, now: float) -> None:
        """Buyers who had dropped out buy again from ``now``: put them back among the live buyers."""
        self.population.column("purchases_drawn_to")[who] = now
        self._buyers.add(who)

    def record_consultation_sales(self) -> None:
        """Purchases after consultations, recorded in bulk (per product) at the next advance."""
        sales = self.staff.take_sales()
        by_product: dict[str | None, list[tuple[int, float]]] = {}
        for person, day, product in sales:
            by_product.setdefault(product, []).append((person, day))
        for product, rows in by_product.items():
            who, days = (np.array(column) for column in zip(*rows, strict=True))
            self._record_purchases(who.astype(np.int64), days, self.rng, product=product)
            self.after_extra_purchases(who.astype(np.int64))

    # ------------------------------------------------------------------ recording
    def _record_purchases(
        self,
        person: np.ndarray,
        day: np.ndarray,
        rng: np.random.Generator,
        campaign: Campaign | None = None,
        campaign_index: int = -1,
        product: str | None = None,
        grouped: bool = False,
    ) -> None:
        """Record purchases (products, amounts and venues drawn from ``rng``; a campaign's offer applies to
        the purchases it caused) and update each buyer's counters (a buyer may appear several times;
        ``grouped``: each buyer's purchases are adjacent in ``person``, which spares a sort)."""
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
            chosen_product = _choose(rng, self._product_cdf, person.size)
        else:
            chosen_product = np.zeros(person.size, dtype=np.int64)
        amount = np.empty(person.size)
        for index, price in enumerate(self._prices):
            chosen = np.nonzero(chosen_product == index)[0]
            if chosen.size:
                amount[chosen] = price.sample(rng, chosen.size)
        if offer is not None:
            list_amount, amount = amount, np.maximum(0.0, amount * (1.0 - offer.discount) - offer.coupon)
        else:
            list_amount = amount
        venue = self._venues_for(person, day, rng, campaign)
        self.recorder.purchases(
            person,
            day,
            chosen_product.astype(np.int16),
            amount,
            venue,
            campaign_index,
            list_amount=list_amount,
        )

        if not grouped:
            order = np.argsort(person, kind="stable")
            person, day, amount = person[order], day[order], amount[order]
        starts = np.flatnonzero(np.concatenate(([True], person[1:] != person[:-1])))
        bought = person[starts]
        n = np.diff(np.append(starts, person.size))
        first = np.minimum.reduceat(day, starts)
        last = np.maximum.reduceat(day, starts)
        pop.column("purchases")[bought] += n
        pop.column("purchases_left")[bought] -= n
        pop.column("spend")[bought] += np.add.reduceat(amount, starts)
        first_col = pop.column("first_purchase_day")
        first_col[bought] = np.fmin(first_col[bought], first)
        last_col = pop.column("last_purchase_day")
        last_col[bought] = np.fmax(last_col[bought], last)

    def _products_by_tier(self, person: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Products drawn from the purchase mix of each buyer's tier."""
        mix = self._product_cdf_by_tier
        assert mix is not None
        row = self.population.tier[person].astype(np.int64) + 1
        chosen = np.empty(person.size, dtype=np.int64)
        for tier_row in np.unique(row):
            at = np.nonzero(row == tier_row)[0]
            chosen[at] = _choose(rng, mix[tier_row], at.size)
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
        for mask, cdf in ((member, self._venue_cdf_members), (~member, self._venue_cdf_others)):
            count = int(mask.sum())
            if count:
                venue[mask] = _choose(rng, cdf, count)
        return venue
