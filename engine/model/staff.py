"""Staff as finite resources: staff pools are simpy Resources, and each lead is one simpy process.

This is what stays individual in the vectorized engine (DESIGN.md): a lead asks for an adviser, waits in a
first-come-first-served queue while all are busy, is served for a drawn number of working minutes, and buys
with a probability that decays with the wait (seed 001 Q10). Campaign work (1-on-1 touches, group
operation) queues on the same Resource: a send's staff minutes are split evenly over the pool, so leads who
arrive while the staff work through a broadcast wait for them. Working hours are a continuous
approximation: a staff member works at ``hours_per_day / 24`` of the clock's speed. Busy time counts
inside the horizon only, so utilisation is a share of the staff's time.
"""

from __future__ import annotations

import math
from collections.abc import Generator
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
        for person, day, work, u in zip(who, join_day, minutes, uniforms, strict=True):
            self.sim.env.process(
                self._lead(int(person), float(day), pool, float(work), float(u), consultation)
            )

    def _lead(
        self, person: int, day: float, pool: int, minutes: float, uniform: float, consultation: Consultation
    ) -> Generator[simpy.Event, None, None]:
        env = self.sim.env
        if day > env.now:
            yield env.timeout(day - env.now)
        with self.resources[pool].request() as request:
            yield request
            wait = env.now - day
            yield from self._serve(pool, minutes)
        bought = uniform < consultation.conversion * math.exp(-wait / consultation.patience_days)
        self.lead_pool.append(pool)
        self.lead_wait.append(wait)
        self.lead_bought.append(bought)
        if bought and env.now <= self.sim.scenario.horizon.horizon_days:
            self._sales.append((person, env.now, consultation.product))

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
            self.sim.env.process(self._work(pool, minutes / parts))

    def _work(self, pool: int, minutes: float) -> Generator[simpy.Event, None, None]:
        with self.resources[pool].request() as request:
            yield request
            yield from self._serve(pool, minutes)

    def _serve(self, pool: int, minutes: float) -> Generator[simpy.Event, None, None]:
        """Hold a staff member for ``minutes`` of work; count the busy time inside the horizon."""
        env = self.sim.env
        duration = minutes / MINUTES_PER_DAY / self.speed[pool]
        # counted when the work starts (work still going on at the end of the run counts up to the horizon)
        self.busy_days[pool] += max(
            0.0, min(env.now + duration, self.sim.scenario.horizon.horizon_days) - env.now
        )
        yield env.timeout(duration)

    def charge(self, start: float, end: float) -> None:
        """Staff cost for [start, end]."""
        for pool in self.sim.scenario.staff:
            amount = pool.headcount * pool.monthly_cost / 30.0 * (end - start)
            self.sim.recorder.cost(end, CostKind.STAFF, amount)
