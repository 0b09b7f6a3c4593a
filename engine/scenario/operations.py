"""Operations rules of a scenario: value tiers, campaigns on touch channels, disturbance, venues.

Rules are data, never code: a condition is ``{field: value}`` or ``{field: {gt|gte|lt|lte|in: …}}``, and
the model evaluates it as a vectorized mask over the customer arrays (:mod:`engine.model.rules`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from engine.distributions import DurationDistribution, Exponential
from engine.scenario.base import ID_PATTERN, MAX_DAYS, MAX_MONEY, Frozen, Identifier, Named

Scalar = float | int | str | bool


class Comparison(Frozen):
    """A comparison of a field with values; every given operator must hold."""

    gt: float | None = None
    """Greater than."""
    gte: float | None = None
    """Greater than or equal to."""
    lt: float | None = None
    """Less than."""
    lte: float | None = None
    """Less than or equal to."""
    in_: tuple[Scalar, ...] | None = Field(default=None, alias="in", max_length=100)
    """One of these values."""

    @model_validator(mode="after")
    def _something(self) -> Comparison:
        if all(v is None for v in (self.gt, self.gte, self.lt, self.lte, self.in_)):
            raise ValueError("a comparison needs at least one of gt, gte, lt, lte, in")
        return self


Condition = Scalar | Comparison

TIER_FIELDS = (
    "purchases",
    "spend",
    "interactions",
    "days_since_join",
    "days_since_last_purchase",
    "activated",
)
"""Fields a tier rule may test."""

AUDIENCE_FIELDS = (
    *TIER_FIELDS,
    "tier",
    "stage",
    "carrier",
    "source",
    "lure",
    "days_since_last_touch",
    "deal_seeker",
)
"""Fields a campaign audience may test (``carrier``: the member is on that carrier)."""

STAGES = ("intro", "growth", "mature", "dormant")


class Tier(Named):
    """A value tier (分层) and the rule that puts a member in it.

    Tiers are listed from the highest to the lowest; at each review a member takes the first tier whose
    conditions all hold. The last tier should have no conditions (everyone else).
    """

    when: dict[str, Condition] = Field(default_factory=dict, max_length=20)
    """Conditions on purchases, spend, interactions (responses to touches), days_since_join,
    days_since_last_purchase, activated; all must hold. Empty: every member."""


Channel = Literal["wecom_1on1", "wecom_group", "moments", "oa_article", "channels_video", "channels_live"]

CHANNEL_CARRIERS: dict[str, tuple[str, ...]] = {
    "wecom_1on1": ("wecom", "personal_wechat"),
    "wecom_group": ("group",),
    "moments": ("wecom", "personal_wechat"),
    "oa_article": ("official_account",),
    "channels_video": ("channels",),
    "channels_live": ("channels",),
}
"""Carrier kinds each touch channel can be sent on."""


class Schedule(Frozen):
    """When a campaign sends: every N days, on given days, or on a member's event (after a delay)."""

    every_days: float | None = Field(default=None, strict=True, gt=0, le=MAX_DAYS)
    """Send every this many days from start_day."""
    days: tuple[float, ...] | None = Field(default=None, max_length=1000)
    """Send on these days (from the start of the horizon)."""
    on: Literal["joined", "activated", "first_purchase", "went_dormant"] | None = None
    """Send to each member when this happens to them (checked daily)."""
    delay_days: float = Field(default=0, strict=True, ge=0, le=365)
    """With ``on``: days after the event."""
    start_day: float = Field(default=0, strict=True, ge=0, le=MAX_DAYS)
    """First day the campaign may send."""
    end_day: float | None = Field(default=None, strict=True, ge=0, le=MAX_DAYS)
    """Last day the campaign may send (default: the end of the horizon)."""

    @model_validator(mode="after")
    def _one_kind(self) -> Schedule:
        kinds = [self.every_days is not None, self.days is not None, self.on is not None]
        if sum(kinds) != 1:
            raise ValueError("a schedule needs exactly one of every_days, days, on")
        if self.days is not None and any(not 0 <= d <= MAX_DAYS for d in self.days):
            raise ValueError(f"days must lie in [0, {MAX_DAYS:g}]")
        return self


