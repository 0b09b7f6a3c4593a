"""Levers: finding a numeric field by path, changing it with re-validation, value SPECs, the tornado's set."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.levers import (
    LeverError,
    all_numeric_levers,
    enumerate_levers,
    find_lever,
    parse_assignment,
    parse_spec,
    with_values,
)
from engine.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parents[2]
RETAIL = ROOT / "scenarios" / "retail_store_wecom.yaml"


@pytest.fixture(scope="module")
def retail() -> Scenario:
    return load_scenario(RETAIL).scenario


def test_a_list_item_is_addressed_by_its_id(retail: Scenario) -> None:
    lever = find_lever(retail, "sources.douyin_ads.spend_per_day")
    assert lever.value == 3000
    assert lever.location == ("sources", 1, "spend_per_day")
    assert (lever.lower, lever.upper, lever.integer) == (0, 1e9, False)


def test_distribution_parameters_aliases_and_positions_are_levers(retail: Scenario) -> None:
    assert find_lever(retail, "behaviour.purchase_rate.shape").value == retail.behaviour.purchase_rate.shape
    price = find_lever(retail, "products.everyday.price.mean")  # the YAML's key, alias of mean_value
    assert price.value == 120
    step = find_lever(retail, "paths.ad_to_wecom.steps.1.pass_rate")
    assert step.value == 0.7
    assert not step.lower_inclusive  # pass_rate > 0
    assert find_lever(retail, "carriers.wecom.accounts").integer


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("sources.douyin_ads.spend_per_dya", "no such field 'spend_per_dya'.*did you mean 'spend_per_day'"),
        ("sources.douyin.spend_per_day", "has no item 'douyin'.*did you mean 'douyin_ads'.*store_qr"),
        ("behaviour.purchase_rate", "a section, not a number.*behaviour.purchase_rate.shape"),
        ("paths.ad_to_wecom.steps", "a section, not a number.*paths.ad_to_wecom.steps.0.pass_rate"),
        ("paths.ad_to_wecom.steps.9.pass_rate", "has no item '9'; items by position \\(0, 1, …\\): 0, 1"),
        ("sources.douyin_ads.kind", "not a number \\(it is the text 'paid'\\)"),
        ("sources.store_qr.ban.ban_days", "'sources.store_qr.ban' is not set in this scenario \\(null\\)"),
        ("horizon.discount_rate.x", "'horizon.discount_rate' is float; it has no 'x'"),
        ("sources..spend_per_day", "not a field path"),
    ],
)
def test_a_bad_path_says_what_is_there(retail: Scenario, path: str, expected: str) -> None:
    with pytest.raises(LeverError, match=expected):
        find_lever(retail, path)


def test_a_change_gives_a_new_validated_scenario(retail: Scenario) -> None:
    lever = find_lever(retail, "sources.douyin_ads.spend_per_day")
    changed = with_values(retail, {lever: 5000})
    assert changed.sources[1].spend_per_day == 5000
    assert retail.sources[1].spend_per_day == 3000  # the original is untouched
    assert changed.sources[0] == retail.sources[0]
    accounts = find_lever(retail, "carriers.wecom.accounts")
    assert with_values(retail, {accounts: 4.6}).carriers[0].accounts == 5  # whole numbers: rounded


def test_a_value_outside_the_bounds_gets_the_schema_message(retail: Scenario) -> None:
    lever = find_lever(retail, "sources.douyin_ads.spend_per_day")
    with pytest.raises(LeverError, match=r"--vary x: .*spend_per_day = -5: .*must be ≥ 0 \(got -5\)"):
        with_values(retail, {lever: -5}, "--vary x")
    window = find_lever(retail, "horizon.acquisition_days")
    with pytest.raises(LeverError, match="horizon_days \\(730\\) must be at least acquisition_days"):
        with_values(retail, {window: 500})


def test_specs_lists_and_inclusive_ranges() -> None:
    assert parse_spec("1000,5000,9000") == (1000, 5000, 9000)
    values = parse_spec("1000:20000:10")
    assert len(values) == 10
    assert values[0] == 1000
    assert values[-1] == 20000
    assert values[1] == pytest.approx(1000 + 19000 / 9)
    assert parse_spec("9000:1000:3") == (9000, 5000, 1000)  # start above stop: descending values
    assert parse_assignment("a.b=1,2", "--vary") == ("a.b", "1,2")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("", "no values given"),
        ("1:2", "a range has three parts"),
        ("1:2:1", "count of a range must be a whole number ≥ 2"),
        ("1:2:x", "count of a range must be a whole number ≥ 2"),
        ("5:5:3", "start and stop are equal"),
        ("1,a", "'a' is not a number"),
        ("1,nan", "not a finite number"),
        ("1,1", "appears twice"),
    ],
)
def test_a_bad_spec_shows_the_accepted_forms(spec: str, expected: str) -> None:
    with pytest.raises(LeverError, match=expected):
        parse_spec(spec)


def test_an_assignment_needs_an_equals_sign() -> None:
    with pytest.raises(LeverError, match="expected PATH=SPEC"):
        parse_assignment("sources.douyin.spend_per_day", "--vary")


def test_the_tornado_levers_are_every_numeric_field_less_settings_zeros_and_inactive_ones(
    retail: Scenario,
) -> None:
    levers, skipped = enumerate_levers(retail)
    paths = {lever.path for lever in levers}
    reasons = {item.path: item.reason for item in skipped}
    assert len(paths) + len(reasons) == len(all_numeric_levers(retail))
    assert {"behaviour.purchase_rate.shape", "products.everyday.price.sd", "horizon.discount_rate"} <= paths
    assert "measurement window" in reasons["horizon.horizon_days"]
    assert "zero" in reasons["sources.store_qr.spend_per_day"]
    assert "persona" in reasons["carriers.wecom.persona_exit_multiplier"]
    for lever in levers:
        assert lever.value != 0
        assert find_lever(retail, lever.path) == lever  # every listed path finds itself


def test_clip_keeps_a_move_inside_inclusive_bounds_and_refuses_exclusive_ones(retail: Scenario) -> None:
    precision = find_lever(retail, "sources.store_qr.precision")  # 1.0, le=1
    assert precision.clip(1.2) == 1.0
    assert precision.clip(0.8) == 0.8
    exit_rate = find_lever(retail, "carriers.wecom.monthly_exit_rate")  # lt=1
    assert exit_rate.clip(1.5) is None
    accounts = find_lever(retail, "carriers.wecom.accounts")
    assert accounts.clip(4.8) == 5
