"""Where the money goes: revenue minus product cost and every kind of cost, as a waterfall to profit."""

from __future__ import annotations

import plotly.graph_objects as go

from engine.series import FEES
from reports.figures.common import empty, style
from reports.labels import Lang, text
from reports.loading import RunResults

COST_LINES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("cost_of_goods", ("cost_of_goods",)),
    ("media", ("media",)),
    ("source_fixed", ("source_fixed",)),
    ("lure", ("lure",)),
    ("referral_reward", ("referral_reward",)),
    ("accounts", ("account_open", "account_running")),
    ("staff", ("staff",)),
    ("touch", ("touch",)),
    ("fees", ("platform_fee", FEES)),
)
"""Waterfall steps after revenue: label key and the ``series.json`` money lines they add up."""


def waterfall_steps(money: dict[str, float]) -> list[tuple[str, float]]:
    """``(label key, signed amount)``: revenue, then each non-zero cost line as a negative step (product
    cost always shown); their sum is profit."""
    steps = [("revenue", money["revenue"])]
    for label, keys in COST_LINES:
        amount = sum(money[key] for key in keys)
        if amount or label == "cost_of_goods":
            steps.append((label, -amount))
    return steps


def bar_label(amount: float, lang: Lang) -> str:
    """A waterfall bar's label: in full below 100 000, else three significant figures in 万/亿 (zh) or k/M/B
    (en), so that labels stay legible on narrow bars (the hover shows the full amount)."""
    size = abs(amount)
    if size < 100_000:
        return f"{amount:,.0f}"
    units = ((1e8, "亿"), (1e4, "万")) if lang == "zh" else ((1e9, "B"), (1e6, "M"), (1e3, "k"))
    scale, unit = next((scale, unit) for scale, unit in units if size >= scale)
    value = amount / scale
    digits = max(0, 2 - int(f"{abs(value):e}".split("e")[1]))  # three significant figures
    return f"{value:,.{digits}f}{unit}"


def plot_cost_waterfall(results: RunResults, lang: Lang) -> go.Figure:
    """Revenue → − product cost → − media → … → profit (means over replications)."""
    money = results.series["money"]
    steps = waterfall_steps(money)
    if not any(amount for _, amount in steps):
        return empty(text("no_data", lang))
    currency = results.currency
    labels = [text(label, lang) for label, _ in steps] + [text("profit", lang)]
    amounts = [amount for _, amount in steps] + [sum(amount for _, amount in steps)]
    figure = go.Figure(
        go.Waterfall(
            x=labels,
            y=[amount for _, amount in steps] + [0.0],
            measure=["absolute"] + ["relative"] * (len(steps) - 1) + ["total"],
            text=[bar_label(amount, lang) for amount in amounts],
            customdata=[f"{amount:,.0f}" for amount in amounts],
            textposition="outside",
            cliponaxis=False,
            hovertemplate=f"%{{x}}: %{{customdata}} {currency}<extra></extra>",
            connector={"line": {"color": "#999999"}},
            increasing={"marker": {"color": "#44AA99"}},
            decreasing={"marker": {"color": "#CC6677"}},
            totals={"marker": {"color": "#332288"}},
        )
    )
    figure.update_yaxes(title=f"{text('amount', lang)} ({currency})", tickformat=",.0f")
    figure.update_layout(uniformtext={"minsize": 12, "mode": "show"})  # never shrunk to specks
    return style(figure, height=520)
