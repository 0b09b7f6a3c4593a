"""How a validation problem is worded for the user.

Every problem is one line, ``FILE:LINE: FIELD.PATH: problem (got VALUE); allowed: ...``. pydantic reports
a problem as an error type, a ``loc`` through the schema and the offending input; this module follows the
``loc`` through :class:`~engine.scenario.schema.Scenario` to learn what the schema accepts there, says what
is wrong and what is allowed in plain words (with a "did you mean" guess for a near-miss name), names list
items by their ``id`` and points at the file and line that set the value. It also words the report that
lists every problem at once, and renders values (:func:`show`) for the loader's own messages.

It knows nothing of files or YAML: :mod:`engine.scenario.loading` hands it the merged data and the
:class:`Origin` of every :data:`Location` in it.
"""

from __future__ import annotations

import datetime
import difflib
import re
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from engine.scenario.schema import Named, Scenario

Location = tuple[str | int, ...]
"""A place in the merged data: mapping keys and list indices from the top."""


@dataclass(frozen=True)
class Origin:
    """The file and line that set a value."""

    file: Path
    line: int
    """1-based line number."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario, worded for the user; ``str()`` gives its report line."""

    origin: Origin
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.origin.file}:{self.origin.line}: {self.field}: {self.message}"


# ---------------------------------------------------------------------------------------------------------
# Explaining validation errors


_BOUND_SYMBOLS = {"greater_than": ">", "greater_than_equal": "≥", "less_than": "<", "less_than_equal": "≤"}


@dataclass(frozen=True)
class _Step:
    """The schema type found at one location, with the field that declared it (None for list items)."""

    annotation: Any
    field: FieldInfo | None


def _walk_schema(loc: tuple[str | int, ...]) -> tuple[Location, list[_Step]]:
    """Drop discriminator tags from pydantic's ``loc``; return it with the schema type at each prefix.

    ``steps[i]`` describes ``location[:i]``, so ``steps[-1]`` is the erroneous value, ``steps[-2]`` its
    parent.
    """
    location: list[str | int] = []
    steps = [_Step(Scenario, None)]
    for part in loc:
        step = steps[-1]
        annotation = _unwrap_optional(step.annotation)
        tagged = _tagged_member(annotation, step.field, part)
        if tagged is not None:  # pydantic's loc names the chosen union member; the data has no such key
            steps[-1] = _Step(tagged, step.field)
            continue
        location.append(part)
        if _is_model(annotation) and isinstance(part, str):
            field = _field_named(annotation, part)
            steps.append(_Step(field.annotation if field else None, field))
        elif get_origin(annotation) in (tuple, list) and isinstance(part, int):
            steps.append(_Step(get_args(annotation)[0], None))
        else:
            steps.append(_Step(None, None))
    return tuple(location), steps


def _unwrap_optional(annotation: Any) -> Any:
    if _is_union(annotation):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(members) == 1:
            return members[0]
    return annotation


def _is_union(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType)


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _field_named(model: type[BaseModel], key: str) -> FieldInfo | None:
    for name, field in model.model_fields.items():
        if key in (name, field.alias):
            return field
    return None


