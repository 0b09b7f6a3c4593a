"""Operations rules in scenario files: schedule shape, cross-references of tiers, campaigns, offers and
venues, and the platform-limit warnings (engine.scenario.operations, references, limits)."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from engine.errors import ScenarioError
from engine.scenario import Scenario, load_scenario
from engine.scenario.limits import (
    SERVICE_ARTICLE,
    SUBSCRIPTION_ARTICLE,
    WECOM_BROADCAST,
    limit_warnings,
    touch_limit,
)
from engine.scenario.operations import AUDIENCE_FIELDS, Schedule
from engine.scenario.references import FLAG_FIELDS, NUMBER_FIELDS, check_references
from engine.scenario.schema import Posts

CARRIERS = [
    {"id": "wecom", "kind": "wecom"},
    {"id": "group", "kind": "group"},
    {"id": "service_oa", "kind": "official_account", "account_type": "service"},
    {"id": "sub_oa", "kind": "official_account", "account_type": "subscription"},
]


def campaign(campaign_id: str = "push", **fields: Any) -> dict[str, Any]:
    return {
        "id": campaign_id,
        "channel": "wecom_1on1",
        "carrier": "wecom",
        "schedule": {"every_days": 7},
        "response": {"default": 0.1},
        **fields,
    }


def scenario(**sections: Any) -> Scenario:
    data: dict[str, Any] = {
        "meta": {"name": "operations"},
        "sources": [{"id": "douyin", "lure": "coupon", "path": "add"}],
        "lures": [{"id": "coupon"}],
        "paths": [{"id": "add", "carrier": "wecom"}],
        "carriers": CARRIERS,
        "products": [{"id": "tea"}, {"id": "cup"}],
        "venues": [{"id": "mall", "fee_rate": 0.02, "share_members": 1}],
        "tiers": [{"id": "fans", "when": {"purchases": {"gte": 5}}}, {"id": "others"}],
    }
    data.update(sections)
    return Scenario.model_validate(data)


def messages(**sections: Any) -> dict[tuple[str | int, ...], str]:
    return dict(check_references(scenario(**sections)))


# ---------------------------------------------------------------------------------------------- schedules
@pytest.mark.parametrize(
    "schedule",
    [
        {"every_days": 7},
        {"days": [0, 3.5, 10]},
        {"on": "joined", "delay_days": 2},
        {"on": "went_dormant"},
        {"every_days": 1, "start_day": 10, "end_day": 20},
    ],
)
def test_schedule_with_exactly_one_kind_is_valid(schedule: dict[str, Any]) -> None:
    # valid, and read as written: nothing dropped, renamed or filled in
    assert Schedule.model_validate(schedule).model_dump(mode="json", exclude_unset=True) == schedule


@pytest.mark.parametrize(
    "schedule",
    [
        {},
        {"start_day": 3},
        {"every_days": 7, "days": [1]},
        {"every_days": 7, "on": "joined"},
        {"days": [1], "on": "activated"},
        {"every_days": 7, "days": [1], "on": "joined"},
    ],
)
def test_schedule_needs_exactly_one_of_every_days_days_on(schedule: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="exactly one of every_days, days, on"):
        Schedule.model_validate(schedule)


def test_schedule_days_lie_in_range() -> None:
    with pytest.raises(ValidationError, match=r"days must lie in \[0, 3650\]"):
        Schedule.model_validate({"days": [1, -2]})


# ---------------------------------------------------------------------------------------------- references
def test_consistent_operations_have_no_problems() -> None:
    campaigns = [
        campaign(
            audience={"tier": {"in": ["fans", "others"]}, "stage": "dormant", "source": "douyin"},
            response={"default": 0.1, "by_tier": {"fans": 0.3}},
            offer={"discount": 0.1, "coupon": 5, "product": "cup"},
            venue="mall",
        ),
        campaign("article", channel="oa_article", carrier="service_oa", audience={"carrier": "service_oa"}),
        campaign("moments", channel="moments", carrier="wecom", audience={"lure": "coupon"}),
        campaign("deal", channel="wecom_group", carrier="group", audience={"purchases": {"gte": 1}}),
    ]
    assert check_references(scenario(campaigns=campaigns)) == []


@pytest.mark.parametrize(
    ("channel", "carrier", "kind", "allowed"),
    [
        ("oa_article", "wecom", "wecom", "official_account"),
        ("wecom_1on1", "service_oa", "official_account", "wecom, personal_wechat"),
        ("wecom_group", "wecom", "wecom", "group"),
        ("moments", "group", "group", "wecom, personal_wechat"),
    ],
)
def test_channel_must_fit_the_carrier_kind(channel: str, carrier: str, kind: str, allowed: str) -> None:
    problems = messages(campaigns=[campaign(channel=channel, carrier=carrier)])
    assert problems == {
        ("campaigns", 0, "channel"): (
            f"campaign 'push' sends {channel} on carrier '{carrier}' of kind {kind}; "
            f"{channel} needs a carrier of kind {allowed}"
        )
    }


def test_campaign_carrier_must_exist() -> None:
    problems = messages(campaigns=[campaign(carrier="wecon")])
    message = problems[("campaigns", 0, "carrier")]
    assert "campaign 'push' names carrier 'wecon', which is not defined" in message
    assert "did you mean 'wecom'?" in message
    assert len(problems) == 1  # no channel complaint on top of the unknown carrier


def test_unknown_audience_field_suggests_the_nearest() -> None:
    problems = messages(campaigns=[campaign(audience={"purchse": {"gte": 1}})])
    message = problems[("campaigns", 0, "audience", "purchse")]
    assert message.startswith("unknown field 'purchse'; allowed: purchases, spend, ")
    assert message.endswith("did you mean 'purchases'?")


def test_unknown_tier_field_suggests_the_nearest() -> None:
    tiers = [{"id": "fans", "when": {"spnd": {"gt": 100}}}, {"id": "others"}]
    problems = messages(tiers=tiers)
    message = problems[("tiers", 0, "when", "spnd")]
    assert message.startswith("unknown field 'spnd'; allowed: purchases, spend, interactions")
    assert message.endswith("did you mean 'spend'?")


def test_tier_rules_cannot_test_audience_only_fields() -> None:
    tiers = [{"id": "fans", "when": {"tier": "fans"}}, {"id": "others"}]
    assert ("tiers", 0, "when", "tier") in messages(tiers=tiers)


@pytest.mark.parametrize(
    ("audience", "field"),
    [
        ({"tier": "fan"}, "tier"),
        ({"tier": {"in": ["fans", "fan"]}}, "tier"),
        ({"stage": "churned"}, "stage"),
        ({"source": "douyn"}, "source"),
        ({"lure": "cuopon"}, "lure"),
        ({"carrier": {"in": ["wecom", "wecomm"]}}, "carrier"),
    ],
)
def test_audience_names_must_exist(audience: dict[str, Any], field: str) -> None:
    problems = messages(campaigns=[campaign(audience=audience)])
    assert list(problems) == [("campaigns", 0, "audience", field)]
    assert "campaign 'push' names " + field in problems[("campaigns", 0, "audience", field)]


def test_unknown_tier_in_audience_names_the_tiers() -> None:
    problems = messages(campaigns=[campaign(audience={"tier": "fan"})])
    assert problems[("campaigns", 0, "audience", "tier")] == (
        "campaign 'push' names tier 'fan', which is not defined; defined tiers: fans, others — "
        "did you mean 'fans'?"
    )


def test_unknown_tier_in_response_by_tier() -> None:
    problems = messages(campaigns=[campaign(response={"default": 0.1, "by_tier": {"fans": 0.5, "fan": 0.3}})])
    assert problems == {
        ("campaigns", 0, "response", "by_tier", "fan"): (
            "campaign 'push' names tier 'fan', which is not defined; defined tiers: fans, others — "
            "did you mean 'fans'?"
        )
    }


def test_by_tier_without_tiers_says_none_are_defined() -> None:
    problems = messages(tiers=[], campaigns=[campaign(response={"default": 0.1, "by_tier": {"fans": 0.5}})])
    assert problems[("campaigns", 0, "response", "by_tier", "fans")] == (
        "campaign 'push' names tier 'fans', which is not defined; "
        "no tiers are defined (add a 'tiers' section)"
    )


def test_offer_product_must_exist() -> None:
    problems = messages(campaigns=[campaign(offer={"product": "teas"})])
    assert problems == {
        ("campaigns", 0, "offer", "product"): (
            "campaign 'push' names product 'teas', which is not defined; defined products: tea, cup — "
            "did you mean 'tea'?"
        )
    }


def test_campaign_venue_must_exist() -> None:
    problems = messages(campaigns=[campaign(venue="tmall")])
    assert list(problems) == [("campaigns", 0, "venue")]
    assert problems[("campaigns", 0, "venue")].startswith(
        "campaign 'push' names venue 'tmall', which is not defined; defined venues: mall"
    )
    problems = messages(venues=[], campaigns=[campaign(venue="mall")])
    assert problems[("campaigns", 0, "venue")].endswith("no venues are defined (add a 'venues' section)")


@pytest.mark.parametrize("section", ["tiers", "campaigns", "venues"])
def test_duplicate_operation_ids(section: str) -> None:
    items = {
        "tiers": [{"id": "fans"}, {"id": "fans"}],
        "campaigns": [campaign("push"), campaign("push")],
        "venues": [{"id": "mall"}, {"id": "mall"}],
    }[section]
    assert (section, 1, "id") in messages(**{section: items})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("response", {"default": 1.5}),
        ("response", {"default": 0.1, "by_tier": {"fans": 1.2}}),
        ("offer", {"discount": 1.0}),
        ("offer", {"coupon": -1}),
        ("reach_multiplier", 1.5),
        ("channel", "sms"),
    ],
)
def test_campaign_shape_errors(field: str, value: Any) -> None:
    with pytest.raises(ValidationError):
        scenario(campaigns=[campaign(**{field: value})])


# ---------------------------------------------------------------------------------------------- loading
OPERATIONS_YAML = """\
meta: {name: ops}
sources:
  - {id: src, take_rate: 1, path: add}
