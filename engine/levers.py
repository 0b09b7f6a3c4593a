"""Levers: the numeric fields of a scenario, addressed by a dotted path, read, changed and re-validated.

A path names a number the way the YAML file does: mapping keys by name (aliases as written, e.g. a
log-normal's ``mean``), items of a list by their ``id`` (``sources.douyin.spend_per_day``) or, for items
without one, by their 0-based position (``paths.ad_to_wecom.steps.0.pass_rate``), and the parameters of a
distribution by name (``behaviour.purchase_rate.shape``). Changing a lever gives a new scenario that is
validated again, schema and cross-references, so its bounds hold (:func:`with_values`).

A SPEC of values for a lever (``siyu sweep --vary PATH=SPEC``) is a list ``1000,5000,9000`` or a range
``start:stop:count`` — ``count`` evenly spaced values from ``start`` to ``stop``, both included
(:func:`parse_spec`).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import numpy as np
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from engine.errors import SiyuError
from engine.scenario.explain import Origin, explain_validation_error, is_echo_of_item_errors
from engine.scenario.references import check_references
from engine.scenario.schema import Scenario

Location = tuple[str | int, ...]
"""A place in the scenario's data (``model_dump(mode="json", by_alias=True)``): keys and list indices."""

MAX_SPEC_VALUES = 1000
"""Values one SPEC may hold."""

MEASUREMENT_FIELDS: dict[str, str] = {
    "horizon.acquisition_days": "sets the measurement window, not an assumption about the world",
    "horizon.horizon_days": "sets the measurement window, not an assumption about the world",
    "horizon.clv_horizon_days": "sets the metric's definition (the CLV window), not an assumption",
    "horizon.step_days": "a setting of the simulator's review step, not an assumption",
}
"""Numeric fields that :func:`enumerate_levers` leaves out of sensitivity analysis, and why."""


class LeverError(SiyuError):
    """A lever path, a value SPEC or a changed value is invalid; the message is complete and user-facing."""


@dataclass(frozen=True)
class Lever:
    """One numeric field of a scenario."""

    path: str
    """Dotted path, e.g. ``sources.douyin.spend_per_day``."""
    location: Location
    """Where the value sits in the scenario's dumped data."""
    value: float
    """The value in the scenario."""
    integer: bool
    """The field takes whole numbers only."""
    lower: float | None = None
    """Lowest allowed value (None: unbounded below)."""
    lower_inclusive: bool = True
    upper: float | None = None
    """Highest allowed value (None: unbounded above)."""
    upper_inclusive: bool = True

    def admits(self, value: float) -> bool:
        """Whether ``value`` is inside the field's own bounds (cross-field rules are checked on use)."""
        if self.lower is not None and (
            value < self.lower or (value == self.lower and not self.lower_inclusive)
        ):
            return False
        return not (
            self.upper is not None
            and (value > self.upper or (value == self.upper and not self.upper_inclusive))
        )

    def clip(self, value: float) -> float | None:
        """``value`` moved onto an inclusive bound it passes; None when the nearest bound is exclusive."""
        if self.integer:
            value = float(round(value))
        if self.admits(value):
            return value
        if self.upper is not None and value > self.upper:
            return self.upper if self.upper_inclusive else None
        if self.lower is not None and value < self.lower:
            return self.lower if self.lower_inclusive else None
        return None


# ---------------------------------------------------------------------------------------------------------
# Walking the scenario


@dataclass(frozen=True)
class _Child:
    key: str
    location_part: str | int
    value: Any
    field: FieldInfo | None


