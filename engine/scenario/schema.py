"""The scenario schema: frozen pydantic models, unknown keys rejected, a bound on every number.

Every field carries a docstring; pydantic turns it into the JSON Schema description that editors show
(``siyu schema``). Cross-references between sections (a path naming a carrier, ...) are checked in
:mod:`engine.scenario.references`, after the shape of the file is known to be right.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from engine.distributions import (
    Beta,
    Fixed,
    Gamma,
    LogNormal,
    PriceDistribution,
    ProbabilityDistribution,
    RateDistribution,
)
from engine.scenario.base import MAX_DAYS, MAX_MONEY, Frozen, Identifier, Label, Named
from engine.scenario.operations import Campaign, Consultation, Disturbance, Referral, Staff, Tier, Venue


class Meta(Frozen):
    """What the scenario is."""

    name: str = Field(min_length=1, max_length=120)
    """Short name of the scenario, shown in reports."""
    description: str = Field(default="", max_length=4000)
    """What the scenario shows and where its numbers come from."""
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")
    """ISO 4217 currency code of every amount of money in the file."""


class Horizon(Frozen):
    """Time frame: sources run during the acquisition window; the horizon leaves room for a CLV window."""

    acquisition_days: float = Field(strict=True, default=365, gt=0, le=MAX_DAYS)
    """Days during which sources bring visitors (the acquisition window)."""
    horizon_days: float = Field(strict=True, default=730, gt=0, le=MAX_DAYS)
    """Total simulated days; must be ≥ acquisition_days + clv_horizon_days so CLV is never right-censored."""
    clv_horizon_days: float = Field(strict=True, default=365, gt=0, le=MAX_DAYS)
    """Days after a customer's first purchase over which CLV adds up contribution."""
    discount_rate: float = Field(strict=True, default=0.0, ge=0, le=1)
    """Annual discount rate, applied continuously: a contribution t days after the first purchase is
    multiplied by exp(−discount_rate × t / 365)."""
    step_days: float = Field(strict=True, default=7, gt=0, le=90)
    """Days between stage reviews: the interval over which customers' memoryless clocks are drawn in bulk.
    Stage-dependent exit hazards change only at reviews; purchases and exits keep their exact times."""

    @model_validator(mode="after")
    def _room_for_clv(self) -> Horizon:
        needed = self.acquisition_days + self.clv_horizon_days
        if self.horizon_days < needed:
            raise ValueError(
                f"horizon_days ({self.horizon_days:g}) must be at least acquisition_days + clv_horizon_days "
                f"({self.acquisition_days:g} + {self.clv_horizon_days:g} = {needed:g}), so every customer "
                "counted in CLV is observed for the full CLV window"
            )
        return self


class Reach(Frozen):
    """People reached per day: organic reach plus paid reach that saturates exponentially with spend.

    reach_per_day = organic_per_day + max_paid_per_day × (1 − exp(−spend_per_day / saturation_spend)).
    """

    organic_per_day: float = Field(strict=True, default=0, ge=0, le=1e8)
    """People reached per day without spend (store foot traffic, followers seeing posts)."""
    max_paid_per_day: float = Field(strict=True, default=0, ge=0, le=1e9)
    """Ceiling of paid reach per day however much is spent (audience size)."""
    saturation_spend: float = Field(strict=True, default=1000, gt=0, le=MAX_MONEY)
    """Spend per day at which paid reach is 1 − 1/e ≈ 63% of its ceiling (diminishing returns)."""


