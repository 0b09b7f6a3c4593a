"""A scenario's main levers, as the page's sliders and select boxes, and applying the values the page sends.

The main levers are the ones a private-traffic lesson turns (DESIGN.md): each source's daily spend, each
lure's pull and cost, each path step's pass rate, each carrier's monthly exit rate and reach per message,
each periodic campaign's frequency, each staff pool's headcount — plus which lure a source offers and which
carrier a path ends on, among those the scenario defines. A slider's range is drawn around the scenario's own
value and kept inside the schema's bounds (:mod:`engine.levers` knows them).

Values are applied with :func:`engine.levers.with_values`, so a bad value gets the same message as
``siyu sweep --vary`` on the command line: the field, the value and the rule.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from engine.levers import Lever, LeverError, find_lever, with_values
from engine.scenario.references import check_references
from engine.scenario.schema import Scenario
from playground.errors import PlaygroundError

Group = Literal["source", "lure", "path", "carrier", "campaign", "staff"]
Unit = Literal["money", "share", "ratio", "days", "count"]

GROUPS: dict[Group, tuple[str, str]] = {
    "source": ("公域来源", "Sources"),
    "lure": ("诱饵", "Lures"),
    "path": ("路径", "Paths"),
    "carrier": ("承接平台", "Carriers"),
    "campaign": ("运营活动", "Campaigns"),
    "staff": ("运营团队", "Staff"),
}
"""Slider groups in page order, with their Chinese and English headings (the terms of DESIGN.md)."""

GROUP_NOTES: dict[Group, tuple[str, str]] = {
    "path": (
        "路径越短，效率越高：把某一步的通过率调到 100%，就相当于去掉这一步。",
        "The shorter the path, the better: a step's pass rate at 100% is the same as removing that step.",
    ),
    "campaign": (
        "发送越频繁，触达越多，打扰也越多。",
        "The more often a campaign sends, the more it reaches — and the more it annoys.",
    ),
}
"""A one-line lesson under some groups' headings."""

FIELDS: dict[str, tuple[str, str, Unit]] = {
    "spend_per_day": ("每日投放", "spend per day", "money"),
    "take_rate_multiplier": ("参与率倍数", "take-rate multiplier", "ratio"),
    "cost_per_taker": ("每人诱饵成本", "cost per taker", "money"),
    "pass_rate": ("通过率", "pass rate", "share"),
    "monthly_exit_rate": ("月流失率", "monthly exit rate", "share"),
    "reach_per_message": ("消息触达率", "reach per message", "share"),
    "every_days": ("每隔几天发送", "sent every N days", "days"),
    "headcount": ("人数", "headcount", "count"),
}
"""The numeric fields that are main levers: Chinese and English names, and unit."""

ORIGIN = "slider"
"""What asks for a change, as error messages name it."""


@dataclass(frozen=True)
class Slider:
    """A numeric main lever: its path, names, the scenario's value and the slider's range."""

    path: str
    """Lever path (:mod:`engine.levers`), e.g. ``sources.douyin.spend_per_day``."""
    group: Group
    zh: str
    en: str
    unit: Unit
    value: float
    """The scenario's value (the baseline)."""
    minimum: float
    maximum: float
    step: float
    integer: bool
    allowed: dict[str, str]
    """What the schema allows, for people, by language (``≥ 0, ≤ 1``)."""


@dataclass(frozen=True)
class Option:
    """One item a select box offers: its id and display names."""

    id: str
    zh: str
    en: str


@dataclass(frozen=True)
class Choice:
    """A choice among the scenario's own items: the lure a source offers, the carrier a path ends on."""

    path: str
    """``sources.<id>.lure`` or ``paths.<id>.carrier``."""
    group: Group
    zh: str
    en: str
    value: str
    options: tuple[Option, ...]


@dataclass(frozen=True)
class MainLevers:
    """Everything the page lets a trainer move for one scenario."""

    sliders: tuple[Slider, ...]
    choices: tuple[Choice, ...]


def _names(item: Any) -> tuple[str, str]:
    """An item's Chinese and English display names (its id where a label is missing)."""
    label = item.label
    return label.zh or label.en or item.id, label.en or label.zh or item.id


