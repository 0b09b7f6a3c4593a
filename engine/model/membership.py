"""Carrier memberships: who is on each carrier, their exit clocks, and each carrier's accounts and capacity.

A membership of a carrier starts when a person joins through it (or is guided onto the second carrier when
activated) and ends at its exit: a memoryless clock with the carrier's hazard, scaled per person by a
:class:`~engine.model.clocks.TwoBreakMultiplier` (deal seekers, dormancy, waiting for fulfilment, not yet
activated). Exits are drawn ahead, at each review for the step to come and for new memberships when they
start, so membership is known exactly at any send within the step. A person gone from every carrier has
left the private domain.
"""

from __future__ import annotations

import math

import numpy as np

from engine.ledger import CostKind, Stage
from engine.model.clocks import TwoBreakMultiplier
from engine.model.compiled import CompiledScenario
from engine.model.population import ActiveRows, Population
from engine.model.recorder import Recorder


class Membership:
    """Every carrier's memberships in one replication, with its open accounts and the members counted on it.

    The simulation owns one and sets :attr:`step_end` at each review, before anyone can join in the new step.
    """

    def __init__(self, compiled: CompiledScenario, population: Population, recorder: Recorder) -> None:
        self.compiled = compiled
        self.scenario = compiled.scenario
        self.population = population
        self.recorder = recorder
        self.accounts = compiled.carrier_accounts.copy()  # accounts open per carrier
        self.step_end = 0.0  # end of the current review step: exits are drawn up to it
        self._open = [ActiveRows() for _ in range(compiled.n_carriers)]  # memberships with no exit drawn yet
        self._unsettled: list[tuple[int, np.ndarray]] = []  # memberships started since the last settle()
        self._started = np.zeros(compiled.n_carriers, dtype=np.int64)  # memberships ever started per carrier
        self._present = [ActiveRows() for _ in range(compiled.n_carriers)]  # memberships not ended yet
        self._deal_exit = self.scenario.behaviour.deal_seeker_exit_multiplier
        self._source_wait_multiplier = np.array([s.waiting_exit_multiplier for s in compiled.sources])
        self._waiting_matters = bool((self._source_wait_multiplier != 1.0).any())
        self._unactivated = self.scenario.activation.unactivated_exit_multiplier
        self._dormant_exit = self.scenario.lifecycle.dormant_exit_multiplier

    # ------------------------------------------------------------------ joining
    def admit(self, carrier: int, wanted: int, day: float) -> int:
        """How many of ``wanted`` joiners a carrier takes, opening accounts if the scenario says so."""
        capacity = self.compiled.carrier_capacity[carrier]
        if wanted + self._started[carrier] <= self.accounts[carrier] * capacity:
            return wanted  # room even if no one had ever left: no need to count who is present
        # everyone whose membership has not ended by ``day`` holds a slot: exits drawn ahead free theirs only
        # when they happen, and a second-carrier membership holds its slot from the moment it is promised.
        # Unsettled memberships count as present (an upper bound): their exits are drawn only if it matters.
        free = int(self.accounts[carrier] * capacity - self.present_memberships(carrier, day).size)
        if wanted > free and self._unsettled:
            self.settle()
            free = int(self.accounts[carrier] * capacity - self.present_memberships(carrier, day).size)
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
        return admitted

    def join(
        self,
        carrier: int,
        members: np.ndarray,
        join_day: np.ndarray,
        activated: np.ndarray,
        activation_day: np.ndarray,
        rng: np.random.Generator,
        now: float,
    ) -> None:
        """New ``members`` (already admitted at ``now``) join ``carrier`` at ``join_day``.

        Activated members may be guided onto the second carrier too. The exits of new memberships are drawn
        up to the end of the current step at the next :meth:`settle`, all joins since the last one together
        (the draws are elementwise: the same numbers as drawn at each join, in far fewer calls).
        """
        pop = self.population
        pop.member_start[carrier, members] = join_day
        pop.member_exit[carrier, members] = np.inf
        pop.exit_budget[carrier, members] = rng.exponential(1.0, members.size)
        self._track(carrier, members)
        moved = self._second_carrier(carrier, rng, members, activated, activation_day, now)
        self._unsettled.append((carrier, members))
        if moved.size:
            self._unsettled.append((self.compiled.second_carrier, moved))

    def settle(self) -> None:
        """Draw the exits of the memberships started since the last call, up to :attr:`step_end`.

        The simulation calls it before anything reads membership (a send, an advance of the purchase
        clocks, the review, the end); :meth:`admit` calls it when a carrier may be full."""
        if not self._unsettled:
            return
        by_carrier: dict[int, list[np.ndarray]] = {}
        for carrier, who in self._unsettled:
            by_carrier.setdefault(carrier, []).append(who)
        self._unsettled = []
        self._draw_exits([(carrier, np.concatenate(rows)) for carrier, rows in by_carrier.items()])

    def _second_carrier(
        self,
        carrier: int,
        rng: np.random.Generator,
        members: np.ndarray,
        activated: np.ndarray,
        activation_day: np.ndarray,
        now: float,
    ) -> np.ndarray:
        """Guide activated members onto a second carrier too (多点留存); returns who was moved.

        The slot on the second carrier is held from ``now``, when the move is decided."""
        second = self.compiled.second_carrier
        if second < 0 or second == carrier:
            return np.zeros(0, dtype=np.int64)
        moves = activated & (rng.random(members.size) < self.scenario.activation.second_carrier_rate)
        wanted = int(moves.sum())
        if wanted == 0:
            return np.zeros(0, dtype=np.int64)
        admitted = self.admit(second, wanted, now)
        chosen = np.nonzero(moves)[0][:admitted]
        who = members[chosen]
        self.population.member_start[second, who] = activation_day[chosen]
        self.population.member_exit[second, who] = np.inf
        self.population.exit_budget[second, who] = rng.exponential(1.0, who.size)
        self._track(second, who)
        return who

    def _track(self, carrier: int, who: np.ndarray) -> None:
        """New memberships enter the sets of open and present memberships (rows already scanned before the
        membership existed would otherwise be missed)."""
        self._open[carrier].add(who)
        self._present[carrier].add(who)
        self._started[carrier] += who.size

    # ------------------------------------------------------------------ exit clocks
    def draw_exits_ahead(self) -> None:
        """Draw every open membership's exit up to :attr:`step_end`, the end of the coming step."""
        self.settle()
        changed = self._carrier_exits(self.step_end)
        self._cancel_late_activations(changed)
        self._update_leave_day(changed)

    def _draw_exits(self, who_by_carrier: list[tuple[int, np.ndarray]]) -> None:
        """Draw new memberships' exits up to the end of the current step."""
        changed = [
            self._exit_times(carrier, who, self.step_end) for carrier, who in who_by_carrier if carrier >= 0
        ]
        gone = np.unique(np.concatenate(changed)) if changed else np.zeros(0, dtype=np.int64)
        self._cancel_late_activations(gone)
        self._update_leave_day(gone)

    def _exit_multiplier(self, who: np.ndarray) -> TwoBreakMultiplier:
        """Each person's exit-hazard multiplier: deal seeker and dormancy factors throughout, the source's
        waiting factor until fulfilment, the unactivated factor until activation."""
        pop = self.population
        return TwoBreakMultiplier(
            self._base_multiplier(who),
            self._source_wait_multiplier[pop.source[who]],
            pop.fulfilment_day[who],
            np.full(who.size, self._unactivated),
            pop.activation_day[who],
        )

    def _breaks_ahead(self, who: np.ndarray, begin: np.ndarray) -> bool:
        """Whether anyone's exit multiplier may still change after ``begin`` (waiting for fulfilment, not yet
        activated): only then is the two-break multiplier needed."""
        pop = self.population
        if self._waiting_matters and (pop.fulfilment_day[who] > begin).any():
            return True
        return self._unactivated != 1.0 and bool((~(pop.activation_day[who] <= begin)).any())

    def _base_multiplier(self, who: np.ndarray) -> np.ndarray | float:
        """The part of ``who``'s exit multiplier that holds throughout: deal seeker and dormancy factors (the
        whole multiplier when no break is ahead)."""
        pop = self.population
        rate: np.ndarray | float = 1.0
        if self._deal_exit != 1.0:
            rate = np.where(pop.deal_seeker[who], self._deal_exit, 1.0)
        if self._dormant_exit != 1.0:
            rate = rate * np.where(pop.stage[who] == Stage.DORMANT, self._dormant_exit, 1.0)
        return rate

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
        target = pop.exit_budget[carrier, who] / hazard
        if self._breaks_ahead(who, begin):
            time, used = self._exit_multiplier(who).crossing(begin, np.full(who.size, t1), target)
        else:  # one constant multiplier over the interval (the common case): no pieces to walk through
            rate = self._base_multiplier(who)
            whole = (t1 - begin) * rate  # the integral over the interval, as the two-break crossing has it
            crossed = (target <= whole) & (whole > 0)
            time = np.where(crossed, np.minimum(begin + target / rate, t1), np.inf)
            used = np.where(crossed, target, whole)
        pop.exit_budget[carrier, who] -= used * hazard
        left = np.isfinite(time)
        gone = who[left]
        pop.member_exit[carrier, gone] = time[left]
        return gone

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

    # ------------------------------------------------------------------ services to campaigns
    def present_memberships(self, carrier: int, now: float) -> np.ndarray:
        """Rows whose membership of ``carrier`` has not ended by ``now`` (it may not have started yet)."""
        exits = self.population.member_exit[carrier]
        rows, _ = self._present[carrier].refresh(self.population.size, lambda r: exits[r] > now)
        return rows

    def leave_carrier(self, who: np.ndarray, carrier: int, now: float) -> None:
        """``who`` leave ``carrier`` at ``now`` (for a reason other than the carrier's exit clock)."""
        self.settle()
        self.population.member_exit[carrier, who] = now
        self._cancel_late_activations(who)
        self._update_leave_day(who)