class Ban(Frozen):
    """Ban risk of a public account used as a source (seed 003: "稍有营销嫌疑就会封号，粉丝就为0").

    The daily ban hazard is monthly_hazard × (1 + intensity_multiplier × marketing_intensity) / 30. A ban
    stops the source's arrivals and spend for ``ban_days`` and deletes the followers it gained (its organic
    reach falls by ``followers_lost`` and grows back linearly over ``regrow_days``); after ``permanent_after``
    bans the account is gone for good (WeChat: 1st offence 30-day ban, 2nd permanent — DOMAIN-FACTS).
    """

    monthly_hazard: float = Field(default=0.01, strict=True, ge=0, le=10)
    """Expected bans per 30 days with no marketing."""
    marketing_intensity: float = Field(default=0.0, strict=True, ge=0, le=1)
    """Share of the account's posts that are overt marketing (forced shares, lures to follow)."""
    intensity_multiplier: float = Field(default=10.0, strict=True, ge=0, le=1000)
    """How much marketing raises the hazard: at full intensity it is (1 + this) times the base."""
    ban_days: float = Field(default=30, strict=True, ge=0, le=MAX_DAYS)
    """Days a ban lasts."""
    followers_lost: float = Field(default=1.0, strict=True, ge=0, le=1)
    """Share of the organic reach (followers) lost at a ban."""
    regrow_days: float = Field(default=180, strict=True, gt=0, le=MAX_DAYS)
    """Days for the organic reach to grow back after a ban ends."""
    permanent_after: int = Field(default=2, strict=True, ge=1, le=100)
    """The ban that closes the account for good."""


class Posts(Frozen):
    """Paid posts (a KOL/KOC collaboration, 达人合作): each post reaches people over a few days."""

    days: tuple[float, ...] = Field(max_length=1000)
    """Days the posts go out."""
    reach_per_post: float = Field(strict=True, ge=0, le=1e9)
    """People each post reaches in all."""
    cost_per_post: float = Field(default=0, strict=True, ge=0, le=MAX_MONEY)
    """Fee per post (DOMAIN-FACTS: Xiaohongshu head 30k–200k, mid 5k–30k, tail 1k–5k, KOC 200–800 CNY)."""
    decay_days: float = Field(default=3, strict=True, gt=0, le=365)
    """A post's reach fades exponentially with this mean life in days."""

    @field_validator("days")
    @classmethod
    def _days_in_range(cls, days: tuple[float, ...]) -> tuple[float, ...]:
        wrong = [d for d in days if not 0 <= d <= MAX_DAYS]  # nan and ±inf fail the comparison too
        if wrong:
            raise ValueError(f"days must lie in [0, {MAX_DAYS:g}]; got {wrong[0]:g}")
        return days


class Source(Named):
    """A public traffic source (公域来源): where visitors come from and what they cost."""

    kind: Literal["social", "ecommerce", "offline", "paid", "referral"] = "paid"
    """社交流量 social, 电商平台 ecommerce, 线下渠道 offline, 商业流量 paid, or 裂变 referral."""
    spend_per_day: float = Field(strict=True, default=0, ge=0, le=MAX_MONEY)
    """Media spend per day during the acquisition window."""
    fixed_cost: float = Field(strict=True, default=0, ge=0, le=MAX_MONEY)
    """One-off cost of using the source (setup, KOL fee), paid on day 0."""
    reach: Reach = Reach()
    """How many people the source reaches per day."""
    active_from_day: float = Field(default=0, strict=True, ge=0, le=MAX_DAYS)
    """First day the source brings visitors."""
    active_until_day: float | None = Field(default=None, strict=True, ge=0, le=MAX_DAYS)
    """Day the source stops (default: the end of the acquisition window, which it never runs past)."""
    arrivals: Literal["poisson", "fixed"] = "poisson"
    """poisson: the day's visitors are a Poisson draw around the expected number; fixed: the expected
    number exactly (rounded, carrying fractions over), for worked examples."""
    visit_rate: float = Field(strict=True, default=1.0, ge=0, le=1)
    """Share of reached people who visit the offer (click, scan, walk in): they are the visitors."""
    precision: float = Field(strict=True, default=1.0, ge=0, le=1)
    """Audience precision: share of visitors who are truly targetable. Others never buy or join."""
    first_purchase_probability: float = Field(strict=True, default=0.0, ge=0, le=1)
    """Share of targetable visitors who buy on the visit itself (store, e-commerce order)."""
    join_offered_to: Literal["all", "buyers"] = "all"
    """Who is shown the lure: every targetable visitor, or only buyers (store QR, package insert)."""
    take_rate: float = Field(strict=True, default=0.0, ge=0, le=1)
    """Share of those shown the offer who start the path, before the lure's multiplier."""
    lure: Identifier | None = None
    """Id of the lure (诱饵) offered, or none."""
    path: Identifier | None = None
    """Id of the path (路径) to a carrier; none means visitors can buy but never join the private domain."""
    consultation: Consultation | None = None
    """New members from this source are leads who queue for a 1-on-1 consultation, or none."""
    ban: Ban | None = None
    """Ban risk of a public account, or none."""
    posts: Posts | None = None
    """Paid posts (KOL/KOC) adding reach on given days, or none."""


