"""Value: the CLV distribution, CLV vs CAC by source (LTV:CAC), and the payback curve."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from reports.figures.common import CAC_COLOR, CLV_COLOR, GREY, band_traces, color, defined, empty, style
from reports.labels import Lang, text
from reports.loading import RunResults

HISTOGRAM_BINS = 30
TAIL_QUANTILE = 0.99
"""The CLV histogram's axis ends at this quantile; its last bar holds the customers beyond."""


def _mean(results: RunResults, name: str) -> float | None:
    return results.summary["metrics"][name]["mean"]


def clv_histogram(
    quantiles: list[float], bins: int = HISTOGRAM_BINS, upper: float = TAIL_QUANTILE
) -> tuple[np.ndarray, np.ndarray]:
    """Equal-width bins from the lowest CLV to the ``upper`` quantile and the share of customers in each,
    from the (mean) quantile function ``quantiles`` at 0, 1/(n−1), …, 1; the last bin also holds the
    customers above the ``upper`` quantile (the long tail), so the shares sum to 1. Returns
    ``(edges, shares)``."""
    q = np.asarray(quantiles, dtype=np.float64)
    p = np.linspace(0.0, 1.0, q.size)
    low, high = float(q[0]), float(np.interp(upper, p, q))
    if high - low <= 1e-9 * max(1.0, abs(high)):
        high = float(q[-1])
    if high - low <= 1e-9 * max(1.0, abs(high)):
        return np.array([low - 0.5, low + 0.5]), np.array([1.0])
    edges = np.linspace(low, high, bins + 1)
    cdf = np.interp(edges, q, p)
    cdf[0], cdf[-1] = 0.0, 1.0
    return edges, np.diff(cdf)


def plot_clv_distribution(results: RunResults, lang: Lang) -> go.Figure:
    """Share of CLV-cohort customers by their own CLV, with mean CLV and CAC marked."""
    quantiles = results.series["clv_quantiles"]["mean"]
    if not defined(quantiles):
        return empty(text("no_data", lang))
    edges, shares = clv_histogram(quantiles)
    currency = results.currency
    figure = go.Figure(
        go.Bar(
            x=(edges[:-1] + edges[1:]) / 2,
            y=shares,
            width=np.diff(edges),
            marker={"color": color(0), "line": {"width": 0}},
            customdata=np.stack((edges[:-1], edges[1:]), axis=1),
            hovertemplate=(
                f"%{{customdata[0]:,.0f}} – %{{customdata[1]:,.0f}} {currency}: %{{y:.1%}}<extra></extra>"
            ),
            name=text("customers_share", lang),
        )
    )
    for name, label, line_color, height in (
        ("clv", "mean_clv", CLV_COLOR, 1.0),
        ("cac", "cac_axis", CAC_COLOR, 0.92),
    ):
        value = _mean(results, name)
        if value is not None:
            figure.add_vline(x=value, line={"color": line_color, "width": 3, "dash": "dash"})
            figure.add_annotation(
                x=value,
                y=height,
                yref="paper",
                text=f"{text(label, lang)} {value:,.0f}",
                showarrow=False,
                xanchor="left",
                yanchor="bottom",
                font={"color": line_color},
            )
    figure.update_xaxes(title=f"{text('clv_axis', lang)} ({currency})", tickformat=",.0f")
    figure.update_yaxes(title=text("customers_share", lang), tickformat=".0%")
    return style(figure)


def _ci_error(summary: dict[str, Any]) -> tuple[float, float]:
    mean, low, high = summary["mean"], summary["ci_low"], summary["ci_high"]
    if low is None or high is None:
        return 0.0, 0.0
    return high - mean, mean - low


def clv_cac_points(results: RunResults, lang: Lang) -> list[dict[str, Any]]:
    """Per source with both CLV and CAC defined: its name, CAC and CLV (means) and their CI half-widths."""
    points = []
    for source, metrics in results.summary["breakdown"].get("source", {}).items():
        clv, cac = metrics["clv"], metrics["cac"]
        if clv["mean"] is None or cac["mean"] is None:
            continue
        points.append(
            {
                "name": results.label("source", source, lang),
                "cac": cac["mean"],
                "clv": clv["mean"],
                "cac_error": _ci_error(cac),
                "clv_error": _ci_error(clv),
            }
        )
    return points