paths:
  - {id: add, carrier: wecom}
carriers:
  - {id: wecom, kind: wecom}
products:
  - {id: tea}
tiers:
  - {id: fans, when: {purchases: {gte: 3}}}
  - {id: others}
campaigns:
  - id: article
    channel: oa_article
    carrier: wecom
    audience: {purchse: 1, tier: fanz}
    schedule: {every_days: 7}
    response: {default: 0.1, by_tier: {fan: 0.2}}
    offer: {product: teaa}
    venue: mall
"""


def test_load_reports_every_operations_problem_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "ops.yaml"
    path.write_text(OPERATIONS_YAML, encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    lines = str(caught.value).splitlines()
    assert lines[0] == f"{path}: invalid scenario (6 problems):"
    problems = lines[1:]
    expected = [
        (
            15,
            "campaigns[article].channel: campaign 'article' sends oa_article on carrier 'wecom' of kind "
            "wecom; oa_article needs a carrier of kind official_account",
        ),
        (17, "campaigns[article].audience.purchse: unknown field 'purchse'"),
        (17, "campaigns[article].audience.tier: campaign 'article' names tier 'fanz'"),
        (19, "campaigns[article].response.by_tier.fan: campaign 'article' names tier 'fan'"),
        (20, "campaigns[article].offer.product: campaign 'article' names product 'teaa'"),
        (21, "campaigns[article].venue: campaign 'article' names venue 'mall'"),
    ]
    assert len(problems) == len(expected)
    for problem, (line, start) in zip(problems, expected, strict=True):
        assert problem.startswith(f"{path}:{line}: {start}"), problem


def test_load_reports_a_schedule_with_two_kinds(tmp_path: Path) -> None:
    text = OPERATIONS_YAML.replace("channel: oa_article", "channel: moments").replace(
        "schedule: {every_days: 7}", "schedule: {every_days: 7, on: joined}"
    )
    path = tmp_path / "ops.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value).splitlines()[1:] == [
        f"{path}:18: campaigns[article].schedule: a schedule needs exactly one of every_days, days, on"
    ]


def test_load_accepts_valid_operations(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        meta: {name: ops}
        sources:
          - {id: src, take_rate: 1, path: add}
        paths:
          - {id: add, carrier: wecom}
        carriers:
          - {id: wecom, kind: wecom}
          - {id: oa, kind: official_account, account_type: service}
        products:
          - {id: tea}
        venues:
          - {id: mall, kind: mini_program_mall, fee_rate: 0.01, share_members: 1, share_others: 1}
        tiers:
          - {id: fans, when: {purchases: {gte: 3}, days_since_last_purchase: {lte: 30}}}
          - {id: others}
        disturbance: {category_frequency: daily, exit_probability_per_excess_touch: 0.1}
        campaigns:
          - id: welcome
            channel: wecom_1on1
            carrier: wecom
            schedule: {on: joined, delay_days: 1}
            response: {default: 0.05, by_tier: {fans: 0.2}, dropped_out_multiplier: 0.5}
            offer: {discount: 0.1, coupon: 5, product: tea}
            venue: mall
          - id: article
            channel: oa_article
            carrier: oa
            audience: {carrier: oa, activated: true}
            schedule: {every_days: 10}
            response: {default: 0.01}
        """
    )
    path = tmp_path / "ops.yaml"
    path.write_text(text, encoding="utf-8")
    loaded = load_scenario(path).scenario
    assert [c.id for c in loaded.campaigns] == ["welcome", "article"]
    assert loaded.campaigns[0].offer.coupon == 5
    assert loaded.campaigns[1].audience["activated"] is True
    assert loaded.disturbance.tolerance() == 7.0
    assert limit_warnings(loaded) == []


