"""What the page shows for a run: key metrics beside the baseline's, their paired differences, and figures.

Metrics come from :meth:`engine.runner.RunResult.summary` (mean and 95% CI) and
:func:`engine.stats.paired_difference` (variant − baseline over replications that share their random
numbers). Figures are the run report's own (:data:`reports.figures.catalogue.FIGURES`), drawn from the run
in memory rather than from a result folder, in both languages so the page can switch without a rerun.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from engine.metrics import METRIC_INFO
from engine.output import run_summary
from engine.runner import RunResult
from engine.scenario import Scenario
from engine.stats import paired_difference
from reports.figures.catalogue import FIGURES
from reports.labels import LANGS, metric_definition, text
from reports.loading import RunResults

KEY_METRICS: tuple[str, ...] = (
    "new_members",
    "new_customers",
    "cost_per_member",
    "cac",
    "retention_d90",
    "repurchase_rate",
    "clv",
    "ltv_cac",
    "net_value",
    "payback_days",
    "revenue",
    "profit",
    "members_end",
)
"""Metrics every scenario shows, in page order (those undefined in both runs are left out)."""

STAFF_METRICS: tuple[str, ...] = ("staff_utilisation", "mean_wait_days", "unserved_leads")
"""Shown when the scenario has staff."""
CAMPAIGN_METRICS: tuple[str, ...] = ("touches_per_member", "annoyance_exits")
"""Shown when the scenario has campaigns."""

FIGURE_KEYS: tuple[str, ...] = ("funnel", "retention_carrier", "pool", "waterfall")
"""The report's figures the page draws for baseline and variant, side by side."""


def shown_metrics(scenario: Scenario) -> tuple[str, ...]:
    """The metric names the page lists for ``scenario``."""
    names = KEY_METRICS
    if scenario.campaigns:
        names += CAMPAIGN_METRICS
    if scenario.staff:
        names += STAFF_METRICS
    return names


def metric_rows(baseline: RunResult, variant: RunResult) -> list[dict[str, Any]]:
    """Per shown metric: names, unit, definitions, baseline and variant (mean, CI) and the paired difference.

    Both runs must have the same reps and seed (common random numbers).
    """
    before, after = baseline.summary(), variant.summary()
    rows: list[dict[str, Any]] = []
    for name in shown_metrics(variant.scenario):
        if before[name].mean is None and after[name].mean is None:
            continue
        info = METRIC_INFO[name]
        difference = paired_difference(
            [r.metrics[name] for r in baseline.replications], [r.metrics[name] for r in variant.replications]
        )
        rows.append(
            {
                "name": name,
                "zh": info.zh,
                "en": info.en,
                "unit": info.unit,
                "definition": {lang: metric_definition(name, lang) for lang in LANGS},
                "missing": info.missing,
                "baseline": before[name].as_json(),
                "variant": after[name].as_json(),
                "difference": difference.as_json(),
            }
        )
    return rows


def run_results(result: RunResult, path: Path) -> RunResults:
    """``result`` as the report's figures read a finished run (without writing a folder)."""
    series = result.series_summary()
    if series is None:
        raise ValueError("the run kept no figure data; run it with series=True")
    return RunResults(
        path=path,
        summary=run_summary(result.scenario.meta.name, result),
        series=series,
        scenario=result.scenario,
        resolved_yaml="",
        manifest={},
    )


class FigureCache:
    """The plotly JSON of a run's figures, drawn once per run (a run's result is immutable)."""

    def __init__(self, size: int = 32) -> None:
        self._size = size
        self._drawn: OrderedDict[int, tuple[RunResult, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def draw(self, result: RunResult, path: Path) -> dict[str, Any]:
        """Per key of :data:`FIGURE_KEYS`: ``{"figure": {lang: plotly JSON}, "caption": {lang: text}}``."""
        with self._lock:
            kept = self._drawn.get(id(result))
            if kept is not None and kept[0] is result:
                return kept[1]
        results = run_results(result, path)
        specs = {spec.key: spec for spec in FIGURES}
        drawn = {
            key: {
                "figure": {lang: json.loads(specs[key].plot(results, lang).to_json()) for lang in LANGS},
                "caption": {lang: specs[key].caption(results, lang) for lang in LANGS},
            }
            for key in FIGURE_KEYS
        }
        with self._lock:
            self._drawn[id(result)] = (result, drawn)
            while len(self._drawn) > self._size:
                self._drawn.popitem(last=False)
        return drawn


def figures(baseline: RunResult, variant: RunResult, path: Path, cache: FigureCache) -> list[dict[str, Any]]:
    """The page's figures: per figure, its title and caption, and baseline's and variant's plotly JSON."""
    before, after = cache.draw(baseline, path), cache.draw(variant, path)
    specs = {spec.key: spec for spec in FIGURES}
    return [
        {
            "key": key,
            "title": {lang: text(specs[key].title_key, lang) for lang in LANGS},
            "caption": after[key]["caption"],
            "baseline": before[key]["figure"],
            "variant": after[key]["figure"],
        }
        for key in FIGURE_KEYS
    ]
