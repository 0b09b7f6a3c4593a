"""Loading scenario files: YAML, ``extends`` merging, line numbers and the wording of every error."""

from __future__ import annotations

import dataclasses
import os
import re
import textwrap
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from engine.errors import ScenarioError
from engine.scenario import LoadedScenario, Scenario, load_scenario, resolved_yaml

BASE_YAML = """\
meta:
  name: Base plan
  description: Two sources, one path onto WeCom.
sources:
  - id: douyin
    kind: social
    spend_per_day: 100
    lure: coupon
    path: wecom_add
  - id: store
    kind: offline
    take_rate: 0.2
lures:
  - id: coupon
    cost_per_taker: 5
paths:
  - id: wecom_add
    carrier: wecom
    steps:
      - {name: scan, pass_rate: 0.8}
      - {name: add, pass_rate: 0.9}
carriers:
  - id: wecom
    kind: wecom
  - id: group
    kind: group
products:
  - id: tea
    price: {dist: lognormal, mean: 80, sd: 20}
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def line_of(text: str, needle: str) -> int:
    """1-based number of the only line of ``text`` containing ``needle``."""
    lines = [number for number, line in enumerate(textwrap.dedent(text).splitlines(), 1) if needle in line]
    assert len(lines) == 1, f"{needle!r} is on lines {lines}"
    return lines[0]


def error_lines(path: Path) -> list[str]:
    """The problem lines of the ScenarioError that loading ``path`` raises (without the heading)."""
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return str(caught.value).splitlines()[1:]


# ---------------------------------------------------------------------------------------------------------
# Valid files


def test_minimal_scenario_loads(tmp_path: Path, minimal_scenario_yaml: str) -> None:
    path = write(tmp_path, "minimal.yaml", minimal_scenario_yaml)
    loaded = load_scenario(path)
    assert isinstance(loaded, LoadedScenario)
    assert loaded.scenario.meta.name == "Minimal"
    assert loaded.path == path
    assert loaded.files == (path,)
    assert loaded.data == {
        "meta": {"name": "Minimal"},
        "sources": [{"id": "douyin"}],
        "products": [{"id": "tea"}],
    }


def test_accepts_a_string_path_and_is_frozen(tmp_path: Path, minimal_scenario_yaml: str) -> None:
    path = write(tmp_path, "minimal.yaml", minimal_scenario_yaml)
    loaded = load_scenario(str(path))
    assert loaded.path == path
    with pytest.raises(dataclasses.FrozenInstanceError):
        loaded.path = tmp_path  # type: ignore[misc]


def test_data_is_plain_python(tmp_path: Path) -> None:
    loaded = load_scenario(write(tmp_path, "base.yaml", BASE_YAML))
    price = loaded.data["products"][0]["price"]
    assert type(loaded.data) is dict
    assert type(loaded.data["sources"]) is list
    assert type(price["mean"]) is int
    assert type(loaded.data["paths"][0]["steps"][0]["pass_rate"]) is float
    assert loaded.scenario.products[0].price.mean() == 80


# ---------------------------------------------------------------------------------------------------------
# Files that cannot be read


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"nothere\.yaml: no such file"):
        load_scenario(tmp_path / "nothere.yaml")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"is a directory, not a scenario file"):
        load_scenario(tmp_path)


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "secret.yaml", "meta: {name: x}\n")

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(ScenarioError, match=r"secret\.yaml: cannot be read \(permission denied\)"):
        load_scenario(path)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_for_real(tmp_path: Path, minimal_scenario_yaml: str) -> None:
    path = write(tmp_path, "secret.yaml", minimal_scenario_yaml)
    path.chmod(0)
    try:
        with pytest.raises(ScenarioError, match=r"permission denied"):
            load_scenario(path)
    finally:
        path.chmod(0o600)


@pytest.mark.parametrize("text", ["", "\n\n", "# only\n# comments\n", "---\n", "~\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, "empty.yaml", text)
    with pytest.raises(ScenarioError, match=r"empty\.yaml: the file is empty \(or only comments\)"):
        load_scenario(path)


@pytest.mark.parametrize(
    ("text", "got"), [("- a\n- b\n", "a list of 2 items"), ("just words\n", "'just words'"), ("42\n", "42")]
)
def test_top_level_not_a_mapping(tmp_path: Path, text: str, got: str) -> None:
    path = write(tmp_path, "list.yaml", text)
    with pytest.raises(ScenarioError, match=rf"list\.yaml:1: the top level must be a mapping .*got {got}"):
        load_scenario(path)


def test_yaml_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yaml", "meta:\n  name: x\n  bad: [1, 2\nsources: []\n")
    with pytest.raises(
        ScenarioError,
        match=r"broken\.yaml:4: YAML syntax error \(column 8\): expected ',' or ']'.*flow sequence at line 3",
    ):
        load_scenario(path)


def test_yaml_bad_indentation(tmp_path: Path) -> None:
    path = write(tmp_path, "tabs.yaml", "meta:\n\tname: x\n")
    with pytest.raises(ScenarioError, match=r"tabs\.yaml:2: YAML syntax error \(column 1\): .*'\\t'"):
        load_scenario(path)


def test_duplicate_key_is_a_yaml_error(tmp_path: Path) -> None:
    path = write(tmp_path, "dup.yaml", "meta:\n  name: x\nmeta:\n  name: y\n")
    with pytest.raises(ScenarioError, match=r"dup\.yaml:3: YAML syntax error .*duplicate key \"meta\""):
        load_scenario(path)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"meta:\n  name: caf\xe9\n")
    with pytest.raises(ScenarioError, match=r"latin\.yaml:2: not UTF-8 text \(byte 0xe9\)"):
        load_scenario(path)


def test_control_character(tmp_path: Path) -> None:
    path = tmp_path / "control.yaml"
    path.write_bytes(b"meta:\n  name: a\x01b\n")
    with pytest.raises(
        ScenarioError, match=r"control\.yaml:2: YAML syntax error: unacceptable character #x0001"
    ):
        load_scenario(path)


def test_alias_bomb_is_refused(tmp_path: Path) -> None:
    levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for previous, name in zip("abcdef", "bcdefg", strict=True):
        levels.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    path = write(tmp_path, "bomb.yaml", "\n".join(levels) + "\n")
    with pytest.raises(
        ScenarioError, match=r"bomb\.yaml: more than 100,000 values once aliases are expanded"
    ):
        load_scenario(path)


def test_bom_is_ignored(tmp_path: Path, minimal_scenario_yaml: str) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + minimal_scenario_yaml.encode())
    assert load_scenario(path).scenario.meta.name == "Minimal"


# ---------------------------------------------------------------------------------------------------------
# extends


def test_extends_merges_lists_by_id(tmp_path: Path) -> None:
    base = write(tmp_path, "base.yaml", BASE_YAML)
    variant = write(
        tmp_path,
        "variant.yaml",
        """\
        extends: base.yaml
        meta:
          name: More Douyin
        sources:
          - id: douyin
            spend_per_day: 300
          - id: bilibili
            kind: social
            spend_per_day: 50
        """,
    )
    loaded = load_scenario(variant)
    assert loaded.files == (variant, base)
    assert "extends" not in loaded.data
    sources = loaded.scenario.sources
    assert [source.id for source in sources] == ["douyin", "store", "bilibili"]
    assert sources[0].spend_per_day == 300
    assert (sources[0].kind, sources[0].lure, sources[0].path) == ("social", "coupon", "wecom_add")
    assert sources[1].take_rate == 0.2
    assert sources[2].spend_per_day == 50
    assert loaded.scenario.meta.name == "More Douyin"
    assert loaded.scenario.meta.description == "Two sources, one path onto WeCom."
    assert loaded.data["sources"][0] == {
        "id": "douyin",
        "kind": "social",
        "spend_per_day": 300,
        "lure": "coupon",
        "path": "wecom_add",
    }


def test_extends_replaces_lists_without_ids_and_scalars(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", BASE_YAML)
    variant = write(
        tmp_path,
        "variant.yaml",
        """\
        extends: base.yaml
        paths:
          - id: wecom_add
            steps:
              - {name: scan, pass_rate: 0.5}
        products:
          - id: tea
            price: {dist: fixed, value: 60}
        """,
    )
    scenario = load_scenario(variant).scenario
    assert [step.name for step in scenario.paths[0].steps] == ["scan"]
    assert scenario.paths[0].carrier == "wecom"
    assert scenario.products[0].price.mean() == 60


def test_extends_empty_list_clears_the_base_list(tmp_path: Path) -> None:
    write(
        tmp_path,
        "base.yaml",
        "meta: {name: b}\nsources: [{id: a}]\nproducts: [{id: p}]\ncarriers: [{id: c}]\n",
    )
    variant = write(tmp_path, "variant.yaml", "extends: base.yaml\ncarriers: []\n")
    assert load_scenario(variant).scenario.carriers == ()


def test_extends_remove(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", BASE_YAML)
    variant = write(
        tmp_path,
        "variant.yaml",
        """\
        extends: base.yaml
        sources:
          - {id: store, remove: true}
        carriers:
          - id: group
            remove: true
        """,
    )
    scenario = load_scenario(variant).scenario
    assert [source.id for source in scenario.sources] == ["douyin"]
    assert [carrier.id for carrier in scenario.carriers] == ["wecom"]


@pytest.mark.parametrize(
    ("variant_items", "message"),
    [
        pytest.param(
            "  - {id: tv, remove: true}\n",
            r"variant\.yaml:3: sources\[tv\]: cannot remove 'tv': the base defines no such item; "
            r"base ids: douyin, store",
            id="remove-unknown-id",
        ),
        pytest.param(
            "  - id: store\n    remove: true\n    kind: paid\n",
            r"variant\.yaml:4: sources\[store\]\.remove: to remove a base item write only",
            id="remove-with-other-keys",
        ),
        pytest.param(
            "  - {id: tv}\n  - {id: tv, spend_per_day: 1}\n",
            r"variant\.yaml:4: sources\[tv\]: id 'tv' appears twice .*line 3",
            id="same-id-twice",
        ),
    ],
)
def test_extends_bad_list_item_points_at_the_variant_line(
    tmp_path: Path, variant_items: str, message: str
) -> None:
    """A variant of BASE_YAML whose ``sources:`` list (from line 3) holds ``variant_items``."""
    write(tmp_path, "base.yaml", BASE_YAML)
    variant = write(tmp_path, "variant.yaml", "extends: base.yaml\nsources:\n" + variant_items)
    with pytest.raises(ScenarioError, match=message):
        load_scenario(variant)


def test_remove_without_extends_is_an_unknown_key(tmp_path: Path) -> None:
    path = write(
        tmp_path, "plain.yaml", "meta: {name: x}\nsources:\n  - {id: a, remove: true}\nproducts: [{id: p}]\n"
    )
    with pytest.raises(
        ScenarioError,
        match=r"plain\.yaml:3: sources\[a\]\.remove: unknown key 'remove' "
        r"\('remove: true' removes a base item only in a file that extends another\)",
    ):
        load_scenario(path)


def test_extends_chain_and_relative_paths(tmp_path: Path) -> None:
    base = write(tmp_path, "base.yaml", BASE_YAML)
    middle = write(tmp_path, "plans/middle.yaml", "extends: ../base.yaml\nhorizon:\n  discount_rate: 0.1\n")
    top = write(tmp_path, "plans/top/top.yaml", "extends: ../middle.yaml\nhorizon:\n  step_days: 1\n")
    loaded = load_scenario(top)
    assert loaded.files == (top, middle, base)
    assert (loaded.scenario.horizon.discount_rate, loaded.scenario.horizon.step_days) == (0.1, 1)


def test_extends_missing_target(tmp_path: Path) -> None:
    variant = write(tmp_path, "variant.yaml", "meta: {name: x}\nextends: nothere.yaml\n")
    with pytest.raises(
        ScenarioError,
        match=r"variant\.yaml:2: extends: base file 'nothere\.yaml' not found \(looked for .*nothere",
    ):
        load_scenario(variant)


def test_extends_cycle_names_the_chain(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "extends: b.yaml\nmeta: {name: a}\n")
    write(tmp_path, "b.yaml", "meta: {name: b}\nextends: ./a.yaml\n")
    with pytest.raises(
        ScenarioError, match=r"b\.yaml:2: extends: cycle \S*a\.yaml → \S*b\.yaml → \S*a\.yaml"
    ):
        load_scenario(tmp_path / "a.yaml")


def test_extends_itself(tmp_path: Path) -> None:
    path = write(tmp_path, "self.yaml", "extends: self.yaml\n")
    with pytest.raises(ScenarioError, match=r"self\.yaml:1: extends: cycle \S*self\.yaml → \S*self\.yaml"):
        load_scenario(path)


@pytest.mark.parametrize("value", ["", "[a.yaml, b.yaml]", "{file: a.yaml}", "3"])
def test_extends_must_name_one_file(tmp_path: Path, value: str) -> None:
    path = write(tmp_path, "variant.yaml", f"extends: {value}\n")
    with pytest.raises(ScenarioError, match=r"variant\.yaml:1: extends: must name one base file"):
        load_scenario(path)


def test_error_in_base_file_is_reported_with_the_base_file(tmp_path: Path) -> None:
    write(
        tmp_path,
        "base.yaml",
        "meta: {name: b}\nsources:\n  - id: a\n    spend_per_day: -1\nproducts: [{id: p}]\n",
    )
    variant = write(tmp_path, "variant.yaml", "extends: base.yaml\nmeta:\n  name: variant\n  currency: usd\n")
    assert error_lines(variant) == [
        f"{tmp_path / 'variant.yaml'}:4: meta.currency: not in the required form (got 'usd'); "
        "allowed: ISO 4217 currency code of every amount of money in the file (pattern ^[A-Z]{3}$)",
        f"{tmp_path / 'base.yaml'}:4: sources[a].spend_per_day: out of range: must be ≥ 0 (got -1); "
        "allowed: a number with 0 ≤ value ≤ 1000000000",
    ]


def test_value_overridden_by_variant_points_at_variant(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", BASE_YAML)
    variant_text = "extends: base.yaml\nsources:\n  - id: store\n    take_rate: 2\n"
    variant = write(tmp_path, "variant.yaml", variant_text)
    with pytest.raises(ScenarioError, match=rf"variant\.yaml:{line_of(variant_text, 'take_rate')}: "):
        load_scenario(variant)


# ---------------------------------------------------------------------------------------------------------
# Validation errors: where and what


BAD_YAML = """\
meta:
  nam: Bad plan