# ---------------------------------------------------------------------------------------------- limits
def test_touch_limit_by_channel_and_carrier_kind() -> None:
    s = scenario(
        carriers=[*CARRIERS, {"id": "wechat", "kind": "personal_wechat"}],
        campaigns=[
            campaign("a", channel="wecom_1on1", carrier="wecom"),
            campaign("b", channel="moments", carrier="wecom"),
            campaign("c", channel="oa_article", carrier="service_oa"),
            campaign("d", channel="oa_article", carrier="sub_oa"),
            campaign("e", channel="wecom_group", carrier="group"),
            campaign("f", channel="wecom_1on1", carrier="wechat"),
        ],
    )
    limits = [touch_limit(s, c) for c in s.campaigns]
    assert limits == [WECOM_BROADCAST, None, SERVICE_ARTICLE, SUBSCRIPTION_ARTICLE, None, None]
    assert (SERVICE_ARTICLE.count, SERVICE_ARTICLE.period_days) == (4, 30.0)
    assert (SUBSCRIPTION_ARTICLE.count, SUBSCRIPTION_ARTICLE.period_days) == (1, 1.0)
    assert (WECOM_BROADCAST.count, WECOM_BROADCAST.period_days) == (1, 1.0)


def test_two_daily_wecom_broadcasts_on_one_carrier_warn_once_naming_both() -> None:
    campaigns = [
        campaign("morning", schedule={"every_days": 1}),
        campaign("evening", schedule={"every_days": 1, "start_day": 0.5}),
        campaign("moments", channel="moments", schedule={"every_days": 1}),  # not a broadcast: no limit
    ]
    warnings = limit_warnings(scenario(campaigns=campaigns))
    assert len(warnings) == 1
    (warning,) = warnings
    assert warning.startswith(
        "campaigns morning, evening send up to 2 wecom_1on1 broadcasts per 1 days on carrier 'wecom', but "
    )
    assert WECOM_BROADCAST.rule in warning