class Offer(Frozen):
    """What a campaign offers to those who respond."""

    discount: float = Field(default=0, strict=True, ge=0, lt=1)
    """Share off the price (0.1 = 10% off)."""
    coupon: float = Field(default=0, strict=True, ge=0, le=MAX_MONEY)
    """Money off each responding purchase (the price never goes below zero)."""
    product: Identifier | None = None
    """Product bought by responders (default: drawn from the product mix)."""


class Response(Frozen):
    """Probability that a reached member buys because of the touch."""

    default: float = Field(strict=True, ge=0, le=1)
    """For members whose tier is not listed."""
    by_tier: dict[str, float] = Field(default_factory=dict, max_length=20)
    """Per tier id."""
    dropped_out_multiplier: float = Field(default=0.3, strict=True, ge=0, le=1)
    """Multiplier for members who had stopped buying; a response brings them back (reactivation)."""

    @model_validator(mode="after")
    def _probabilities(self) -> Response:
        bad = {k: v for k, v in self.by_tier.items() if not 0 <= v <= 1}
        if bad:
            raise ValueError(f"by_tier values are probabilities in [0, 1]; got {bad}")
        return self


class Campaign(Named):
    """A campaign rule (运营活动): who, on which channel and carrier, when, what offer, what response."""

    channel: Channel
    """企微1对1 wecom_1on1, 企微群 wecom_group, 朋友圈 moments, 公众号文章 oa_article,
    视频号短视频 channels_video, 视频号直播 channels_live."""
    carrier: Identifier
    """Id of the carrier the touch is sent on (its reach per message applies)."""
    audience: dict[str, Condition] = Field(default_factory=dict, max_length=20)
    """Conditions on tier, stage, carrier, source, lure, purchases, spend, interactions, activated,
    deal_seeker, days_since_join, days_since_last_purchase, days_since_last_touch; all must hold."""
    schedule: Schedule
    """When it sends."""
    offer: Offer = Offer()
    """What responders get."""
    response: Response
    """Purchase probability of a reached member."""
    reach_multiplier: float = Field(default=1.0, strict=True, ge=0, le=1)
    """Multiplies the carrier's reach per message (e.g. a live stream few attend)."""
    cost_per_touch: float = Field(default=0, strict=True, ge=0, le=MAX_MONEY)
    """Cost per member reached (an ops cost, and a service cost in CLV)."""
    staff_minutes_per_touch: float = Field(default=0, strict=True, ge=0, le=600)
    """Staff time per member reached."""
    staff: Identifier | None = None
    """Id of the staff pool whose time the touches take (counts in its utilisation), or none."""
    venue: Identifier | None = None
    """Venue of responding purchases (default: the members' venue mix)."""


class Disturbance(Frozen):
    """Over-touching annoys (seed 001 Q9): touches beyond a member's tolerance risk an exit.

    Each member carries an annoyance level that rises by 1 per touch reached and decays with a one-week
    time constant (about the touches of the last week). A touch that lifts it above the tolerance makes the
    member leave that touch's carrier with ``exit_probability_per_excess_touch``.
    """

    category_frequency: Literal["daily", "weekly", "monthly", "rare"] = "weekly"
    """How often the category is bought: restaurants and fresh food (daily) tolerate daily deals; rare
    purchases tolerate little. Sets the default tolerance: daily 7, weekly 3, monthly 1, rare 0.5 a week."""
    tolerance_per_week: float | None = Field(default=None, strict=True, ge=0, le=100)
    """Touches a week tolerated (overrides the category's default)."""
    exit_probability_per_excess_touch: float = Field(default=0.03, strict=True, ge=0, le=1)
    """Probability that a touch beyond tolerance makes the member leave the carrier."""

    def tolerance(self) -> float:
        """Touches a week the member tolerates."""
        defaults = {"daily": 7.0, "weekly": 3.0, "monthly": 1.0, "rare": 0.5}
        return (
            self.tolerance_per_week
            if self.tolerance_per_week is not None
            else defaults[self.category_frequency]
        )


