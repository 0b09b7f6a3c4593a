"""Precision control (``siyu run --precision``): the stopping rule, its projection of replications, and the
CLI (JSON, --out folder, --max-reps, clean errors)."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats
from typer.testing import CliRunner

from engine.cli import app
from engine.errors import OptionError
from engine.metrics import METRIC_NAMES
from engine.precision import (
    KEY_METRICS,
    PrecisionGoal,
    assess,
    metric_names,
    next_reps,
    run_to_precision,
)
from engine.runner import Replication, RunResult

TINY_YAML = """\
meta: {name: Tiny}
horizon: {acquisition_days: 40, horizon_days: 100, clv_horizon_days: 40}
sources:
  - {id: ads, kind: paid, spend_per_day: 200, reach: {max_paid_per_day: 400, saturation_spend: 300},
     visit_rate: 0.1, take_rate: 0.5, first_purchase_probability: 0.3, path: p}
paths: [{id: p, carrier: wecom}]
carriers: [{id: wecom, kind: wecom, monthly_exit_rate: 0.05}]
behaviour:
  purchase_rate: {dist: gamma, shape: 1.0, rate: 30}
  dropout: {dist: beta, a: 1, b: 6}
products: [{id: tea, price: {dist: lognormal, mean: 100, sd: 30}, unit_cost_share: 0.5}]
"""


def _result(values: Mapping[str, list[float | None]]) -> RunResult:
    """A run whose replications have the given values (every other metric undefined)."""
    reps = len(next(iter(values.values())))
    replications = tuple(
        Replication(i, {name: values[name][i] if name in values else None for name in METRIC_NAMES}, {})
        for i in range(reps)
    )
    return RunResult(None, 1, replications)  # type: ignore[arg-type]  # the scenario is not needed here


def test_scale_is_the_mean_absolute_value_so_a_metric_near_zero_can_be_met() -> None:
    goal = PrecisionGoal(0.1, 1000, ("cac", "profit", "clv", "payback_days"))
    rng = np.random.default_rng(4)
    cac = list(rng.normal(50, 2, 30))
    profit = list(rng.normal(0, 100, 30))  # break-even: |mean| ≈ 0, values of both signs
    assessed = {a.name: a for a in assess(_result({"cac": cac, "profit": profit, "clv": [7.0] * 30}), goal)}
    half = stats.t.ppf(0.975, 29) * np.std(cac, ddof=1) / math.sqrt(30)
    assert assessed["cac"].half_width == pytest.approx(half)
    assert assessed["cac"].scale == pytest.approx(abs(np.mean(cac)))  # one sign: scale = |mean|
    assert assessed["cac"].met
    assert assessed["profit"].scale == pytest.approx(np.mean(np.abs(profit)))
    assert assessed["profit"].scale == pytest.approx(100 * math.sqrt(2 / math.pi), rel=0.25)  # E|N(0, σ)|
    assert not assessed["profit"].met and math.isfinite(assessed["profit"].relative or math.inf)
    assert assessed["clv"].half_width == 0 and assessed["clv"].met  # the same in every replication
    assert assessed["payback_days"].met is None  # undefined everywhere: skipped


def test_next_round_projects_from_the_worst_metric_and_at_most_doubles() -> None:
    goal = PrecisionGoal(0.05, 100, ("cac",))
    ok = assess(_result({"cac": [10.0, 10.1, 9.9, 10.0]}), goal)
    assert ok[0].met and next_reps(4, ok, goal) is None
    noisy = [100.0 + (5 if i % 2 else -5) for i in range(20)]  # s = 5.13, half ≈ 2.40 vs target 5
    loose = PrecisionGoal(0.02, 100, ("cac",))
    (assessed,) = assess(_result({"cac": noisy}), loose)
    ratio = assessed.half_width / (0.02 * 100)  # 1.2: needs 20 × 1.44 ≈ 29 replications
    assert next_reps(20, (assessed,), loose) == math.ceil(20 * ratio**2) == 29
    tight = PrecisionGoal(0.005, 100, ("cac",))
    assert next_reps(20, assess(_result({"cac": noisy}), tight), tight) == 40  # capped at doubling
    assert next_reps(80, assess(_result({"cac": noisy * 4}), tight), tight) == 100  # capped at max_reps
    assert next_reps(100, assess(_result({"cac": noisy * 5}), tight), tight) is None


def test_run_to_precision_stops_at_the_theoretical_count_running_only_missing_replications() -> None:
    """Normal outputs, mean 100, sd 20, ±2%: the half-width t·20/√n reaches 2 at n ≈ (1.96·10)² ≈ 384."""
    rng = np.random.default_rng(9)
    stream = rng.normal(100, 20, 5000)
    asked: list[tuple[int, int]] = []

    def run_round(reps: int, finished: Mapping[int, Replication]) -> RunResult:
        asked.append((reps, len(finished)))
        assert set(finished) == set(range(len(finished)))
        return _result({"cac": list(stream[:reps])})

    goal = PrecisionGoal(0.02, 5000, ("cac",))
    outcome = run_to_precision(20, goal, run_round)
    reps = outcome.result.reps
    assert outcome.reached and outcome.rounds[-1] == reps
    assert [finished for _, finished in asked] == [0, *outcome.rounds[:-1]]  # each round keeps the last
    assert 0.8 * 384 < reps < 1.25 * 384, reps
    (final,) = outcome.assessments
    assert final.half_width <= 0.02 * final.scale
    before = assess(_result({"cac": list(stream[: outcome.rounds[-2]])}), goal)[0]
    assert not before.met


def test_goal_and_metric_options_are_checked() -> None:
    with pytest.raises(OptionError, match=r"--precision: 1\.5 is not allowed"):
        PrecisionGoal(1.5, 100)
    with pytest.raises(
        OptionError, match=r"--metric 'cacc': no such metric — did you mean 'cac'\?; allowed: visitors"
    ):
        metric_names(["cac,cacc"], "--metric")
    assert metric_names(["clv, cac", "clv"], "--metric") == ("clv", "cac")
    assert metric_names(None, "--metric") == KEY_METRICS


# ---------------------------------------------------------------------------------------------------------
# siyu run --precision


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("precision") / "tiny.yaml"
    path.write_text(TINY_YAML, encoding="utf-8")
    return path


def invoke(*args: str | Path) -> Any:
    return CliRunner().invoke(app, ["run", *map(str, args)])


def test_run_adds_replications_until_every_key_metric_is_precise(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke(
        tiny, "--reps", "10", "--precision", "0.03", "--format", "json", "--workers", "1", "--out", out
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    precision = data["precision"]
    assert precision["reached"] and precision["rel"] == 0.03 and precision["max_reps"] == 1000
    assert precision["rounds"][0] == 10 and precision["rounds"][-1] == data["reps"] > 10
    assert list(precision["metrics"]) == list(KEY_METRICS)
    assert (out / "summary.json").read_text(encoding="utf-8") == result.stdout
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["reps"] == data["reps"]
    rows = list(csv.DictReader(io.StringIO((out / "replications.csv").read_text(encoding="utf-8"))))
    assert len(rows) == data["reps"]
    for name in KEY_METRICS:  # recomputed from the replications written
        values = np.array([float(row[name]) for row in rows if row[name] != ""])
        half = stats.t.ppf(0.975, values.size - 1) * values.std(ddof=1) / math.sqrt(values.size)
        assert half <= 0.03 * np.mean(np.abs(values)), name
        assert precision["metrics"][name]["half_width"] == pytest.approx(half)


def test_max_reps_stops_an_unreachable_precision_with_a_warning(tiny: Path) -> None:
    result = invoke(
        tiny, "--reps", "5", "--precision", "0.001", "--max-reps", "8", "--format", "json", "--workers", "1"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["reps"] == 8 and not data["precision"]["reached"] and data["precision"]["rounds"] == [5, 8]
    assert "warning: precision ±0.1% NOT reached within --max-reps 8" in result.stderr
    table = invoke(tiny, "--reps", "3", "--precision", "0.5", "--workers", "1")
    assert table.exit_code == 0 and "precision ±50% reached with" in table.stdout


def test_precision_options_are_checked(tiny: Path, tmp_path: Path) -> None:
    for args, message in (
        (("--max-reps", "50"), "--max-reps: only with --precision"),
        (("--precision", "0.05", "--reps", "30", "--max-reps", "20"), "--max-reps: 20 is below --reps 30"),
        (("--precision", "0"), "--precision"),
        (("--precision", "1.5"), "--precision"),
        (("--precision", "nan"), "--precision"),
    ):
        result = invoke(tiny, *args)
        assert result.exit_code == 2, result.output
        assert message in result.output and "Traceback" not in result.output
    resumed = invoke("--resume", tmp_path, "--precision", "0.05")
    assert resumed.exit_code == 2 and "--precision: not with --resume" in resumed.output