def test_one_daily_wecom_broadcast_is_within_the_limit() -> None:
    campaigns = [
        campaign("daily", schedule={"every_days": 1}),
        campaign("weekly", schedule={"every_days": 7}),
    ]
    assert len(limit_warnings(scenario(campaigns=campaigns))) == 1  # 1 + 1/7 a day
    assert limit_warnings(scenario(campaigns=[campaign("daily", schedule={"every_days": 1})])) == []


def test_broadcasts_on_different_carriers_do_not_add_up() -> None:
    carriers = [*CARRIERS, {"id": "wecom2", "kind": "wecom"}]
    campaigns = [
        campaign("a", schedule={"every_days": 1}),
        campaign("b", carrier="wecom2", schedule={"every_days": 1}),
    ]
    assert limit_warnings(scenario(carriers=carriers, campaigns=campaigns)) == []


@pytest.mark.parametrize(
    ("account", "every_days", "warns"),
    [
        ("service_oa", 1, True),
        ("service_oa", 8, False),  # at most 4 in any 30 days
        ("service_oa", 7.5, False),  # exactly 4 per 30 days
        # weekly sends put 5 in some 30-day periods (days 0, 7, 14, 21, 28): over the service account's 4
        ("service_oa", 7, True),
        ("sub_oa", 1, False),
        ("sub_oa", 0.5, True),
    ],
)
def test_official_account_article_limits(account: str, every_days: float, warns: bool) -> None:
    campaigns = [
        campaign("article", channel="oa_article", carrier=account, schedule={"every_days": every_days})
    ]
    warnings = limit_warnings(scenario(campaigns=campaigns))
    assert len(warnings) == int(warns), warnings
    if warns:
        limit = SERVICE_ARTICLE if account == "service_oa" else SUBSCRIPTION_ARTICLE
        busiest = math.ceil(limit.period_days / every_days)  # sends in the busiest period
        assert warnings[0].startswith(f"campaigns article send up to {busiest} oa_article broadcasts per ")
        assert limit.rule in warnings[0]


