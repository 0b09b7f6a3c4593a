"""Collects the facts the model emits in chunks and assembles the :class:`~engine.ledger.Ledger`."""

from __future__ import annotations

import numpy as np

from engine.ledger import CostKind, Costs, Ledger, Memberships, People, Purchases
from engine.model.compiled import CompiledScenario
from engine.model.population import Population
from engine.model.staff import StaffPools

_COST_COLUMNS: tuple[tuple[str, type], ...] = (
    ("day", np.float64),
    ("kind", np.int8),
    ("amount", np.float64),
    ("source", np.int16),
    ("lure", np.int16),
    ("carrier", np.int16),
    ("person", np.int64),
    ("campaign", np.int16),
)
"""The ledger's cost columns and their dtypes, in :class:`~engine.ledger.Costs` order."""


def _concat(chunks: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(chunks).astype(dtype, copy=False) if chunks else np.zeros(0, dtype=dtype)


class Recorder:
    """Append-only chunk lists for purchases and costs, plus per-source and per-carrier counters."""

    def __init__(self, compiled: CompiledScenario) -> None:
        self.compiled = compiled
        self.visitors = np.zeros(len(compiled.source_ids), dtype=np.int64)
        self.turned_away = np.zeros(compiled.n_carriers, dtype=np.int64)
        scenario = compiled.scenario
        self._purchases: dict[str, list[np.ndarray]] = {
            k: [] for k in ("person", "day", "product", "amount", "venue", "campaign", "list_amount")
        }
        self._has_venues = bool(scenario.venues)
        self._has_campaigns = bool(scenario.campaigns)
        self._costs: dict[str, list[np.ndarray]] = {name: [] for name, _ in _COST_COLUMNS}
        n_campaigns = len(scenario.campaigns)
        self.campaign_sends = np.zeros(n_campaigns, dtype=np.int64)
        self.campaign_audience = np.zeros(n_campaigns, dtype=np.int64)
        self.campaign_reached = np.zeros(n_campaigns, dtype=np.int64)
        self.campaign_blocked = np.zeros(n_campaigns, dtype=np.int64)
        self.campaign_staff_minutes = np.zeros(n_campaigns)
        days = int(np.ceil(scenario.horizon.clv_horizon_days)) + 1
        self.service_cost_by_offset = np.zeros((len(compiled.source_ids), days))
        self.snapshot_days: list[float] = []
        self.snapshot_stages: list[np.ndarray] = []

    def purchases(
        self,
        person: np.ndarray,
        day: np.ndarray,
        product: np.ndarray,
        amount: np.ndarray,
        venue: np.ndarray | None = None,
        campaign: int = -1,
        list_amount: np.ndarray | None = None,
    ) -> None:
        """Record purchases. Fees follow from venue and amount paid, cost of goods from product and list
        price (the amount before a campaign's offer: a discount does not make the goods cheaper)."""
        chunk = self._purchases
        chunk["person"].append(person)
        chunk["day"].append(day)
        chunk["product"].append(product)
        chunk["amount"].append(amount)
        if self._has_venues:
            assert venue is not None
            chunk["venue"].append(venue.astype(np.int16, copy=False))
        if self._has_campaigns:
            chunk["campaign"].append(np.full(person.size, campaign, dtype=np.int16))
            chunk["list_amount"].append(amount if list_amount is None else list_amount)

    def _take_purchases(self) -> Purchases:
        """Concatenate the purchase chunks column by column, freeing each column's chunks as it goes."""
        columns = {}
        for name, dtype in (
            ("person", np.int64),
            ("day", np.float64),
            ("product", np.int16),
            ("amount", np.float64),
        ):
            columns[name] = _concat(self._purchases[name], dtype)
            self._purchases[name].clear()
        n = columns["amount"].size
        for name, present in (("venue", self._has_venues), ("campaign", self._has_campaigns)):
            # without venues or campaigns every purchase has -1: a read-only broadcast costs no memory
            columns[name] = (
                _concat(self._purchases[name], np.int16) if present else np.broadcast_to(np.int16(-1), (n,))
            )
            self._purchases[name].clear()
        scenario = self.compiled.scenario
        unit_cost = np.array([p.unit_cost for p in scenario.products])
        unit_cost_share = np.array([p.unit_cost_share for p in scenario.products])
        product, amount = columns["product"], columns["amount"]
        list_amount = _concat(self._purchases["list_amount"], np.float64) if self._has_campaigns else amount
        self._purchases["list_amount"].clear()
        if self._has_venues:
            fee = np.array([v.fee_rate for v in scenario.venues])[columns["venue"]] * amount
        else:
            fee = np.zeros(n)  # zeros cost no memory until written
        return Purchases(
            **columns,
            cost_of_goods=unit_cost[product] + unit_cost_share[product] * list_amount,
            fee=fee,
        )

    def cost(
        self,
        day: float,
        kind: CostKind,
        amount: float,
        *,
        source: int = -1,
        lure: int = -1,
        carrier: int = -1,
        campaign: int = -1,
    ) -> None:
        """Record one cost entry (skipped when the amount is zero)."""
        if amount == 0:
            return
        for key, value in (
            ("day", day),
            ("kind", int(kind)),
            ("amount", amount),
            ("source", source),
            ("lure", lure),
            ("carrier", carrier),
            ("person", -1),
            ("campaign", campaign),
        ):
            self._costs[key].append(np.array([value]))

    def snapshot(self, day: float, stage_counts: np.ndarray) -> None:
        """Members per lifecycle stage at a review."""
        self.snapshot_days.append(day)
        self.snapshot_stages.append(stage_counts)

    def ledger(
        self, population: Population, accounts: np.ndarray, staff: StaffPools, source_bans: np.ndarray
    ) -> Ledger:
        """Assemble the ledger at the end of the horizon."""
        compiled = self.compiled
        horizon = compiled.scenario.horizon
        p = population
        # views of the population's columns, not copies: the simulation is over and nothing writes them again
        people = People(
            source=p.source,
            lure=p.lure,
            carrier=p.carrier,
            visit_day=p.visit_day,
            join_day=p.join_day,
            leave_day=p.leave_day,
            activation_day=p.activation_day,
            deal_seeker=p.deal_seeker,
            first_purchase_day=p.first_purchase_day,
            stage_end=p.stage,
            tier_end=np.where(p.leave_day == np.inf, p.tier, -1).astype(np.int8),
            touches=p.touches,
            annoyed_out=p.annoyed_out,
            service_cost=p.service_cost,
        )
        start = p.member_start[:, : p.size]
        carrier_idx, person_idx = np.nonzero(~np.isnan(start))
        memberships = Memberships(
            person=person_idx.astype(np.int64),
            carrier=carrier_idx.astype(np.int16),
            join_day=start[carrier_idx, person_idx],
            exit_day=p.member_exit[carrier_idx, person_idx],
        )
        purchases = self._take_purchases()
        costs = Costs(**{name: _concat(self._costs[name], dtype) for name, dtype in _COST_COLUMNS})
        source_lure = np.array([s.lure for s in compiled.sources], dtype=np.int16)
        source_carrier = np.array([s.carrier for s in compiled.sources], dtype=np.int16)
        stages = np.vstack(self.snapshot_stages) if self.snapshot_stages else np.zeros((0, 5), dtype=np.int64)
        return Ledger(
            horizon_days=horizon.horizon_days,
            acquisition_days=horizon.acquisition_days,
            clv_horizon_days=horizon.clv_horizon_days,
            discount_rate=horizon.discount_rate,
            source_ids=compiled.source_ids,
            lure_ids=compiled.lure_ids,
            carrier_ids=compiled.carrier_ids,
            product_ids=compiled.product_ids,
            source_lure=source_lure,
            source_carrier=source_carrier,
            visitors=self.visitors.copy(),
            turned_away=self.turned_away.copy(),
            people=people,
            purchases=purchases,
            costs=costs,
            memberships=memberships,
            snapshot_days=np.array(self.snapshot_days, dtype=np.float64),
            snapshot_stages=stages,
            accounts_end=accounts.copy(),
            venue_ids=tuple(v.id for v in compiled.scenario.venues),
            tier_ids=tuple(t.id for t in compiled.scenario.tiers),
            campaign_ids=tuple(c.id for c in compiled.scenario.campaigns),
            campaign_sends=self.campaign_sends.copy(),
            campaign_audience=self.campaign_audience.copy(),
            campaign_reached=self.campaign_reached.copy(),
            campaign_blocked=self.campaign_blocked.copy(),
            campaign_staff_minutes=self.campaign_staff_minutes.copy(),
            service_cost_by_offset=self.service_cost_by_offset.copy(),
            source_bans=source_bans,
            referral_source=(
                compiled.source_ids.index(compiled.scenario.referral.source)
                if compiled.scenario.referral
                else -1
            ),
            staff_ids=tuple(pool.id for pool in compiled.scenario.staff),
            staff_headcount=np.array([pool.headcount for pool in compiled.scenario.staff], dtype=np.int64),
            staff_busy_days=staff.busy_days.copy(),
            lead_staff=np.array(staff.lead_pool, dtype=np.int16),
            lead_wait_days=np.array(staff.lead_wait, dtype=np.float64),
            lead_bought=np.array(staff.lead_bought, dtype=bool),
            leads_total=staff.leads_total,
        )