class Lure(Named):
    """Why a visitor joins (诱饵): it raises the take rate, costs money per taker and shapes who comes."""

    kind: Literal["reward", "service", "relationship"] = "reward"
    """奖励型 reward (coupon, red packet, gift), 服务型 service (consultation),
    关系型 relationship (community)."""
    take_rate_multiplier: float = Field(strict=True, default=1.0, ge=0, le=100)
    """Multiplies the source's take rate (the product is capped at 1)."""
    cost_per_taker: float = Field(strict=True, default=0, ge=0, le=MAX_MONEY)
    """Cost of the lure per new member (paid at joining; an acquisition cost)."""
    fulfilment_delay_days: float = Field(strict=True, default=0, ge=0, le=365)
    """Days between joining and receiving the reward."""
    waiting_exit_multiplier: float = Field(strict=True, default=1.0, ge=1, le=100)
    """Exit hazard multiplier while the reward is pending: late rewards raise early churn (seed 001)."""
    deal_seeker_share: float = Field(strict=True, default=0.0, ge=0, le=1)
    """Share of takers who are deal-seekers: they buy less and leave sooner (see behaviour)."""


class PathStep(Frozen):
    """One step between seeing the offer and being a member."""

    name: str = Field(min_length=1, max_length=60)
    """What the step is (scan, add friend, accept, join group)."""
    pass_rate: float = Field(strict=True, gt=0, le=1)
    """Share of people at this step who complete it."""


class Path(Named):
    """The steps to become a member (路径): each loses people; the shorter, the better (seed 001)."""

    carrier: Identifier
    """Id of the carrier the path ends on."""
    steps: tuple[PathStep, ...] = Field(default=(), max_length=20)
    """Steps in order; the path's pass rate is the product of theirs (no steps: everyone who starts joins)."""


class Carrier(Named):
    """An owned place members live (承接平台): WeCom, groups, official account, mini program, app ..."""

    kind: Literal[
        "wecom", "personal_wechat", "group", "official_account", "mini_program", "app", "channels", "other"
    ] = "other"
    """企业微信 wecom, 个人微信号 personal_wechat, 社群 group, 公众号 official_account, 小程序 mini_program,
    APP app, 视频号 channels."""
    reach_per_message: float = Field(strict=True, default=1.0, ge=0, le=1)
    """Share of members a message on this carrier reaches (a folded official account reaches few)."""
    monthly_exit_rate: float = Field(strict=True, default=0.03, ge=0, lt=1)
    """Base share of members who leave the carrier within 30 days (constant hazard −ln(1−rate)/30 per day)."""
    capacity_per_account: int = Field(strict=True, default=5000, ge=1, le=100_000_000)
    """Hard platform limit of members per account (personal WeChat 5 000 friends; WeCom group 500)."""
    accounts: int = Field(strict=True, default=1, ge=0, le=100_000)
    """Accounts (or groups) open at the start."""
    when_full: Literal["turn_away", "open_account"] = "open_account"
    """At capacity: turn new joiners away, or open another account at a cost."""
    max_accounts: int = Field(strict=True, default=100_000, ge=1, le=100_000)
    """Accounts that can be opened at most (when_full: open_account)."""
    account_open_cost: float = Field(strict=True, default=0, ge=0, le=MAX_MONEY)
    """One-off cost of opening an extra account."""
    persona: bool = False
    """Run as a brand persona (IP主, one persona run by several staff): members leave less, respond more."""
    persona_exit_multiplier: float = Field(default=0.8, strict=True, gt=0, le=1)
    """With a persona: multiplies the exit hazard (estimate)."""
    persona_response_multiplier: float = Field(default=1.3, strict=True, ge=1, le=10)
    """With a persona: multiplies the response to touches (estimate)."""
    seed_users_per_account: int = Field(default=0, strict=True, ge=0, le=1000)
    """Active seed users placed in each group to keep the atmosphere lively (种子用户)."""
    seed_user_exit_multiplier: float = Field(default=0.8, strict=True, gt=0, le=1)
    """With seed users: multiplies the exit hazard (estimate)."""
    seed_user_monthly_cost: float = Field(default=0, strict=True, ge=0, le=MAX_MONEY)
    """Cost per seed user per 30 days (an ops cost)."""
    account_type: Literal["subscription", "service"] = "subscription"
    """For an official account: 订阅号 subscription (1 broadcast a day, folded) or
    服务号 service (4 a month)."""
    cost_per_account_month: float = Field(strict=True, default=0, ge=0, le=MAX_MONEY)
    """Running cost per open account per 30 days (an ops cost)."""


