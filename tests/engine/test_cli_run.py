"""``siyu run``: the JSON contract, the output folder, determinism, tables and clean errors (exit 2)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from rich.console import Console
from typer.testing import CliRunner

from engine.cli import app
from engine.metrics import METRIC_NAMES
from engine.presentation import metrics_table
from engine.runner import run_replication
from engine.scenario import load_scenario
from engine.stats import Summary

ROOT = Path(__file__).resolve().parents[2]
RETAINED = ROOT / "scenarios" / "examples" / "seed004_retained.yaml"
SINGLE = ROOT / "scenarios" / "examples" / "seed004_single_purchase.yaml"  # nobody joins the private domain
RETAIL = ROOT / "scenarios" / "retail_store_wecom.yaml"
SIYU = Path(sys.executable).with_name("siyu")
OUTPUT_FILES = {
    *("run.json", "resolved.yaml", "summary.json", "replications.csv", "series.json"),
    *("index.html", "summary.csv", "summary.xlsx"),  # the report and the finance exports
}


def invoke(*args: str | Path) -> Any:
    return CliRunner().invoke(app, ["run", *map(str, args)])


def strict_json(text: str) -> Any:
    """Parse JSON, failing on NaN, Infinity and -Infinity (not JSON, though Python writes them)."""

    def refuse(constant: str) -> None:
        raise AssertionError(f"non-standard JSON constant {constant} in the output")

    return json.loads(text, parse_constant=refuse)


def assert_clean_failure(result: Any) -> None:
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exc_info  # no escaped exception
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def retained_json() -> str:
    """stdout of ``siyu run seed004_retained.yaml --reps 3 --format json``."""
    result = invoke(RETAINED, "--reps", "3", "--format", "json")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return result.stdout


# ---------------------------------------------------------------------------------------------------------
# The JSON contract


def test_json_is_one_object_with_the_contract_keys(retained_json: str) -> None:
    data = strict_json(retained_json)  # json.loads refuses anything after the one object
    assert isinstance(data, dict)
    assert list(data) == ["scenario", "reps", "seed", "metrics", "breakdown"]
    assert data["scenario"] == "Seed 004: acquired once, kept, bought again after six months"
    assert (data["reps"], data["seed"]) == (3, 1)
    assert list(data["metrics"]) == list(METRIC_NAMES)
    for name, value in data["metrics"].items():
        assert list(value) == ["mean", "ci_low", "ci_high"], name
    assert list(data["breakdown"]) == ["source", "lure", "carrier", "campaign", "tier"]
    assert list(data["breakdown"]["source"]) == ["tmall_ads"]
    assert data["breakdown"]["lure"] == {}
    assert list(data["breakdown"]["carrier"]) == ["official_account"]
    for groups in data["breakdown"].values():
        for metrics in groups.values():
            assert list(metrics) == list(METRIC_NAMES)
            assert all(list(value) == ["mean", "ci_low", "ci_high"] for value in metrics.values())


def test_json_values_reproduce_seed_004(retained_json: str) -> None:
    metrics = strict_json(retained_json)["metrics"]
    assert metrics["cac"] == {"mean": 30.0, "ci_low": 30.0, "ci_high": 30.0}
    assert metrics["clv"] == {"mean": 200.0, "ci_low": 200.0, "ci_high": 200.0}
    assert metrics["net_value"] == {"mean": 170.0, "ci_low": 170.0, "ci_high": 170.0}
    assert metrics["top20_revenue_share"] == {"mean": 0.2, "ci_low": 0.2, "ci_high": 0.2}


def test_strict_json_refuses_nan_and_infinity() -> None:
    for text in ('{"a": NaN}', '{"a": Infinity}', '{"a": -Infinity}'):
        with pytest.raises(AssertionError, match="non-standard"):
            strict_json(text)


@pytest.mark.skipif(not SIYU.exists(), reason="the siyu script is not installed in this environment")
def test_the_installed_command_prints_the_same_json(retained_json: str) -> None:
    completed = subprocess.run(
        [str(SIYU), "run", str(RETAINED), "--reps", "3", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    assert completed.stdout == retained_json
    assert strict_json(completed.stdout)["metrics"]["net_value"]["mean"] == 170.0


# ---------------------------------------------------------------------------------------------------------
# The output folder


def test_out_writes_the_folder(tmp_path: Path) -> None:
    out = tmp_path / "results"
    result = invoke(RETAINED, "--reps", "3", "--format", "json", "--out", out, "--transactions")
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {*OUTPUT_FILES, "transactions.parquet"}  # no temp files left

    summary_text = (out / "summary.json").read_text(encoding="utf-8")
    assert summary_text == result.stdout
    assert strict_json(summary_text) == strict_json(result.stdout)

    resolved = tmp_path / "copy_of_resolved.yaml"
    resolved.write_bytes((out / "resolved.yaml").read_bytes())
    assert "extends" not in resolved.read_text(encoding="utf-8")
    assert load_scenario(resolved).scenario == load_scenario(RETAINED).scenario

    rows = list(csv.reader(io.StringIO((out / "replications.csv").read_text(encoding="utf-8"))))
    assert rows[0] == ["replication", *METRIC_NAMES]
    assert [row[0] for row in rows[1:]] == ["0", "1", "2"]
    cac = rows[0].index("cac")
    assert [float(row[cac]) for row in rows[1:]] == [30.0, 30.0, 30.0]

    purchases: list[int] = []
    for index in range(3):
        run_replication(
            load_scenario(RETAINED).scenario,
            1,
            index,
            on_ledger=lambda _i, ledger: purchases.append(len(ledger.purchases)),
        )
    table = pq.read_table(out / "transactions.parquet")
    assert table.column_names == [
        "replication",
        "customer_id",
        "day",
        "amount",
        "product",
        "source",
        "carrier",
    ]
    assert table.num_rows == sum(purchases) == 3 * 600  # 300 customers, two purchases each, 3 replications
    assert sorted(set(table.column("replication").to_pylist())) == [0, 1, 2]
    assert sum(table.column("amount").to_pylist()) == 3 * 60_000.0
    assert set(table.column("source").to_pylist()) == {"tmall_ads"}
    assert set(table.column("carrier").to_pylist()) == {"official_account"}


def test_out_refuses_a_non_empty_folder_without_force(tmp_path: Path) -> None:
    out = tmp_path / "previous"
    out.mkdir()
    (out / "summary.json").write_text("old results\n")
    (out / "notes.txt").write_text("mine\n")

    result = invoke(SINGLE, "--reps", "2", "--out", out)
    assert_clean_failure(result)
    assert str(out) in result.stderr
    assert "--force" in result.stderr
    assert {p.name: p.read_text() for p in out.iterdir()} == {
        "summary.json": "old results\n",
        "notes.txt": "mine\n",
    }

    forced = invoke(SINGLE, "--reps", "2", "--out", out, "--force", "--format", "json")
    assert forced.exit_code == 0, forced.output
    assert {p.name for p in out.iterdir()} == {*OUTPUT_FILES, "notes.txt"}
    assert (out / "summary.json").read_text(encoding="utf-8") == forced.stdout
    assert (out / "notes.txt").read_text() == "mine\n"


def test_out_into_an_empty_existing_folder_needs_no_force(tmp_path: Path) -> None:
    result = invoke(SINGLE, "--reps", "2", "--out", tmp_path, "--quiet")
    assert result.exit_code == 0, result.output
    assert {p.name for p in tmp_path.iterdir()} == OUTPUT_FILES
    assert f"results written to {tmp_path}" in result.stdout


# ---------------------------------------------------------------------------------------------------------
# Determinism: the same seed gives byte-identical output


def test_same_seed_gives_byte_identical_output(tmp_path: Path) -> None:
    outputs = []
    for name in ("a", "b"):
        result = invoke(RETAIL, "--reps", "2", "--seed", "7", "--format", "json", "--out", tmp_path / name)
        assert result.exit_code == 0, result.output
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    for file in ("summary.json", "replications.csv"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes(), file
    revenue = strict_json(outputs[0])["metrics"]["revenue"]
    assert revenue["ci_low"] < revenue["mean"] < revenue["ci_high"]  # stochastic: the check is not vacuous

    other = invoke(RETAIL, "--reps", "2", "--seed", "8", "--format", "json")
    assert other.exit_code == 0, other.output
    assert strict_json(other.stdout)["metrics"] != strict_json(outputs[0])["metrics"]


# ---------------------------------------------------------------------------------------------------------
# Bad input: a message and exit code 2, never a traceback


def test_transactions_without_out(tmp_path: Path) -> None:
    result = invoke(SINGLE, "--transactions")
    assert_clean_failure(result)
    assert "--transactions needs --out" in result.output


def test_missing_scenario_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = invoke(missing, "--reps", "2")
    assert_clean_failure(result)
    assert result.stderr.strip() == f"{missing}: no such file"
    assert result.stdout == ""


def test_invalid_scenario_file(tmp_path: Path, minimal_scenario_yaml: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(minimal_scenario_yaml.replace("id: douyin", "id: douyin\n    spend_per_day: -1"))
    result = invoke(bad, "--out", tmp_path / "never")
    assert_clean_failure(result)
    assert f"{bad}:5: sources[douyin].spend_per_day" in result.stderr
    assert not (tmp_path / "never").exists()


@pytest.mark.parametrize("reps", ["0", "-1"])
def test_reps_must_be_positive(reps: str) -> None:
    result = invoke(SINGLE, "--reps", reps)
    assert_clean_failure(result)
    assert "--reps" in result.output


# ---------------------------------------------------------------------------------------------------------
# The table


def table_line(text: str, name: str) -> str:
    """The row of the main table whose label ends with the metric's name."""
    rows = [line for line in text.splitlines() if f" {name} " in line]
    assert rows, f"no row for {name}"
    return rows[0]


