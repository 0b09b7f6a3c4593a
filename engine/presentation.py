"""Terminal tables of results (rich), metrics labelled in Chinese and English."""

from __future__ import annotations

from rich.table import Table

from engine.metrics import METRICS, MetricInfo
from engine.stats import Summary


def format_value(value: float | None, info: MetricInfo, currency: str) -> str:
    """A number as a reader expects it: shares in %, money with the currency, counts as integers."""
    if value is None:
        return "—"
    if info.unit == "share":
        return f"{100 * value:.1f}%"
    if info.unit == "money":
        return f"{value:,.2f} {currency}" if abs(value) < 1e4 else f"{value:,.0f} {currency}"
    if info.unit == "count":
        return f"{value:,.1f}" if value != round(value) else f"{value:,.0f}"
    if info.unit == "days":
        return f"{value:,.1f}"
    return f"{value:,.3f}"


def _ci(summary: Summary, info: MetricInfo, currency: str) -> str:
    if summary.ci_low is None or summary.ci_high is None:
        return "—"
    low = format_value(summary.ci_low, info, currency)
    high = format_value(summary.ci_high, info, currency)
    return f"{low} … {high}"


def _note(summary: Summary, info: MetricInfo) -> str:
    if summary.defined == 0:
        return f"undefined: {info.missing}"
    notes = []
    if summary.defined < summary.reps:
        notes.append(
            f"defined in {summary.defined} of {summary.reps} replications ({info.missing} in the rest)"
        )
    if summary.ci_low is None:
        notes.append("one replication: no CI (use --reps ≥ 2)")
    return "; ".join(notes)


def metrics_table(title: str, summaries: dict[str, Summary], currency: str) -> Table:
    """Mean and 95% CI of every metric, with the reason when a value is missing."""
    table = Table(title=title, title_justify="left")
    table.add_column("指标", no_wrap=True)
    table.add_column("metric", no_wrap=True)
    table.add_column("mean 均值", justify="right")
    table.add_column("95% CI 置信区间", justify="right")
    table.add_column("note 说明")
    for info in METRICS:
        summary = summaries[info.name]
        table.add_row(
            info.zh,
            info.name,
            format_value(summary.mean, info, currency),
            _ci(summary, info, currency),
            _note(summary, info),
        )
    return table


BREAKDOWN_COLUMNS = (
    "visitors",
    "new_members",
    "new_customers",
    "cac",
    "retention_d90",
    "clv",
    "net_value",
    "members_end",
)
DIMENSION_LABELS = {"source": "来源 source", "lure": "诱饵 lure", "carrier": "承接平台 carrier"}


def breakdown_table(dimension: str, groups: dict[str, dict[str, Summary]], currency: str) -> Table:
    """Key metrics (means) per source, lure or carrier."""
    by_name = {info.name: info for info in METRICS}
    table = Table(title=f"by {DIMENSION_LABELS[dimension]}", title_justify="left")
    table.add_column(dimension)
    for name in BREAKDOWN_COLUMNS:
        table.add_column(f"{by_name[name].zh}\n{name}", justify="right")
    for group, summaries in groups.items():
        table.add_row(
            group,
            *(format_value(summaries[name].mean, by_name[name], currency) for name in BREAKDOWN_COLUMNS),
        )
    return table
