"""The ledger: a columnar record of the facts of one replication (people, purchases, money, pool snapshots).

The model writes facts here and computes no KPI; :mod:`engine.metrics` reads them. Columns are numpy arrays
of equal length per table. Conventions: days are floats from the start of the horizon; ``nan`` means "never
happened", ``inf`` means "had not happened by the end of the horizon"; group indices are ``-1`` for none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np


class CostKind(IntEnum):
    """What a cost entry paid for. The first four are acquisition costs; the rest are ops costs."""

    MEDIA = 0
    SOURCE_FIXED = 1
    LURE = 2
    REFERRAL_REWARD = 3
    ACCOUNT_OPEN = 4
    ACCOUNT_RUNNING = 5
    STAFF = 6
    TOUCH = 7
    PLATFORM_FEE = 8


ACQUISITION_KINDS = (CostKind.MEDIA, CostKind.SOURCE_FIXED, CostKind.LURE, CostKind.REFERRAL_REWARD)
OPS_KINDS = (
    CostKind.ACCOUNT_OPEN,
    CostKind.ACCOUNT_RUNNING,
    CostKind.STAFF,
    CostKind.TOUCH,
    CostKind.PLATFORM_FEE,
)


class Stage(IntEnum):
    """Lifecycle stage of a person at the end of the horizon (or at a snapshot)."""

    NOT_MEMBER = -1
    INTRO = 0
    GROWTH = 1
    MATURE = 2
    DORMANT = 3
    CHURNED = 4


STAGE_LABELS: dict[Stage, tuple[str, str]] = {
    Stage.INTRO: ("引入期", "intro"),
    Stage.GROWTH: ("成长期", "growth"),
    Stage.MATURE: ("成熟期", "mature"),
    Stage.DORMANT: ("休眠期", "dormant"),
    Stage.CHURNED: ("流失期", "churned"),
}


@dataclass(frozen=True)
class People:
    """One row per person who joined the private domain or bought (other visitors are only counted)."""

    source: np.ndarray  # int16: index into Ledger.source_ids
    lure: np.ndarray  # int16, -1: none
    carrier: np.ndarray  # int16: carrier joined through (primary), -1: never joined
    visit_day: np.ndarray  # float64
    join_day: np.ndarray  # float64, nan: never joined
    leave_day: np.ndarray  # float64, time gone from every carrier; inf: still a member; nan: never joined
    activation_day: np.ndarray  # float64, nan or inf: not activated
    deal_seeker: np.ndarray  # bool
    first_purchase_day: np.ndarray  # float64, nan: never bought
    stage_end: np.ndarray  # int8 Stage at the end of the horizon
    tier_end: np.ndarray  # int8 index into Ledger.tier_ids at the end (-1: none, or not a member)
    touches: np.ndarray  # int64 touches that reached the person
    annoyed_out: np.ndarray  # bool: left a carrier because of over-touching
    service_cost: np.ndarray  # float64 discounted touch costs inside the person's CLV window

    def __len__(self) -> int:
        return len(self.source)


@dataclass(frozen=True)
class Purchases:
    """One row per purchase."""

    person: np.ndarray  # int64 row of People
    day: np.ndarray  # float64
    product: np.ndarray  # int16 index into Ledger.product_ids
    amount: np.ndarray  # float64 paid by the customer
    cost_of_goods: np.ndarray  # float64
    fee: np.ndarray  # float64 venue/platform fee (an ops cost)
    venue: np.ndarray  # int16 index into Ledger.venue_ids, -1: no venue defined
    campaign: np.ndarray  # int16 index into Ledger.campaign_ids of the touch that caused it, -1: organic

    def __len__(self) -> int:
        return len(self.person)


@dataclass(frozen=True)
class Costs:
    """One row per cost entry, tagged with the groups it can be attributed to (-1: not attributable)."""

    day: np.ndarray  # float64
    kind: np.ndarray  # int8 CostKind
    amount: np.ndarray  # float64
    source: np.ndarray  # int16
    lure: np.ndarray  # int16
    carrier: np.ndarray  # int16
    person: np.ndarray  # int64, -1: not a per-person service cost
    campaign: np.ndarray  # int16, -1: not a campaign cost

    def __len__(self) -> int:
        return len(self.day)


@dataclass(frozen=True)
class Memberships:
    """One row per (person, carrier) membership."""

    person: np.ndarray  # int64
    carrier: np.ndarray  # int16
    join_day: np.ndarray  # float64
    exit_day: np.ndarray  # float64, inf: still on the carrier at the end

    def __len__(self) -> int:
        return len(self.person)


@dataclass(frozen=True)
class Ledger:
    """Everything one replication recorded."""

    horizon_days: float
    acquisition_days: float
    clv_horizon_days: float
    discount_rate: float
    source_ids: tuple[str, ...]
    lure_ids: tuple[str, ...]
    carrier_ids: tuple[str, ...]
    product_ids: tuple[str, ...]
    source_lure: np.ndarray  # int16 per source: its lure (-1 none)
    source_carrier: np.ndarray  # int16 per source: the carrier its path ends on (-1 none)
    visitors: np.ndarray  # int64 per source
    turned_away: np.ndarray  # int64 per carrier: joiners refused at capacity
    people: People
    purchases: Purchases
    costs: Costs
    memberships: Memberships
    snapshot_days: np.ndarray  # float64, review times
    snapshot_stages: np.ndarray  # int64 (n_snapshots, 5): members per stage INTRO..CHURNED at each review
    accounts_end: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # per carrier
    venue_ids: tuple[str, ...] = ()
    tier_ids: tuple[str, ...] = ()
    campaign_ids: tuple[str, ...] = ()
    campaign_sends: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # sends per campaign
    campaign_audience: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # audience, summed
    campaign_reached: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # touches reached
    campaign_blocked: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # over platform limit
    campaign_staff_minutes: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # discounted service costs of CLV-cohort members by source and whole days after their first purchase
    service_cost_by_offset: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    source_bans: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # bans per source
    referral_source: int = -1  # index of the source referred friends arrive through
    staff_ids: tuple[str, ...] = ()
    staff_headcount: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    staff_busy_days: np.ndarray = field(default_factory=lambda: np.zeros(0))  # clock days of service, summed
    lead_staff: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))  # per lead served
    lead_wait_days: np.ndarray = field(default_factory=lambda: np.zeros(0))  # joining → consultation start
    lead_bought: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    leads_total: int = 0  # every consultation lead, served or not (served ones are the lead_* rows)
