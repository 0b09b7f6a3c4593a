"""Every shipped scenario loads, says where its numbers come from, and runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.metrics import compute_metrics
from engine.model.simulation import simulate
from engine.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "scenarios").rglob("*.yaml"))


def test_there_are_shipped_scenarios() -> None:
    assert len(SHIPPED) >= 15 + 23  # the main scenario and the seed examples (15), the library (23)


@pytest.mark.parametrize("path", SHIPPED, ids=[str(p.relative_to(ROOT)) for p in SHIPPED])
def test_a_shipped_scenario_loads_and_names_its_sources(path: Path) -> None:
    loaded = load_scenario(path)
    assert loaded.warnings == ()
    text = path.read_text(encoding="utf-8")
    assert text.startswith("#"), "a shipped scenario opens with a comment saying what it shows"
    header = text.split("\nmeta:")[0] if "\nmeta:" in text else text[:2000]
    assert "DOMAIN-FACTS" in header or "seed 0" in header.lower()  # where the numbers come from


@pytest.mark.slow
@pytest.mark.parametrize("path", SHIPPED, ids=[str(p.relative_to(ROOT)) for p in SHIPPED])
def test_a_shipped_scenario_runs(path: Path) -> None:
    ledger = simulate(load_scenario(path).scenario, seed=1)
    metrics = compute_metrics(ledger)
    assert metrics["visitors"] > 0
    assert metrics["profit"] == pytest.approx(metrics["gross_margin"] - metrics["total_cost"])
