"""Read a scenario file: YAML with line numbers, ``extends:`` inheritance, one error listing every problem.

A variant file names one base with a top-level ``extends: base.yaml`` (a path relative to the variant) and
states only what differs. The base is loaded (recursively: it may extend another file) and the variant is
deep-merged onto it:

- mappings merge key by key;
- a list whose items are all mappings with an ``id`` (sources, lures, paths, carriers, products) merges by
  id: an item with an id the base has merges onto that base item, an item with a new id is appended in
  order, and ``{id: x, remove: true}`` removes base item ``x``;
- a distribution that names a different ``dist`` replaces the base distribution whole;
- every other list, and every scalar, replaces the base value (an empty list clears the base list).

Every value remembers the file and line that set it, so an error in a merged scenario points at the line
to edit. Shape errors come from pydantic (:mod:`engine.scenario.schema`) and cross-reference errors from
:mod:`engine.scenario.references`; each is written as ``FILE:LINE: FIELD.PATH: problem (got VALUE);
allowed: ...`` and all of them are raised together as one :class:`~engine.errors.ScenarioError`.
"""

from __future__ import annotations

import datetime
import difflib
import io
import os
import re
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.comments import TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.representer import RoundTripRepresenter

from engine.errors import ScenarioError
from engine.scenario.references import check_references
from engine.scenario.schema import Named, Scenario

Location = tuple[str | int, ...]
"""A place in the merged data: mapping keys and list indices from the top."""

MAX_VALUES = 100_000
"""Values a file may hold once aliases are expanded (guards against alias bombs)."""


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario and where it came from."""

    scenario: Scenario
    """The validated scenario."""
    path: Path
    """The file that was loaded."""
    files: tuple[Path, ...]
    """The ``extends`` chain: the file itself first, then its base, the base's base, ..."""
    data: dict[str, Any]
    """The merged plain data (without ``extends``) that was validated."""


@dataclass(frozen=True)
class _Origin:
    file: Path
    line: int
    """1-based line number."""


@dataclass(frozen=True)
class _Node:
    """A YAML value with the place that set it; ``value`` is a dict or list of nodes, or a plain scalar."""

    value: Any
    origin: _Origin


@dataclass(frozen=True)
class _Problem:
    origin: _Origin
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.origin.file}:{self.origin.line}: {self.field}: {self.message}"


def load_scenario(path: str | os.PathLike[str]) -> LoadedScenario:
    """Read, merge (``extends``) and validate a scenario file.

    Args:
        path: the scenario YAML file.

    Returns:
        The validated scenario, its ``extends`` chain and the merged data.

    Raises:
        ScenarioError: the file cannot be read or parsed, or it is invalid; the message lists every
            problem found, each with its file and line.
    """
    path = Path(path)
    problems: list[_Problem] = []
    root, files = _load_tree(path, (), problems)
    origins: dict[Location, _Origin] = {}
    data = _flatten(root, (), origins)
    scenario: Scenario | None = None
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        for detail in error.errors(include_url=False):
            if not _is_echo_of_item_errors(detail):
                problems.append(_explain_validation_error(detail, data, origins))
    else:
        for location, message in check_references(scenario):
            problems.append(
                _Problem(_nearest_origin(location, origins), _field_text(location, data), message)
            )
    if problems or scenario is None:
        raise ScenarioError(_report(problems, files))
    return LoadedScenario(scenario=scenario, path=path, files=files, data=data)


def resolved_yaml(scenario: Scenario) -> str:
    """The scenario with every default filled in, as block-style YAML in schema order.

    Loading the text back gives a scenario equal to ``scenario``.
    """
    yaml = YAML(typ="rt")
    yaml.Representer = _ExplicitNullRepresenter
    yaml.default_flow_style = False
    yaml.width = 4096
    stream = io.StringIO()
    yaml.dump(scenario.model_dump(mode="json", by_alias=True), stream)
    return stream.getvalue()


class _ExplicitNullRepresenter(RoundTripRepresenter):
    """Writes ``null`` rather than an empty value, so a resolved file says "none" in so many words."""


_ExplicitNullRepresenter.add_representer(
    type(None), lambda representer, _: representer.represent_scalar("tag:yaml.org,2002:null", "null")
)


# ---------------------------------------------------------------------------------------------------------
# Reading files and following ``extends``


