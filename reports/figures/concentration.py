"""The 20/80 concentration of revenue: the Lorenz curve with the top-20% share marked."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from reports.figures.common import GREY, HIGHLIGHT, band_traces, color, defined, empty, style
from reports.labels import Lang, text
from reports.loading import RunResults

TOP = 0.2


def top_share(lorenz_mean: list[float | None]) -> float | None:
    """Share of revenue from the top 20% of customers read off the Lorenz curve: 1 − L(0.8)."""
    k = round((1 - TOP) * (len(lorenz_mean) - 1))
    value = lorenz_mean[k]
    return None if value is None else 1.0 - value


def equality_line(lang: Lang) -> go.Scatter:
    """The Lorenz curve of perfect equality: the diagonal from (0, 0) to (1, 1), dashed grey."""
    return go.Scatter(
        x=[0, 1],
        y=[0, 1],
        mode="lines",
        name=text("equality", lang),
        hoverinfo="skip",
        line={"color": GREY, "dash": "dash"},
    )


def lorenz_axes(figure: go.Figure, lang: Lang) -> None:
    """Title and scale the axes of a Lorenz figure: share of customers (x), share of revenue (y)."""
    figure.update_xaxes(title=text("customers_share", lang), tickformat=".0%", range=[0, 1])
    figure.update_yaxes(title=text("revenue_share", lang), tickformat=".0%", range=[0, 1.02])


def plot_lorenz(results: RunResults, lang: Lang) -> go.Figure:
    """Cumulative revenue share of customers ranked from lowest to highest spend, the equality line, and
    the point at 80% of customers whose gap to 100% is the top-20% revenue share."""
    lorenz = results.series["lorenz"]
    if not defined(lorenz["mean"]):
        return empty(text("no_data", lang))
    shares = np.linspace(0.0, 1.0, len(lorenz["mean"])).tolist()
    figure = go.Figure()
    figure.add_trace(equality_line(lang))
    for trace in band_traces(shares, lorenz, text("lorenz_curve", lang), color(0)):
        figure.add_trace(trace)
    top = top_share(lorenz["mean"])
    if top is not None:
        label = text("top20", lang, share=f"{top:.0%}")
        figure.add_trace(
            go.Scatter(
                x=[1 - TOP, 1 - TOP],
                y=[1 - top, 1.0],
                mode="lines+markers",
                name=label,
                line={"color": HIGHLIGHT, "width": 4},
                marker={"size": 10},
                hovertemplate=f"{label}<extra></extra>",
            )
        )
        figure.add_annotation(
            x=1 - TOP, y=1 - top / 2, text=label, showarrow=True, ax=-120, ay=0, font={"color": HIGHLIGHT}
        )
    lorenz_axes(figure, lang)
    return style(figure, height=520)
