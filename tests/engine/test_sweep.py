"""``siyu sweep``: points held to the closed form, common random numbers, the best point, outputs, errors."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from engine.cli_sweep import sweep_command
from engine.execution import AdaptiveExecutor
from engine.levers import LeverError
from engine.metrics import METRIC_NAMES
from engine.runner import run_replication
from engine.scenario import Scenario, load_scenario
from engine.sweep import (
    SweepResult,
    better,
    check_metric,
    evaluate_points,
    grid,
    metric_values,
    parse_axes,
    sweep,
    sweep_summary,
)

DATA = Path(__file__).resolve().parent / "data"
SATURATING = DATA / "saturating_sources.yaml"
DAYS = 30
PRICE = 10.0
SOURCES = {"alpha": (200.0, 200.0), "beta": (100.0, 400.0)}  # id: (max_paid_per_day, saturation_spend)
REPS = 10
SEED = 3


def theoretical_profit(alpha: float, beta: float) -> float:
    """Every visitor buys once at the price and nothing else happens, so profit is a closed form:
    days × Σ_i [price × max_i × (1 − exp(−spend_i / saturation_i)) − spend_i]."""
    total = 0.0
    for spend, (ceiling, saturation) in zip((alpha, beta), SOURCES.values(), strict=True):
        total += PRICE * ceiling * -math.expm1(-spend / saturation) - spend
    return DAYS * total


def standard_error(values: list[float | None]) -> float:
    array = np.array(values, dtype=float)
    return float(array.std(ddof=1) / math.sqrt(array.size))


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario(SATURATING).scenario


@pytest.fixture(scope="module")
def line(scenario: Scenario) -> SweepResult:
    axes = parse_axes(scenario, ["sources.alpha.spend_per_day=100,350,900"])
    return sweep(scenario, axes, "profit", REPS, SEED)


APP = typer.Typer(pretty_exceptions_enable=False)
"""The command on its own (as engine.cli registers it), so these tests do not depend on other commands."""
APP.command("sweep")(sweep_command)


@APP.callback()
def _siyu() -> None:
    """Keeps ``sweep`` a subcommand."""


def invoke(*args: str | Path) -> Any:
    return CliRunner().invoke(APP, ["sweep", *map(str, args)])


def assert_clean_failure(result: Any, *expected: str) -> None:
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exc_info
    assert "Traceback" not in result.output
    for text in expected:
        assert text in result.stderr, result.stderr


def test_every_point_agrees_with_the_closed_form(line: SweepResult) -> None:
    for point in line.points:
        values = metric_values(point.replications, "profit")
        expected = theoretical_profit(point.values[0], 200.0)
        assert abs(point.summary("profit").mean - expected) <= 4 * standard_error(values), point.values


def test_points_share_seeds_with_plain_runs_of_the_changed_scenario(line: SweepResult) -> None:
    """Replication r of a point is replication r of the changed scenario on the same seed: paired."""
    data = load_scenario(SATURATING).scenario.model_dump(mode="json", by_alias=True)
    data["sources"][0]["spend_per_day"] = 900.0
    for r in (0, REPS - 1):
        expected = run_replication(Scenario.model_validate(data), SEED, r).metrics
        assert line.points[2].replications[r] == expected


def test_the_best_point_is_the_analytic_best_with_its_paired_lead(line: SweepResult) -> None:
    best = line.best()
    assert best is not None
    assert (best.index, best.runner_up) == (1, 2)  # 350 beats 900, which beats 100
    lead = best.versus_runner_up
    assert lead is not None and lead.ci_low is not None and lead.ci_high is not None
    expected = theoretical_profit(350, 200) - theoretical_profit(900, 200)
    assert lead.ci_low > 0
    differences = [
        b - a
        for a, b in zip(
            metric_values(line.points[2].replications, "profit"),
            metric_values(line.points[1].replications, "profit"),
            strict=True,
        )
    ]
    assert abs(lead.diff_mean - expected) <= 4 * standard_error(differences)


def test_lower_is_better_for_costs() -> None:
    assert better("cac") == "lower"
    assert better("payback_days") == "lower"
    assert better("profit") == "higher"
    assert better("ltv_cac") == "higher"
    with pytest.raises(
        LeverError, match=r"--metric 'proft': no such metric — did you mean 'profit'\?; allowed: visitors"
    ):
        check_metric("proft")


def test_a_two_lever_grid_has_every_combination_last_lever_fastest(scenario: Scenario) -> None:
    axes = parse_axes(scenario, ["sources.alpha.spend_per_day=100,350", "sources.beta.spend_per_day=100,300"])
    result = sweep(scenario, axes, "profit", 4, SEED)
    assert [p.values for p in result.points] == [(100, 100), (100, 300), (350, 100), (350, 300)]
    best = result.best()
    assert best is not None and best.index == 3  # the analytic best of the four
    summary = sweep_summary(result)
    assert summary["best"]["values"] == {
        "sources.alpha.spend_per_day": 350,
        "sources.beta.spend_per_day": 300,
    }


def test_cli_table_marks_the_best_point() -> None:
    result = invoke(SATURATING, "--vary", "sources.alpha.spend_per_day=100,350,900", "--reps", "4")
    assert result.exit_code == 0, result.output
    assert "★ best 最优: sources.alpha.spend_per_day = 350" in result.stdout
    assert "vs runner-up 次优 (900)" in result.stdout
    assert "利润 profit" in result.stdout


def test_cli_json_and_out_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ("--vary", "sources.beta.spend_per_day=100:500:3", "--metric", "cac", "--reps", "3")
    result = invoke(SATURATING, *args, "--format", "json", "--out", out)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["metric"] == "cac" and data["better"] == "lower"
    assert data["vary"] == [{"path": "sources.beta.spend_per_day", "values": [100.0, 300.0, 500.0]}]
    assert set(data["points"][0]["metrics"]) == set(METRIC_NAMES)
    cacs = [point["metrics"]["cac"]["mean"] for point in data["points"]]
    assert data["best"]["point"] == int(np.argmin(cacs))
    assert json.loads((out / "sweep.json").read_text(encoding="utf-8")) == data
    raw = (out / "sweep.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a byte-order mark: Excel shows the Chinese labels
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 3 * len(METRIC_NAMES)
    starred = [row for row in rows if row["best"] == "yes"]
    assert len(starred) == 1 and starred[0]["metric"] == "cac" and starred[0]["指标"] == "获客成本 CAC"
    assert float(starred[0]["mean"]) == pytest.approx(data["best"]["mean"])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--vary", "sources.alpha.spend_per_dya=1:2:3"], ["no such field 'spend_per_dya'", "spend_per_day"]),
        (["--vary", "sources.alpha.spend_per_day=-5,10"], ["spend_per_day = -5", "must be ≥ 0"]),
        (["--vary", "sources.alpha.spend_per_day=1:2"], ["a range has three parts"]),
        (["--vary", "lifecycle.mature_after_purchases=2.5,3"], ["takes whole numbers only (got 2.5)"]),
        (["--vary", "sources.alpha.spend_per_day"], ["expected PATH=SPEC"]),
        (["--vary", "sources.alpha.spend_per_day=1,2", "--metric", "proft"], ["did you mean 'profit'"]),
        (
            ["--vary", "sources.alpha.spend_per_day=1,2", "--vary", "sources.alpha.spend_per_day=3,4"],
            ["varied twice"],
        ),
        (
            ["--vary", "horizon.step_days=1,2", "--vary", "horizon.discount_rate=0,0.1", "--vary", "a.b=1,2"],
            ["give one or two"],
        ),
    ],
)
def test_bad_options_exit_2_with_a_clear_message(args: list[str], expected: list[str]) -> None:
    assert_clean_failure(invoke(SATURATING, *args, "--reps", "2"), *expected)


def test_two_values_that_break_a_cross_field_rule_together_exit_2(tmp_path: Path) -> None:
    """Each value is valid with the scenario's other fields, but not with the other lever's value."""
    roomy = tmp_path / "roomy.yaml"
    roomy.write_text(f"extends: {SATURATING}\nhorizon: {{horizon_days: 40}}\n", encoding="utf-8")
    varies = ("--vary", "horizon.acquisition_days=30,35", "--vary", "horizon.horizon_days=40,35")
    assert_clean_failure(
        invoke(roomy, *varies, "--reps", "1"),
        f"{roomy}: --vary horizon.acquisition_days=30,35 --vary horizon.horizon_days=40,35: ",
        "horizon.acquisition_days = 35, horizon.horizon_days = 35: makes the scenario invalid",
    )


def test_a_bad_scenario_file_exits_2(tmp_path: Path) -> None:
    assert_clean_failure(invoke(tmp_path / "missing.yaml", "--vary", "a.b=1,2"), "no such file")


@pytest.mark.slow
def test_worker_processes_give_the_same_result() -> None:
    args = ("--vary", "sources.alpha.spend_per_day=100:400:4", "--reps", "4", "--format", "json")
    serial = invoke(SATURATING, *args, "--workers", "1")
    parallel = invoke(SATURATING, *args, "--workers", "2")
    assert serial.exit_code == 0 and parallel.exit_code == 0, parallel.output
    assert serial.stdout == parallel.stdout


@pytest.mark.slow
def test_the_default_executor_keeps_its_worker_processes_for_every_batch(scenario: Scenario) -> None:
    """Several batches (as optimize and sensitivity run them) on one pool give the serial results."""
    axes = parse_axes(scenario, ["sources.alpha.spend_per_day=100,350"])
    levers = tuple(axis.lever for axis in axes)
    points = grid(axes)
    serial = [evaluate_points(scenario, levers, [point], 2, SEED) for point in points]
    with AdaptiveExecutor(2, threshold_s=0.0, expected_tasks=4) as executor:
        first = evaluate_points(scenario, levers, [points[0]], 2, SEED, executor)
        assert executor.description == "2 local processes"
        second = evaluate_points(scenario, levers, [points[1]], 2, SEED, executor)
    assert [first, second] == serial


def test_a_sweep_seeks_each_metric_s_agreed_direction_and_minimises_cost_totals() -> None:
    from engine.compare.verdicts import BETTER
    from engine.metrics import METRICS
    from engine.sweep import better

    for info in METRICS:
        if info.better is not None:
            assert better(info.name) == info.better == BETTER[info.name]
        else:
            assert info.name not in BETTER
    assert (better("cac"), better("clv"), better("total_cost"), better("visitors")) == (
        "lower",
        "higher",
        "lower",
        "higher",
    )
