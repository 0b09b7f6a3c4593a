"""Terminal tables of results (rich), metrics labelled in Chinese and English."""

from __future__ import annotations

from rich.table import Table

from engine.metrics import DIMENSION_METRICS, METRIC_INFO, METRICS, MetricInfo
from engine.stats import Difference, Summary


def format_value(value: float | None, info: MetricInfo) -> str:
    """A number as a reader expects it: shares in %, money and counts with thousands separators."""
    if value is None:
        return "—"
    if info.unit == "share":
        return f"{100 * value:.1f}%"
    if info.unit == "money":
        return f"{value:,.2f}" if abs(value) < 1e5 else f"{value:,.0f}"
    if info.unit == "count":
        return f"{value:,.0f}" if value == round(value) or abs(value) >= 1e4 else f"{value:,.1f}"
    if info.unit == "days":
        return f"{value:,.1f}"
    return f"{value:,.2f}"


def metric_label(info: MetricInfo, currency: str) -> str:
    """A metric's Chinese and English names, with the currency of money: "获客成本 cac (CNY)"."""
    unit = f" ({currency})" if info.unit == "money" else ""
    return f"{info.zh} {info.name}{unit}"


def ci_text(summary: Summary, info: MetricInfo) -> str:
    """A summary's 95% CI as "low – high"; "—" when it has none."""
    if summary.ci_low is None or summary.ci_high is None:
        return "—"
    return f"{format_value(summary.ci_low, info)} – {format_value(summary.ci_high, info)}"


def difference_text(difference: Difference, info: MetricInfo) -> str:
    """A paired difference as "+mean (low – high, p=…)"; "—" when it is undefined."""
    if difference.diff_mean is None:
        return "—"
    sign = "+" if difference.diff_mean >= 0 else ""
    text = f"{sign}{format_value(difference.diff_mean, info)}"
    if difference.ci_low is not None and difference.ci_high is not None:
        text += f" ({format_value(difference.ci_low, info)} – {format_value(difference.ci_high, info)}"
        text += f", p={difference.p_value:.2g})" if difference.p_value is not None else ")"
    return text


def _note(summary: Summary, info: MetricInfo) -> str:
    if summary.defined == 0:
        return f"undefined: {info.missing}"
    notes = []
    if summary.defined < summary.reps:
        notes.append(
            f"defined in {summary.defined} of {summary.reps} replications ({info.missing} in the rest)"
        )
    if summary.ci_low is None:
        notes.append("one replication: no CI (use --reps ≥ 2)" if summary.reps == 1 else "one value: no CI")
    return "; ".join(notes)


def metrics_table(title: str, summaries: dict[str, Summary], currency: str) -> Table:
    """Mean and 95% CI of every metric, with the reason when a value is missing."""
    table = Table(title=title, title_justify="left")
    table.add_column("指标 metric", no_wrap=True)
    table.add_column("均值 mean", justify="right", no_wrap=True)
    table.add_column("95% 置信区间 CI", justify="right", no_wrap=True)
    table.add_column("说明 note")
    for info in METRICS:
        summary = summaries[info.name]
        table.add_row(
            metric_label(info, currency),
            format_value(summary.mean, info),
            ci_text(summary, info),
            _note(summary, info),
        )
    return table


BREAKDOWN_ROWS = (
    "visitors",
    "new_members",
    "new_customers",
    "acquisition_cost",
    "cac",
    "retention_d90",
    "repurchase_rate",
    "clv",
    "net_value",
    "members_end",
)
DIMENSION_LABELS = {
    "source": "来源 source",
    "lure": "诱饵 lure (the sources offering it)",
    "carrier": "承接平台 carrier (the sources whose path ends on it)",
    "campaign": "运营活动 campaign",
    "tier": "分层 tier (members at the end)",
}


def breakdown_table(dimension: str, groups: dict[str, dict[str, Summary]], currency: str) -> Table:
    """Key metrics (means over replications), one column per group of the dimension."""
    table = Table(title=f"by {DIMENSION_LABELS[dimension]}", title_justify="left")
    table.add_column("指标 metric", no_wrap=True)
    for group in groups:
        table.add_column(group, justify="right", no_wrap=True)
    infos = DIMENSION_METRICS[dimension]
    if infos is METRICS:
        infos = tuple(METRIC_INFO[name] for name in BREAKDOWN_ROWS)
    for info in infos:
        values = (format_value(groups[group][info.name].mean, info) for group in groups)
        table.add_row(metric_label(info, currency), *values)
    return table