def _children(node: Any, field: FieldInfo | None) -> list[_Child]:
    """The addressable parts of ``node``: a model's fields, a list's items (by id or position), dict keys."""
    if isinstance(node, BaseModel):
        return [
            _Child(field_info.alias or name, field_info.alias or name, getattr(node, name), field_info)
            for name, field_info in type(node).model_fields.items()
        ]
    if isinstance(node, tuple | list):
        children = []
        for index, item in enumerate(node):
            item_id = getattr(item, "id", None)
            key = item_id if isinstance(item_id, str) else str(index)
            children.append(_Child(key, index, item, None))
        return children
    if isinstance(node, dict):
        return [_Child(str(key), key, value, field) for key, value in node.items()]
    return []


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_integer_field(field: FieldInfo | None, value: Any) -> bool:
    if field is not None and field.annotation is int:
        return True
    return field is None and isinstance(value, int)


def _bounds(field: FieldInfo | None) -> dict[str, float]:
    found: dict[str, float] = {}
    if field is None or (field.annotation not in (int, float) and float not in get_args(field.annotation)):
        return found
    for item in field.metadata:
        for name in ("gt", "ge", "lt", "le"):
            bound = getattr(item, name, None)
            if bound is not None:
                found[name] = float(bound)
    return found


def _lever(path: str, location: Location, value: Any, field: FieldInfo | None) -> Lever:
    bounds = _bounds(field)
    return Lever(
        path=path,
        location=location,
        value=float(value),
        integer=_is_integer_field(field, value),
        lower=bounds.get("ge", bounds.get("gt")),
        lower_inclusive="gt" not in bounds,
        upper=bounds.get("le", bounds.get("lt")),
        upper_inclusive="lt" not in bounds,
    )


def _numeric_paths(node: Any, field: FieldInfo | None, prefix: str) -> list[str]:
    """Every numeric leaf under ``node``, as dotted paths (for "did you mean" and listings)."""
    return [lever.path for lever in _walk(node, field, prefix, ())]


def _walk(node: Any, field: FieldInfo | None, prefix: str, location: Location) -> Iterator[Lever]:
    for child in _children(node, field):
        path = f"{prefix}.{child.key}" if prefix else child.key
        child_location = (*location, child.location_part)
        if _is_number(child.value):
            yield _lever(path, child_location, child.value, child.field)
        else:
            yield from _walk(child.value, child.field, path, child_location)


def all_numeric_levers(scenario: Scenario) -> list[Lever]:
    """Every numeric field present in ``scenario`` (defaults filled, distributions' parameters included)."""
    return list(_walk(scenario, None, "", ()))


def find_lever(scenario: Scenario, path: str) -> Lever:
    """The lever at ``path``; a :class:`LeverError` says what is there instead, with the valid paths.

    Args:
        scenario: the validated scenario.
        path: a dotted path such as ``sources.douyin.spend_per_day``.
    """
    parts = path.strip().split(".")
    if not path.strip() or any(not part for part in parts):
        raise LeverError(f"'{path}': not a field path; write it like sources.douyin.spend_per_day")
    node: Any = scenario
    field: FieldInfo | None = None
    location: Location = ()
    walked = ""
    for part in parts:
        children = {child.key: child for child in _children(node, field)}
        child = children.get(part)
        if child is None:
            raise LeverError(_no_such_field(path, walked, part, node, field, list(children)))
        node, field, location = child.value, child.field, (*location, child.location_part)
        walked = f"{walked}.{part}" if walked else part
    if _is_number(node):
        return _lever(walked, location, node, field)
    if node is None:
        raise LeverError(f"'{path}': not set in this scenario (null); set it in the scenario file to vary it")
    inside = _numeric_paths(node, field, walked)
    if inside:
        return _raise_not_a_number(path, "a section", inside)
    raise LeverError(f"'{path}': not a number (it is {_describe(node)}); only numeric fields can be varied")


def _raise_not_a_number(path: str, what: str, inside: list[str]) -> Lever:
    shown = ", ".join(inside[:12]) + (f", … ({len(inside)} in all)" if len(inside) > 12 else "")
    raise LeverError(f"'{path}': {what}, not a number; its numeric fields: {shown}")


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return f"the text '{value}'"
    if isinstance(value, tuple | list):
        return "a list"
    return type(value).__name__