def _load_tree(
    path: Path, chain: tuple[Path, ...], problems: list[_Problem]
) -> tuple[_Node, tuple[Path, ...]]:
    """Load ``path`` and, recursively, its base; return the merged tree and the files read (path first)."""
    raw = _parse_yaml(_read_text(path), path)
    if raw is None:
        raise ScenarioError(
            f"{path}: the file is empty (or only comments); "
            "a scenario needs at least meta, sources and products"
        )
    if not isinstance(raw, dict):
        line = _start_line(raw)
        raise ScenarioError(
            f"{path}:{line}: the top level must be a mapping of sections (meta, horizon, sources, ...), "
            f"got {_show(raw)}"
        )
    located = _Locator(path).node(raw, _Origin(path, _start_line(raw)))
    sections = dict(located.value)
    extends = sections.pop("extends", None)
    root = _Node(sections, located.origin)
    if extends is None:
        return root, (path,)

    where = f"{path}:{extends.origin.line}: extends"
    if not isinstance(extends.value, str) or not extends.value.strip():
        raise ScenarioError(
            f"{where}: must name one base file, e.g. 'extends: base.yaml' (got {_show(extends.value)})"
        )
    base_path = Path(os.path.normpath(path.parent / extends.value))
    visited = (*chain, path)
    if any(_same_file(base_path, seen) for seen in visited):
        cycle = " → ".join(str(p) for p in (*visited, base_path))
        raise ScenarioError(
            f"{where}: cycle {cycle}; a file cannot extend itself, directly or through others"
        )
    if not base_path.exists():
        raise ScenarioError(
            f"{where}: base file '{extends.value}' not found (looked for {base_path}; "
            "the path is relative to the file that extends it)"
        )
    base, base_files = _load_tree(base_path, visited, problems)
    return _merge(base, root, "", problems), (path, *base_files)


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ScenarioError(f"{path}: is a directory, not a scenario file") from None
    except PermissionError:
        raise ScenarioError(f"{path}: cannot be read (permission denied)") from None
    except OSError as error:
        raise ScenarioError(f"{path}: cannot be read ({error.strerror or error})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise ScenarioError(
            f"{path}:{line}: not UTF-8 text (byte 0x{raw[error.start]:02x}); save the file as UTF-8"
        ) from None


def _parse_yaml(text: str, path: Path) -> Any:
    try:
        return YAML(typ="rt").load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        column = f" (column {mark.column + 1})" if mark is not None else ""
        problem = error.problem or error.context or "invalid YAML"
        context = ""
        if error.context and error.problem and error.context_mark is not None:
            context = f", {error.context} at line {error.context_mark.line + 1}"
        raise ScenarioError(f"{where}: YAML syntax error{column}: {problem}{context}") from None
    except YAMLError as error:  # e.g. a control character the YAML reader refuses
        position = getattr(error, "position", None)
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else None
        where = f"{path}:{line}" if line is not None else str(path)
        reason = (str(error).splitlines() or [type(error).__name__])[0]
        raise ScenarioError(f"{where}: YAML syntax error: {reason}") from None
    except RecursionError:
        raise ScenarioError(f"{path}: YAML nested too deeply to read") from None
    except Exception as error:  # the parser's own failures on malformed input are still malformed input
        raise ScenarioError(f"{path}: not valid YAML ({type(error).__name__}: {error})") from None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def _start_line(value: Any) -> int:
    lc = getattr(value, "lc", None)
    return lc.line + 1 if lc is not None and lc.line is not None else 1


class _Locator:
    """Turns ruamel's round-trip objects into plain nodes that carry their file and line."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.count = 0

    def node(self, value: Any, origin: _Origin) -> _Node:
        self.count += 1
        if self.count > MAX_VALUES:
            raise ScenarioError(f"{self.file}: more than {MAX_VALUES:,} values once aliases are expanded")
        if isinstance(value, dict | list):
            return _Node(self._children(value, origin), origin)
        return _Node(_plain_scalar(value), origin)

    def _children(self, value: dict[Any, Any] | list[Any], origin: _Origin) -> dict[str, _Node] | list[_Node]:
        lc = getattr(value, "lc", None)
        if isinstance(value, dict):
            children: dict[str, _Node] = {}
            for key, child in value.items():
                children[_key_text(key)] = self.node(
                    child, _Origin(self.file, _line_of(lc, "key", key, origin))
                )
            return children
        return [
            self.node(child, _Origin(self.file, _line_of(lc, "item", i, origin)))
            for i, child in enumerate(value)
        ]


def _line_of(lc: Any, kind: str, key: Any, parent: _Origin) -> int:
    """1-based line of a mapping key or list item, or the parent's line when ruamel does not know it."""
    try:
        return int(getattr(lc, kind)(key)[0]) + 1
    except (AttributeError, KeyError, IndexError, TypeError):  # merged (<<) keys have no position
        return parent.line


def _key_text(key: Any) -> str:
    """Mapping keys as text: YAML allows numbers, nulls and even lists as keys; the schema has names only."""
    if isinstance(key, str):
        return str(key)
    if key is None or isinstance(key, bool | int | float):
        return _show(_plain_scalar(key))
    return str(key)


def _plain_scalar(value: Any) -> Any:
    """ruamel's scalar subclasses (ScalarFloat, ScalarInt, ...) as plain Python values."""
    if isinstance(value, TaggedScalar):
        return str(value.value)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value