class Venue(Named):
    """Where purchases happen (交易场所) and what it charges."""

    kind: Literal["mini_program_mall", "app", "youzan_weidian", "tmall_jd", "offline_store", "other"] = (
        "other"
    )
    """小程序商城, APP, 有赞/微店, 天猫/京东旗舰店, 线下门店."""
    fee_rate: float = Field(default=0, strict=True, ge=0, le=0.5)
    """Share of the amount paid kept by the platform (an ops cost)."""
    share_members: float = Field(default=0, strict=True, ge=0, le=1e6)
    """Relative share of members' purchases made here."""
    share_others: float = Field(default=0, strict=True, ge=0, le=1e6)
    """Relative share of purchases by people outside the private domain made here."""


class Staff(Named):
    """A staff pool (运营团队): operators run groups and broadcasts, advisers hold 1-on-1 consultations."""

    role: Literal["operator", "adviser"] = "adviser"
    """运营 operator or 顾问 adviser."""
    headcount: int = Field(default=1, strict=True, ge=1, le=10_000)
    """People in the pool; each serves one lead at a time."""
    hours_per_day: float = Field(default=8, strict=True, gt=0, le=24)
    """Working hours a day: work proceeds at hours_per_day / 24 of the clock (a continuous approximation
    of shifts), so a 60-minute consultation takes 3 hours of clock time with 8 working hours a day."""
    monthly_cost: float = Field(default=10_000, strict=True, ge=0, le=MAX_MONEY)
    """Fully loaded cost per person per 30 days (an ops cost; DOMAIN-FACTS: 4 000–18 000 CNY)."""


class Consultation(Frozen):
    """New members from a source become leads who wait for an adviser (seed 001 Q10: 1-on-1 service).

    Leads queue first come, first served for the pool's advisers; after the consultation a lead buys with
    probability ``conversion × exp(−wait / patience_days)``: conversion decays with waiting.
    """

    staff: Identifier
    """Id of the adviser pool."""
    lead_share: float = Field(default=1.0, strict=True, ge=0, le=1)
    """Share of the source's new members who ask for a consultation."""
    minutes: DurationDistribution = Exponential(mean=45.0)
    """Working minutes of one consultation."""
    conversion: float = Field(default=0.5, strict=True, ge=0, le=1)
    """Probability that a lead served at once buys."""
    patience_days: float = Field(default=3.0, strict=True, gt=0, le=365)
    """Days of waiting that cut the conversion by a factor e."""
    product: Identifier | None = None
    """Product bought after a consultation (default: drawn from the product mix)."""


class Referral(Frozen):
    """Referral 裂变/口碑: members bring friends, who arrive through a source of kind ``referral``.

    Each member refers at a rate (per 30 days) set by their tier, times the service quality: referral
    without good service fails (seed 002: "服务没做好，上来就想裂变，必死"). Referred friends then go through
    the referral source's own offer, lure and path; each one who joins earns the referrer a reward, an
    acquisition cost.
    """

    source: Identifier
    """Id of the source referred friends arrive through (its kind must be referral)."""
    monthly_rate: float = Field(default=0.02, strict=True, ge=0, le=100)
    """Friends referred per member per 30 days, for tiers not listed."""
    monthly_rate_by_tier: dict[str, float] = Field(default_factory=dict, max_length=20)
    """Per tier id (KOCs and die-hard fans refer more)."""
    service_quality: float = Field(default=1.0, strict=True, ge=0, le=2)
    """Satisfaction with service: multiplies every referral rate (1: as stated; 0.2: poor service)."""
    reward_per_join: float = Field(default=0, strict=True, ge=0, le=MAX_MONEY)
    """Reward paid for each referred friend who joins (an acquisition cost)."""

    @model_validator(mode="after")
    def _rates(self) -> Referral:
        bad = {k: v for k, v in self.monthly_rate_by_tier.items() if not 0 <= v <= 100}
        if bad:
            raise ValueError(f"monthly_rate_by_tier values must lie in [0, 100]; got {bad}")
        return self


__all__ = [
    "AUDIENCE_FIELDS",
    "CHANNEL_CARRIERS",
    "ID_PATTERN",
    "STAGES",
    "TIER_FIELDS",
    "Campaign",
    "Comparison",
    "Condition",
    "Consultation",
    "Disturbance",
    "Offer",
    "Referral",
    "Response",
    "Schedule",
    "Staff",
    "Tier",
    "Venue",
]