def _no_such_field(
    path: str, walked: str, part: str, node: Any, field: FieldInfo | None, keys: list[str]
) -> str:
    where = f"'{walked}'" if walked else "the top level"
    if node is None:
        return f"'{path}': '{walked}' is not set in this scenario (null); set it in the scenario file first"
    if _is_number(node) or isinstance(node, str | bool):
        return (
            f"'{path}': '{walked}' is {_describe(node) if node is not None else 'null'}; it has no '{part}'"
        )
    if isinstance(node, tuple | list):
        kind = "id" if node and isinstance(getattr(node[0], "id", None), str) else "position (0, 1, …)"
        guess = difflib.get_close_matches(part, keys, n=1)
        hint = f" — did you mean '{guess[0]}'?" if guess else ""
        listed = ", ".join(keys) or "none"
        return f"'{path}': {where} has no item '{part}'{hint}; items by {kind}: {listed}"
    numeric = [p.removeprefix(f"{walked}.") for p in _numeric_paths(node, field, walked)]
    guess = difflib.get_close_matches(part, keys, n=1)
    hint = f" — did you mean '{guess[0]}'?" if guess else ""
    shown = ", ".join(numeric[:20]) + (", …" if len(numeric) > 20 else "")
    return f"'{path}': no such field '{part}' in {where}{hint}; numeric fields there: {shown or 'none'}"


# ---------------------------------------------------------------------------------------------------------
# Changing levers


def with_values(scenario: Scenario, changes: Mapping[Lever, float], origin: str = "") -> Scenario:
    """A new scenario with each lever set to its value, validated again (bounds and cross-references).

    Whole-number fields take the value rounded to the nearest whole number.

    Args:
        scenario: the validated scenario the levers were found in.
        changes: lever → new value.
        origin: what asked for the change (``--vary``), named in error messages.

    Raises:
        LeverError: the changed scenario is invalid; the message names the field, the value and the rule.
    """
    data = scenario.model_dump(mode="json", by_alias=True)
    for lever, value in changes.items():
        if not math.isfinite(value):
            raise LeverError(f"{_prefix(origin)}{lever.path} = {value}: not a finite number")
        parent = data
        for part in lever.location[:-1]:
            parent = parent[part]
        parent[lever.location[-1]] = round(value) if lever.integer else float(value)
    where = _prefix(origin)
    shown = ", ".join(f"{lever.path} = {_number(value)}" for lever, value in changes.items())
    try:
        changed = Scenario.model_validate(data)
    except ValidationError as error:
        root = {(): Origin(Path(origin or "scenario"), 0)}  # only the field and message are used
        problems = [
            explain_validation_error(detail, data, root)
            for detail in error.errors(include_url=False)
            if not is_echo_of_item_errors(detail)
        ]
        text = "; ".join(f"{problem.field}: {problem.message}" for problem in problems)
        raise LeverError(f"{where}{shown}: makes the scenario invalid: {text}") from None
    problems_found = check_references(changed)
    if problems_found:
        text = "; ".join(message for _, message in problems_found)
        raise LeverError(f"{where}{shown}: makes the scenario invalid: {text}")
    return changed


def _prefix(origin: str) -> str:
    return f"{origin}: " if origin else ""


def _number(value: float) -> str:
    return f"{value:g}" if not float(value).is_integer() or abs(value) >= 1e16 else str(int(value))


# ---------------------------------------------------------------------------------------------------------
# Value specs


