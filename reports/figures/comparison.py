"""The comparison report's figures: paired differences vs the baseline with CI bars (a forest plot per key
metric), and the plans' curves overlaid — retention, pool, payback, Lorenz — from each plan's ``series.json``.

Plan ``i`` is drawn in :func:`~reports.figures.common.color` ``(i)`` in every overlay, so a plan keeps its
colour from figure to figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from engine.compare.verdicts import BETTER
from engine.metrics import METRIC_INFO, RETENTION_DAYS
from reports.comparison import ComparisonResults
from reports.comparison_labels import difference_unit, text
from reports.figures.common import CLV_COLOR, GREY, LEFT_COLOR, band_traces, color, defined, empty, style
from reports.figures.concentration import equality_line, lorenz_axes, top_share
from reports.labels import Lang, metric_label

NEUTRAL_COLOR = "#332288"
"""A detectable difference on a metric with no agreed 'better' direction."""
PANEL_COLUMNS = 2


@dataclass(frozen=True)
class DifferencePoint:
    """One plan's paired difference on one metric, in the units drawn (shares in percentage points)."""

    plan: str
    diff: float | None
    ci_low: float | None
    ci_high: float | None
    detected: bool
    p_adjusted: float | None
    better: bool | None
    """Whether the change is better (None: the metric has no agreed direction, or nothing is defined)."""


def difference_points(comparison: ComparisonResults, metric: str) -> list[DifferencePoint]:
    """Every variant's difference to the baseline on ``metric`` (``comparison.json``'s diff_mean, ci_low,
    ci_high; ×100 for shares) and its verdict (detected after the comparison's adjustment)."""
    scale = 100.0 if METRIC_INFO[metric].unit == "share" else 1.0
    points = []
    for plan in range(1, len(comparison.names)):
        value = comparison.entry(plan)["vs_baseline"][metric]
        verdict = comparison.entry(plan)["verdicts"].get(metric, {})
        diff = value["diff_mean"]
        direction = BETTER.get(metric)
        better = None if direction is None or diff is None else (diff > 0) == (direction == "higher")
        points.append(
            DifferencePoint(
                plan=comparison.names[plan],
                diff=None if diff is None else diff * scale,
                ci_low=None if value["ci_low"] is None else value["ci_low"] * scale,
                ci_high=None if value["ci_high"] is None else value["ci_high"] * scale,
                detected=bool(verdict.get("detected", False)),
                p_adjusted=verdict.get("p_adjusted"),
                better=better,
            )
        )
    return points


def _number(value: float) -> str:
    """A difference for the hover label: two decimals, or three significant digits when small."""
    return f"{value:+,.2f}" if abs(value) >= 1 else f"{value:+.3g}"


def _category(point: DifferencePoint) -> tuple[str, str]:
    """The legend entry and colour of a point."""
    if not point.detected:
        return "not_detected", GREY
    if point.better is None:
        return "detected_neutral", NEUTRAL_COLOR
    return ("detected_better", CLV_COLOR) if point.better else ("detected_worse", LEFT_COLOR)


def plot_differences(comparison: ComparisonResults, lang: Lang) -> go.Figure:
    """A forest plot per key metric: each variant's mean paired difference to the baseline with its 95% CI
    bar, filled and coloured where the verdict claims a difference, hollow grey where it does not."""
    metrics = comparison.key_metrics
    if not metrics:
        return empty(text("no_data", lang))
    columns = min(PANEL_COLUMNS, len(metrics))
    rows = math.ceil(len(metrics) / columns)
    titles = []
    for metric in metrics:
        unit = difference_unit(METRIC_INFO[metric], comparison.currency, lang)
        titles.append(metric_label(METRIC_INFO[metric], lang) + (f" ({unit})" if unit else ""))
    figure = make_subplots(
        rows=rows, cols=columns, subplot_titles=titles, horizontal_spacing=0.22, vertical_spacing=0.5 / rows
    )
    shown: set[str] = set()
    for n, metric in enumerate(metrics):
        row, col = n // columns + 1, n % columns + 1
        for point in difference_points(comparison, metric):
            if point.diff is None:
                continue
            key, point_color = _category(point)
            low = point.ci_low if point.ci_low is not None else point.diff
            high = point.ci_high if point.ci_high is not None else point.diff
            adjusted = point.p_adjusted
            p_text = "" if adjusted is None else f"<br>{text('adjusted', lang)} {adjusted:.3g}"
            figure.add_trace(
                go.Scatter(
                    x=[point.diff],
                    y=[point.plan],
                    mode="markers",
                    name=text(key, lang),
                    legendgroup=key,
                    showlegend=key not in shown,
                    marker={
                        "size": 15,
                        "color": point_color,
                        "symbol": "diamond" if point.detected else "circle-open",
                        "line": {"width": 2, "color": point_color},
                    },
                    error_x={
                        "type": "data",
                        "symmetric": False,
                        "array": [high - point.diff],
                        "arrayminus": [point.diff - low],
                        "color": point_color,
                        "thickness": 3,
                        "width": 8,
                    },
                    hovertemplate=(
                        f"{point.plan}<br>Δ {_number(point.diff)} (95% CI {_number(low)} … {_number(high)})"
                        f"{p_text}<extra></extra>"
                    ),
                ),
                row=row,
                col=col,
            )
            shown.add(key)
        figure.add_vline(x=0, line={"color": "#333333", "width": 1.5}, row=row, col=col)
    figure.update_yaxes(autorange="reversed", automargin=True)
    figure.update_xaxes(zeroline=False)
    variants = len(comparison.names) - 1
    figure = style(figure, height=max(320, rows * (90 + 55 * variants) + 60))
    figure.update_annotations(font={"size": 16})
    return figure


