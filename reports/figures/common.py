"""What every figure shares: fonts that render Chinese, colours, the CI band, an empty-figure notice."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.colors import qualitative

from engine.ledger import Stage

FONT_FAMILY = (
    '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", "Hiragino Sans GB", '
    '"Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif'
)
"""Local CJK fonts first (Debian's fonts-noto-cjk, macOS, Windows), never a web font: the page is offline."""
PALETTE: tuple[str, ...] = tuple(qualitative.Safe)
STAGE_COLORS: dict[Stage, str] = {
    Stage.INTRO: "#88CCEE",
    Stage.GROWTH: "#44AA99",
    Stage.MATURE: "#117733",
    Stage.DORMANT: "#DDCC77",
    Stage.CHURNED: "#CC6677",
}
LEFT_COLOR = "#CC6677"
GREY = "#888888"
CAC_COLOR = "#AA4499"
"""CAC lines and labels (dark enough for text on white)."""
CLV_COLOR = "#117733"
"""Mean-CLV lines and labels."""
HIGHLIGHT = "#882255"
"""A marked point (the top-20% share)."""


def color(index: int) -> str:
    """The ``index``-th colour of the palette (colour-blind safe), cycling."""
    return PALETTE[index % len(PALETTE)]


def rgba(hex_color: str, alpha: float) -> str:
    """``#RRGGBB`` (or ``rgb(r,g,b)``) with transparency, for bands and links."""
    if hex_color.startswith("rgb("):
        return hex_color.replace("rgb(", "rgba(").replace(")", f",{alpha})")
    value = hex_color.lstrip("#")
    red, green, blue = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({red},{green},{blue},{alpha})"


def style(figure: go.Figure, height: int = 480) -> go.Figure:
    """The report's look: large type for projection, white background, legend below the plot."""
    figure.update_layout(
        template="plotly_white",
        font={"family": FONT_FAMILY, "size": 16},
        height=height,
        margin={"l": 70, "r": 30, "t": 30, "b": 60},
        legend={"orientation": "h", "yanchor": "top", "y": -0.15, "x": 0},
        hoverlabel={"font": {"family": FONT_FAMILY}},
    )
    return figure


def band_traces(
    x: Sequence[float],
    band: dict[str, list[float | None]],
    name: str,
    line_color: str,
    *,
    hover_format: str = ".1%",
    dash: str | None = None,
    show_band: bool = True,
) -> list[go.Scatter]:
    """A mean curve with its shaded 95% CI band (three traces; gaps where a point is undefined)."""
    traces: list[go.Scatter] = []
    group = f"band-{name}"

    def edge(y: list[float | None], **fill: str) -> go.Scatter:
        """An invisible edge of the band (``fill``: how the upper edge shades down to the lower)."""
        return go.Scatter(
            x=list(x),
            y=y,
            mode="lines",
            line={"width": 0},
            **fill,
            legendgroup=group,
            showlegend=False,
            hoverinfo="skip",
            name=name,
        )

    if show_band and any(v is not None for v in band["ci_low"]):
        traces.append(edge(band["ci_low"]))
        traces.append(edge(band["ci_high"], fill="tonexty", fillcolor=rgba(line_color, 0.18)))
    traces.append(
        go.Scatter(
            x=list(x),
            y=band["mean"],
            mode="lines",
            name=name,
            legendgroup=group,
            line={"color": line_color, "width": 3, **({"dash": dash} if dash else {})},
            hovertemplate=f"%{{x}}: %{{y:{hover_format}}}<extra>{name}</extra>",
        )
    )
    return traces


def defined(values: Sequence[float | None]) -> bool:
    """Some point of a curve has a value."""
    return any(v is not None for v in values)


def empty(message: str, height: int = 240) -> go.Figure:
    """A figure that says why there is nothing to draw (instead of an empty plot)."""
    figure = go.Figure()
    figure.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return style(figure, height)
