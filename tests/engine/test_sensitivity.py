"""``siyu sensitivity``: tornado effects held to closed forms, bounds handled and said, Morris and Sobol
(SALib) held to the exact indices of a linear metric, the CLI's outputs and errors."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer
from rich.cells import cell_len
from typer.testing import CliRunner

from engine.cli_sensitivity import sensitivity_command
from engine.levers import find_lever
from engine.scenario import Scenario, load_scenario
from engine.sensitivity import Bar, Move, Tornado, global_sensitivity, tornado
from engine.stats import Difference

DATA = Path(__file__).resolve().parent / "data"
SATURATING = DATA / "saturating_sources.yaml"
DAYS = 30
SEED = 5

APP = typer.Typer(pretty_exceptions_enable=False)
APP.command("sensitivity")(sensitivity_command)


@APP.callback()
def _siyu() -> None:
    """Keeps ``sensitivity`` a subcommand."""


def invoke(*args: str | Path) -> Any:
    return CliRunner().invoke(APP, ["sensitivity", *map(str, args)])


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario(SATURATING).scenario


@pytest.fixture(scope="module")
def profit(scenario: Scenario) -> Tornado:
    return tornado(scenario, "profit", reps=4, seed=SEED)


@pytest.fixture(scope="module")
def acquisition(scenario: Scenario) -> Tornado:
    """acquisition_cost = days × Σ spend_per_day: linear in the two spends and free of noise."""
    return tornado(scenario, "acquisition_cost", reps=2, seed=SEED)


def bar(result: Tornado, path: str) -> Bar:
    return next(b for b in result.bars if b.lever.path == path)


def test_price_moves_profit_by_exactly_a_fifth_of_revenue(profit: Tornado) -> None:
    """Price does not change who comes or buys (common random numbers), so ×1.2 adds 0.2 × revenue in
    every replication; closed form: 0.2 × days × price × Σ max_i (1 − exp(−spend_i/saturation_i))."""
    price = bar(profit, "products.tea.price.value")
    assert profit.bars[0] is price  # the largest swing
    high = price.high.difference
    assert high is not None and high.diff_mean is not None and high.ci_low is not None
    expected = 0.2 * DAYS * 10 * (200 * -math.expm1(-300 / 200) + 100 * -math.expm1(-200 / 400))
    half_width = high.diff_mean - high.ci_low
    assert abs(high.diff_mean - expected) <= 2 * half_width
    low = price.low.difference
    assert low is not None and low.diff_mean == pytest.approx(-high.diff_mean)


def test_spend_effect_agrees_with_the_closed_form(profit: Tornado) -> None:
    spend = bar(profit, "sources.alpha.spend_per_day")
    for move in (spend.low, spend.high):
        assert move.value is not None and move.difference is not None
        gained = 2000 * (math.exp(-300 / 200) - math.exp(-move.value / 200)) - (move.value - 300)
        difference = move.difference
        assert difference.ci_low is not None and difference.ci_high is not None
        standard_error = (difference.ci_high - difference.ci_low) / 2 / 3.182  # t(0.975, 3)
        assert abs(difference.diff_mean - DAYS * gained) <= 4 * standard_error


def test_moves_past_a_bound_are_not_run_and_say_why(profit: Tornado) -> None:
    visit = bar(profit, "sources.alpha.visit_rate")  # 1.0, a probability
    assert visit.high.value is None and "already at its bound" in visit.high.note
    assert visit.low.value == pytest.approx(0.8)
    multiplier = bar(profit, "activation.unactivated_exit_multiplier")  # 1.0, must be ≥ 1
    assert multiplier.low.value is None and "not run" in multiplier.low.note
    purchases = bar(profit, "lifecycle.mature_after_purchases")  # 3, a whole number
    assert (purchases.low.value, purchases.high.value) == (2, 4)
    assert "whole number" in purchases.low.note
    reasons = {s.path: s.reason for s in profit.skipped}
    assert "zero" in reasons["sources.alpha.fixed_cost"]
    assert "measurement window" in reasons["horizon.horizon_days"]
    assert bar(profit, "lifecycle.dormant_after_days").swing == 0  # nobody joins: no lifecycle


def test_a_move_that_leaves_the_metric_undefined_has_no_effect_and_says_so(scenario: Scenario) -> None:
    lever = find_lever(scenario, "sources.alpha.spend_per_day")
    undefined = Difference(None, None, None, None, 0)
    both = Bar(lever, Move(0.8, 240.0, "", undefined), Move(1.2, 360.0, "", undefined))
    assert both.swing == 0 and both.undefined
    one = Bar(lever, Move(0.8, 240.0, "", undefined), Move(1.2, 360.0, "", Difference(-5.0, -6, -4, 0.01, 4)))
    assert one.swing == 5 and not one.undefined


def test_morris_gives_the_exact_elementary_effects_of_a_linear_metric(
    scenario: Scenario, acquisition: Tornado
) -> None:
    """acquisition_cost = 30 × (alpha + beta): every elementary effect of a lever over its whole ±20% range
    is 30 × the range (alpha: 240–360, beta: 160–240), with no spread (σ = 0)."""
    assert [b.lever.path for b in acquisition.bars if b.swing > 0] == [
        "sources.alpha.spend_per_day",
        "sources.beta.spend_per_day",
    ]
    found = global_sensitivity(scenario, acquisition, "morris", top=5, trajectories=4)
    assert found is not None
    assert found.points == 4 * 3
    ranked = found.ranked()
    assert [lever.path for lever, _, _ in ranked] == [
        "sources.alpha.spend_per_day",
        "sources.beta.spend_per_day",
    ]
    for (_, _, indices), expected in zip(ranked, (DAYS * 120, DAYS * 80), strict=True):
        assert indices["mu_star"] == pytest.approx(expected)
        assert indices["mu"] == pytest.approx(expected)
        assert indices["sigma"] == pytest.approx(0, abs=1e-6)


@pytest.mark.slow
def test_sobol_shares_the_variance_of_a_linear_metric_by_range_squared(
    scenario: Scenario, acquisition: Tornado
) -> None:
    """Uniform inputs on ranges 120 and 80 with weights 30: S1 = ST = 120² / (120² + 80²) = 0.692 and 0.308;
    the estimate must lie within its own 95% confidence (twice, for the two estimates checked)."""
    found = global_sensitivity(scenario, acquisition, "sobol", top=2, samples=32)
    assert found is not None
    assert found.points == 32 * 4
    expected = {"sources.alpha.spend_per_day": 120**2 / (120**2 + 80**2)}
    expected["sources.beta.spend_per_day"] = 1 - expected["sources.alpha.spend_per_day"]
    for lever, _, indices in found.ranked():
        for key in ("S1", "ST"):
            assert abs(indices[key] - expected[lever.path]) <= 2 * indices[f"{key}_conf"], (lever.path, key)


def test_levers_that_break_a_rule_together_are_left_out_of_the_global_method(tmp_path: Path) -> None:
    """A uniform price 8 … 10: low ×1.2 = 9.6 and high ×0.8 = 8 are each valid, but not together (low above
    high), so the global method varies only the higher-ranked of the two and says why."""
    uniform = tmp_path / "uniform.yaml"
    uniform.write_text(
        f"extends: {SATURATING}\nproducts:\n  - {{id: tea, price: {{dist: uniform, low: 8, high: 10}}}}\n",
        encoding="utf-8",
    )
    scenario = load_scenario(uniform).scenario
    result = tornado(scenario, "revenue", reps=2, seed=SEED)
    found = global_sensitivity(scenario, result, "morris", top=20, trajectories=2)
    assert found is not None
    pair = {"products.tea.price.low", "products.tea.price.high"}
    kept = pair & {lever.path for lever in found.levers}
    assert len(kept) == 1
    assert found.left_out == (((pair - kept).pop(), kept.pop()),)


def test_cli_json_ranks_the_tornado_and_reports_the_global_method() -> None:
    result = invoke(SATURATING, "--metric", "acquisition_cost", "--reps", "2", "--trajectories", "3",
                    "--format", "json", "--workers", "1")  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    swings = [entry["swing"] for entry in data["tornado"]]
    assert swings == sorted(swings, reverse=True)
    first = data["tornado"][0]
    assert first["path"] == "sources.alpha.spend_per_day"
    assert first["high"]["difference"]["diff_mean"] == pytest.approx(DAYS * 60)
    assert data["global"]["method"] == "morris" and data["global"]["points"] == 3 * 3
    assert {"path", "low", "high", "mu_star", "mu_star_conf", "sigma"} <= set(data["global"]["levers"][0])
    assert any(s["path"] == "horizon.step_days" for s in data["skipped"])
    assert np.isfinite(data["base"]["mean"])


def test_cli_table_names_what_was_not_varied() -> None:
    result = invoke(SATURATING, "--reps", "2", "--method", "none", "--workers", "1")
    assert result.exit_code == 0, result.output
    assert "tornado 龙卷风图" in result.stdout
    assert "products.tea.price.value" in result.stdout
    assert "not varied — zero" in result.stdout
    # stdout is not a terminal: the table fits 140 columns, every column shown (ranks included)
    assert max(cell_len(line.rstrip()) for line in result.stdout.splitlines()) <= 140
    assert "│  1 │" in result.stdout and "说明 note" in result.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--metric", "proft"], "did you mean 'profit'"),
        (["--method", "sobol", "--samples", "12"], "power of two"),
        (
            ["--metric", "retention_d30", "--reps", "2", "--workers", "1"],
            "--metric retention_d30: undefined in every replication of the scenario as written",
        ),
    ],
)
def test_bad_options_exit_2(args: list[str], expected: str) -> None:
    result = invoke(SATURATING, *args)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert expected in result.stderr
