"""``siyu optimize``: the optimiser finds an analytic optimum within the tolerance that noise and its budget
allow; the budget constraint, determinism, the CLI's outputs and errors."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from engine.cli_optimize import optimize_command
from engine.optimize import fractions_of, optimize, resolve_spend_levers, split
from engine.scenario import Scenario, load_scenario
from engine.stats import summarize
from engine.sweep import evaluate_points, metric_values

DATA = Path(__file__).resolve().parent / "data"
SMALL = DATA / "saturating_sources.yaml"
LARGE = DATA / "saturating_sources_large.yaml"
OVER = ("sources.alpha.spend_per_day", "sources.beta.spend_per_day")
DAYS = 30
MARGIN_CEILING = (
    2000.0,
    1000.0,
)  # a_i = price × max_paid_per_day_i (10 × 200, 10 × 100; large: 0.4 × 5000, …)
SATURATION = (200.0, 400.0)
BUDGET = 500.0

APP = typer.Typer(pretty_exceptions_enable=False)
APP.command("optimize")(optimize_command)


@APP.callback()
def _siyu() -> None:
    """Keeps ``optimize`` a subcommand."""


def invoke(*args: str | Path) -> Any:
    return CliRunner().invoke(APP, ["optimize", *map(str, args)])


def true_profit(alpha: float, beta: float) -> float:
    total = sum(
        a * -math.expm1(-s / saturation) - s
        for a, s, saturation in zip(MARGIN_CEILING, (alpha, beta), SATURATION, strict=True)
    )
    return DAYS * total


def test_split_and_fractions_are_inverse_and_keep_the_budget() -> None:
    assert split(100, [0.25, 0.5]) == (25, 37.5, 37.5)
    assert fractions_of((25, 37.5, 37.5)) == (0.25, 0.5)
    assert sum(split(100, fractions_of((3, 0, 1)))) == pytest.approx(100)
    assert split(100, [1.0, 0.3]) == (100, 0, 0)
    rng = np.random.default_rng(0)
    for budget in (500.0, 1234.56, 1e5 / 3, 0.3):
        for fractions in rng.random((2000, 3)):
            values = split(budget, fractions)
            assert sum(values) == budget and math.fsum(values) == budget  # exactly, not approximately
            assert min(values) >= 0


@pytest.mark.slow
def test_the_optimiser_finds_the_analytic_optimum() -> None:
    """Two sources, reach_i = max_i (1 − e^(−s_i/S_i)) per day; every visitor buys once at the price p, and
    nothing else costs or earns. So profit = T Σ_i [a_i (1 − e^(−s_i/S_i)) − s_i] with a_i = p · max_i and
    T = 30 days, and with s_1 + s_2 = B the spend term is the constant −T·B.

    Maximise Σ a_i (1 − e^(−s_i/S_i)) subject to Σ s_i = B (Lagrange): (a_i/S_i) e^(−s_i/S_i) = λ for both,
    so s_i = S_i (ln(a_i/S_i) − ln λ) and, summing, ln λ = (Σ S_i ln(a_i/S_i) − B) / Σ S_i. With a = (2000,
    1000), S = (200, 400), B = 500: ln λ = (200 ln 10 + 400 ln 2.5 − 500)/600 = 0.5450, s_1* = 351.5,
    s_2* = 148.5 (interior, so the optimum is this one). Along the budget line, d²profit/ds_1² =
    −T λ (1/S_1 + 1/S_2) = −0.388.

    Tolerance. The optimiser ranks candidates by their mean over the same 10 replications; two candidates
    whose true profits differ by less than a few standard errors σ_Δ of a paired difference cannot be told
    apart (σ_Δ is measured below, between s_1* ± 20). A split δ from s_1* loses ½ |f''| δ² of profit, so
    noise allows δ up to √(2 z σ_Δ / |f''|) with z = 3. The optimiser's budget adds at most what a grid
    with as many points would: its best point lies within B / (2 (n − 1)) of s_1*. Combined:
    δ_max = √(2 z σ_Δ / |f''| + (B / (2 (n − 1)))²) ≈ 30 here, well inside the 51.5 by which the scenario
    as written (300 / 200) misses the optimum.
    """
    scenario = load_scenario(LARGE).scenario
    levers = resolve_spend_levers(scenario, OVER, BUDGET)
    trials, reps, seed = 30, 10, 7
    sums = sum(s * math.log(a / s) for a, s in zip(MARGIN_CEILING, SATURATION, strict=True))
    log_lambda = (sums - BUDGET) / sum(SATURATION)
    optimum = SATURATION[0] * (math.log(MARGIN_CEILING[0] / SATURATION[0]) - log_lambda)
    assert optimum == pytest.approx(351.5, abs=0.1)
    curvature = DAYS * math.exp(log_lambda) * sum(1 / s for s in SATURATION)

    pair = [(optimum - 20, BUDGET - optimum + 20), (optimum + 20, BUDGET - optimum - 20)]
    rows = evaluate_points(scenario, levers, pair, reps, seed)
    differences = np.subtract(metric_values(rows[1], "profit"), metric_values(rows[0], "profit"))
    sigma = float(differences.std(ddof=1) / math.sqrt(reps))
    tolerance = math.sqrt(2 * 3 * sigma / curvature + (BUDGET / (2 * (trials - 1))) ** 2)
    assert tolerance < abs(300 - optimum)  # the test can tell the optimum from the scenario as written

    result = optimize(scenario, levers, BUDGET, "profit", trials, reps, confirm_reps=10, seed=seed)
    alpha, beta = result.best
    assert alpha + beta == BUDGET
    assert abs(alpha - optimum) <= tolerance, (alpha, optimum, tolerance)

    gain = result.versus_as_written
    assert gain.ci_low is not None and gain.ci_high is not None and gain.ci_low > 0
    expected_gain = true_profit(alpha, beta) - true_profit(300, 200)
    standard_error = (gain.ci_high - gain.ci_low) / 2 / 2.262  # t(0.975, 9)
    assert abs(gain.diff_mean - expected_gain) <= 4 * standard_error
    assert result.evaluations == trials * reps + 2 * 10


def test_the_same_seed_gives_the_same_answer() -> None:
    scenario: Scenario = load_scenario(SMALL).scenario
    levers = resolve_spend_levers(scenario, OVER, BUDGET)
    first = optimize(scenario, levers, BUDGET, "profit", trials=6, search_reps=2, confirm_reps=2, seed=3)
    again = optimize(scenario, levers, BUDGET, "profit", trials=6, search_reps=2, confirm_reps=2, seed=3)
    assert first.best == again.best
    assert first.trials == again.trials
    assert first.best_summary == again.best_summary
    assert first.trials[0].values == pytest.approx((300, 200))  # the scenario as written starts the search
    assert first.trials[1].values == pytest.approx((250, 250))  # then the equal split


def test_the_best_split_is_scored_again_on_fresh_replications() -> None:
    """The search scores on replications 0 … reps−1; the best split and the scenario as written are then
    run on replications reps … reps+confirm_reps−1, which took no part in choosing the best."""
    scenario: Scenario = load_scenario(SMALL).scenario
    levers = resolve_spend_levers(scenario, OVER, BUDGET)
    result = optimize(scenario, levers, BUDGET, "profit", trials=4, search_reps=3, confirm_reps=4, seed=3)
    search = evaluate_points(scenario, levers, [result.best], 3, 3)
    fresh = evaluate_points(scenario, levers, [result.best, result.as_written], 4, 3, first=3)
    best_trial = next(trial for trial in result.trials if trial.values == result.best)
    assert summarize(metric_values(search[0], "profit")).mean == best_trial.mean
    assert summarize(metric_values(fresh[0], "profit")) == result.best_summary
    assert summarize(metric_values(fresh[1], "profit")) == result.as_written_summary
    overlapping = evaluate_points(scenario, levers, [result.best], 4, 3)  # replications 0 … 3
    assert summarize(metric_values(overlapping[0], "profit")) != result.best_summary


def test_cli_json_reports_the_split_and_the_paired_gain() -> None:
    result = invoke(SMALL, "--budget", "600", *("--over", OVER[0], "--over", OVER[1]), "--trials", "4",
                    "--reps", "2", "--confirm-reps", "3", "--format", "json", "--workers", "1")  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["budget"] == 600 and data["over"] == list(OVER)
    assert sum(data["best"]["values"].values()) == data["best"]["total"] == 600  # exactly
    assert data["as_written"]["total"] == 500
    assert data["evaluations"] == 4 * 2 + 2 * 3
    assert len(data["history"]) == 4
    assert {"diff_mean", "ci_low", "ci_high", "p_value"} == set(data["versus_as_written"])
    best = max((h for h in data["history"] if h["mean"] is not None), key=lambda h: h["mean"])
    assert best["values"] == data["best"]["values"]


def test_cli_table_says_when_the_scenario_spends_another_total() -> None:
    result = invoke(SMALL, "--budget", "600", *("--over", OVER[0], "--over", OVER[1]), "--trials", "2",
                    "--reps", "1", "--confirm-reps", "2", "--workers", "1")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "best − as written (paired)" in result.stdout
    assert "spends 500.00 on these fields, not the budget 600.00" in result.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--budget", "500", "--over", OVER[0]], "at least two fields"),
        (["--budget", "0", "--over", OVER[0], "--over", OVER[1]], "must be a positive amount"),
        (["--budget", "500", "--over", OVER[0], "--over", OVER[0]], "named twice"),
        (["--budget", "500", "--over", OVER[0], "--over", "sources.beta.spend_per_dya"], "did you mean"),
        (
            ["--budget", "2", "--over", OVER[0], "--over", "sources.beta.visit_rate"],
            "not a spend field",
        ),
        (
            ["--budget", "500", "--over", OVER[0], "--over", "products.tea.price.value"],
            "here: sources.alpha.spend_per_day, sources.beta.spend_per_day",
        ),
        (["--budget", "2e9", "--over", OVER[0], "--over", OVER[1]], "do not allow every share"),
        (["--budget", "nan", "--over", OVER[0], "--over", OVER[1]], "must be a positive amount"),
        (["--budget", "500", "--over", OVER[0], "--over", "sources.gamma.spend_per_day"], "no item 'gamma'"),
        (["--budget", "500", "--over", OVER[0], "--over", OVER[1], "--metric", "proft"], "did you mean"),
    ],
)
def test_bad_options_exit_2(args: list[str], expected: str) -> None:
    result = invoke(SMALL, *args)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert expected in result.stderr
