"""``siyu validate`` and ``siyu schema``: clean messages, exit code 2 on bad input, never a traceback."""

from __future__ import annotations

import copy
import io
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from typer.testing import CliRunner

from engine import cli
from engine.cli import app
from engine.errors import ScenarioError

SIYU = Path(sys.executable).with_name("siyu")

VALID_SCENARIO: dict[str, Any] = {
    "meta": {"name": "Fuzz plan", "currency": "CNY"},
    "horizon": {"acquisition_days": 90, "horizon_days": 500, "clv_horizon_days": 365, "step_days": 7},
    "sources": [
        {
            "id": "douyin",
            "kind": "social",
            "spend_per_day": 100,
            "reach": {"max_paid_per_day": 500, "saturation_spend": 200},
            "take_rate": 0.1,
            "lure": "coupon",
            "path": "wecom_add",
        },
        {
            "id": "store",
            "kind": "offline",
            "reach": {"organic_per_day": 30},
            "first_purchase_probability": 0.3,
        },
    ],
    "lures": [{"id": "coupon", "take_rate_multiplier": 3, "cost_per_taker": 5}],
    "paths": [{"id": "wecom_add", "carrier": "wecom", "steps": [{"name": "scan", "pass_rate": 0.8}]}],
    "carriers": [
        {"id": "wecom", "kind": "wecom", "capacity_per_account": 20000},
        {"id": "group", "kind": "group"},
    ],
    "activation": {"window_days": 7, "second_carrier": "group", "second_carrier_rate": 0.2},
    "behaviour": {
        "purchase_rate": {"dist": "gamma", "shape": 1, "rate": 30},
        "dropout": {"dist": "beta", "a": 1, "b": 9},
    },
    "products": [{"id": "tea", "price": {"dist": "lognormal", "mean": 80, "sd": 20}, "unit_cost_share": 0.4}],
}


def dump_yaml(data: Any) -> str:
    stream = io.StringIO()
    yaml = YAML(typ="safe")
    yaml.default_flow_style = False
    yaml.dump(data, stream)
    return stream.getvalue()


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_validate_ok(tmp_path: Path, minimal_scenario_yaml: str) -> None:
    path = tmp_path / "minimal.yaml"
    path.write_text(minimal_scenario_yaml)
    result = invoke("validate", str(path))
    assert result.exit_code == 0
    assert result.stdout == f"ok {path} (Minimal)\n"
    assert result.stderr == ""


def test_validate_the_full_scenario(tmp_path: Path) -> None:
    path = tmp_path / "full.yaml"
    path.write_text(dump_yaml(VALID_SCENARIO))
    result = invoke("validate", str(path))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"ok {path} (Fuzz plan)\n"


def test_validate_reports_every_file(tmp_path: Path, minimal_scenario_yaml: str) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(minimal_scenario_yaml)
    bad = tmp_path / "bad.yaml"
    bad.write_text(minimal_scenario_yaml.replace("id: douyin", "id: douyin\n    spend_per_day: -1"))
    result = invoke("validate", str(bad), str(tmp_path / "missing.yaml"), str(good))
    assert result.exit_code == 2
    assert result.stdout == f"ok {good} (Minimal)\n"
    assert f"{bad}:5: sources[douyin].spend_per_day: out of range: must be ≥ 0 (got -1)" in result.stderr
    assert f"{tmp_path / 'missing.yaml'}: no such file" in result.stderr


def test_validate_needs_a_file() -> None:
    result = invoke("validate")
    assert result.exit_code == 2
    assert "Missing argument" in result.output


def test_unknown_command_is_a_usage_error() -> None:
    result = invoke("frobnicate")
    assert result.exit_code == 2
    assert "No such command 'frobnicate'." in result.output