def test_subscription_account_with_two_daily_articles_warns() -> None:
    campaigns = [
        campaign("news", channel="oa_article", carrier="sub_oa", schedule={"every_days": 1}),
        campaign("deals", channel="oa_article", carrier="sub_oa", schedule={"every_days": 1}),
    ]
    (warning,) = limit_warnings(scenario(campaigns=campaigns))
    assert warning.startswith(
        "campaigns news, deals send up to 2 oa_article broadcasts per 1 days on carrier 'sub_oa'"
    )


def test_given_days_that_collide_warn() -> None:
    campaigns = [
        campaign("launch", schedule={"days": [3, 10]}),
        campaign("promo", schedule={"days": [10.5, 20]}),
    ]
    (warning,) = limit_warnings(scenario(campaigns=campaigns))
    assert "campaigns launch, promo send up to 2 wecom_1on1" in warning
    apart = [campaign("launch", schedule={"days": [3, 10]}), campaign("promo", schedule={"days": [11, 20]})]
    assert limit_warnings(scenario(campaigns=apart)) == []


def test_daily_broadcast_plus_a_given_day_broadcast_warns() -> None:
    campaigns = [campaign("daily", schedule={"every_days": 1}), campaign("launch", schedule={"days": [5.5]})]
    assert len(limit_warnings(scenario(campaigns=campaigns))) == 1


def test_daily_broadcasts_in_disjoint_windows_do_not_warn() -> None:
    campaigns = [
        campaign("first", schedule={"every_days": 1, "end_day": 10}),
        campaign("second", schedule={"every_days": 1, "start_day": 20}),
    ]
    assert limit_warnings(scenario(campaigns=campaigns)) == []


@pytest.mark.parametrize("audience", [{"tier": {"gt": 0}}, {"stage": {"lte": 2}}, {"carrier": {"gte": 1}}])
def test_named_fields_reject_order_comparisons(audience: dict[str, Any]) -> None:
    field = next(iter(audience))
    assert ("campaigns", 0, "audience", field) in messages(campaigns=[campaign(audience=audience)])


# ---------------------------------------------------------------------------------- condition value kinds
@pytest.mark.parametrize(
    ("condition", "shown"),
    [
        ("abc", "'abc'"),
        ({"in": ["abc", 3]}, "'abc'"),
        ({"in": [1, "2"]}, "'2'"),
        (True, "true"),
        (math.nan, "nan"),
    ],
)
@pytest.mark.parametrize(
    "field",
    [
        "purchases",
        "spend",
        "interactions",
        "days_since_join",
        "days_since_last_purchase",
        "days_since_last_touch",
    ],
)
def test_numeric_audience_fields_compare_with_numbers(field: str, condition: Any, shown: str) -> None:
    problems = messages(campaigns=[campaign(audience={field: condition})])
    assert problems == {
        ("campaigns", 0, "audience", field): f"{field} is a number; compare it with numbers, not {shown}"
    }


