"""Cross-reference checks of a scenario whose shape is already valid.

The schema checks each section on its own; this module checks that the sections fit together: ids are
unique within each list, every id a section names (a source's lure and path, a path's carrier, the
activation's second carrier) is defined, and tier and audience conditions compare numeric fields with numbers
and true/false fields with true or false. Each problem is returned with its location in the merged data, so
the loader can point at the YAML line that set the value.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence

from engine.scenario.operations import (
    AUDIENCE_FIELDS,
    CHANNEL_CARRIERS,
    STAGES,
    TIER_FIELDS,
    Comparison,
    Condition,
    Scalar,
)
from engine.scenario.schema import Named, Scenario

Location = tuple[str | int, ...]
"""A place in the scenario's data: mapping keys and list indices from the top."""

Problem = tuple[Location, str]
"""A location and a message saying what is wrong there and what would be right."""

ID_SECTIONS = ("sources", "lures", "paths", "carriers", "products", "venues", "tiers", "campaigns", "staff")
"""Top-level lists whose items have an ``id``."""


def check_references(scenario: Scenario) -> list[Problem]:
    """Return every cross-reference problem of ``scenario`` (an empty list when it is consistent).

    Args:
        scenario: a scenario that passed schema validation.

    Returns:
        ``(location, message)`` pairs; the location is in the scenario's data, e.g.
        ``("paths", 0, "carrier")``.
    """
    problems: list[Problem] = []
    for section in ID_SECTIONS:
        problems.extend(_duplicate_ids(section, getattr(scenario, section)))

    lure_ids = [lure.id for lure in scenario.lures]
    path_ids = [path.id for path in scenario.paths]
    carrier_ids = [carrier.id for carrier in scenario.carriers]
    for index, source in enumerate(scenario.sources):
        if source.lure is not None and source.lure not in lure_ids:
            message = _undefined(f"source '{source.id}'", "lure", source.lure, "lures", lure_ids)
            problems.append((("sources", index, "lure"), message))
        if source.path is not None and source.path not in path_ids:
            message = _undefined(f"source '{source.id}'", "path", source.path, "paths", path_ids)
            problems.append((("sources", index, "path"), message))
    for index, path in enumerate(scenario.paths):
        if path.carrier not in carrier_ids:
            message = _undefined(f"path '{path.id}'", "carrier", path.carrier, "carriers", carrier_ids)
            problems.append((("paths", index, "carrier"), message))

    activation = scenario.activation
    if activation.second_carrier is not None and activation.second_carrier not in carrier_ids:
        message = _undefined(
            "activation", "second carrier", activation.second_carrier, "carriers", carrier_ids
        )
        problems.append((("activation", "second_carrier"), message))
    if activation.second_carrier is None and activation.second_carrier_rate > 0:
        choices = ", ".join(carrier_ids) if carrier_ids else "none defined"
        problems.append(
            (
                ("activation", "second_carrier_rate"),
                f"second_carrier_rate is {activation.second_carrier_rate:g} but no second_carrier is set; "
                f"set activation.second_carrier (carriers: {choices}) or set the rate to 0",
            )
        )
    problems.extend(_operations(scenario))
    return problems