# ---------------------------------------------------------------------------------------------------------
# Merging a variant onto its base


def _merge(base: _Node, variant: _Node, field: str, problems: list[_Problem]) -> _Node:
    if isinstance(base.value, dict) and isinstance(variant.value, dict) and not _changes_kind(base, variant):
        merged = dict(base.value)
        for key, child in variant.value.items():
            child_field = f"{field}.{key}" if field else key
            merged[key] = _merge(merged[key], child, child_field, problems) if key in merged else child
        return _Node(merged, variant.origin)
    if (
        isinstance(base.value, list)
        and isinstance(variant.value, list)
        and variant.value
        and _has_ids(base.value)
        and _has_ids(variant.value)
    ):
        return _Node(_merge_by_id(base.value, variant.value, field, problems), variant.origin)
    return variant


def _changes_kind(base: _Node, variant: _Node) -> bool:
    """A distribution whose ``dist`` changes is a new value: its parameters do not mix with the old ones."""
    new_kind = variant.value.get("dist")
    old_kind = base.value.get("dist")
    return new_kind is not None and (old_kind is None or new_kind.value != old_kind.value)


def _has_ids(items: list[_Node]) -> bool:
    return all(isinstance(item.value, dict) and isinstance(_id_of(item), str) for item in items)


def _id_of(item: _Node) -> Any:
    node = item.value.get("id")
    return node.value if node is not None else None


def _merge_by_id(
    base: list[_Node], variant: list[_Node], field: str, problems: list[_Problem]
) -> list[_Node]:
    merged = list(base)
    removed: set[str] = set()
    position: dict[str, int] = {}
    for index, item in enumerate(base):
        position.setdefault(_id_of(item), index)
    seen: dict[str, _Node] = {}
    for item in variant:
        item_id = _id_of(item)
        item_field = f"{field}[{item_id}]"
        if item_id in seen:
            problems.append(
                _Problem(
                    item.origin,
                    item_field,
                    f"id '{item_id}' appears twice in this list (first at line {seen[item_id].origin.line}); "
                    "a variant names each item once",
                )
            )
            continue
        seen[item_id] = item
        remove = item.value.get("remove")
        if remove is not None:
            if remove.value is not True or set(item.value) != {"id", "remove"}:
                problems.append(
                    _Problem(
                        remove.origin,
                        f"{item_field}.remove",
                        f"to remove a base item write only {{id: {item_id}, remove: true}} "
                        f"(got remove: {_show(remove.value)} with keys {', '.join(item.value)})",
                    )
                )
            elif item_id in position:
                removed.add(item_id)
            else:
                defined = ", ".join(str(_id_of(b)) for b in base)
                problems.append(
                    _Problem(
                        item.origin,
                        item_field,
                        f"cannot remove '{item_id}': the base defines no such item; base ids: {defined}",
                    )
                )
            continue
        if item_id in position:
            merged[position[item_id]] = _merge(merged[position[item_id]], item, item_field, problems)
        else:
            merged.append(item)
    return [item for item in merged if _id_of(item) not in removed]


def _flatten(node: _Node, location: Location, origins: dict[Location, _Origin]) -> Any:
    """The node's plain value; records the origin of every location on the way."""
    origins[location] = node.origin
    if isinstance(node.value, dict):
        return {key: _flatten(child, (*location, key), origins) for key, child in node.value.items()}
    if isinstance(node.value, list):
        return [_flatten(child, (*location, index), origins) for index, child in enumerate(node.value)]
    return node.value


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


def _is_echo_of_item_errors(detail: ErrorDetails) -> bool:
    """pydantic adds "too short" to a list whose items all failed; the item errors already say it all."""
    if detail["type"] != "too_short":
        return False
    given = detail["input"]
    minimum = detail.get("ctx", {}).get("min_length", 0)
    return isinstance(given, list | tuple) and len(given) >= minimum


def _explain_validation_error(
    detail: ErrorDetails, data: dict[str, Any], origins: dict[Location, _Origin]
) -> _Problem:
    location, steps = _walk_schema(tuple(detail["loc"]))
    message = _explain(detail, location, steps)
    return _Problem(_nearest_origin(location, origins), _field_text(location, data), message)


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
        text = f"{problem} (got {_show(given)})" if show_given else problem
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


def _nearest_origin(location: Location, origins: dict[Location, _Origin]) -> _Origin:
    """Origin of the deepest prefix of ``location`` present in the data (a missing field: its parent)."""
    for length in range(len(location), -1, -1):
        origin = origins.get(location[:length])
        if origin is not None:
            return origin
    raise AssertionError("the root of the data always has an origin")  # pragma: no cover


def _field_text(location: Location, data: Any) -> str:
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


def _report(problems: list[_Problem], files: tuple[Path, ...]) -> str:
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


def _show(value: Any) -> str:
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