sources:
  - id: douyin
    spend_per_day: -3
    kind: socal
    visit_rate: lots
  - kind: paid
paths:
  - id: wecom_add
    carrier: wecom
    steps:
      - {name: scan, pass_rate: 0.8}
      - {name: add, pass_rate: 1.5}
behaviour:
  purchase_rate:
    dist: gamma
    shape: 0
  dropout: {dist: bta, a: 1, b: 2}
products:
  - id: tea
    price: {mean: 10, sd: 1}
"""


@pytest.fixture
def bad_errors(tmp_path: Path) -> list[str]:
    return error_lines(write(tmp_path, "bad.yaml", BAD_YAML))


def find(errors: list[str], field: str) -> str:
    matching = [error for error in errors if f": {field}: " in error]
    assert len(matching) == 1, f"{field} in {errors}"
    return matching[0]


def test_every_problem_is_reported_once(tmp_path: Path, bad_errors: list[str]) -> None:
    with pytest.raises(ScenarioError, match=r"bad\.yaml: invalid scenario \(11 problems\):\n"):
        load_scenario(write(tmp_path, "bad.yaml", BAD_YAML))
    assert len(bad_errors) == 11
    assert all(re.match(r"\S*bad\.yaml:\d+: \S+: ", error) for error in bad_errors)


def test_wrong_type(bad_errors: list[str]) -> None:
    error = find(bad_errors, "sources[douyin].visit_rate")
    assert error.endswith(
        f"bad.yaml:{line_of(BAD_YAML, 'visit_rate')}: sources[douyin].visit_rate: "
        "wrong type: expected a number (got 'lots'); allowed: a number with 0 ≤ value ≤ 1"
    )


def test_out_of_range_number(bad_errors: list[str]) -> None:
    error = find(bad_errors, "sources[douyin].spend_per_day")
    assert f"bad.yaml:{line_of(BAD_YAML, 'spend_per_day')}:" in error
    assert "out of range: must be ≥ 0 (got -3); allowed: a number with 0 ≤ value ≤ 1000000000" in error


def test_out_of_range_in_a_list_without_ids_uses_the_index(bad_errors: list[str]) -> None:
    error = find(bad_errors, "paths[wecom_add].steps[1].pass_rate")
    assert f"bad.yaml:{line_of(BAD_YAML, '1.5')}:" in error
    assert "must be ≤ 1 (got 1.5); allowed: a number with 0 < value ≤ 1" in error


def test_missing_required_field_points_at_the_parent(bad_errors: list[str]) -> None:
    error = find(bad_errors, "meta.name")
    assert f"bad.yaml:{line_of(BAD_YAML, 'meta:')}: meta.name: required field is missing (Short name" in error
    assert "allowed: text of 1 to 120 characters" in error
    error = find(bad_errors, "sources[1].id")
    assert f"bad.yaml:{line_of(BAD_YAML, 'kind: paid')}: sources[1].id: required field is missing" in error


def test_missing_top_level_section(tmp_path: Path) -> None:
    path = write(tmp_path, "noproducts.yaml", "# a comment\nmeta: {name: x}\nsources: [{id: a}]\n")
    with pytest.raises(
        ScenarioError,
        match=r"noproducts\.yaml:2: products: required field is missing \(Products customers buy\); "
        r"allowed: a list of product mappings with 1 to 200 items",
    ):
        load_scenario(path)


def test_unknown_key_suggests_and_lists_allowed_keys(bad_errors: list[str]) -> None:
    error = find(bad_errors, "meta.nam")
    assert error.endswith(
        f"bad.yaml:{line_of(BAD_YAML, 'nam:')}: meta.nam: unknown key 'nam' — did you mean 'name'?; "
        "allowed: name, description, currency"
    )


def test_unknown_key_in_a_distribution(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "typo.yaml",
        "meta: {name: x}\nsources: [{id: a}]\nproducts:\n"
        "  - id: p\n    price: {dist: gamma, shape: 2, rat: 1}\n",
    )
    with pytest.raises(
        ScenarioError,
        match=r"typo\.yaml:5: products\[p\]\.price\.rat: unknown key 'rat' — did you mean 'rate'\?; "
        r"allowed: dist, shape, rate",
    ):
        load_scenario(path)


def test_literal_lists_the_choices(bad_errors: list[str]) -> None:
    error = find(bad_errors, "sources[douyin].kind")
    assert error.endswith(
        "sources[douyin].kind: not one of the choices (got 'socal') — did you mean 'social'?; "
        "allowed: social, ecommerce, offline, paid, referral"
    )


def test_discriminator_tag_is_not_a_path_part(bad_errors: list[str]) -> None:
    assert not any("gamma" in error.split(": ")[1] for error in bad_errors)
    error = find(bad_errors, "behaviour.purchase_rate.shape")
    assert f"bad.yaml:{line_of(BAD_YAML, 'shape: 0')}:" in error
    assert "must be > 0 (got 0); allowed: a number with 0 < value ≤ 1000000" in error
    error = find(bad_errors, "behaviour.purchase_rate.rate")
    assert f"bad.yaml:{line_of(BAD_YAML, 'purchase_rate:')}:" in error


def test_wrong_dist_tag_lists_the_allowed_tags(bad_errors: list[str]) -> None:
    error = find(bad_errors, "behaviour.dropout")
    assert error.endswith(
        "unknown distribution dist: 'bta' — did you mean 'beta'?; allowed: fixed, beta, uniform"
    )


def test_missing_dist_tag(bad_errors: list[str]) -> None:
    error = find(bad_errors, "products[tea].price")
    assert f"bad.yaml:{line_of(BAD_YAML, 'price:')}:" in error
    assert error.endswith(
        "a distribution needs a 'dist' key naming its kind; "
        "allowed: dist: fixed | lognormal | gamma | uniform"
    )


def test_wrong_type_for_a_section(tmp_path: Path) -> None:
    path = write(
        tmp_path, "section.yaml", "meta: {name: x}\nsources: [{id: a}]\nproducts: [{id: p}]\nhorizon: 5\n"
    )
    with pytest.raises(
        ScenarioError,
        match=r"section\.yaml:4: horizon: wrong type: expected a mapping \(got 5\); "
        r"allowed: a mapping with keys acquisition_days, horizon_days, ",
    ):
        load_scenario(path)


def test_model_level_rule(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "horizon.yaml",
        "meta: {name: x}\nsources: [{id: a}]\nproducts: [{id: p}]\nhorizon:\n  horizon_days: 400\n",
    )
    with pytest.raises(
        ScenarioError,
        match=r"horizon\.yaml:4: horizon: horizon_days \(400\) must be at least acquisition_days \+ "
        r"clv_horizon_days \(365 \+ 365 = 730\)",
    ):
        load_scenario(path)


def test_invalid_items_do_not_also_say_the_list_is_too_short(tmp_path: Path) -> None:
    path = write(tmp_path, "one.yaml", "meta: {name: x}\nsources: [{id: Douyin}]\nproducts: [{id: p}]\n")
    errors = error_lines(path)
    assert len(errors) == 1
    assert (
        ": sources[Douyin].id: not in the required form (got 'Douyin'); allowed: Lower-case letters"
        in (errors[0])
    )


def test_empty_required_list(tmp_path: Path) -> None:
    path = write(tmp_path, "none.yaml", "meta: {name: x}\nsources: []\nproducts: [{id: p}]\n")
    with pytest.raises(
        ScenarioError,
        match=r"none\.yaml:2: sources: too few items \(got a list of 0 items\); "
        r"allowed: a list of source mappings with 1 to 200 items",
    ):
        load_scenario(path)


def test_reference_errors_point_at_the_line(tmp_path: Path) -> None:
    text = BASE_YAML.replace("carrier: wecom", "carrier: wecon")
    path = write(tmp_path, "refs.yaml", text)
    assert error_lines(path) == [
        f"{path}:{line_of(text, 'wecon')}: paths[wecom_add].carrier: path 'wecom_add' names carrier 'wecon', "
        "which is not defined; defined carriers: wecom, group — did you mean 'wecom'?"
    ]


def test_reference_errors_after_a_merge(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", BASE_YAML)
    variant_text = "extends: base.yaml\ncarriers:\n  - {id: wecom, remove: true}\n"
    variant = write(tmp_path, "variant.yaml", variant_text)
    [error] = error_lines(variant)
    assert error.startswith(f"{tmp_path / 'base.yaml'}:{line_of(BASE_YAML, 'carrier: wecom')}: ")
    assert error.endswith(
        "path 'wecom_add' names carrier 'wecom', which is not defined; defined carriers: group"
    )


# ---------------------------------------------------------------------------------------------------------
# resolved_yaml


def test_resolved_yaml_round_trips(tmp_path: Path) -> None:
    text = BASE_YAML.replace("name: Base plan", "name: 基础方案") + "    label: {zh: 茶, en: Tea}\n"
    scenario = load_scenario(write(tmp_path, "base.yaml", text)).scenario
    resolved = resolved_yaml(scenario)
    assert Scenario.model_validate(YAML(typ="safe").load(resolved)) == scenario
    again = load_scenario(write(tmp_path, "resolved.yaml", resolved)).scenario
    assert again == scenario


def test_resolved_yaml_fills_defaults_in_schema_order(tmp_path: Path, minimal_scenario_yaml: str) -> None:
    scenario = load_scenario(write(tmp_path, "minimal.yaml", minimal_scenario_yaml)).scenario
    resolved = resolved_yaml(scenario)
    data = YAML(typ="safe").load(resolved)
    assert list(data) == list(Scenario.model_fields)
    assert list(data["horizon"]) == [
        "acquisition_days",
        "horizon_days",
        "clv_horizon_days",
        "discount_rate",
        "step_days",
    ]
    assert data["products"][0]["price"] == {"dist": "lognormal", "mean": 100.0, "sd": 30.0}
    assert "  lure: null\n" in resolved
    assert not re.search(r"\{[^}]", resolved)  # block style throughout (only empty {} stay inline)
    assert Scenario.model_validate(data) == scenario