def _operations(scenario: Scenario) -> list[Problem]:
    """Tiers, campaigns and venues name things that exist and test fields that exist."""
    problems: list[Problem] = []
    ids = {
        "tier": [t.id for t in scenario.tiers],
        "carrier": [c.id for c in scenario.carriers],
        "source": [s.id for s in scenario.sources],
        "lure": [lure.id for lure in scenario.lures],
        "stage": list(STAGES),
    }
    products = [p.id for p in scenario.products]
    venues = [v.id for v in scenario.venues]
    carrier_kind = {c.id: c.kind for c in scenario.carriers}
    staff = {pool.id: pool for pool in scenario.staff}
    for index, source in enumerate(scenario.sources):
        consultation = source.consultation
        if consultation is None:
            continue
        owner = f"source '{source.id}'"
        if consultation.staff not in staff:
            problems.append(
                (
                    ("sources", index, "consultation", "staff"),
                    _undefined(owner, "staff pool", consultation.staff, "staff", list(staff)),
                )
            )
        elif staff[consultation.staff].role != "adviser":
            problems.append(
                (
                    ("sources", index, "consultation", "staff"),
                    f"{owner} sends consultations to staff pool '{consultation.staff}', whose role is "
                    f"{staff[consultation.staff].role}; consultations need a pool with role adviser",
                )
            )
        if consultation.product is not None and consultation.product not in products:
            problems.append(
                (
                    ("sources", index, "consultation", "product"),
                    _undefined(owner, "product", consultation.product, "products", products),
                )
            )
        if source.path is None:
            problems.append(
                (
                    ("sources", index, "consultation"),
                    f"{owner} has a consultation but no path: only new members become leads; "
                    "add a path or remove the consultation",
                )
            )
    referral = scenario.referral
    if referral is not None:
        kinds = {s.id: s.kind for s in scenario.sources}
        if referral.source not in kinds:
            problems.append(
                (
                    ("referral", "source"),
                    _undefined("referral", "source", referral.source, "sources", list(kinds)),
                )
            )
        elif kinds[referral.source] != "referral":
            problems.append(
                (
                    ("referral", "source"),
                    f"referral names source '{referral.source}' of kind {kinds[referral.source]}; "
                    "referred friends need a source of kind referral",
                )
            )
        for tier in referral.monthly_rate_by_tier:
            if tier not in ids["tier"]:
                problems.append(
                    (
                        ("referral", "monthly_rate_by_tier", tier),
                        _undefined("referral", "tier", tier, "tiers", ids["tier"]),
                    )
                )
    for index, product in enumerate(scenario.products):
        for tier in product.weight_by_tier:
            if tier not in ids["tier"]:
                problems.append(
                    (
                        ("products", index, "weight_by_tier", tier),
                        _undefined(f"product '{product.id}'", "tier", tier, "tiers", ids["tier"]),
                    )
                )
    for index, tier in enumerate(scenario.tiers):
        for field, condition in tier.when.items():
            if field not in TIER_FIELDS:
                problems.append(((("tiers", index, "when", field)), _unknown_field(field, TIER_FIELDS)))
            elif (message := _value_problem(field, condition)) is not None:
                problems.append((("tiers", index, "when", field), message))
    for index, campaign in enumerate(scenario.campaigns):
        where: Location = ("campaigns", index)
        owner = f"campaign '{campaign.id}'"
        if campaign.carrier not in ids["carrier"]:
            problems.append(
                (
                    (*where, "carrier"),
                    _undefined(owner, "carrier", campaign.carrier, "carriers", ids["carrier"]),
                )
            )
        elif carrier_kind[campaign.carrier] not in CHANNEL_CARRIERS[campaign.channel]:
            allowed = ", ".join(CHANNEL_CARRIERS[campaign.channel])
            problems.append(
                (
                    (*where, "channel"),
                    (
                        f"{owner} sends {campaign.channel} on carrier '{campaign.carrier}' of kind "
                        f"{carrier_kind[campaign.carrier]}; {campaign.channel} needs a carrier of kind "
                        f"{allowed}"
                    ),
                )
            )
        if campaign.offer.product is not None and campaign.offer.product not in products:
            problems.append(
                (
                    (*where, "offer", "product"),
                    _undefined(owner, "product", campaign.offer.product, "products", products),
                )
            )
        if campaign.staff is not None and campaign.staff not in staff:
            problems.append(
                ((*where, "staff"), _undefined(owner, "staff pool", campaign.staff, "staff", list(staff)))
            )
        if campaign.venue is not None and campaign.venue not in venues:
            problems.append(((*where, "venue"), _undefined(owner, "venue", campaign.venue, "venues", venues)))
        for tier in campaign.response.by_tier:
            if tier not in ids["tier"]:
                problems.append(
                    (
                        (*where, "response", "by_tier", tier),
                        _undefined(owner, "tier", tier, "tiers", ids["tier"]),
                    )
                )
        for field, condition in campaign.audience.items():
            if field not in AUDIENCE_FIELDS:
                problems.append(((*where, "audience", field), _unknown_field(field, AUDIENCE_FIELDS)))
            elif (message := _value_problem(field, condition)) is not None:
                problems.append(((*where, "audience", field), message))
            elif field in ids:
                if isinstance(condition, Comparison) and any(
                    v is not None for v in (condition.gt, condition.gte, condition.lt, condition.lte)
                ):
                    problems.append(
                        (
                            (*where, "audience", field),
                            f"{field} names things ({', '.join(ids[field]) or 'none defined'}); compare "
                            f"it with a value or {{in: [...]}}, not gt/gte/lt/lte",
                        )
                    )
                    continue
                values = condition.in_ if isinstance(condition, Comparison) else (condition,)
                for value in values or ():
                    if value not in ids[field]:
                        problems.append(
                            (
                                (*where, "audience", field),
                                _undefined(owner, field, str(value), f"{field}s", ids[field]),
                            )
                        )
    return problems


