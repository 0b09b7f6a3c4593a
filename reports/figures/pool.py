"""The private-domain pool over time: stacked by lifecycle stage, and animated by stage and carrier."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from engine.ledger import Stage
from reports.figures.common import STAGE_COLORS, color, empty, style
from reports.labels import Lang, stage_label, text
from reports.loading import RunResults

MAX_FRAMES = 60
"""Frames of the animation at most (stage reviews are subsampled evenly beyond that)."""


def _anyone(pool: dict[str, Any]) -> bool:
    """Whether anyone was in the pool at some review (by stage or on a carrier)."""
    bands = [*pool["stages"].values(), *pool["carriers"].values()]
    return any(value for band in bands for value in band["mean"] if value)


def plot_pool(results: RunResults, lang: Lang) -> go.Figure:
    """Members present at each stage review, stacked by lifecycle stage (means over replications)."""
    pool = results.series["pool"]
    days = pool["days"]
    if not days:
        return empty(text("no_data", lang))
    if not _anyone(pool):
        return empty(text("no_members", lang))
    figure = go.Figure()
    for name, band in pool["stages"].items():
        stage = Stage[name.upper()]
        label = stage_label(stage, lang)
        figure.add_trace(
            go.Scatter(
                x=days,
                y=band["mean"],
                name=label,
                stackgroup="pool",
                mode="lines",
                line={"width": 0.5, "color": STAGE_COLORS[stage]},
                fillcolor=STAGE_COLORS[stage],
                hovertemplate=f"{text('day', lang)} %{{x:.0f}}: %{{y:,.0f}}<extra>{label}</extra>",
            )
        )
    figure.update_xaxes(title=text("day", lang))
    figure.update_yaxes(title=text("members", lang), tickformat=",.0f")
    return style(figure)


def frame_indices(count: int, limit: int = MAX_FRAMES) -> list[int]:
    """At most ``limit`` review indices, evenly spread, always including the first and the last."""
    if count <= limit:
        return list(range(count))
    return sorted({round(float(i)) for i in np.linspace(0, count - 1, limit)})


def _counts_bar(names: list[str], counts: Any, colors: list[str], **axes: str) -> go.Bar:
    """Members per group as labelled bars (``axes``: the subplot's ``xaxis``/``yaxis`` when not the first)."""
    return go.Bar(
        x=names,
        y=counts,
        marker={"color": colors},
        showlegend=False,
        texttemplate="%{y:,.0f}",
        textposition="outside",
        hovertemplate="%{x}: %{y:,.0f}<extra></extra>",
        **axes,
    )


def plot_pool_animation(results: RunResults, lang: Lang) -> go.Figure:
    """Members by lifecycle stage (left) and by carrier (right) at each review, with a play button and a
    day slider (frames: one per review, at most :data:`MAX_FRAMES`)."""
    pool, series = results.series["pool"], results.series
    days = pool["days"]
    if not days:
        return empty(text("no_data", lang))
    if not _anyone(pool):
        return empty(text("no_members", lang))
    stages = [Stage[name.upper()] for name in pool["stages"]]
    stage_names = [stage_label(stage, lang) for stage in stages]
    stage_counts = np.array([band["mean"] for band in pool["stages"].values()], dtype=np.float64).T
    carriers = series["carrier"]
    carrier_names = [results.label("carrier", c, lang) for c in carriers]
    carrier_counts = np.array([pool["carriers"][c]["mean"] for c in carriers], dtype=np.float64).T.reshape(
        len(days), len(carriers)
    )
    stage_colors = [STAGE_COLORS[stage] for stage in stages]
    carrier_colors = [color(i + 1) for i in range(len(carriers))]

    def bars(i: int) -> list[go.Bar]:
        return [
            _counts_bar(stage_names, stage_counts[i], stage_colors),
            _counts_bar(carrier_names, carrier_counts[i], carrier_colors, xaxis="x2", yaxis="y2"),
        ]

    figure = make_subplots(rows=1, cols=2, subplot_titles=(text("by_stage", lang), text("by_carrier", lang)))
    indices = frame_indices(len(days))
    start = next((n for n, i in enumerate(indices) if np.nansum(stage_counts[i]) > 0), 0)
    first = bars(indices[start])
    figure.add_trace(first[0], row=1, col=1)
    figure.add_trace(first[1], row=1, col=2)
    figure.frames = [go.Frame(data=bars(i), traces=[0, 1], name=f"{days[i]:g}") for i in indices]
    top = max(float(np.nanmax(stage_counts, initial=0)), float(np.nanmax(carrier_counts, initial=0)), 1.0)
    figure.update_yaxes(range=[0, top * 1.15], tickformat=",.0f", title=text("members", lang), row=1, col=1)
    figure.update_yaxes(range=[0, top * 1.15], tickformat=",.0f", row=1, col=2)
    animate = {
        "frame": {"duration": 250, "redraw": True},
        "transition": {"duration": 150},
        "fromcurrent": True,
    }
    figure.update_layout(
        updatemenus=[
            {
                "type": "buttons",
                "direction": "left",
                "x": 0,
                "y": -0.12,
                "xanchor": "left",
                "yanchor": "top",
                "buttons": [
                    {"label": "▶ " + text("play", lang), "method": "animate", "args": [None, animate]},
                    {
                        "label": "❚❚ " + text("pause", lang),
                        "method": "animate",
                        "args": [[None], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}],
                    },
                ],
            }
        ],
        sliders=[
            {
                "active": start,
                "x": 0.22,
                "len": 0.78,
                "y": -0.06,
                "currentvalue": {"prefix": f"{text('day', lang)} "},
                "steps": [
                    {
                        "label": f"{days[i]:g}",
                        "method": "animate",
                        "args": [
                            [f"{days[i]:g}"],
                            {"frame": {"duration": 0, "redraw": True}, "mode": "immediate"},
                        ],
                    }
                    for i in indices
                ],
            }
        ],
    )
    figure = style(figure, height=560)
    figure.update_layout(margin={"b": 140})
    return figure