def _keys_of(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def _union_tags(annotation: Any, field: FieldInfo | None) -> dict[str, type[BaseModel]]:
    """Tag → member of a discriminated union (empty when ``annotation`` is not one)."""
    discriminator = field.discriminator if field is not None else None
    if not _is_union(annotation) or not isinstance(discriminator, str):
        return {}
    tags: dict[str, type[BaseModel]] = {}
    for member in get_args(annotation):
        tag_field = member.model_fields.get(discriminator) if _is_model(member) else None
        if tag_field is not None and get_origin(tag_field.annotation) is Literal:
            tags.update(dict.fromkeys(get_args(tag_field.annotation), member))
    return tags


def _tagged_member(annotation: Any, field: FieldInfo | None, part: str | int) -> type[BaseModel] | None:
    return _union_tags(annotation, field).get(part) if isinstance(part, str) else None


def is_echo_of_item_errors(detail: ErrorDetails) -> bool:
    """pydantic adds "too short" to a list whose items all failed; the item errors already say it all."""
    if detail["type"] != "too_short":
        return False
    given = detail["input"]
    minimum = detail.get("ctx", {}).get("min_length", 0)
    return isinstance(given, list | tuple) and len(given) >= minimum


def explain_validation_error(
    detail: ErrorDetails, data: dict[str, Any], origins: dict[Location, Origin]
) -> Problem:
    """One pydantic error as a :class:`Problem` at the line that set the value (or its parent)."""
    location, steps = _walk_schema(tuple(detail["loc"]))
    message = _explain(detail, location, steps)
    return Problem(nearest_origin(location, origins), field_text(location, data), message)


def _explain(detail: ErrorDetails, location: Location, steps: list[_Step]) -> str:
    kind = detail["type"]
    ctx = detail.get("ctx", {})
    given = detail["input"]
    target = steps[-1]
    annotation = _unwrap_optional(target.annotation)
    allowed = _allowed(target)

    def said(
        problem: str, show_given: bool = True, allowed_text: str | None = allowed, hint: str = ""
    ) -> str:
        text = f"{problem} (got {show(given)})" if show_given else problem
        text += hint
        return f"{text}; allowed: {allowed_text}" if allowed_text else text

    if kind == "missing":
        description = _first_sentence(target.field.description) if target.field else ""
        if description and allowed and description in allowed:
            description = ""
        return said(f"required field is missing{f' ({description})' if description else ''}", False)
    if kind == "extra_forbidden":
        key = str(location[-1]) if location else ""
        parent = _unwrap_optional(steps[-2].annotation) if len(steps) > 1 else None
        keys = _keys_of(parent) if _is_model(parent) else []
        problem = f"unknown key '{key}'{_guess(key, keys)}"
        if key == "remove" and _is_model(parent) and issubclass(parent, Named):
            problem += " ('remove: true' removes a base item only in a file that extends another)"
        return said(problem, False, ", ".join(keys) or None)
    if kind in _BOUND_SYMBOLS:
        symbol = _BOUND_SYMBOLS[kind]
        bound = next(iter(ctx.values()), None)
        return said(
            f"out of range: must be {symbol} {_number(bound)}",
            True,
            allowed or f"value {symbol} {_number(bound)}",
        )
    if kind in ("float_type", "float_parsing", "finite_number", "int_type", "int_parsing", "int_from_float"):
        whole = kind.startswith("int")
        return said(f"wrong type: expected {'a whole number' if whole else 'a number'}")
    if kind in ("bool_type", "bool_parsing"):
        return said("wrong type: expected true or false")
    if kind == "string_type":
        return said("wrong type: expected text")
    if kind == "string_pattern_mismatch":
        return said("not in the required form")
    if kind in ("string_too_short", "string_too_long"):
        return said("text too short" if kind == "string_too_short" else "text too long")
    if kind == "literal_error":
        choices = (
            [str(choice) for choice in get_args(annotation)] if get_origin(annotation) is Literal else []
        )
        return said("not one of the choices", hint=_guess(str(given), choices))
    if kind == "union_tag_invalid":
        tags = list(_union_tags(annotation, target.field)) or [ctx.get("expected_tags", "")]
        tag = str(ctx.get("tag", ""))
        return said(f"unknown distribution dist: '{tag}'{_guess(tag, tags)}", False, ", ".join(tags))
    if kind == "union_tag_not_found":
        tags = list(_union_tags(annotation, target.field))
        return said("a distribution needs a 'dist' key naming its kind", False, "dist: " + " | ".join(tags))
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return said("wrong type: expected a mapping")
    if kind in ("tuple_type", "list_type", "iterable_type"):
        return said("wrong type: expected a list")
    if kind in ("too_short", "too_long"):
        return said(f"{'too few' if kind == 'too_short' else 'too many'} items")
    if kind in ("value_error", "assertion_error"):
        return detail["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return said(detail["msg"])


def _allowed(step: _Step) -> str | None:
    """What the schema accepts at ``step``, in words (None when there is nothing useful to say)."""
    annotation = _unwrap_optional(step.annotation)
    field = step.field
    if annotation in (int, float):
        kind = "a whole number" if annotation is int else "a number"
        bounds = _bounds_text(field) if field else ""
        return f"{kind} with {bounds}" if bounds else kind
    if get_origin(annotation) is Literal:
        return ", ".join(str(choice) for choice in get_args(annotation))
    if annotation is str:
        return _text_rule(field)
    if _is_model(annotation):
        return "a mapping with keys " + ", ".join(_keys_of(annotation))
    tags = _union_tags(annotation, field)
    if tags:
        return "a distribution, dist: " + " | ".join(tags)
    if get_origin(annotation) in (tuple, list):
        limits = _constraints(field) if field else {}
        item = get_args(annotation)[0]
        what = f"a list of {item.__name__.lower()} mappings" if _is_model(item) else "a list"
        if "min_length" in limits and "max_length" in limits:
            return f"{what} with {limits['min_length']} to {limits['max_length']} items"
        if "max_length" in limits:
            return f"{what} of at most {limits['max_length']} items"
        return what
    return None


def _constraints(field: FieldInfo) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in field.metadata:
        for name in ("gt", "ge", "lt", "le", "min_length", "max_length", "pattern"):
            value = getattr(item, name, None)
            if value is not None:
                found[name] = value
    return found


def _bounds_text(field: FieldInfo) -> str:
    limits = _constraints(field)
    lower = (
        f"{_number(limits['gt'])} < "
        if "gt" in limits
        else f"{_number(limits['ge'])} ≤ "
        if "ge" in limits
        else ""
    )
    upper = (
        f" < {_number(limits['lt'])}"
        if "lt" in limits
        else f" ≤ {_number(limits['le'])}"
        if "le" in limits
        else ""
    )
    return f"{lower}value{upper}" if lower or upper else ""


def _text_rule(field: FieldInfo | None) -> str | None:
    if field is None:
        return None
    limits = _constraints(field)
    if "pattern" in limits:
        description = _first_sentence(field.description)
        return (
            f"{description} (pattern {limits['pattern']})" if description else f"pattern {limits['pattern']}"
        )
    low, high = limits.get("min_length"), limits.get("max_length")
    if low is not None and high is not None:
        return f"text of {low} to {high} characters"
    if high is not None:
        return f"text of at most {high} characters"
    return None


def _first_sentence(text: str | None) -> str:
    if not text:
        return ""
    first = " ".join(text.split()).split(". ")[0]
    return first.rstrip(".")


def _guess(word: str, choices: list[str]) -> str:
    matches = difflib.get_close_matches(word, choices, n=1)
    return f" — did you mean '{matches[0]}'?" if matches else ""


def nearest_origin(location: Location, origins: dict[Location, Origin]) -> Origin:
    """Origin of the deepest prefix of ``location`` present in the data (a missing field: its parent)."""
    for length in range(len(location), -1, -1):
        origin = origins.get(location[:length])
        if origin is not None:
            return origin
    raise AssertionError("the root of the data always has an origin")  # pragma: no cover


def field_text(location: Location, data: Any) -> str:
    """``sources[douyin].spend_per_day``: list items named by their id when they have one."""
    text = ""
    node = data
    for part in location:
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            item_id = item.get("id") if isinstance(item, dict) else None
            text += f"[{item_id if isinstance(item_id, str) and item_id else part}]"
            node = item
        else:
            name = part if re.fullmatch(r"[A-Za-z0-9_]+", part) else repr(part)
            text += f".{name}" if text else name
            node = node.get(part) if isinstance(node, dict) else None
    return text or "(top level)"


def report(problems: list[Problem], files: tuple[Path, ...]) -> str:
    """The whole error message: each problem once, in ``extends``-chain order (``files``) then line order."""
    order = {file: index for index, file in enumerate(files)}
    unique = list(
        dict.fromkeys(
            str(problem)
            for problem in sorted(
                problems, key=lambda p: (order.get(p.origin.file, len(order)), p.origin.line)
            )
        )
    )
    count = f"{len(unique)} problem{'s' if len(unique) != 1 else ''}"
    return f"{files[0]}: invalid scenario ({count}):\n" + "\n".join(unique)


# ---------------------------------------------------------------------------------------------------------
# Showing values


def show(value: Any) -> str:
    """A short, YAML-flavoured rendering of a value for an error message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, set | frozenset):
        return "a set"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return str(value)
