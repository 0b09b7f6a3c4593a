"""Cross-reference checks: unique ids, and every named lure, path and carrier defined."""

from __future__ import annotations

from typing import Any

import pytest

from engine.scenario import Scenario
from engine.scenario.references import check_references


def scenario(**sections: Any) -> Scenario:
    data: dict[str, Any] = {
        "meta": {"name": "refs"},
        "sources": [{"id": "douyin", "lure": "coupon", "path": "wecom_add"}],
        "lures": [{"id": "coupon"}],
        "paths": [{"id": "wecom_add", "carrier": "wecom"}],
        "carriers": [{"id": "wecom"}, {"id": "group"}],
        "products": [{"id": "tea"}],
    }
    data.update(sections)
    return Scenario.model_validate(data)


def test_consistent_scenario_has_no_problems() -> None:
    assert check_references(scenario()) == []


def test_source_with_path_and_no_take_rate_is_fine() -> None:
    sources = [{"id": "douyin", "path": "wecom_add", "take_rate": 0}, {"id": "store", "lure": "coupon"}]
    assert check_references(scenario(sources=sources)) == []


@pytest.mark.parametrize(
    ("section", "items"),
    [
        ("sources", [{"id": "douyin"}, {"id": "store"}, {"id": "douyin"}]),
        ("lures", [{"id": "coupon"}, {"id": "gift"}, {"id": "coupon"}]),
        (
            "paths",
            [
                {"id": "wecom_add", "carrier": "wecom"},
                {"id": "x", "carrier": "wecom"},
                {"id": "x", "carrier": "group"},
            ],
        ),
        ("carriers", [{"id": "wecom"}, {"id": "group"}, {"id": "group"}]),
        ("products", [{"id": "tea"}, {"id": "cup"}, {"id": "cup"}]),
    ],
)
def test_duplicate_ids(section: str, items: list[dict[str, Any]]) -> None:
    problems = check_references(scenario(**{section: items}))
    duplicate = items[2]["id"]
    first = next(index for index, item in enumerate(items) if item["id"] == duplicate)
    assert problems == [
        (
            (section, 2, "id"),
            f"id '{duplicate}' is used twice in {section} (items {first} and 2, counting from 0); "
            f"ids must be unique within {section}",
        )
    ]


def test_undefined_lure() -> None:
    problems = check_references(scenario(sources=[{"id": "douyin", "lure": "cupon"}]))
    assert problems == [
        (
            ("sources", 0, "lure"),
            "source 'douyin' names lure 'cupon', which is not defined; defined lures: coupon "
            "— did you mean 'coupon'?",
        )
    ]


def test_undefined_path_without_a_close_match() -> None:
    problems = check_references(scenario(sources=[{"id": "store"}, {"id": "douyin", "path": "qr_scan"}]))
    assert problems == [
        (
            ("sources", 1, "path"),
            "source 'douyin' names path 'qr_scan', which is not defined; defined paths: wecom_add",
        )
    ]


def test_undefined_carrier() -> None:
    problems = check_references(scenario(paths=[{"id": "wecom_add", "carrier": "wecon"}]))
    assert problems == [
        (
            ("paths", 0, "carrier"),
            "path 'wecom_add' names carrier 'wecon', which is not defined; defined carriers: wecom, group "
            "— did you mean 'wecom'?",
        )
    ]


def test_no_carriers_defined() -> None:
    problems = check_references(scenario(carriers=[]))
    assert problems == [
        (
            ("paths", 0, "carrier"),
            "path 'wecom_add' names carrier 'wecom', which is not defined; no carriers are defined "
            "(add a 'carriers' section)",
        )
    ]


def test_undefined_second_carrier() -> None:
    problems = check_references(scenario(activation={"second_carrier": "groups", "second_carrier_rate": 0.5}))
    assert problems == [
        (
            ("activation", "second_carrier"),
            "activation names second carrier 'groups', which is not defined; defined carriers: wecom, group "
            "— did you mean 'group'?",
        )
    ]


def test_second_carrier_rate_needs_a_second_carrier() -> None:
    problems = check_references(scenario(activation={"second_carrier_rate": 0.3}))
    assert problems == [
        (
            ("activation", "second_carrier_rate"),
            "second_carrier_rate is 0.3 but no second_carrier is set; set activation.second_carrier "
            "(carriers: wecom, group) or set the rate to 0",
        )
    ]


@pytest.mark.parametrize(
    "activation", [{}, {"second_carrier": "group"}, {"second_carrier": "group", "second_carrier_rate": 1}]
)
def test_valid_activation(activation: dict[str, Any]) -> None:
    assert check_references(scenario(activation=activation)) == []


def test_every_problem_is_reported() -> None:
    problems = check_references(
        scenario(
            sources=[{"id": "a", "lure": "x", "path": "y"}, {"id": "a"}],
            paths=[{"id": "wecom_add", "carrier": "z"}],
            activation={"second_carrier_rate": 0.1},
        )
    )
    assert [location for location, _ in problems] == [
        ("sources", 1, "id"),
        ("sources", 0, "lure"),
        ("sources", 0, "path"),
        ("paths", 0, "carrier"),
        ("activation", "second_carrier_rate"),
    ]
