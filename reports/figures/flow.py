"""Customer flow: the Sankey (source → lure → carrier → end) and the funnel (visitors → … → fans)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from engine.ledger import Stage
from engine.series import FUNNEL_STEPS, LEFT
from reports.figures.common import GREY, LEFT_COLOR, STAGE_COLORS, color, empty, rgba, style
from reports.labels import Lang, stage_label, text
from reports.loading import RunResults


@dataclass(frozen=True)
class Flow:
    """The Sankey's nodes (label, colour, column) and links (source node, target node, people)."""

    labels: list[str]
    colors: list[str]
    columns: list[int]
    links: list[tuple[int, int, float]]


def _end_label(end: str, results: RunResults, lang: Lang) -> str:
    if end == LEFT:
        return text("left", lang)
    kind, _, name = end.partition(":")
    if kind == "stage":
        return stage_label(Stage[name.upper()], lang)
    return results.label("tier", name, lang) if name else text("no_tier", lang)


def _end_color(end: str, index: int) -> str:
    if end == LEFT:
        return LEFT_COLOR
    kind, _, name = end.partition(":")
    if kind == "stage":
        return STAGE_COLORS[Stage[name.upper()]]
    return color(index + 3) if name else GREY


def member_flow(results: RunResults, lang: Lang) -> Flow:
    """Nodes and links of the Sankey from ``series.json``'s mean member counts (source × carrier × end).

    Columns: sources, lures (a source without one goes through "no lure"), carriers, ends. People are
    conserved: what enters a lure or carrier node leaves it, and the sources send out every new member.
    """
    series = results.series
    sources, lures, carriers, ends = series["source"], series["lure"], series["carrier"], series["flow_ends"]
    counts = np.array(series["flow"]["mean"], dtype=np.float64).reshape(
        len(sources), len(carriers), len(ends)
    )
    source_lure = series["source_lure"]
    labels: list[str] = []
    colors: list[str] = []
    columns: list[int] = []

    def node(label: str, node_color: str, column: int) -> int:
        labels.append(label)
        colors.append(node_color)
        columns.append(column)
        return len(labels) - 1

    source_node = [node(results.label("source", s, lang), color(i), 0) for i, s in enumerate(sources)]
    lure_node = [node(results.label("lure", lure, lang), color(i + 5), 1) for i, lure in enumerate(lures)]
    if any(lure < 0 for lure in source_lure):
        lure_node.append(node(text("no_lure", lang), GREY, 1))
    carrier_node = [node(results.label("carrier", c, lang), color(i + 1), 2) for i, c in enumerate(carriers)]
    end_node = [node(_end_label(e, results, lang), _end_color(e, i), 3) for i, e in enumerate(ends)]

    links: list[tuple[int, int, float]] = []
    through_lure: dict[int, np.ndarray] = {}
    for s, per_source in enumerate(counts):
        lure = lure_node[source_lure[s]]  # -1 picks the "no lure" node, appended last
        links.append((source_node[s], lure, float(per_source.sum())))
        through_lure[lure] = through_lure.get(lure, 0) + per_source.sum(axis=1)
    for lure, per_carrier in through_lure.items():
        links += [(lure, carrier_node[c], float(v)) for c, v in enumerate(per_carrier)]
    per_carrier_end = counts.sum(axis=0)
    for c, per_end in enumerate(per_carrier_end):
        links += [(carrier_node[c], end_node[e], float(v)) for e, v in enumerate(per_end)]
    return Flow(labels, colors, columns, [link for link in links if link[2] > 0])


def plot_flow(results: RunResults, lang: Lang) -> go.Figure:
    """Sankey of new members: source → lure → carrier → value tier (or stage) at the end, or left."""
    flow = member_flow(results, lang)
    if not flow.links:
        return empty(text("no_members", lang))
    link_colors = [rgba(flow.colors[source], 0.35) for source, _, _ in flow.links]
    figure = go.Figure(
        go.Sankey(
            arrangement="snap",
            valueformat=",.0f",
            node={"label": flow.labels, "color": flow.colors, "pad": 18, "thickness": 18},
            link={
                "source": [link[0] for link in flow.links],
                "target": [link[1] for link in flow.links],
                "value": [link[2] for link in flow.links],
                "color": link_colors,
            },
        )
    )
    return style(figure, height=560)


def funnel_steps(results: RunResults, lang: Lang) -> tuple[list[str], list[float], list[str]]:
    """The funnel's step labels, mean counts and CI texts (the fans step only when the run has tiers)."""
    funnel = results.series["funnel"]
    labels, values, cis = [], [], []
    for step, mean, low, high in zip(
        FUNNEL_STEPS, funnel["mean"], funnel["ci_low"], funnel["ci_high"], strict=True
    ):
        if mean is None:
            continue
        name = "members_step" if step == "members" else step
        labels.append(text(name, lang))
        values.append(mean)
        cis.append(f"{low:,.0f} – {high:,.0f}" if low is not None and high is not None else "—")
    return labels, values, cis


def plot_funnel(results: RunResults, lang: Lang) -> go.Figure:
    """Visitors → members → activated → first purchase → repeat → fans, each a subset of the one before."""
    labels, values, cis = funnel_steps(results, lang)
    figure = go.Figure(
        go.Funnel(
            y=labels,
            x=values,
            customdata=cis,
            textinfo="value+percent previous",
            texttemplate="%{value:,.0f} (%{percentPrevious:.1%})",
            hovertemplate=f"%{{y}}: %{{x:,.0f}}<br>{text('ci', lang)}: %{{customdata}}<extra></extra>",
            marker={"color": [color(i) for i in range(len(values))]},
        )
    )
    return style(figure, height=440)
