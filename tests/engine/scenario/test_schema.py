"""The scenario schema's own promises: every field described, every number bounded, strict numbers."""

from __future__ import annotations

import inspect
import typing

import pytest
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

import engine.distributions as distributions
import engine.scenario.schema as schema
from engine.scenario.schema import Scenario


def _models() -> list[type[BaseModel]]:
    found = []
    for module in (schema, distributions):
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseModel) and obj.__module__ == module.__name__ and obj.model_fields:
                found.append(obj)
    return found


MODELS = _models()
FIELDS = [(model, name, info) for model in MODELS for name, info in model.model_fields.items()]


def _bounds(info: FieldInfo) -> tuple[bool, bool]:
    lower = upper = False
    for item in info.metadata:
        lower |= getattr(item, "ge", None) is not None or getattr(item, "gt", None) is not None
        upper |= getattr(item, "le", None) is not None or getattr(item, "lt", None) is not None
    return lower, upper


def _is_number(annotation: object) -> bool:
    return annotation in (int, float) or (
        typing.get_origin(annotation) is typing.Union and set(typing.get_args(annotation)) <= {int, float}
    )


def test_the_schema_has_models_and_fields() -> None:
    assert len(MODELS) >= 15
    assert len(FIELDS) >= 80


@pytest.mark.parametrize(("model", "name", "info"), FIELDS, ids=[f"{m.__name__}.{n}" for m, n, _ in FIELDS])
def test_every_field_has_a_description(model: type[BaseModel], name: str, info: FieldInfo) -> None:
    assert info.description, f"{model.__name__}.{name} has no docstring"


NUMBER_FIELDS = [(m, n, i) for m, n, i in FIELDS if _is_number(i.annotation)]


@pytest.mark.parametrize(
    ("model", "name", "info"), NUMBER_FIELDS, ids=[f"{m.__name__}.{n}" for m, n, _ in NUMBER_FIELDS]
)
def test_every_number_is_bounded_and_strict(model: type[BaseModel], name: str, info: FieldInfo) -> None:
    assert _bounds(info) == (True, True), f"{model.__name__}.{name} lacks a lower or upper bound"
    assert any(getattr(item, "strict", False) for item in info.metadata), (
        f"{model.__name__}.{name} not strict"
    )


def test_json_schema_describes_every_property() -> None:
    document = Scenario.model_json_schema(by_alias=True)
    missing = [
        f"{definition}.{prop}"
        for definition, body in document["$defs"].items()
        for prop, spec in body.get("properties", {}).items()
        if "description" not in spec
    ]
    assert not missing


@pytest.mark.parametrize("bad", [True, "5", [1]])
def test_numbers_are_not_coerced_from_other_types(bad: object) -> None:
    with pytest.raises(ValidationError, match="valid number"):
        Scenario.model_validate(
            {"meta": {"name": "x"}, "sources": [{"id": "a", "spend_per_day": bad}], "products": [{"id": "p"}]}
        )


def test_scenarios_are_frozen() -> None:
    scenario = Scenario.model_validate(
        {"meta": {"name": "x"}, "sources": [{"id": "a"}], "products": [{"id": "p"}]}
    )
    with pytest.raises(ValidationError):
        scenario.meta.name = "y"  # type: ignore[misc]
