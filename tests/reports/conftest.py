"""Fixtures of the report tests: one finished run folder written by ``siyu run --out`` (a small stochastic
retail scenario with tiers, two sources, two carriers), and its results as the report reads them; one
finished comparison folder written by ``siyu compare --out``; and for the browser tests, headless Chromium,
each report page opened in both languages and a folder for screenshots."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from typer.testing import CliRunner

from engine.cli import app
from reports.loading import RunResults, load_results
from tests.browser import chromium, screenshot_folder
from tests.engine.compare.conftest import BASE_YAML, VARIANTS
from tests.engine.test_series import TIERED_RETAIL_YAML
from tests.reports.browser import PageVisit, visiting

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


@pytest.fixture(scope="session")
def comparison_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``siyu compare base.yaml take.yaml take_more.yaml --reps 4 --select-best cac --out DIR`` (tiny plans of
    tests/engine/compare: a higher take rate lowers CAC): a finished comparison with its report in Chinese."""
    base = tmp_path_factory.mktemp("report_comparison")
    (base / "base.yaml").write_text(BASE_YAML, encoding="utf-8")
    for name in ("take.yaml", "take_more.yaml"):
        (base / name).write_text(VARIANTS[name], encoding="utf-8")
    out = base / "out"
    files = [str(base / name) for name in ("base.yaml", "take.yaml", "take_more.yaml")]
    options = ["--reps", "4", "--seed", "1", "--select-best", "cac", "--indifference", "0.1"]
    result = CliRunner().invoke(app, ["compare", *files, *options, "--workers", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium for a browser test module (which defines ``site``, the served reports)."""
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module", params=["zh", "en"])
def visit(request: pytest.FixtureRequest, browser: Browser, site: str) -> Iterator[PageVisit]:
    """The page opened once per language, with its console errors and requests recorded."""
    with visiting(browser, site, request.param) as seen:
        yield seen


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``$SIYU_SCREENSHOTS`` if set (to keep them), else a pytest temporary folder."""
    return screenshot_folder(tmp_path_factory.mktemp("screenshots"), "report")
