"""A comparison's JSON object (``siyu compare --format json``, ``comparison.json``) and its ``--out`` folder.

Folder layout (every file written atomically; ``comparison.json`` last, so its presence marks a complete
comparison)::

    comparison.json              the JSON object printed by --format json
    plans/01-<file stem>/        one folder per scenario, in the order given (01 is the baseline):
        resolved.yaml            the scenario with every default filled
        summary.json             its run's summary, as `siyu run --format json` prints it
        series.json              its figure data summarised over replications, as in a run folder
                                 (engine.series; the comparison report overlays the plans' curves)
        replications.csv         one row per replication (the paired replications: row i of every plan
                                 used the same random numbers)
    selection.csv                with --select-best: plan, replication, value of the metric, for every
                                 replication the selection procedure used
    index.html                   the comparison report (written by the CLI after the folder, from its
                                 files: engine never imports reports)
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.compare.paired import Comparison
from engine.compare.selection import Selection
from engine.compare.verdicts import Adjustment, Verdict
from engine.output import (
    dumps_compact_json,
    dumps_json,
    prepare_output_dir,
    replications_csv,
    run_summary,
    write_text_atomic,
)
from engine.run_folder import SERIES
from engine.scenario import LoadedScenario, resolved_yaml

COMPARISON_JSON = "comparison.json"
SELECTION_CSV = "selection.csv"
PLANS = "plans"
REPORT = "index.html"
"""The comparison report; removed with the results it showed when --force overwrites a comparison."""


def plan_folder_name(position: int, file: Path) -> str:
    """``01-retail_store_wecom``: the position (1 = baseline) and the file's stem, safe as a folder name."""
    stem = re.sub(r"[^\w.-]+", "_", file.stem).strip("._") or "scenario"
    return f"{position:02d}-{stem}"


def selection_json(selection: Selection, names: Sequence[str], metric: str, maximize: bool) -> dict[str, Any]:
    """The ``"selection"`` object: the procedure, its settings, the plan selected and every plan's part."""
    return {
        "procedure": "KN (Kim & Nelson 2001)",
        "metric": metric,
        "goal": "higher" if maximize else "lower",
        "indifference": selection.delta,
        "pcs": selection.pcs,
        "first_stage": selection.first_stage,
        "max_reps": selection.max_reps,
        "best": None if selection.best is None else names[selection.best],
        "contenders": [names[i] for i in selection.contenders],
        "plans": [{"scenario": names[i], **s.as_json()} for i, s in enumerate(selection.systems)],
    }


def comparison_json(
    comparison: Comparison,
    files: Sequence[Path],
    key_metrics: Sequence[str],
    adjustment: Adjustment,
    verdicts: Sequence[Sequence[Verdict]],
    selection: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON contract: baseline, reps, seed, scenarios (each with its metrics as run and its paired
    differences to the baseline); then the key metrics, the adjustment, each variant's verdicts and, with
    --select-best, the selection."""
    scenarios = []
    for plan, result in enumerate(comparison.results):
        summary = run_summary(comparison.names[plan], result)
        scenarios.append(
            {
                "scenario": comparison.names[plan],
                "metrics": summary["metrics"],
                "vs_baseline": {name: d.as_json() for name, d in comparison.vs_baseline[plan].items()},
                "file": str(files[plan]),
                "verdicts": {v.metric: v.as_json() for v in verdicts[plan]},
            }
        )
    data: dict[str, Any] = {
        "baseline": comparison.names[0],
        "reps": comparison.reps,
        "seed": comparison.seed,
        "scenarios": scenarios,
        "key_metrics": list(key_metrics),
        "multiple_comparisons": adjustment.value,
    }
    if selection is not None:
        data["selection"] = selection
    return data


def selection_csv(selection: Selection, names: Sequence[str]) -> str:
    """One row per replication the selection used: plan, replication, value."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["scenario", "replication", "value"])
    for plan, values in selection.observations.items():
        for index, value in enumerate(values):
            writer.writerow([names[plan], index, repr(value)])
    return buffer.getvalue()


def write_comparison_folder(
    path: Path,
    force: bool,
    loaded: Sequence[LoadedScenario],
    comparison: Comparison,
    data: dict[str, Any],
    selection: Selection | None = None,
) -> None:
    """Write the ``--out`` folder (see the module docstring); a non-empty folder needs ``force``."""
    prepare_output_dir(path, force)
    (path / COMPARISON_JSON).unlink(missing_ok=True)
    (path / SELECTION_CSV).unlink(missing_ok=True)
    (path / REPORT).unlink(missing_ok=True)
    if (path / PLANS).is_dir():  # --force over an earlier comparison: its plans go
        shutil.rmtree(path / PLANS)
    for position, (scenario, result) in enumerate(zip(loaded, comparison.results, strict=True), start=1):
        folder = path / PLANS / plan_folder_name(position, scenario.path)
        folder.mkdir(parents=True, exist_ok=True)
        write_text_atomic(folder / "resolved.yaml", resolved_yaml(scenario.scenario))
        summary = run_summary(comparison.names[position - 1], result)
        write_text_atomic(folder / "summary.json", dumps_json(summary) + "\n")
        write_text_atomic(folder / "replications.csv", replications_csv(result))
        series = result.series_summary()
        if series is not None:
            write_text_atomic(folder / SERIES, dumps_compact_json(series) + "\n")
    if selection is not None:
        write_text_atomic(path / SELECTION_CSV, selection_csv(selection, comparison.names))
    write_text_atomic(path / COMPARISON_JSON, dumps_json(data) + "\n")
