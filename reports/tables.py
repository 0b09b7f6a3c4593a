"""The report's tables as rows of strings: metrics with CIs and definitions, breakdowns by group."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.metrics import DIMENSION_METRICS, METRIC_INFO, METRICS, MetricInfo
from engine.presentation import BREAKDOWN_ROWS, format_value
from reports.labels import Lang, metric_definition, metric_label, missing_reason, text
from reports.loading import RunResults

KEY_METRICS = ("cac", "clv", "ltv_cac", "retention_d90", "payback_days", "profit")
"""The numbers shown large at the top of the page."""


@dataclass(frozen=True)
class MetricRow:
    """One metric as the page shows it."""

    name: str
    label: str
    unit: str
    mean: str
    ci: str
    definition: str
    note: str


def unit_label(info: MetricInfo, currency: str) -> str:
    """The unit shown after a metric's name: the currency for money, nothing otherwise."""
    return currency if info.unit == "money" else ""


def _ci(summary: dict[str, Any], info: MetricInfo) -> str:
    if summary["ci_low"] is None or summary["ci_high"] is None:
        return "—"
    return f"{format_value(summary['ci_low'], info)} – {format_value(summary['ci_high'], info)}"


def _note(summary: dict[str, Any], info: MetricInfo, lang: Lang) -> str:
    if summary["mean"] is None:
        return text("undefined", lang, why=missing_reason(info, lang))
    if summary["ci_low"] is None:
        return text("no_ci", lang)
    return ""


def metric_rows(results: RunResults, lang: Lang) -> list[MetricRow]:
    """Every metric of the run: label, mean, 95% CI, definition (DESIGN.md) and why a value is missing."""
    metrics = results.summary["metrics"]
    return [
        MetricRow(
            name=info.name,
            label=metric_label(info, lang),
            unit=unit_label(info, results.currency),
            mean=format_value(metrics[info.name]["mean"], info),
            ci=_ci(metrics[info.name], info),
            definition=metric_definition(info.name, lang),
            note=_note(metrics[info.name], info, lang),
        )
        for info in METRICS
        if info.name in metrics
    ]


def key_numbers(results: RunResults, lang: Lang) -> list[MetricRow]:
    """The metrics of :data:`KEY_METRICS`, for the cards at the top."""
    rows = {row.name: row for row in metric_rows(results, lang)}
    return [rows[name] for name in KEY_METRICS if name in rows]


@dataclass(frozen=True)
class BreakdownTable:
    """One breakdown dimension: its title, its groups' names, and per metric a label and a cell per group."""

    dimension: str
    title: str
    groups: list[str]
    rows: list[tuple[str, list[str]]]


def breakdown_tables(results: RunResults, lang: Lang) -> list[BreakdownTable]:
    """Key metrics per source, lure, carrier; every metric per campaign and tier (means, CI in brackets)."""
    tables = []
    for dimension, groups in results.summary["breakdown"].items():
        if not groups or dimension not in DIMENSION_METRICS:
            continue
        infos = DIMENSION_METRICS[dimension]
        if infos is METRICS:
            infos = tuple(METRIC_INFO[name] for name in BREAKDOWN_ROWS)
        rows = []
        for info in infos:
            cells = []
            for metrics in groups.values():
                summary = metrics[info.name]
                cell = format_value(summary["mean"], info)
                if summary["ci_low"] is not None and summary["ci_high"] is not None:
                    cell += f" ({_ci(summary, info)})"
                cells.append(cell)
            unit = unit_label(info, results.currency)
            rows.append((metric_label(info, lang) + (f" ({unit})" if unit else ""), cells))
        tables.append(
            BreakdownTable(
                dimension=dimension,
                title=text(f"dim_{dimension}", lang),
                groups=[results.label(dimension, group, lang) for group in groups],
                rows=rows,
            )
        )
    return tables
