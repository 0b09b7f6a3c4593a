"""Reading a comparison folder (``siyu compare … --out DIR``) into :class:`ComparisonResults`.

The comparison report never runs the model: it reads ``comparison.json`` (each plan's metrics, its paired
differences to the baseline, the verdicts and the selection) and, for every plan, the folder
``plans/NN-<stem>/`` as a run folder (:func:`reports.loading.load_results`: ``summary.json``, ``series.json``,
``resolved.yaml``) and its ``replications.csv`` (in how many replications both plans defined a metric). A
folder that is not a finished comparison gets a :class:`~reports.loading.ReportError` naming what is wrong.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.compare.verdicts import Adjustment
from engine.metrics import METRIC_NAMES
from engine.run_folder import SERIES, SUMMARY
from engine.stats import Difference
from reports.loading import COMPARISON, ReportError, RunResults, _read_json, load_results

PLANS = "plans"
REPLICATIONS_CSV = "replications.csv"
COMPARISON_KEYS = ("baseline", "reps", "seed", "scenarios", "key_metrics", "multiple_comparisons")
SCENARIO_KEYS = ("scenario", "metrics", "vs_baseline", "verdicts")
AGAIN = "run the comparison again with `siyu compare … --out DIR --force`"


@dataclass(frozen=True)
class ComparisonResults:
    """A finished comparison as the report reads it; plan 0 is the baseline."""

    path: Path
    data: dict[str, Any]
    """``comparison.json``."""
    plans: tuple[RunResults, ...]
    """Each plan's folder read as a run (summary, figure data, resolved scenario), in the order compared."""
    folders: tuple[str, ...]
    """Each plan's folder name under ``plans/`` (``01-base``, …)."""
    pairs: tuple[dict[str, int], ...]
    """Per plan and metric, replications in which both it and the baseline have a value (0 for the
    baseline)."""

    @property
    def names(self) -> tuple[str, ...]:
        """Each plan's name, as in ``comparison.json`` (the baseline first)."""
        return tuple(entry["scenario"] for entry in self.data["scenarios"])

    @property
    def reps(self) -> int:
        return int(self.data["reps"])

    @property
    def seed(self) -> int:
        return int(self.data["seed"])

    @property
    def currency(self) -> str:
        return self.plans[0].currency

    @property
    def key_metrics(self) -> tuple[str, ...]:
        return tuple(self.data["key_metrics"])

    @property
    def adjustment(self) -> Adjustment:
        return Adjustment(self.data["multiple_comparisons"])

    @property
    def selection(self) -> dict[str, Any] | None:
        """The ``"selection"`` object of ``--select-best``, or None."""
        return self.data.get("selection")

    def entry(self, plan: int) -> dict[str, Any]:
        """Plan ``plan``'s object in ``comparison.json`` (metrics, vs_baseline, verdicts, file)."""
        return self.data["scenarios"][plan]

    def difference(self, plan: int, metric: str) -> Difference:
        """The paired difference of ``metric``, plan ``plan`` − baseline, as ``comparison.json`` has it."""
        value = self.entry(plan)["vs_baseline"][metric]
        return Difference(
            value["diff_mean"], value["ci_low"], value["ci_high"], value["p_value"], self.pairs[plan][metric]
        )


def is_comparison_folder(path: Path) -> bool:
    """``path`` holds a comparison (``comparison.json``) rather than a run (``summary.json``)."""
    return (path / COMPARISON).is_file() and not (path / SUMMARY).is_file()


def _check_comparison(path: Path, data: Any) -> None:
    if not isinstance(data, dict):
        raise ReportError(f"{path}: not a comparison (expected a JSON object); {AGAIN}")
    missing = [key for key in COMPARISON_KEYS if key not in data]
    if missing:
        raise ReportError(f"{path}: not a comparison (missing {', '.join(missing)}); {AGAIN}")
    scenarios = data["scenarios"]
    if not isinstance(scenarios, list) or len(scenarios) < 2:
        raise ReportError(f"{path}: a comparison needs two or more scenarios; {AGAIN}")
    for position, entry in enumerate(scenarios, start=1):
        lacking = [key for key in SCENARIO_KEYS if not isinstance(entry, dict) or key not in entry]
        if lacking:
            raise ReportError(f"{path}: scenario {position} lacks {', '.join(lacking)}; {AGAIN}")
    unknown = [m for m in data["key_metrics"] if m not in METRIC_NAMES]
    if unknown or data["multiple_comparisons"] not in {a.value for a in Adjustment}:
        raise ReportError(
            f"{path}: unknown key metrics {unknown} or adjustment {data['multiple_comparisons']!r}; {AGAIN}"
        )


def _replication_rows(folder: Path) -> list[dict[str, str]]:
    path = folder / REPLICATIONS_CSV
    try:
        rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ReportError(f"{path}: cannot be read ({error}); {AGAIN}") from None
    if not rows or any(name not in rows[0] for name in METRIC_NAMES):
        raise ReportError(f"{path}: not a plan's replications (a column per metric expected); {AGAIN}")
    return rows


def _pairs(baseline: Sequence[dict[str, str]], plan: Sequence[dict[str, str]]) -> dict[str, int]:
    """Per metric, the replications in which both plans have a value (an empty cell: undefined)."""
    return {
        name: sum(1 for b, v in zip(baseline, plan, strict=False) if b.get(name) and v.get(name))
        for name in METRIC_NAMES
    }


def _plan_folders(path: Path, count: int) -> list[Path]:
    plans = path / PLANS
    folders = sorted(p for p in plans.iterdir() if p.is_dir()) if plans.is_dir() else []
    if len(folders) != count:
        raise ReportError(
            f"{plans}: {len(folders)} plan folders for the {count} scenarios of {COMPARISON}; {AGAIN}"
        )
    return folders


def load_comparison(path: Path) -> ComparisonResults:
    """The comparison in ``path``, or a :class:`ReportError` saying what is missing or damaged."""
    if not path.is_dir():
        what = "a file, not a folder" if path.exists() else "no such folder"
        raise ReportError(f"{path}: {what}; give the --out folder of `siyu compare A.yaml B.yaml --out DIR`")
    if not (path / COMPARISON).is_file():
        raise ReportError(f"{path}: not a comparison folder (no {COMPARISON}); {AGAIN}")
    data = _read_json(path / COMPARISON, "a comparison")
    _check_comparison(path / COMPARISON, data)
    folders = _plan_folders(path, len(data["scenarios"]))
    plans, rows = [], []
    for folder, entry in zip(folders, data["scenarios"], strict=True):
        if not (folder / SERIES).is_file():
            raise ReportError(
                f"{folder}: no {SERIES} (the figure data, written by `siyu compare --out` since comparison "
                f"reports exist); {AGAIN}"
            )
        run = load_results(folder)
        if run.summary["scenario"] != entry["scenario"] or run.reps != data["reps"]:
            raise ReportError(
                f"{folder / SUMMARY}: plan {run.summary['scenario']!r} with {run.reps} replications does not "
                f"match {entry['scenario']!r} with {data['reps']} in {COMPARISON}; {AGAIN}"
            )
        plans.append(run)
        rows.append(_replication_rows(folder))
    return ComparisonResults(
        path=path,
        data=data,
        plans=tuple(plans),
        folders=tuple(folder.name for folder in folders),
        pairs=({name: 0 for name in METRIC_NAMES}, *(_pairs(rows[0], r) for r in rows[1:])),
    )
