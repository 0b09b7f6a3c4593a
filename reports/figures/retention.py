"""Cohort retention curves with 95% CI bands, by carrier and by source."""

from __future__ import annotations

from typing import Literal

import plotly.graph_objects as go

from engine.metrics import RETENTION_DAYS
from reports.figures.common import band_traces, color, defined, empty, style
from reports.labels import Lang, text
from reports.loading import RunResults


def plot_retention(results: RunResults, lang: Lang, dimension: Literal["carrier", "source"]) -> go.Figure:
    """Share still in the private domain d days after joining: one curve per carrier (or source), and all
    members dashed; the ``retention_dN`` metrics are the points at d = 30, 90, 180."""
    retention = results.series["retention"]
    days = retention["days"]
    figure = go.Figure()
    for i, (group, curve) in enumerate(retention[dimension].items()):
        if defined(curve["mean"]):
            for trace in band_traces(days, curve, results.label(dimension, group, lang), color(i)):
                figure.add_trace(trace)
    if not figure.data:
        return empty(text("no_data", lang))
    for trace in band_traces(days, retention["all"], text("all_members", lang), "#333333", dash="dash"):
        figure.add_trace(trace)
    for day in RETENTION_DAYS:
        if day <= days[-1]:
            figure.add_vline(x=day, line={"dash": "dot", "color": "#999999", "width": 1})
            figure.add_annotation(x=day, y=1.04, text=f"d{day}", showarrow=False, yref="y")
    figure.update_xaxes(title=text("days_after_joining", lang))
    figure.update_yaxes(title=text("retention_axis", lang), tickformat=".0%", range=[0, 1.08])
    return style(figure)