def plot_clv_vs_cac(results: RunResults, lang: Lang) -> go.Figure:
    """CLV against CAC per source with CI error bars, the break-even line CLV = CAC and CLV = 3 × CAC."""
    points = clv_cac_points(results, lang)
    if not points:
        return empty(text("no_data", lang))
    currency = results.currency
    figure = go.Figure()
    right = max(max(p["cac"] + p["cac_error"][0] for p in points) * 1.3, 1e-9)
    top = max(max(p["clv"] + p["clv_error"][0] for p in points) * 1.2, 1e-9)
    for factor, label, dash in ((1, "break_even", "solid"), (3, "three_times", "dot")):
        end = min(right, top / factor)
        figure.add_trace(
            go.Scatter(
                x=[0, end],
                y=[0, end * factor],
                mode="lines",
                name=text(label, lang),
                line={"color": GREY, "dash": dash, "width": 2},
                hoverinfo="skip",
            )
        )
    for i, point in enumerate(points):
        ratio = point["clv"] / point["cac"] if point["cac"] else float("nan")
        figure.add_trace(
            go.Scatter(
                x=[point["cac"]],
                y=[point["clv"]],
                mode="markers+text",
                name=point["name"],
                text=[point["name"]],
                textposition="top right",
                marker={"size": 16, "color": color(i)},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": [point["cac_error"][0]],
                    "arrayminus": [point["cac_error"][1]],
                },
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [point["clv_error"][0]],
                    "arrayminus": [point["clv_error"][1]],
                },
                hovertemplate=(
                    f"{point['name']}<br>CAC %{{x:,.2f}} {currency}<br>CLV %{{y:,.2f}} {currency}"
                    f"<br>LTV:CAC {ratio:.2f}<extra></extra>"
                ),
            )
        )
    figure.update_xaxes(title=f"{text('cac_axis', lang)} ({currency})", range=[0, right], tickformat=",.2~f")
    figure.update_yaxes(title=f"CLV ({currency})", range=[0, top], tickformat=",.0f")
    return style(figure)


def plot_payback(results: RunResults, lang: Lang) -> go.Figure:
    """The CLV cohort's mean cumulative contribution by day after the first purchase, against CAC."""
    payback = results.series["payback"]
    if not defined(payback["mean"]):
        return empty(text("no_data", lang))
    currency = results.currency
    days = list(range(len(payback["mean"])))
    figure = go.Figure(
        band_traces(days, payback, text("cumulative_contribution", lang), color(0), hover_format=",.2f")
    )
    cac = results.summary["metrics"]["cac"]
    if cac["mean"] is not None:
        if cac["ci_low"] is not None and cac["ci_high"] is not None:
            figure.add_hrect(
                y0=cac["ci_low"], y1=cac["ci_high"], fillcolor=CAC_COLOR, opacity=0.12, line_width=0
            )
        figure.add_hline(y=cac["mean"], line={"color": CAC_COLOR, "width": 3, "dash": "dash"})
        figure.add_annotation(
            x=days[-1],
            y=cac["mean"],
            text=f"CAC {cac['mean']:,.0f}",
            showarrow=False,
            xanchor="right",
            yanchor="bottom",
            font={"color": CAC_COLOR},
        )
    day = _mean(results, "payback_days")
    if day is not None:
        figure.add_vline(x=day, line={"color": CLV_COLOR, "width": 2, "dash": "dot"})
        figure.add_annotation(
            x=day,
            y=1.0,
            yref="paper",
            text=text("payback_at", lang, day=f"{day:,.0f}"),
            showarrow=False,
            xanchor="left",
            yanchor="bottom",
            font={"color": CLV_COLOR},
        )
    figure.update_xaxes(title=text("days_after_first_purchase", lang))
    figure.update_yaxes(title=f"{text('cumulative_contribution', lang)} ({currency})", tickformat=",.0f")
    return style(figure)