def test_schema_prints_json_schema() -> None:
    result = invoke("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "Scenario"
    assert set(schema["required"]) == {"meta", "sources", "products"}
    assert "mean" in schema["$defs"]["LogNormal"]["properties"]


def test_main_turns_siyu_errors_into_exit_code_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fail() -> None:
        raise ScenarioError("scenario.yaml:3: something precise")

    monkeypatch.setattr(cli, "app", fail)
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 2
    assert capsys.readouterr().err == "scenario.yaml:3: something precise\n"


@pytest.mark.skipif(not SIYU.exists(), reason="the siyu script is not installed in this environment")
def test_real_command_never_shows_a_traceback(tmp_path: Path, minimal_scenario_yaml: str) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("meta: {name: x\n")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(bytes(range(256)))
    good = tmp_path / "good.yaml"
    good.write_text(minimal_scenario_yaml)
    completed = subprocess.run(
        [
            str(SIYU),
            "validate",
            str(broken),
            str(binary),
            str(tmp_path),
            str(tmp_path / "nope.yaml"),
            str(good),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stdout == f"ok {good} (Minimal)\n"
    assert "Traceback" not in completed.stderr
    assert f"{broken}:2: YAML syntax error" in completed.stderr
    assert f"{binary}:2: not UTF-8 text (byte 0x80)" in completed.stderr
    assert f"{tmp_path}: is a directory" in completed.stderr
    assert "nope.yaml: no such file" in completed.stderr

    usage = subprocess.run([str(SIYU), "validate"], capture_output=True, text=True, timeout=60, check=False)
    assert usage.returncode == 2
    assert "Traceback" not in usage.stderr


# ---------------------------------------------------------------------------------------------------------
# Fuzzing: whatever the file holds, validate answers with a message, never a traceback


def locations(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path and list index in ``data``."""
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found.extend(locations(value, (*prefix, key)))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found.extend(locations(value, (*prefix, index)))
    return found


def container(data: Any, location: tuple[Any, ...]) -> Any:
    for part in location[:-1]:
        data = data[part]
    return data


printable = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
odd_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    printable,
    st.lists(st.integers(), max_size=3),
    st.dictionaries(printable, st.integers(), max_size=2),
)
out_of_range = st.sampled_from([-1, -0.001, 1.5, 2, 1e10, 10**13, 1e308, float("inf"), float("nan")])
yaml_noise = st.lists(
    st.sampled_from([*":-[]{},&*!|>'\"%@`#? \n\t", "meta", "sources", "id", "name", "extends", "dist", "1"]),
    max_size=60,
).map("".join)


@st.composite
def mutated_scenario(draw: st.DrawFn) -> bytes:
    data = copy.deepcopy(VALID_SCENARIO)
    for _ in range(draw(st.integers(1, 3))):
        location = draw(st.sampled_from(locations(data)[1:]))
        parent = container(data, location)
        key = location[-1]
        action = draw(st.sampled_from(["delete", "wrong value", "out of range", "unknown key"]))
        if action == "delete":
            del parent[key]
        elif action == "wrong value":
            parent[key] = draw(odd_values)
        elif action == "out of range":
            parent[key] = draw(out_of_range)
        elif isinstance(parent, dict):
            parent[draw(printable)] = draw(odd_values)
        else:
            parent.append(draw(odd_values))
        if not isinstance(data, dict) or not data:
            break
    return dump_yaml(data).encode()


@st.composite
def truncated_scenario(draw: st.DrawFn) -> bytes:
    text = dump_yaml(VALID_SCENARIO).encode()
    return text[: draw(st.integers(0, len(text)))]


malformed_files = st.one_of(
    mutated_scenario(),
    truncated_scenario(),
    yaml_noise.map(str.encode),
    printable.map(str.encode),
    st.binary(max_size=200),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=malformed_files)
def test_validate_never_shows_a_traceback(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "fuzz.yaml"
        path.write_bytes(content)
        result = invoke("validate", str(path))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert "Traceback" not in result.output
    if result.exit_code == 0:
        assert result.stdout.startswith(f"ok {path} (")
    else:
        assert result.exit_code == 2
        assert result.stderr.strip()


def test_validate_warns_about_platform_limits_but_accepts_the_file(tmp_path: Path) -> None:
    scenario = tmp_path / "limits.yaml"
    scenario.write_text(
        "meta: {name: limits}\n"
        "sources: [{id: s, take_rate: 1.0, path: p}]\n"
        "paths: [{id: p, carrier: wecom}]\n"
        "carriers: [{id: wecom, kind: wecom}]\n"
        "products: [{id: x}]\n"
        "campaigns:\n"
        "  - {id: morning, channel: wecom_1on1, carrier: wecom, schedule: {every_days: 1},\n"
        "     response: {default: 0}}\n"
        "  - {id: evening, channel: wecom_1on1, carrier: wecom, schedule: {every_days: 1},\n"
        "     response: {default: 0}}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["validate", str(scenario)])
    assert result.exit_code == 0
    assert "warning: campaigns morning, evening send up to 2 wecom_1on1 broadcasts" in result.stderr
    assert result.stdout.startswith(f"ok {scenario}")