NUMBER_FIELDS = (
    "purchases",
    "spend",
    "interactions",
    "days_since_join",
    "days_since_last_purchase",
    "days_since_last_touch",
)
"""Condition fields whose values are numbers."""

FLAG_FIELDS = ("activated", "deal_seeker")
"""Condition fields whose values are true or false."""


def _is_number(value: Scalar) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and not math.isnan(value)


def _show(value: Scalar) -> str:
    """A condition value as it would be written in YAML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"'{value}'" if isinstance(value, str) else f"{value:g}"


def _value_problem(field: str, condition: Condition) -> str | None:
    """What is wrong with the values a number or true/false field is compared with, or None."""
    if field in NUMBER_FIELDS:
        values = (condition.in_ or ()) if isinstance(condition, Comparison) else (condition,)
        for value in values:
            if not _is_number(value):
                return f"{field} is a number; compare it with numbers, not {_show(value)}"
    elif field in FLAG_FIELDS:
        if isinstance(condition, Comparison) and any(
            v is not None for v in (condition.gt, condition.gte, condition.lt, condition.lte)
        ):
            return f"{field} is true or false; compare it with true or false, not gt/gte/lt/lte"
        values = (condition.in_ or ()) if isinstance(condition, Comparison) else (condition,)
        for value in values:
            if not isinstance(value, bool):
                return f"{field} is true or false; compare it with true or false, not {_show(value)}"
    return None


def _unknown_field(field: str, allowed: Sequence[str]) -> str:
    message = f"unknown field '{field}'; allowed: {', '.join(allowed)}"
    guesses = difflib.get_close_matches(field, allowed, n=1)
    return message + (f" — did you mean '{guesses[0]}'?" if guesses else "")


def _duplicate_ids(section: str, items: Sequence[Named]) -> list[Problem]:
    first_index: dict[str, int] = {}
    problems: list[Problem] = []
    for index, item in enumerate(items):
        if item.id in first_index:
            problems.append(
                (
                    (section, index, "id"),
                    f"id '{item.id}' is used twice in {section} (items {first_index[item.id]} and {index}, "
                    f"counting from 0); ids must be unique within {section}",
                )
            )
        else:
            first_index[item.id] = index
    return problems


def _undefined(owner: str, kind: str, name: str, plural: str, defined: Sequence[str]) -> str:
    """Message for ``owner`` naming a ``kind`` that does not exist, with the defined ones and a guess."""
    message = f"{owner} names {kind} '{name}', which is not defined; "
    if not defined:
        return message + f"no {plural} are defined (add a '{plural}' section)"
    message += f"defined {plural}: {', '.join(defined)}"
    guesses = difflib.get_close_matches(name, defined, n=1)
    if guesses:
        message += f" — did you mean '{guesses[0]}'?"
    return message