@pytest.mark.parametrize(
    "field", ["purchases", "spend", "interactions", "days_since_join", "days_since_last_purchase"]
)
def test_numeric_tier_fields_compare_with_numbers(field: str) -> None:
    tiers = [{"id": "fans", "when": {field: "abc"}}, {"id": "others"}]
    assert messages(tiers=tiers) == {
        ("tiers", 0, "when", field): f"{field} is a number; compare it with numbers, not 'abc'"
    }


@pytest.mark.parametrize(
    ("condition", "shown"),
    [("yes", "'yes'"), (1, "1"), ({"in": [True, 0]}, "0"), ({"in": ["true"]}, "'true'")],
)
@pytest.mark.parametrize("field", ["activated", "deal_seeker"])
def test_flag_audience_fields_compare_with_true_or_false(field: str, condition: Any, shown: str) -> None:
    problems = messages(campaigns=[campaign(audience={field: condition})])
    assert problems == {
        ("campaigns", 0, "audience", field): (
            f"{field} is true or false; compare it with true or false, not {shown}"
        )
    }


@pytest.mark.parametrize("field", ["activated", "deal_seeker"])
def test_flag_fields_reject_order_comparisons(field: str) -> None:
    problems = messages(campaigns=[campaign(audience={field: {"gte": 1}})])
    assert problems == {
        ("campaigns", 0, "audience", field): (
            f"{field} is true or false; compare it with true or false, not gt/gte/lt/lte"
        )
    }


def test_activated_tier_rule_with_a_number_is_an_error() -> None:
    tiers = [{"id": "fans", "when": {"activated": 1}}, {"id": "others"}]
    assert messages(tiers=tiers) == {
        ("tiers", 0, "when", "activated"): "activated is true or false; compare it with true or false, not 1"
    }


def test_well_typed_conditions_have_no_problems() -> None:
    audience = {
        "purchases": {"gte": 1, "in": [1, 2.5]},
        "spend": 100,
        "interactions": {"lt": 3},
        "days_since_join": {"gt": 7},
        "days_since_last_purchase": math.inf,  # never bought
        "days_since_last_touch": {"gte": 14},
        "activated": True,
        "deal_seeker": {"in": [False]},
    }
    tiers = [{"id": "fans", "when": {"spend": {"gte": 500}, "activated": True}}, {"id": "others"}]
    assert messages(tiers=tiers, campaigns=[campaign(audience=audience)]) == {}


def test_load_reports_a_string_compared_with_a_number_at_its_line(tmp_path: Path) -> None:
    text = OPERATIONS_YAML.replace("audience: {purchse: 1, tier: fanz}", "audience: {purchases: abc}")
    path = tmp_path / "ops.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert (
        f"{path}:17: campaigns[article].audience.purchases: purchases is a number; compare it with numbers, "
        "not 'abc'"
    ) in str(caught.value).splitlines()


# ------------------------------------------------------------------------------------------- post days
@pytest.mark.parametrize(("day", "shown"), [(-1, "-1"), (3651, "3651"), (math.inf, "inf"), (math.nan, "nan")])
def test_post_days_lie_in_range(day: float, shown: str) -> None:
    with pytest.raises(ValidationError, match=rf"days must lie in \[0, 3650\]; got {shown}"):
        Posts.model_validate({"days": [1, day], "reach_per_post": 100})


def test_post_days_at_the_bounds_are_valid() -> None:
    assert Posts.model_validate({"days": [0, 3650], "reach_per_post": 100}).days == (0, 3650)


def test_every_condition_field_has_a_value_kind() -> None:
    """A new audience or tier field must be checked too: as a number, a flag, or a name."""
    named = {"tier", "stage", "carrier", "source", "lure"}
    kinds = [set(NUMBER_FIELDS), set(FLAG_FIELDS), named]
    assert set(AUDIENCE_FIELDS) == set().union(*kinds)
    assert sum(len(kind) for kind in kinds) == len(AUDIENCE_FIELDS)
