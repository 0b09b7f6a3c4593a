"""Which sliders a scenario gets, their ranges, and applying the page's values (playground/levers.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.levers import Lever, find_lever
from engine.scenario import Scenario, load_scenario
from playground.errors import PlaygroundError
from playground.levers import apply_changes, main_levers, slider_range


@pytest.fixture(scope="module")
def tiny(scenario_folder: Path) -> Scenario:
    return load_scenario(scenario_folder / "tiny_shop.yaml").scenario


def test_main_levers_are_the_lessons_levers(tiny: Scenario) -> None:
    levers = main_levers(tiny)
    assert [slider.path for slider in levers.sliders] == [
        "sources.ads.spend_per_day",
        "lures.coupon.take_rate_multiplier",
        "lures.coupon.cost_per_taker",
        "paths.to_wecom.steps.0.pass_rate",
        "paths.to_wecom.steps.1.pass_rate",
        "carriers.wecom.monthly_exit_rate",
        "carriers.wecom.reach_per_message",
        "carriers.group.monthly_exit_rate",
        "carriers.group.reach_per_message",
        "campaigns.weekly.schedule.every_days",
        "staff.operators.headcount",
    ]
    spend = levers.sliders[0]
    assert (spend.zh, spend.en, spend.unit) == ("信息流广告 · 每日投放", "feed ads: spend per day", "money")
    assert [(choice.path, choice.value, [o.id for o in choice.options]) for choice in levers.choices] == [
        ("sources.ads.lure", "coupon", ["coupon", "community"]),
        ("paths.to_wecom.carrier", "wecom", ["wecom", "group"]),
    ]


def test_a_scenario_without_carriers_gets_only_what_it_has(scenario_folder: Path) -> None:
    plain = load_scenario(scenario_folder / "more" / "plain.yaml").scenario
    levers = main_levers(plain)
    assert levers.sliders == () and levers.choices == ()  # no spend, lure, path, carrier, campaign or staff


def test_every_slider_holds_its_value_inside_the_schema_bounds(tiny: Scenario) -> None:
    for slider in main_levers(tiny).sliders:
        lever = find_lever(tiny, slider.path)
        assert slider.minimum <= slider.value <= slider.maximum, slider
        assert lever.admits(slider.minimum) and lever.admits(slider.maximum), slider
        assert slider.maximum > slider.minimum
        steps = (slider.value - slider.minimum) / slider.step
        assert abs(steps - round(steps)) < 1e-6, f"{slider.path}: the value is not on the slider's grid"


def test_slider_ranges_around_the_value() -> None:
    spend = find_lever_value("spend_per_day", 3000.0, integer=False, lower=0.0)
    assert slider_range(spend, "money") == (0.0, 10000.0, 100.0)
    exit_rate = find_lever_value(
        "monthly_exit_rate", 0.03, integer=False, lower=0.0, upper=1.0, upper_inclusive=False
    )
    assert slider_range(exit_rate, "share") == (0.0, 0.2, 0.001)
    pass_rate = find_lever_value("pass_rate", 0.9, integer=False, lower=0.0, lower_inclusive=False, upper=1.0)
    low, high, step = slider_range(pass_rate, "share")
    assert low == step > 0 and high == 1.0  # "> 0": the slider starts one step above zero
    headcount = find_lever_value("headcount", 2.0, integer=True, lower=1.0, upper=10_000.0)
    assert slider_range(headcount, "count") == (1.0, 6.0, 1.0)


def find_lever_value(name: str, value: float, **bounds: Any) -> Lever:
    """A lever with the given bounds, as :func:`engine.levers.find_lever` makes them."""
    return Lever(path=f"x.{name}", location=("x", name), value=value, **bounds)


def test_apply_changes_sets_values_and_choices(tiny: Scenario) -> None:
    changed = apply_changes(
        tiny,
        {"sources.ads.spend_per_day": 900, "staff.operators.headcount": "3"},
        {"sources.ads.lure": "community", "paths.to_wecom.carrier": "group"},
    )
    assert changed.sources[0].spend_per_day == 900.0
    assert changed.staff[0].headcount == 3
    assert changed.sources[0].lure == "community"
    assert changed.paths[0].carrier == "group"
    assert tiny.sources[0].spend_per_day == 500.0  # the baseline is untouched
    assert apply_changes(tiny, {}, {}) is tiny


@pytest.mark.parametrize(
    ("values", "choices", "field", "message"),
    [
        (
            {"sources.ads.spend_per_day": -5},
            {},
            "sources.ads.spend_per_day",
            r"slider: sources\.ads\.spend_per_day = -5: makes the scenario invalid: "
            r"sources\[ads\]\.spend_per_day: out of range: must be ≥ 0 \(got -5\)",
        ),
        (
            {"carriers.wecom.monthly_exit_rate": 1},
            {},
            "carriers.wecom.monthly_exit_rate",
            r"monthly_exit_rate.*must be < 1 \(got 1\)",
        ),
        ({"staff.operators.headcount": "lots"}, {}, "staff.operators.headcount", r"'lots': not a number"),
        ({"sources.ads.spend_per_dya": 1}, {}, "sources.ads.spend_per_dya", r"did you mean 'spend_per_day'"),
        ({}, {"sources.ads.lure": "gift"}, "sources.ads.lure", r"'gift'.*allowed: coupon, community"),
        ({}, {"sources.nope.lure": "coupon"}, "sources.nope.lure", r"sources has no item 'nope'; items: ads"),
        ({}, {"sources.ads.path": "x"}, "sources.ads.path", r"not a choice"),
    ],
)
def test_bad_values_name_the_field_the_value_and_the_rule(
    tiny: Scenario, values: dict[str, object], choices: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(PlaygroundError, match=message) as caught:
        apply_changes(tiny, values, choices)
    assert caught.value.field == field


def test_a_rule_that_ties_fields_names_the_field_that_breaks_it(tiny: Scenario) -> None:
    values = {"horizon.clv_horizon_days": 60, "horizon.acquisition_days": 100}  # 100 + 60 > 150 days
    with pytest.raises(
        PlaygroundError, match=r"horizon_days \(150\) must be at least acquisition_days"
    ) as caught:
        apply_changes(tiny, values, {})
    assert caught.value.field == "horizon.acquisition_days"
    changed = apply_changes(tiny, {"horizon.clv_horizon_days": 60, "horizon.acquisition_days": 90}, {})
    assert changed.horizon.acquisition_days == 90.0


def test_every_shipped_scenario_gets_valid_sliders() -> None:
    from engine.cli_serve import SHIPPED_SCENARIOS
    from playground.catalogue import load_catalogue

    catalogue = load_catalogue(SHIPPED_SCENARIOS)
    assert catalogue.problems == ()
    for entry in catalogue.entries:
        levers = main_levers(entry.scenario)
        assert levers.sliders, f"{entry.key}: no slider to move"
        for slider in levers.sliders:
            lever = find_lever(entry.scenario, slider.path)
            assert slider.minimum <= slider.value <= slider.maximum, (entry.key, slider)
            assert lever.admits(slider.minimum) and lever.admits(slider.maximum), (entry.key, slider)
            steps = (slider.value - slider.minimum) / slider.step
            assert abs(steps - round(steps)) < 1e-6, (entry.key, slider.path, slider.step)
        for choice in levers.choices:
            assert choice.value in [option.id for option in choice.options], (entry.key, choice)
