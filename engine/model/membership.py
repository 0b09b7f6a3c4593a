"""Carrier memberships: who is on each carrier, their exit clocks, and each carrier's accounts and capacity.

A membership of a carrier starts when a person joins through it (or is guided onto the second carrier when
activated) and ends at its exit: a memoryless clock with the carrier's hazard, scaled per person by a
:class:`~engine.model.clocks.TwoBreakMultiplier` (deal seekers, dormancy, waiting for fulfilment, not yet
activated). A membership's exit is drawn to the horizon when it starts, against a unit-exponential budget.
The multiplier changes later only at a review (a member turning dormant or active again): the exits of those
members are then redrawn from the review on, with the budget left at the review (a memoryless clock, so the
same law as drawing step by step). Exits up to the end of the current review step are final; a later one
may still move at a review, so what an exit decides for others (a second carrier's membership that starts
at activation) is decided once the exit falls within the step. A person gone from every carrier has left
the private domain.
"""

from __future__ import annotations

import math

import numpy as np

from engine.ledger import CostKind, Stage
from engine.model.clocks import TwoBreakMultiplier
from engine.model.compiled import CompiledScenario
from engine.model.population import ActiveRows, Population, distinct
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
        self.step_end = 0.0  # end of the current review step: exits up to it are final
        self._horizon = self.scenario.horizon.horizon_days
        self._late_exits = np.zeros(0, dtype=np.int64)  # first-carrier exits before activation, past step_end
        self._unsettled: list[tuple[int, np.ndarray]] = []  # memberships started since the last settle()
        self._started = np.zeros(compiled.n_carriers, dtype=np.int64)  # memberships ever started per carrier
        self._present = [ActiveRows() for _ in range(compiled.n_carriers)]  # memberships not ended yet
        # a carrier's count of present memberships, kept between recounts while no exit can have passed: the
        # count at the last recount plus memberships started since, valid before the earliest exit known
        self._count = np.zeros(compiled.n_carriers, dtype=np.int64)
        self._started_at_count = np.zeros(compiled.n_carriers, dtype=np.int64)  # _started when counted
        self._count_valid_before = np.full(compiled.n_carriers, -np.inf)
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
        free = int(self.accounts[carrier] * capacity - self._present_count(carrier, day))
        if wanted > free and self._unsettled:
            self.settle()
            free = int(self.accounts[carrier] * capacity - self._present_count(carrier, day))
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
        to the horizon at the next :meth:`settle`, all joins since the last one together
        (the draws are elementwise: the same numbers as drawn at each join, in far fewer calls).
        """
        pop = self.population
        pop.member_start[carrier, members] = join_day
        pop.member_exit[carrier, members] = np.inf
        pop.exit_budget[carrier, members] = rng.exponential(1.0, members.size)
        pop.exit_budget_from[carrier, members] = join_day
        self._track(carrier, members)
        moved = self._second_carrier(carrier, rng, members, activated, activation_day, now)
        self._unsettled.append((carrier, members))
        if moved.size:
            self._unsettled.append((self.compiled.second_carrier, moved))

    def settle(self) -> None:
        """Draw the exits of the memberships started since the last call, up to the horizon.

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
        self.population.exit_budget_from[second, who] = activation_day[chosen]
        self._track(second, who)
        return who

    def _track(self, carrier: int, who: np.ndarray) -> None:
        """New memberships enter the set of present memberships (rows already scanned before the membership
        existed would otherwise be missed)."""
        self._present[carrier].add(who)
        self._started[carrier] += who.size

    # ------------------------------------------------------------------ exit clocks
    def begin_step(self) -> None:
        """A review has set :attr:`step_end`: draw pending exits and decide what the exits now inside the
        step decide (activations that never come)."""
        self.settle()
        late, self._late_exits = self._late_exits, np.zeros(0, dtype=np.int64)
        self._cancel_late_activations(late)
        self._update_leave_day(late)

    def restage(self, who: np.ndarray, was_dormant: np.ndarray, now: float) -> None:
        """Members ``who`` turned dormant or active again at the review at ``now``: their exit hazard changes
        from ``now`` on. Each exit still ahead is redrawn from ``now`` with the budget left at ``now`` (what
        the old multiplier used since the budget was last measured is taken off)."""
        if self._dormant_exit == 1.0 or who.size == 0:
            return
        self.settle()
        pop = self.population
        moved: list[np.ndarray] = []
        for carrier in range(self.compiled.n_carriers):
            hazard = self.compiled.carrier_hazard[carrier]
            ahead = pop.member_exit[carrier, who] > now  # never a member: nan, not ahead
            rows = who[ahead]
            if hazard == 0 or rows.size == 0:
                continue
            begin = pop.exit_budget_from[carrier, rows]
            started = begin < now  # a second carrier's membership may start later: its budget is untouched
            rows_started, begin = rows[started], begin[started]
            dormant = was_dormant[ahead][started]
            if self._breaks_ahead(rows_started, begin):
                multiplier = self._exit_multiplier(rows_started, dormant)
                used = multiplier.integral(begin, np.full(rows_started.size, now))
            else:  # one constant multiplier since the budget was measured
                used = (now - begin) * self._base_multiplier(rows_started, dormant)
            budget = pop.exit_budget[carrier, rows_started] - used * hazard
            pop.exit_budget[carrier, rows_started] = np.maximum(budget, 0.0)
            pop.exit_budget_from[carrier, rows_started] = now
            self._exit_times(carrier, rows)
            moved.append(rows)
        if moved:
            changed = distinct(np.concatenate(moved))
            self._cancel_late_activations(changed)
            self._update_leave_day(changed)

    def _draw_exits(self, who_by_carrier: list[tuple[int, np.ndarray]]) -> None:
        """Draw new memberships' exits up to the horizon."""
        changed = [self._exit_times(carrier, who) for carrier, who in who_by_carrier if carrier >= 0]
        gone = distinct(np.concatenate(changed)) if changed else np.zeros(0, dtype=np.int64)
        self._cancel_late_activations(gone)
        self._update_leave_day(gone)

    def _exit_multiplier(self, who: np.ndarray, dormant: np.ndarray | None = None) -> TwoBreakMultiplier:
        """Each person's exit-hazard multiplier: deal seeker and dormancy factors throughout, the source's
        waiting factor until fulfilment, the unactivated factor until activation."""
        pop = self.population
        return TwoBreakMultiplier(
            self._base_multiplier(who, dormant),
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

    def _base_multiplier(self, who: np.ndarray, dormant: np.ndarray | None = None) -> np.ndarray | float:
        """The part of ``who``'s exit multiplier that holds between reviews: deal seeker and dormancy factors
        (the whole multiplier when no break is ahead). ``dormant``: whether each is dormant (default: their
        stage at the last review)."""
        pop = self.population
        rate: np.ndarray | float = 1.0
        if self._deal_exit != 1.0:
            rate = np.where(pop.deal_seeker[who], self._deal_exit, 1.0)
        if self._dormant_exit != 1.0:
            if dormant is None:
                dormant = pop.stage[who] == Stage.DORMANT
            rate = rate * np.where(dormant, self._dormant_exit, 1.0)
        return rate

    def _exit_times(self, carrier: int, who: np.ndarray) -> np.ndarray:
        """Draw the exits of memberships ``who`` on ``carrier`` from where each one's budget was measured to
        the horizon (inf: not before the horizon); returns who has an exit."""
        pop = self.population
        hazard = self.compiled.carrier_hazard[carrier]
        if hazard == 0 or who.size == 0:
            return np.zeros(0, dtype=np.int64)
        begin = pop.exit_budget_from[carrier, who]
        target = pop.exit_budget[carrier, who] / hazard
        horizon = self._horizon
        if self._breaks_ahead(who, begin):
            time, _ = self._exit_multiplier(who).crossing(begin, np.full(who.size, horizon), target)
        else:  # one constant multiplier to the horizon (the common case): no pieces to walk through
            rate = self._base_multiplier(who)
            whole = (horizon - begin) * rate  # the integral to the horizon, as the two-break crossing has it
            crossed = (target <= whole) & (whole > 0)
            time = np.where(crossed, np.minimum(begin + target / rate, horizon), np.inf)
        pop.member_exit[carrier, who] = time
        self._count_valid_before[carrier] = min(self._count_valid_before[carrier], time.min())
        return who[np.isfinite(time)]

    def _cancel_late_activations(self, changed: np.ndarray) -> None:
        """A member who left their first carrier before the activation time is never activated. Decided once
        the exit is final (within the step); later ones wait for the review that makes them final."""
        second = self.compiled.second_carrier
        if changed.size == 0:
            return
        pop = self.population
        primary = pop.carrier[changed]
        primary_exit = pop.member_exit[primary, changed]
        activation = pop.activation_day[changed]
        late = (primary_exit < activation) & np.isfinite(activation)  # inf: never activated, or cancelled
        final = primary_exit <= self.step_end
        if (late & ~final).any():
            self._late_exits = distinct(np.concatenate((self._late_exits, changed[late & ~final])))
        who = changed[late & final]
        if who.size == 0:
            return
        pop.column("activation_day")[who] = np.inf
        if second >= 0:
            secondary = who[pop.carrier[who] != second]  # for the others it is their first carrier
            pending = secondary[~np.isnan(pop.member_start[second, secondary])]
            pop.member_start[second, pending] = np.nan
            pop.member_exit[second, pending] = np.nan
            if pending.size:
                self._count_valid_before[second] = -np.inf  # memberships gone without an exit: recount

    def _update_leave_day(self, changed: np.ndarray) -> None:
        """People gone from every carrier leave the private domain at their last exit (an exit past the step
        may still move, and so may the leaving)."""
        if changed.size == 0:
            return
        pop = self.population
        exits = pop.member_exit[:, changed]
        still_on = np.any(exits == np.inf, axis=0)
        with np.errstate(invalid="ignore"):
            last = np.nanmax(np.where(still_on, np.inf, exits), axis=0)
        pop.column("leave_day")[changed] = last

    # ------------------------------------------------------------------ services to campaigns
    def present_memberships(self, carrier: int, now: float) -> np.ndarray:
        """Rows whose membership of ``carrier`` has not ended by ``now`` (it may not have started yet)."""
        exits = self.population.member_exit[carrier]
        rows, _ = self._present[carrier].refresh(self.population.size, lambda r: exits[r] > now)
        return rows

    def _present_count(self, carrier: int, day: float) -> int:
        """How many memberships of ``carrier`` have not ended by ``day``: counted again only when an exit
        may have passed since the last count (or a membership was cancelled)."""
        if day < self._count_valid_before[carrier]:
            return int(self._count[carrier] + self._started[carrier] - self._started_at_count[carrier])
        rows = self.present_memberships(carrier, day)
        exits = self.population.member_exit[carrier, rows]
        self._count[carrier] = rows.size
        self._started_at_count[carrier] = self._started[carrier]
        self._count_valid_before[carrier] = exits.min() if rows.size else np.inf
        return rows.size

    def leave_carrier(self, who: np.ndarray, carrier: int, now: float) -> None:
        """``who`` leave ``carrier`` at ``now`` (for a reason other than the carrier's exit clock)."""
        self.settle()
        self.population.member_exit[carrier, who] = now
        self._count_valid_before[carrier] = min(self._count_valid_before[carrier], now)
        self._cancel_late_activations(who)
        self._update_leave_day(who)