def parse_spec(spec: str, origin: str = "") -> tuple[float, ...]:
    """The values of a SPEC: a list ``1000,5000,9000`` or a range ``start:stop:count`` (both ends included).

    Raises:
        LeverError: the SPEC is malformed; the message shows the two accepted forms.
    """
    where = _prefix(origin)
    forms = "a list like 1000,5000,9000 or a range start:stop:count like 1000:20000:10 (both ends included)"
    text = spec.strip()
    if not text:
        raise LeverError(f"{where}no values given; write {forms}")
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise LeverError(f"{where}'{spec}': a range has three parts start:stop:count; write {forms}")
        start, stop = (_float(part, spec, where, forms) for part in parts[:2])
        count_text = parts[2].strip()
        if not count_text.isdigit() or int(count_text) < 2:
            raise LeverError(
                f"{where}'{spec}': the count of a range must be a whole number ≥ 2 (got '{count_text}')"
            )
        count = int(count_text)
        if count > MAX_SPEC_VALUES:
            raise LeverError(f"{where}'{spec}': at most {MAX_SPEC_VALUES} values (got {count})")
        if start == stop:
            raise LeverError(f"{where}'{spec}': start and stop are equal; a range needs two different ends")
        return tuple(float(v) for v in np.linspace(start, stop, count))
    values = tuple(_float(part, spec, where, forms) for part in text.split(","))
    if len(values) > MAX_SPEC_VALUES:
        raise LeverError(f"{where}'{spec}': at most {MAX_SPEC_VALUES} values (got {len(values)})")
    if len(set(values)) != len(values):
        raise LeverError(f"{where}'{spec}': a value appears twice; list each value once")
    return values


def _float(text: str, spec: str, where: str, forms: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise LeverError(f"{where}'{spec}': '{text.strip()}' is not a number; write {forms}") from None
    if not math.isfinite(value):
        raise LeverError(f"{where}'{spec}': '{text.strip()}' is not a finite number")
    return value


def parse_assignment(text: str, option: str) -> tuple[str, str]:
    """Split ``PATH=SPEC`` (the argument of ``--vary``)."""
    path, equals, spec = text.partition("=")
    if not equals or not path.strip():
        raise LeverError(
            f"{option} '{text}': expected PATH=SPEC, e.g. {option} sources.douyin.spend_per_day=1000:9000:5"
        )
    return path.strip(), spec


# ---------------------------------------------------------------------------------------------------------
# Levers for sensitivity analysis


@dataclass(frozen=True)
class Skipped:
    """A numeric field left out of a sensitivity analysis, and why."""

    path: str
    value: float
    reason: str


def enumerate_levers(scenario: Scenario) -> tuple[list[Lever], list[Skipped]]:
    """The levers a sensitivity analysis moves, and the numeric fields it leaves out (with the reason).

    Every numeric field present in the scenario is a lever except the measurement settings
    (:data:`MEASUREMENT_FIELDS`), entries of lists (days things happen, values a rule matches), the
    persona and seed-user multipliers of carriers that have neither, and zeros
    (a relative change of zero does not move it).
    """
    levers: list[Lever] = []
    skipped: list[Skipped] = []
    for lever in all_numeric_levers(scenario):
        reason = MEASUREMENT_FIELDS.get(lever.path)
        if reason is None and isinstance(lever.location[-1], int):
            reason = "an entry of a list (days something happens, or values a rule matches), not an amount"
        if reason is None:
            reason = _inactive(scenario, lever)
        if reason is None and lever.value == 0:
            reason = "zero: a relative change does not move it"
        if reason is None:
            levers.append(lever)
        else:
            skipped.append(Skipped(lever.path, lever.value, reason))
    return levers, skipped


def _inactive(scenario: Scenario, lever: Lever) -> str | None:
    """Why a carrier's persona or seed-user multiplier does nothing in this scenario (None: it acts)."""
    if lever.location[0] != "carriers" or len(lever.location) != 3:
        return None
    carrier = scenario.carriers[int(lever.location[1])]
    name = str(lever.location[2])
    if name.startswith("persona_") and not carrier.persona:
        return "applies only to a carrier run as a persona (persona: true)"
    if name.startswith("seed_user_") and carrier.seed_users_per_account == 0:
        return "applies only with seed users (seed_users_per_account > 0)"
    return None
