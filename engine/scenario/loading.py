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
:mod:`engine.scenario.references`; :mod:`engine.scenario.explain` words each as ``FILE:LINE: FIELD.PATH:
problem (got VALUE); allowed: ...`` and all of them are raised together as one
:class:`~engine.errors.ScenarioError`.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.representer import RoundTripRepresenter

from engine.errors import ScenarioError
from engine.scenario.explain import (
    Location,
    Origin,
    Problem,
    explain_validation_error,
    field_text,
    is_echo_of_item_errors,
    nearest_origin,
    report,
    show,
)
from engine.scenario.limits import limit_warnings
from engine.scenario.references import check_references
from engine.scenario.schema import Scenario

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
    warnings: tuple[str, ...] = ()
    """Things that are allowed but probably not meant (campaigns over a platform's limits)."""


@dataclass(frozen=True)
class _Node:
    """A YAML value with the place that set it; ``value`` is a dict or list of nodes, or a plain scalar."""

    value: Any
    origin: Origin


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
    problems: list[Problem] = []
    root, files = _load_tree(path, (), problems)
    origins: dict[Location, Origin] = {}
    data = _flatten(root, (), origins)
    scenario: Scenario | None = None
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        for detail in error.errors(include_url=False):
            if not is_echo_of_item_errors(detail):
                problems.append(explain_validation_error(detail, data, origins))
    else:
        for location, message in check_references(scenario):
            problems.append(Problem(nearest_origin(location, origins), field_text(location, data), message))
    if problems or scenario is None:
        raise ScenarioError(report(problems, files))
    warnings = tuple(f"{path}: warning: {text}" for text in limit_warnings(scenario))
    return LoadedScenario(scenario=scenario, path=path, files=files, data=data, warnings=warnings)


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
    path: Path, chain: tuple[Path, ...], problems: list[Problem]
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
            f"got {show(raw)}"
        )
    located = _Locator(path).node(raw, Origin(path, _start_line(raw)))
    sections = dict(located.value)
    extends = sections.pop("extends", None)
    root = _Node(sections, located.origin)
    if extends is None:
        return root, (path,)

    where = f"{path}:{extends.origin.line}: extends"
    if not isinstance(extends.value, str) or not extends.value.strip():
        raise ScenarioError(
            f"{where}: must name one base file, e.g. 'extends: base.yaml' (got {show(extends.value)})"
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

    def node(self, value: Any, origin: Origin) -> _Node:
        self.count += 1
        if self.count > MAX_VALUES:
            raise ScenarioError(f"{self.file}: more than {MAX_VALUES:,} values once aliases are expanded")
        if isinstance(value, dict | list):
            return _Node(self._children(value, origin), origin)
        return _Node(_plain_scalar(value), origin)

    def _children(self, value: dict[Any, Any] | list[Any], origin: Origin) -> dict[str, _Node] | list[_Node]:
        lc = getattr(value, "lc", None)
        if isinstance(value, dict):
            children: dict[str, _Node] = {}
            for key, child in value.items():
                children[_key_text(key)] = self.node(
                    child, Origin(self.file, _line_of(lc, "key", key, origin))
                )
            return children
        return [
            self.node(child, Origin(self.file, _line_of(lc, "item", i, origin)))
            for i, child in enumerate(value)
        ]


def _line_of(lc: Any, kind: str, key: Any, parent: Origin) -> int:
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
        return show(_plain_scalar(key))
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


def _merge(base: _Node, variant: _Node, field: str, problems: list[Problem]) -> _Node:
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


def _merge_by_id(base: list[_Node], variant: list[_Node], field: str, problems: list[Problem]) -> list[_Node]:
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
                Problem(
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
                    Problem(
                        remove.origin,
                        f"{item_field}.remove",
                        f"to remove a base item write only {{id: {item_id}, remove: true}} "
                        f"(got remove: {show(remove.value)} with keys {', '.join(item.value)})",
                    )
                )
            elif item_id in position:
                removed.add(item_id)
            else:
                defined = ", ".join(str(_id_of(b)) for b in base)
                problems.append(
                    Problem(
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


def _flatten(node: _Node, location: Location, origins: dict[Location, Origin]) -> Any:
    """The node's plain value; records the origin of every location on the way."""
    origins[location] = node.origin
    if isinstance(node.value, dict):
        return {key: _flatten(child, (*location, key), origins) for key, child in node.value.items()}
    if isinstance(node.value, list):
        return [_flatten(child, (*location, index), origins) for index, child in enumerate(node.value)]
    return node.value
