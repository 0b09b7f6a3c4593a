"""Fixtures for the tests of running at scale: a scenario slow enough to interrupt, and its reference run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from engine.cli import app

ROOT = Path(__file__).resolve().parents[2]
RETAIL = ROOT / "scenarios" / "retail_store_wecom.yaml"
SCALE_REPS = 16
SCALE_SEED = 11
RESULT_FILES = ("summary.json", "replications.csv", "series.json", "index.html", "summary.csv")
RUN_FOLDER = [  # every file of a finished run's folder, sorted
    "index.html",
    "replications.csv",
    "resolved.yaml",
    "run.json",
    "series.json",
    "summary.csv",
    "summary.json",
    "summary.xlsx",
]

SCALE_SCENARIO_YAML = f"""\
extends: {RETAIL}
meta: {{name: "Retail stores, a tenth of the traffic (scale tests)"}}
sources:
  - id: store_qr
    reach: {{organic_per_day: 120}}
  - id: douyin_ads
    reach: {{max_paid_per_day: 6000}}
"""


@dataclass(frozen=True)
class ReferenceRun:
    """An uninterrupted ``siyu run --workers 1`` of the scale scenario: its stdout and output files."""

    scenario: Path
    stdout: str
    files: dict[str, bytes]

    def assert_reproduced(self, result: Any, out: Path) -> None:
        """``result``, a run of the same scenario, reps and seed into ``out``, succeeded, printed and wrote
        the same bytes, and ``out`` holds a finished run's files and nothing else (no kept replications)."""
        assert result.exit_code == 0, result.output
        assert result.stdout == self.stdout
        assert read_results(out) == self.files
        assert sorted(p.name for p in out.iterdir()) == RUN_FOLDER


def read_results(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in RESULT_FILES}


@pytest.fixture(scope="session")
def scale_scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped retail scenario with a tenth of its traffic: stochastic, about 0.25 s a replication."""
    path = tmp_path_factory.mktemp("scale") / "retail_small.yaml"
    path.write_text(SCALE_SCENARIO_YAML, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def reference_run(scale_scenario: Path, tmp_path_factory: pytest.TempPathFactory) -> ReferenceRun:
    out = tmp_path_factory.mktemp("reference") / "out"
    result = CliRunner().invoke(
        app,
        [
            *("run", str(scale_scenario), "--reps", str(SCALE_REPS), "--seed", str(SCALE_SEED)),
            *("--workers", "1", "--format", "json", "--out", str(out)),
        ],
    )
    assert result.exit_code == 0, result.output
    return ReferenceRun(scale_scenario, result.stdout, read_results(out))
