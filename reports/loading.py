"""Reading a result folder (``siyu run … --out DIR``) into :class:`RunResults`, the data every figure reads.

The report never runs the model: it reads ``summary.json`` (metrics with CIs), ``series.json`` (figure data
over replications, :mod:`engine.series`), ``resolved.yaml`` (the scenario as run: labels and assumptions)
and ``run.json`` (what was run). A folder that is not a finished run gets a :class:`ReportError` saying what
is missing and how to make it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import ScenarioError, SiyuError
from engine.run_folder import MANIFEST, RESOLVED, SERIES, SUMMARY
from engine.scenario import Scenario, load_scenario
from reports.labels import Lang

COMPARISON = "comparison.json"
"""The file a ``siyu compare … --out DIR`` folder is recognised by."""
SUMMARY_KEYS = ("scenario", "reps", "seed", "metrics", "breakdown")


class ReportError(SiyuError):
    """A folder cannot be turned into a report: not a result folder, incomplete, or a damaged file."""


@dataclass(frozen=True)
class RunResults:
    """A finished run's results, as the report reads them."""

    path: Path
    summary: dict[str, Any]
    """``summary.json``: ``{"scenario", "reps", "seed", "metrics", "breakdown"}``."""
    series: dict[str, Any]
    """``series.json``: figure data over replications (:func:`engine.series.summarize_series`)."""
    scenario: Scenario
    """The scenario as run (``resolved.yaml``)."""
    resolved_yaml: str
    manifest: dict[str, Any]
    """``run.json`` (empty if the folder has none)."""

    @property
    def reps(self) -> int:
        """Replications of the run."""
        return int(self.summary["reps"])

    @property
    def currency(self) -> str:
        """The scenario's currency (ISO 4217)."""
        return self.scenario.meta.currency

    def label(self, dimension: str, item_id: str, lang: Lang) -> str:
        """The display name of a source, lure, carrier, tier or campaign (its id if it has no label)."""
        items = {
            "source": self.scenario.sources,
            "lure": self.scenario.lures,
            "carrier": self.scenario.carriers,
            "tier": self.scenario.tiers,
            "campaign": self.scenario.campaigns,
        }[dimension]
        for item in items:
            if item.id == item_id:
                return getattr(item.label, lang) or item_id
        return item_id


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as error:
        raise ReportError(f"{path}: cannot be read as {what} ({error})") from None


def load_results(path: Path) -> RunResults:
    """The results in ``path``, or a :class:`ReportError` saying what is missing."""
    if not path.is_dir():
        what = "a file, not a folder" if path.exists() else "no such folder"
        raise ReportError(f"{path}: {what}; give the --out folder of a finished `siyu run FILE --out DIR`")
    if (path / COMPARISON).is_file() and not (path / SUMMARY).is_file():
        raise ReportError(
            f"{path}: holds a comparison ({COMPARISON}), not a run; its report is "
            "reports.comparison_page.write_comparison_report (what `siyu report` calls for it)"
        )
    if not (path / SUMMARY).is_file():
        if (path / MANIFEST).is_file():
            raise ReportError(
                f"{path}: the run is not finished (no {SUMMARY}); finish it with `siyu run --resume {path}`"
            )
        raise ReportError(
            f"{path}: not a siyu result folder (no {SUMMARY}); make one with `siyu run FILE --out {path}`"
        )
    summary = _read_json(path / SUMMARY, "a run summary")
    missing = [key for key in SUMMARY_KEYS if not isinstance(summary, dict) or key not in summary]
    if missing:
        raise ReportError(
            f"{path / SUMMARY}: not a run summary (missing {', '.join(missing)}); expected the "
            "summary.json that `siyu run --out` writes"
        )
    if not (path / SERIES).is_file():
        raise ReportError(
            f"{path}: no {SERIES} (the figure data, written by `siyu run --out` since reports exist); "
            f"run the scenario again with --out to get figures"
        )
    series = _read_json(path / SERIES, "figure data")
    if not isinstance(series, dict) or "flow" not in series or series.get("reps") != summary["reps"]:
        raise ReportError(
            f"{path / SERIES}: not the figure data of this run (reps {series.get('reps')!r} "
            f"vs {summary['reps']!r} in {SUMMARY}); run the scenario again with --out"
            if isinstance(series, dict)
            else f"{path / SERIES}: not figure data (expected a JSON object)"
        )
    if not (path / RESOLVED).is_file():
        raise ReportError(f"{path}: no {RESOLVED} (the scenario as run); run the scenario again with --out")
    try:
        scenario = load_scenario(path / RESOLVED).scenario
    except ScenarioError as error:
        raise ReportError(f"{path / RESOLVED}: the scenario of this run no longer loads:\n{error}") from None
    manifest = _read_json(path / MANIFEST, "a run manifest") if (path / MANIFEST).is_file() else {}
    return RunResults(
        path=path,
        summary=summary,
        series=series,
        scenario=scenario,
        resolved_yaml=(path / RESOLVED).read_text(encoding="utf-8"),
        manifest=manifest if isinstance(manifest, dict) else {},
    )