def test_table_has_chinese_and_english_labels() -> None:
    result = invoke(RETAINED, "--reps", "3")
    assert result.exit_code == 0, result.output
    text = result.stdout
    for label in (
        "获客成本 CAC",
        "cac",
        "客户终身价值 CLV",
        "净价值",
        "net_value",
        "95% 置信区间 CI",
        "by 来源 source",
    ):
        assert label in text, label
    assert "30.00 – 30.00" in table_line(text, "cac")
    assert "170.00" in table_line(text, "net_value")


def test_table_says_why_a_metric_is_undefined() -> None:
    result = invoke(SINGLE, "--reps", "2")  # nobody joins: retention and the dormant share are undefined
    assert result.exit_code == 0, result.output
    row = table_line(result.stdout, "retention_d30")
    assert "undefined: no member joined 30+ days before the end" in row
    assert "—" in row
    assert "undefined: no members at the end" in table_line(result.stdout, "dormant_share_end")
    assert "undefined" not in table_line(result.stdout, "cac")


def test_table_with_one_replication_notes_there_is_no_ci() -> None:
    result = invoke(SINGLE, "--reps", "1")
    assert result.exit_code == 0, result.output
    row = table_line(result.stdout, "cac")
    assert "30.00" in row
    assert "one replication: no CI" in row
    assert "no CI" not in table_line(invoke(SINGLE, "--reps", "2").stdout, "cac")


def test_a_metric_defined_in_one_of_several_replications() -> None:
    summaries = {name: Summary(1.0, 1.0, 1.0, 3, 3) for name in METRIC_NAMES}
    summaries["clv"] = Summary(100.0, None, None, 1, 3)
    console = Console(record=True, width=200, file=io.StringIO())
    console.print(metrics_table("t", summaries, "CNY"))
    row = table_line(console.export_text(), "clv")
    assert "defined in 1 of 3 replications" in row
    assert "--reps" not in row  # three replications were run: the advice to run two would be wrong


def test_force_without_transactions_removes_an_earlier_runs_log(tmp_path: Path) -> None:
    out = tmp_path / "out"
    scenario = "scenarios/examples/seed004_single_purchase.yaml"
    first = CliRunner().invoke(app, ["run", scenario, "--reps", "2", "--out", str(out), "--transactions"])
    assert first.exit_code == 0, first.output
    assert (out / "transactions.parquet").exists()
    second = CliRunner().invoke(app, ["run", scenario, "--reps", "2", "--out", str(out), "--force"])
    assert second.exit_code == 0, second.output
    assert not (out / "transactions.parquet").exists()
    assert (out / "summary.json").exists()
