"""Staff as finite resources: staff pools are simpy Resources, and each lead queues on one.

This is what stays individual in the vectorized engine (DESIGN.md): a lead asks for an adviser, waits in a
first-come-first-served queue while all are busy, is served for a drawn number of working minutes, and buys
with a probability that decays with the wait (seed 001 Q10). Each piece of work is a chain of simpy events
(request, service timeout, release) driven by callbacks rather than a generator process each: the same
queue, without a process's start and end events. Campaign work (1-on-1 touches, group operation) queues on
the same Resource: a send's staff minutes are split evenly over the pool, so leads who arrive while the
staff work through a broadcast wait for them. Working hours are a continuous approximation: a staff member
works at ``hours_per_day / 24`` of the clock's speed. Busy time counts inside the horizon only, so
utilisation is a share of the staff's time.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import simpy

from engine.ledger import CostKind
from engine.scenario.schema import Consultation

if TYPE_CHECKING:
    from engine.model.simulation import Simulation

MINUTES_PER_DAY = 24 * 60


class StaffPools:
    """Every staff pool of a scenario, with its queue and what it did."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        pools = sim.scenario.staff
        self.index = {pool.id: i for i, pool in enumerate(pools)}
        self.resources = [simpy.Resource(sim.env, capacity=pool.headcount) for pool in pools]
        self.speed = np.array([pool.hours_per_day / 24.0 for pool in pools])
        self.busy_days = np.zeros(len(pools))  # clock days of service, summed over advisers
        self.leads_total = 0  # every lead added; those not in lead_wait had no finished consultation
        self.lead_pool: list[int] = []
        self.lead_wait: list[float] = []  # days from joining to the start of the consultation
        self.lead_bought: list[bool] = []
        self._sales: list[tuple[int, float, str | None]] = []  # (person, day, product) not yet recorded

    def add_leads(
        self, who: np.ndarray, join_day: np.ndarray, consultation: Consultation, rng: np.random.Generator
    ) -> None:
        """New members who queue for a consultation from the time they joined."""
        pool = self.index[consultation.staff]
        asks = rng.random(who.size) < consultation.lead_share
        who, join_day = who[asks], join_day[asks]
        self.leads_total += int(who.size)
        minutes = consultation.minutes.sample(rng, who.size)
        uniforms = rng.random(who.size)
        env = self.sim.env
        columns = (who.tolist(), join_day.tolist(), minutes.tolist(), uniforms.tolist())
        for person, day, work, u in zip(*columns, strict=True):
            done = functools.partial(self._consulted, pool, person, day, u, consultation)
            lead = _StaffWork(self, pool, work, done)
            if day > env.now:
                env.timeout(day - env.now).callbacks.append(lead.ask)
            else:
                lead.ask(None)

    def _consulted(
        self, pool: int, person: int, day: float, uniform: float, consultation: Consultation, started: float
    ) -> None:
        """A lead's consultation has ended; it started ``started`` (the lead joined on ``day``)."""
        wait = started - day
        bought = uniform < consultation.conversion * math.exp(-wait / consultation.patience_days)
        self.lead_pool.append(pool)
        self.lead_wait.append(wait)
        self.lead_bought.append(bought)
        now = self.sim.env.now
        if bought and now <= self.sim.scenario.horizon.horizon_days:
            self._sales.append((person, now, consultation.product))

    def take_sales(self) -> list[tuple[int, float, str | None]]:
        """Purchases after consultations since the last call (recorded in bulk by the simulation)."""
        sales, self._sales = self._sales, []
        return sales

    def add_work(self, pool_id: str, minutes: float, touches: int) -> None:
        """Working minutes of a campaign send (``touches`` members reached): split evenly over the pool's
        staff (at most one part per touch), each part queued first come, first served with the leads."""
        pool = self.index[pool_id]
        parts = min(self.resources[pool].capacity, touches)
        for _ in range(parts):
            _StaffWork(self, pool, minutes / parts, None).ask(None)

    def service_days(self, pool: int, minutes: float) -> float:
        """Clock days a staff member of ``pool`` takes for ``minutes`` of work; the busy time inside the
        horizon is counted when the work starts (work going on at the end counts up to the horizon)."""
        now = self.sim.env.now
        duration = minutes / MINUTES_PER_DAY / self.speed[pool]
        self.busy_days[pool] += max(0.0, min(now + duration, self.sim.scenario.horizon.horizon_days) - now)
        return duration

    def charge(self, start: float, end: float) -> None:
        """Staff cost for [start, end]."""
        for pool in self.sim.scenario.staff:
            amount = pool.headcount * pool.monthly_cost / 30.0 * (end - start)
            self.sim.recorder.cost(end, CostKind.STAFF, amount)


class _StaffWork:
    """One piece of work on a staff pool's first-come-first-served queue: ask for a staff member, work
    for the given minutes, release them, then call ``done`` with the time the work started."""

    __slots__ = ("done", "minutes", "pool", "pools", "request", "started")

    def __init__(
        self, pools: StaffPools, pool: int, minutes: float, done: Callable[[float], None] | None
    ) -> None:
        self.pools = pools
        self.pool = pool
        self.minutes = minutes
        self.done = done

    def ask(self, _event: simpy.Event | None) -> None:
        self.request = self.pools.resources[self.pool].request()
        self.request.callbacks.append(self._start)

    def _start(self, _event: simpy.Event) -> None:
        env = self.pools.sim.env
        self.started = env.now
        env.timeout(self.pools.service_days(self.pool, self.minutes)).callbacks.append(self._finish)

    def _finish(self, _event: simpy.Event) -> None:
        self.pools.resources[self.pool].release(self.request)
        if self.done is not None:
            self.done(self.started)