class Activation(Frozen):
    """Activation (激活): new members who are not activated within the window stay at elevated churn."""

    window_days: float = Field(strict=True, default=7, ge=0, le=365)
    """Days after joining within which activation can happen."""
    activation_rate: float = Field(strict=True, default=1.0, ge=0, le=1)
    """Share of new members activated within the window (at a uniform time in it)."""
    unactivated_exit_multiplier: float = Field(strict=True, default=1.0, ge=1, le=100)
    """Exit hazard multiplier of a member until activated (forever if never activated)."""
    second_carrier: Identifier | None = None
    """Id of a carrier activated members are guided onto as well (多点留存), or none."""
    second_carrier_rate: float = Field(strict=True, default=0.0, ge=0, le=1)
    """Share of activated members who also join the second carrier at activation."""


class Lifecycle(Frozen):
    """Lifecycle stages of members.

    引入期 intro → 成长期 growth → 成熟期 mature → 休眠期 dormant → 流失期 churned.

    A member with no purchase is in intro; with at least one in growth; with at least
    ``mature_after_purchases`` in mature. A member with no purchase (or, before any, no joining) in the last
    ``dormant_after_days`` is dormant. Churned is having left the private domain. Stages are reviewed every
    ``horizon.step_days``.
    """

    mature_after_purchases: int = Field(strict=True, default=3, ge=1, le=1000)
    """Purchases that make a member mature."""
    dormant_after_days: float = Field(strict=True, default=60, gt=0, le=MAX_DAYS)
    """Days without a purchase after which a member is dormant."""
    dormant_exit_multiplier: float = Field(strict=True, default=1.5, ge=1, le=100)
    """Exit hazard multiplier of dormant members: inactivity moves members toward churned."""


class Behaviour(Frozen):
    """Buying behaviour, kept apart from membership (the two ways to leave).

    Each customer draws a purchase rate λ (per day) and a dropout probability p. Purchases form a Poisson
    process of rate λ (× membership_rate_multiplier while in the private domain); after each repeat purchase
    the customer stops buying for good with probability p. With gamma λ, beta p and no membership this is
    exactly the BG/NBD model.
    """

    purchase_rate: RateDistribution = Gamma(shape=1.0, rate=30.0)
    """Purchases per day of a customer (gamma: BG/NBD's r and α, α in days)."""
    dropout: ProbabilityDistribution = Beta(a=1.0, b=9.0)
    """Probability of stopping buying after each repeat purchase (beta: BG/NBD's a and b)."""
    timing: Literal["poisson", "regular"] = "poisson"
    """poisson: exponential gaps between purchases; regular: exactly 1/rate days apart (worked examples)."""
    membership_rate_multiplier: float = Field(strict=True, default=1.5, ge=0, le=100)
    """Purchase-rate multiplier while a member of the private domain (DOMAIN-FACTS: ×1.2–2.0)."""
    deal_seeker_rate_multiplier: float = Field(strict=True, default=0.6, ge=0, le=100)
    """Purchase-rate multiplier of deal-seekers brought by reward lures."""
    deal_seeker_exit_multiplier: float = Field(strict=True, default=2.0, ge=1, le=100)
    """Exit hazard multiplier of deal-seekers."""

    @model_validator(mode="after")
    def _dropout_is_a_probability(self) -> Behaviour:
        d = self.dropout
        high = d.value if isinstance(d, Fixed) else getattr(d, "high", 0.0)
        if high > 1:
            raise ValueError(f"dropout is a probability; its values must lie in [0, 1], got up to {high:g}")
        return self


