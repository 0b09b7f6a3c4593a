"""The run report's figures in page order, each with its title and its one-line caption (what to read)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import plotly.graph_objects as go

from reports.figures.concentration import plot_lorenz
from reports.figures.costs import plot_cost_waterfall
from reports.figures.flow import plot_flow, plot_funnel
from reports.figures.pool import plot_pool, plot_pool_animation
from reports.figures.retention import plot_retention
from reports.figures.value import plot_clv_distribution, plot_clv_vs_cac, plot_payback
from reports.labels import Lang, text
from reports.loading import RunResults

R = TypeVar("R")


@dataclass(frozen=True)
class FigureSpec(Generic[R]):
    """One figure of a report drawn from results ``R`` (a run's, a comparison's): an id (the HTML
    element's), the key of its title, its caption and how to draw it."""

    key: str
    plot: Callable[[R, Lang], go.Figure]
    title_key: str
    caption: Callable[[R, Lang], str]


def _reps(key: str) -> Callable[[RunResults, Lang], str]:
    return lambda results, lang: text(key, lang, reps=results.reps)


def _flow_caption(results: RunResults, lang: Lang) -> str:
    return text("cap_flow_tiers" if results.series["tier"] else "cap_flow_stages", lang, reps=results.reps)


def _funnel_caption(results: RunResults, lang: Lang) -> str:
    tiers = results.series["tier"]
    if not tiers:
        return text("cap_funnel_no_fans", lang)
    return text("cap_funnel_fans", lang, tier=results.label("tier", tiers[0], lang))


FIGURES: tuple[FigureSpec[RunResults], ...] = (
    FigureSpec("flow", plot_flow, "fig_flow", _flow_caption),
    FigureSpec("funnel", plot_funnel, "fig_funnel", _funnel_caption),
    FigureSpec(
        "retention_carrier",
        lambda results, lang: plot_retention(results, lang, "carrier"),
        "fig_retention_carrier",
        _reps("cap_retention"),
    ),
    FigureSpec(
        "retention_source",
        lambda results, lang: plot_retention(results, lang, "source"),
        "fig_retention_source",
        _reps("cap_retention"),
    ),
    FigureSpec("pool", plot_pool, "fig_pool", _reps("cap_pool")),
    FigureSpec("pool_animation", plot_pool_animation, "fig_pool_animation", _reps("cap_pool_animation")),
    FigureSpec(
        "clv_distribution", plot_clv_distribution, "fig_clv_distribution", _reps("cap_clv_distribution")
    ),
    FigureSpec("clv_cac", plot_clv_vs_cac, "fig_clv_cac", _reps("cap_clv_cac")),
    FigureSpec("payback", plot_payback, "fig_payback", _reps("cap_payback")),
    FigureSpec("lorenz", plot_lorenz, "fig_lorenz", _reps("cap_lorenz")),
    FigureSpec("waterfall", plot_cost_waterfall, "fig_waterfall", _reps("cap_waterfall")),
)
"""Every figure of a run report, in page order."""
