"""A scenario turned into index-based arrays the vectorized model reads (ids → integer positions)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.scenario.schema import Carrier, Consultation, Scenario, Source


def hazard_from_monthly_rate(monthly_exit_rate: float) -> float:
    """Constant daily hazard whose probability of leaving within 30 days is ``monthly_exit_rate``."""
    return -math.log1p(-monthly_exit_rate) / 30.0


def expected_reach_per_day(source: Source) -> float:
    """organic + max_paid × (1 − exp(−spend / saturation_spend)): exponential saturation of paid reach."""
    reach = source.reach
    paid = reach.max_paid_per_day * -math.expm1(-source.spend_per_day / reach.saturation_spend)
    return reach.organic_per_day + paid


@dataclass(frozen=True)
class SourcePlan:
    """What one source does each day, with ids resolved."""

    index: int
    visitors_per_day: float  # expected visitors per day (reach × visit rate)
    organic_visitors_per_day: float  # the part of it from organic reach (followers: lost at a ban)
    poisson: bool
    precision: float
    first_purchase_probability: float
    offer_to_all: bool
    join_probability: float  # P(join | shown the offer) = min(1, take × lure multiplier) × path pass rate
    lure: int  # -1: none
    carrier: int  # -1: none
    spend_per_day: float
    fixed_cost: float
    lure_cost: float
    deal_seeker_share: float
    fulfilment_delay_days: float
    waiting_exit_multiplier: float
    consultation: Consultation | None  # new members queue for an adviser


@dataclass(frozen=True)
class CompiledScenario:
    """Everything the model needs, by integer index."""

    scenario: Scenario
    source_ids: tuple[str, ...]
    lure_ids: tuple[str, ...]
    carrier_ids: tuple[str, ...]
    product_ids: tuple[str, ...]
    sources: tuple[SourcePlan, ...]
    carrier_hazard: np.ndarray  # per day, per carrier
    carrier_capacity: np.ndarray  # members per account
    carrier_accounts: np.ndarray  # accounts at the start
    carrier_max_accounts: np.ndarray
    carrier_opens: np.ndarray  # bool: open accounts when full
    carrier_open_cost: np.ndarray
    carrier_cost_per_day: np.ndarray  # per open account
    carrier_response_multiplier: np.ndarray  # a brand persona raises responses to touches
    second_carrier: int  # -1: none
    product_weights: np.ndarray  # normalised
    product_weights_by_tier: np.ndarray | None  # (1 + tiers, products), row 0 for no tier; None: same for all

    @property
    def n_carriers(self) -> int:
        return len(self.carrier_ids)


def _mix_by_tier(scenario: Scenario) -> np.ndarray | None:
    """Purchase mix per tier (row 0: no tier), or None when no product's weight depends on the tier."""
    if not any(p.weight_by_tier for p in scenario.products):
        return None
    rows = [[p.weight for p in scenario.products]]
    rows += [[p.weight_by_tier.get(t.id, p.weight) for p in scenario.products] for t in scenario.tiers]
    matrix = np.array(rows, dtype=np.float64)
    totals = matrix.sum(axis=1, keepdims=True)
    uniform = np.full_like(matrix, 1.0 / matrix.shape[1])
    return np.where(totals > 0, matrix / np.where(totals > 0, totals, 1.0), uniform)


def _atmosphere(carrier: Carrier) -> float:
    """Exit hazard multiplier of a carrier run as a brand persona and/or with seed users in its groups."""
    persona = carrier.persona_exit_multiplier if carrier.persona else 1.0
    seeded = carrier.seed_user_exit_multiplier if carrier.seed_users_per_account > 0 else 1.0
    return persona * seeded


def compile_scenario(scenario: Scenario) -> CompiledScenario:
    """Resolve ids to indices and precompute per-day rates. The scenario is assumed validated."""
    lure_index = {lure.id: i for i, lure in enumerate(scenario.lures)}
    carrier_index = {carrier.id: i for i, carrier in enumerate(scenario.carriers)}
    path_by_id = {path.id: path for path in scenario.paths}
    plans = []
    for i, source in enumerate(scenario.sources):
        lure = scenario.lures[lure_index[source.lure]] if source.lure is not None else None
        path = path_by_id[source.path] if source.path is not None else None
        take = min(1.0, source.take_rate * (lure.take_rate_multiplier if lure else 1.0))
        pass_rate = math.prod(step.pass_rate for step in path.steps) if path else 0.0
        plans.append(
            SourcePlan(
                index=i,
                visitors_per_day=expected_reach_per_day(source) * source.visit_rate,
                organic_visitors_per_day=source.reach.organic_per_day * source.visit_rate,
                poisson=source.arrivals == "poisson",
                precision=source.precision,
                first_purchase_probability=source.first_purchase_probability,
                offer_to_all=source.join_offered_to == "all",
                join_probability=take * pass_rate if path else 0.0,
                lure=lure_index[source.lure] if source.lure is not None else -1,
                carrier=carrier_index[path.carrier] if path else -1,
                spend_per_day=source.spend_per_day,
                fixed_cost=source.fixed_cost,
                lure_cost=lure.cost_per_taker if lure else 0.0,
                deal_seeker_share=lure.deal_seeker_share if lure else 0.0,
                fulfilment_delay_days=lure.fulfilment_delay_days if lure else 0.0,
                waiting_exit_multiplier=lure.waiting_exit_multiplier if lure else 1.0,
                consultation=source.consultation,
            )
        )
    carriers = scenario.carriers
    weights = np.array([p.weight for p in scenario.products], dtype=np.float64)
    second = scenario.activation.second_carrier
    return CompiledScenario(
        scenario=scenario,
        source_ids=tuple(s.id for s in scenario.sources),
        lure_ids=tuple(lure.id for lure in scenario.lures),
        carrier_ids=tuple(c.id for c in carriers),
        product_ids=tuple(p.id for p in scenario.products),
        sources=tuple(plans),
        carrier_hazard=np.array(
            [hazard_from_monthly_rate(c.monthly_exit_rate) * _atmosphere(c) for c in carriers]
        ),
        carrier_capacity=np.array([c.capacity_per_account for c in carriers], dtype=np.int64),
        carrier_accounts=np.array([c.accounts for c in carriers], dtype=np.int64),
        carrier_max_accounts=np.array([c.max_accounts for c in carriers], dtype=np.int64),
        carrier_opens=np.array([c.when_full == "open_account" for c in carriers], dtype=bool),
        carrier_open_cost=np.array([c.account_open_cost for c in carriers]),
        carrier_cost_per_day=np.array(
            [
                (c.cost_per_account_month + c.seed_users_per_account * c.seed_user_monthly_cost) / 30.0
                for c in carriers
            ]
        ),
        carrier_response_multiplier=np.array(
            [c.persona_response_multiplier if c.persona else 1.0 for c in carriers]
        ),
        second_carrier=carrier_index[second] if second is not None else -1,
        product_weights=weights / weights.sum(),
        product_weights_by_tier=_mix_by_tier(scenario),
    )
