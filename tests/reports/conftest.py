"""Fixtures of the report tests: one finished run folder written by ``siyu run --out`` (a small stochastic
retail scenario with tiers, two sources, two carriers), and its results as the report reads them."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from reports.loading import RunResults, load_results
from tests.engine.test_series import TIERED_RETAIL_YAML

REPS = 3
SEED = 4


@pytest.fixture(scope="session")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``siyu run tiered_retail.yaml --reps 3 --out DIR``: a finished run with its report (in Chinese)."""
    base = tmp_path_factory.mktemp("report_run")
    scenario = base / "tiered_retail.yaml"
    scenario.write_text(TIERED_RETAIL_YAML, encoding="utf-8")
    out = base / "out"
    result = CliRunner().invoke(
        app,
        ["run", str(scenario), "--reps", str(REPS), "--seed", str(SEED), "--workers", "1", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def results(run_folder: Path) -> RunResults:
    return load_results(run_folder)