def _no_curve(figure: go.Figure, lang: Lang) -> go.Figure | None:
    """The empty-figure notice when no plan had anything to draw."""
    return empty(text("no_data", lang)) if not figure.data else None


def plot_retention_overlay(comparison: ComparisonResults, lang: Lang) -> go.Figure:
    """Retention of all members by day after joining, one curve with its CI band per plan."""
    figure = go.Figure()
    last = 0.0
    for i, (name, plan) in enumerate(zip(comparison.names, comparison.plans, strict=True)):
        retention = plan.series["retention"]
        if defined(retention["all"]["mean"]):
            figure.add_traces(band_traces(retention["days"], retention["all"], name, color(i)))
            last = max(last, retention["days"][-1])
    if (notice := _no_curve(figure, lang)) is not None:
        return notice
    for day in RETENTION_DAYS:
        if day <= last:
            figure.add_vline(x=day, line={"dash": "dot", "color": "#999999", "width": 1})
            figure.add_annotation(x=day, y=1.04, text=f"d{day}", showarrow=False, yref="y")
    figure.update_xaxes(title=text("days_after_joining", lang))
    figure.update_yaxes(title=text("retention_axis", lang), tickformat=".0%", range=[0, 1.08])
    return style(figure)


def pool_totals(series: dict[str, Any]) -> list[float]:
    """Members present at each stage review: the sum of the lifecycle stages' means (churned excluded)."""
    if not series["pool"]["days"]:
        return []
    stages = series["pool"]["stages"].values()
    means = np.array([[v or 0.0 for v in band["mean"]] for band in stages], dtype=np.float64)
    return means.sum(axis=0).tolist()


def plot_pool_overlay(comparison: ComparisonResults, lang: Lang) -> go.Figure:
    """Members in the private domain at each stage review (means over replications), one line per plan."""
    figure = go.Figure()
    for i, (name, plan) in enumerate(zip(comparison.names, comparison.plans, strict=True)):
        totals = pool_totals(plan.series)
        if any(totals):
            figure.add_trace(
                go.Scatter(
                    x=plan.series["pool"]["days"],
                    y=totals,
                    mode="lines",
                    name=name,
                    line={"color": color(i), "width": 3},
                    hovertemplate=f"{text('day', lang)} %{{x:.0f}}: %{{y:,.0f}}<extra>{name}</extra>",
                )
            )
    if (notice := _no_curve(figure, lang)) is not None:
        return notice
    figure.update_xaxes(title=text("day", lang))
    figure.update_yaxes(title=text("members", lang), tickformat=",.0f", rangemode="tozero")
    return style(figure)


def plot_payback_overlay(comparison: ComparisonResults, lang: Lang) -> go.Figure:
    """Each plan's payback curve with its CI band, and its CAC as a dashed line of the same colour."""
    figure = go.Figure()
    for i, (name, plan) in enumerate(zip(comparison.names, comparison.plans, strict=True)):
        payback = plan.series["payback"]
        if not defined(payback["mean"]):
            continue
        days = list(range(len(payback["mean"])))
        figure.add_traces(band_traces(days, payback, name, color(i), hover_format=",.2f"))
        cac = plan.summary["metrics"]["cac"]["mean"]
        if cac is not None:
            label = text("cac_of", lang, plan=name)
            figure.add_trace(
                go.Scatter(
                    x=[days[0], days[-1]],
                    y=[cac, cac],
                    mode="lines",
                    name=label,
                    legendgroup="cac",
                    legendrank=1001 + i,  # after the plans' curves, in plan order
                    line={"color": color(i), "width": 2, "dash": "dash"},
                    hovertemplate=f"{label} %{{y:,.2f}}<extra></extra>",
                )
            )
    if (notice := _no_curve(figure, lang)) is not None:
        return notice
    figure.update_xaxes(title=text("days_after_first_purchase", lang))
    figure.update_yaxes(
        title=f"{text('cumulative_contribution', lang)} ({comparison.currency})", tickformat=",.0f"
    )
    return style(figure)


def plot_lorenz_overlay(comparison: ComparisonResults, lang: Lang) -> go.Figure:
    """Each plan's Lorenz curve of revenue with its CI band (its top-20% share in the legend), and the
    equality line."""
    figure = go.Figure()
    for i, (name, plan) in enumerate(zip(comparison.names, comparison.plans, strict=True)):
        lorenz = plan.series["lorenz"]
        if not defined(lorenz["mean"]):
            continue
        top = top_share(lorenz["mean"])
        label = name if top is None else text("top20_of", lang, plan=name, share=f"{top:.0%}")
        shares = np.linspace(0.0, 1.0, len(lorenz["mean"])).tolist()
        figure.add_traces(band_traces(shares, lorenz, label, color(i)))
    if (notice := _no_curve(figure, lang)) is not None:
        return notice
    figure.add_trace(equality_line(lang))
    figure.add_vline(x=0.8, line={"dash": "dot", "color": "#999999", "width": 1})
    lorenz_axes(figure, lang)
    return style(figure, height=520)