def _nice(value: float) -> float:
    """The nearest 1, 2 or 5 × a power of ten at or above ``value`` (slider steps and ends)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for factor in (1, 2, 5, 10):
        if factor * power >= value * (1 - 1e-9):
            return factor * power
    return 10 * power


def _plain(value: float) -> str:
    return f"{int(value):,}" if value.is_integer() else f"{value:g}"


def _allowed(lever: Lever) -> dict[str, str]:
    """What the field allows, in Chinese and English (``≥ 0, ≤ 1``; whole numbers)."""
    low = "" if lever.lower is None else f"{'≥' if lever.lower_inclusive else '>'} {_plain(lever.lower)}"
    high = "" if lever.upper is None else f"{'≤' if lever.upper_inclusive else '<'} {_plain(lever.upper)}"
    bounds = ", ".join(part for part in (low, high) if part)
    whole = ("整数", "whole numbers") if lever.integer else ("", "")
    texts = [", ".join(part for part in (bounds, extra) if part) for extra in whole]
    return {"zh": texts[0] or "任意数", "en": texts[1] or "any number"}


def slider_range(lever: Lever, unit: Unit, scale: float = 0.0) -> tuple[float, float, float]:
    """``(minimum, maximum, step)`` of a slider: from the lower bound to about three times the scenario's
    value (or ``scale`` when that is larger, for a value of zero), within the field's bounds.

    Shares (pass and exit rates) span 0 to 1 where they can; the step divides the span in about a hundred
    and the scenario's own value is always on the slider.
    """
    value = lever.value
    if lever.integer:
        step = 1.0
        high = max(3 * value, value + 4, scale)
    else:
        if unit == "share":
            high = max(3 * value, 0.2) if value < 0.5 else 1.0
        else:
            high = max(3 * value, scale, 1.0 if unit != "money" else 10.0)
        high = _nice(high) if unit != "share" or high < 1 else 1.0
        step = _nice(high / 100) / (2 if unit == "share" else 1)
        while step > 1e-6 and abs(value / step - round(value / step)) > 1e-6:
            step /= 10
    low = lever.lower if lever.lower is not None else 0.0
    if not lever.lower_inclusive:
        low += step
    if lever.upper is not None:
        high = min(high, lever.upper if lever.upper_inclusive else lever.upper - step)
    low, high = min(low, value), max(high, value)
    return _round(low), _round(high), step


def _round(value: float) -> float:
    return float(f"{value:.10g}")


def _slider(
    scenario: Scenario, path: str, group: Group, item_names: tuple[str, str], scale: float = 0.0
) -> Slider:
    lever = find_lever(scenario, path)
    field_zh, field_en, unit = FIELDS[path.rsplit(".", 1)[-1]]
    minimum, maximum, step = slider_range(lever, unit, scale)
    return Slider(
        path=path,
        group=group,
        zh=f"{item_names[0]} · {field_zh}",
        en=f"{item_names[1]}: {field_en}",
        unit=unit,
        value=lever.value,
        minimum=minimum,
        maximum=maximum,
        step=step,
        integer=lever.integer,
        allowed=_allowed(lever),
    )


def main_levers(scenario: Scenario) -> MainLevers:
    """The sliders and select boxes of ``scenario``, grouped as :data:`GROUPS` (only what it uses)."""
    sliders: list[Slider] = []
    choices: list[Choice] = []
    used_lures = {source.lure for source in scenario.sources if source.lure}
    used_paths = {source.path for source in scenario.sources if source.path}
    lure_options = tuple(Option(lure.id, *_names(lure)) for lure in scenario.lures)
    carrier_options = tuple(Option(carrier.id, *_names(carrier)) for carrier in scenario.carriers)
    for source in scenario.sources:
        names = _names(source)
        if source.spend_per_day > 0 or source.reach.max_paid_per_day > 0:
            scale = 3 * source.reach.saturation_spend
            sliders.append(_slider(scenario, f"sources.{source.id}.spend_per_day", "source", names, scale))
        if source.lure and len(lure_options) > 1:
            choices.append(
                Choice(
                    f"sources.{source.id}.lure",
                    "source",
                    f"{names[0]} · 诱饵",
                    f"{names[1]}: lure",
                    source.lure,
                    lure_options,
                )
            )
    for lure in scenario.lures:
        if lure.id in used_lures:
            for field, scale in (("take_rate_multiplier", 3.0), ("cost_per_taker", 20.0)):
                sliders.append(_slider(scenario, f"lures.{lure.id}.{field}", "lure", _names(lure), scale))
    for path in scenario.paths:
        if path.id not in used_paths:
            continue
        path_zh, path_en = _names(path)
        for index, step in enumerate(path.steps):
            names = (f"{path_zh} · 第{index + 1}步 {step.name}", f"{path_en}, step {index + 1} ({step.name})")
            sliders.append(_slider(scenario, f"paths.{path.id}.steps.{index}.pass_rate", "path", names))
        if len(carrier_options) > 1:
            choices.append(
                Choice(
                    f"paths.{path.id}.carrier",
                    "path",
                    f"{path_zh} · 承接平台",
                    f"{path_en}: carrier",
                    path.carrier,
                    carrier_options,
                )
            )
    for carrier in scenario.carriers:
        for field in ("monthly_exit_rate", "reach_per_message"):
            sliders.append(_slider(scenario, f"carriers.{carrier.id}.{field}", "carrier", _names(carrier)))
    for campaign in scenario.campaigns:
        if campaign.schedule.every_days is not None:
            path = f"campaigns.{campaign.id}.schedule.every_days"
            sliders.append(_slider(scenario, path, "campaign", _names(campaign), 14.0))
    for pool in scenario.staff:
        sliders.append(_slider(scenario, f"staff.{pool.id}.headcount", "staff", _names(pool)))
    order = list(GROUPS)
    sliders.sort(key=lambda slider: order.index(slider.group))
    return MainLevers(tuple(sliders), tuple(choices))


# ---------------------------------------------------------------------------------------------------------
# Applying the page's values


def _number(path: str, raw: Any) -> float:
    """A value the page sent, as a number; a :class:`PlaygroundError` names the field otherwise."""
    if isinstance(raw, bool) or raw is None:
        raise PlaygroundError(f"{ORIGIN}: {path} = {raw!r}: not a number", path)
    if isinstance(raw, int | float):
        value = float(raw)
    else:
        try:
            value = float(str(raw).strip())
        except ValueError:
            raise PlaygroundError(f"{ORIGIN}: {path} = '{raw}': not a number", path) from None
    if not math.isfinite(value):
        raise PlaygroundError(f"{ORIGIN}: {path} = {raw}: not a finite number", path)
    return value


def _with_choices(scenario: Scenario, choices: Mapping[str, Any]) -> Scenario:
    """``scenario`` with each source's lure / path's carrier set to the chosen id (one it defines).

    Choices are added one at a time, each validated with those before it, so an error names its choice.
    """
    allowed = {
        ("sources", "lure"): [lure.id for lure in scenario.lures],
        ("paths", "carrier"): [carrier.id for carrier in scenario.carriers],
    }
    data = scenario.model_dump(mode="json", by_alias=True)
    changed = scenario
    for path, raw in choices.items():
        parts = path.split(".")
        kinds = allowed.get((parts[0], parts[-1])) if len(parts) == 3 else None
        if kinds is None:
            raise PlaygroundError(
                f"{ORIGIN}: '{path}': not a choice; choices are sources.<id>.lure and paths.<id>.carrier",
                path,
            )
        items = {item["id"]: item for item in data[parts[0]]}
        if parts[1] not in items:
            raise PlaygroundError(
                f"{ORIGIN}: '{path}': {parts[0]} has no item '{parts[1]}'; items: {', '.join(items)}", path
            )
        if not isinstance(raw, str) or raw not in kinds:
            raise PlaygroundError(
                f"{ORIGIN}: {path} = {raw!r}: not one of this scenario's {parts[-1]}s; allowed: "
                f"{', '.join(kinds)}",
                path,
            )
        items[parts[1]][parts[-1]] = raw
        changed = _validated(data, f"{ORIGIN}: {path} = {raw}", path)
    return changed


def _validated(data: dict[str, Any], what: str, path: str) -> Scenario:
    """The scenario of ``data``, or a :class:`PlaygroundError` saying what ``what`` broke."""
    try:
        changed = Scenario.model_validate(data)
    except ValidationError as error:  # ids the scenario defines keep its shape; said plainly if not
        details = "; ".join(
            f"{'.'.join(str(part) for part in detail['loc'])}: {detail['msg']}"
            for detail in error.errors(include_url=False)
        )
        raise PlaygroundError(f"{what}: makes the scenario invalid: {details}", path) from None
    problems = check_references(changed)
    if problems:
        text = "; ".join(message for _, message in problems)
        raise PlaygroundError(f"{what}: makes the scenario invalid: {text}", path)
    return changed


def apply_changes(scenario: Scenario, values: Mapping[str, Any], choices: Mapping[str, Any]) -> Scenario:
    """``scenario`` with the page's slider ``values`` (lever path → number) and ``choices`` (path → id).

    Any numeric lever path is accepted, not only the main levers. Values are added one at a time, in the order
    given, each validated with those before it, so a bad value is reported against its own slider (the
    error's ``field``) — also when it breaks a rule that ties fields (horizon_days ≥ acquisition_days +
    clv_horizon_days) together with values before it.

    Raises:
        PlaygroundError: a path, a value or a choice is invalid; the message is :mod:`engine.levers`'s.
    """
    changed = _with_choices(scenario, choices)
    result = changed
    changes: dict[Lever, float] = {}
    for path, raw in values.items():
        value = _number(path, raw)
        try:
            lever = find_lever(changed, path)
            changes[lever] = value
            result = with_values(changed, changes, ORIGIN)
        except LeverError as error:
            raise PlaygroundError(str(error), path) from None
    return result