class Product(Named):
    """A product (traffic 引流品, core 核心, profit 利润, hit 爆款, extension 拓展) with price and cost."""

    role: Literal["traffic", "core", "profit", "hit", "extension"] = "core"
    """The product's role in the range."""
    price: PriceDistribution = LogNormal(mean=100.0, sd=30.0)
    """Amount paid per purchase."""
    unit_cost: float = Field(strict=True, default=0.0, ge=0, le=MAX_MONEY)
    """Cost of goods per purchase."""
    unit_cost_share: float = Field(strict=True, default=0.0, ge=0, le=1)
    """Cost of goods as a share of the list price, before any campaign offer (added to unit_cost)."""
    weight: float = Field(strict=True, default=1.0, gt=0, le=1e6)
    """Relative share of purchases that are this product."""
    weight_by_tier: dict[str, float] = Field(default_factory=dict, max_length=20)
    """Relative share by the buyer's tier id (tiers not listed use ``weight``): the purchase mix by tier."""

    @model_validator(mode="after")
    def _tier_weights(self) -> Product:
        bad = {k: v for k, v in self.weight_by_tier.items() if not 0 <= v <= 1e6}
        if bad:
            raise ValueError(f"weight_by_tier values must lie in [0, 1000000]; got {bad}")
        return self


class Scenario(Frozen):
    """A private-traffic strategy scenario."""

    meta: Meta
    """Name, description and currency."""
    horizon: Horizon = Horizon()
    """Acquisition window, total horizon, CLV window, discounting and review step."""
    sources: tuple[Source, ...] = Field(min_length=1, max_length=200)
    """Public traffic sources."""
    lures: tuple[Lure, ...] = Field(default=(), max_length=200)
    """Lures offered by sources."""
    paths: tuple[Path, ...] = Field(default=(), max_length=200)
    """Paths from offer to carrier."""
    carriers: tuple[Carrier, ...] = Field(default=(), max_length=50)
    """Owned carriers of the private domain."""
    activation: Activation = Activation()
    """How new members are activated."""
    lifecycle: Lifecycle = Lifecycle()
    """Lifecycle stage thresholds."""
    behaviour: Behaviour = Behaviour()
    """Buying behaviour of customers."""
    products: tuple[Product, ...] = Field(min_length=1, max_length=200)
    """Products customers buy."""
    venues: tuple[Venue, ...] = Field(default=(), max_length=50)
    """Where purchases happen and the fee each charges (none: no fees)."""
    tiers: tuple[Tier, ...] = Field(default=(), max_length=20)
    """Value tiers from the highest to the lowest (新激活, 普通, 活跃, 付费, 铁杆粉丝 ...)."""
    campaigns: tuple[Campaign, ...] = Field(default=(), max_length=100)
    """Campaign rules: who is touched, on which channel, when, with what offer."""
    disturbance: Disturbance = Disturbance()
    """How much touching members tolerate."""
    staff: tuple[Staff, ...] = Field(default=(), max_length=50)
    """Staff pools: operators and advisers with headcount, working hours and cost."""
    referral: Referral | None = None
    """How members refer friends (裂变), or none."""


# Re-exported so a scenario's users can build distributions without another import.
__all__ = [
    "Activation",
    "Ban",
    "Behaviour",
    "Beta",
    "Campaign",
    "Carrier",
    "Consultation",
    "Disturbance",
    "Fixed",
    "Gamma",
    "Horizon",
    "Label",
    "Lifecycle",
    "LogNormal",
    "Lure",
    "Meta",
    "Named",
    "Path",
    "PathStep",
    "Posts",
    "Product",
    "Reach",
    "Referral",
    "Scenario",
    "Source",
    "Staff",
    "Tier",
    "Venue",
]
