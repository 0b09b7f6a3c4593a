"""Closing the loop: the engine's own purchases give back the engine's parameters, and a calibrated scenario
buys like the data it was calibrated on."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from scipy import stats
from typer.testing import CliRunner

from engine.calibrate.calibration import Calibration, CalibrationRequest, calibrate
from engine.calibrate.customers import TimeUnit
from engine.calibrate.fragment import write_fragment
from engine.calibrate.reading import Columns
from engine.cli import app
from engine.model.simulation import simulate
from engine.scenario import load_scenario
from engine.transactions import purchase_table
from tests.engine.calibrate.buyers import HORIZON, TRUE, write_buyers_log

ENGINE_COLUMNS = Columns(("customer_id",), "day", "amount")


def engine_log(tmp_path: Path, customers: int, seed: int) -> Path:
    return write_buyers_log(tmp_path / f"engine-{seed}.parquet", customers, seed)


def calibrate_cli(path: Path, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(
        app,
        [
            "calibrate",
            str(path),
            "--date-col",
            "day",
            "--observation-end",
            str(HORIZON),
            "--format",
            "json",
            *args,
        ],
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_parameter_recovery_from_engine_data(tmp_path: Path) -> None:
    """6 000 simulated customers: every BG/NBD parameter within 3 standard errors of the engine's value,
    whichever unit the fit is in."""
    path = engine_log(tmp_path, 6000, seed=1)
    by_day = calibrate_cli(path, "--time-unit", "day")
    assert by_day["data"]["customers"] == 6000
    for name, true in TRUE.items():
        p = by_day["buying"]["parameters"][name]
        assert abs(p["estimate"] - true) < 3 * p["se"], (name, p, true)
        # the 95% CI is the Wald interval on the log scale; that it covers the truth 95% of the time over
        # seeds is test_standard_errors_are_right_size's job (one seed misses it 1 time in 20)
        width = math.log(p["ci_high"] / p["ci_low"])
        wald = 2 * stats.norm.ppf(0.975) * p["se"] / p["estimate"]
        assert width == pytest.approx(wald, rel=1e-4), (name, p)
    by_week = calibrate_cli(path, "--time-unit", "week")
    engine = by_week["engine"]["behaviour"]
    alpha_se = by_day["buying"]["parameters"]["alpha"]["se"]
    assert abs(engine["purchase_rate"]["rate"] - TRUE["alpha"]) < 3 * alpha_se  # weeks × 7 = days
    assert engine["purchase_rate"]["shape"] == pytest.approx(
        by_day["buying"]["parameters"]["r"]["estimate"], rel=1e-3
    )
    assert by_day["fit"]["histogram"]["p_value"] > 0.01


@pytest.mark.slow
def test_standard_errors_are_right_size(tmp_path: Path) -> None:
    """Over 12 independent engine runs, (estimate − truth) / SE has mean ≈ 0 and sd ≈ 1 for each parameter:
    the standard errors are neither too small nor too large."""
    z = []
    for seed in range(12):
        log = engine_log(tmp_path, 3000, seed=100 + seed)
        fit = calibrate(
            CalibrationRequest(log, ENGINE_COLUMNS, unit=TimeUnit.day, observation_end=str(HORIZON))
        )
        z.append([(fit.buying[name].estimate - true) / fit.buying[name].se for name, true in TRUE.items()])
    scores = np.array(z)
    # with 12 runs: SE of the mean 0.29, of the sd about 0.21
    assert np.all(np.abs(scores.mean(axis=0)) < 1.0), scores.mean(axis=0)
    assert np.all((scores.std(axis=0, ddof=1) > 0.5) & (scores.std(axis=0, ddof=1) < 1.6)), scores.std(axis=0)


def test_calibrated_scenario_buys_like_cdnow(cdnow: Calibration, tmp_path: Path) -> None:
    """CDNOW → fragment → a scenario of ten times as many buyers arriving over 12 weeks and followed for 39
    (CDNOW's calibration period): its histogram of repeat purchases matches CDNOW's (two-sample chi-square)
    and its purchases cost what CDNOW's Gamma-Gamma fit says."""
    fragment = tmp_path / "cdnow_buyers.yaml"
    write_fragment(cdnow, fragment)
    variant = tmp_path / "cdnow_plan.yaml"
    variant.write_text(
        "extends: cdnow_buyers.yaml\n"
        'meta: {name: "CDNOW buyers, simulated"}\n'
        "horizon: {acquisition_days: 84, horizon_days: 273, clv_horizon_days: 189}\n"
        "sources:\n"
        f"  - {{id: stores, arrivals: fixed, reach: {{organic_per_day: {23570 / 84}}}, "
        "first_purchase_probability: 1}\n",
        encoding="utf-8",
    )
    scenario = load_scenario(variant).scenario
    log = tmp_path / "simulated.parquet"
    table = purchase_table(0, simulate(scenario, 3))
    pq.write_table(table, log)
    simulated = calibrate(CalibrationRequest(log, ENGINE_COLUMNS, unit=TimeUnit.week, observation_end="273"))
    assert simulated.summary.customers == 23570
    counts = np.vstack([simulated.histogram.actual, cdnow.histogram.actual])
    assert stats.chi2_contingency(counts).pvalue > 0.01, counts
    amounts = table.column("amount").to_numpy()
    price = cdnow.spend_model
    assert abs(amounts.mean() - price.mean_purchase_value()) < 4 * price.purchase_value_sd() / np.sqrt(
        amounts.size
    )
