"""Each figure's data checked against the run's own results: the Sankey conserves people, the curves' points
are the metrics (retention at d30, payback day, CLV, top-20% share, members at the end), the waterfall ends
at profit; plus hand-made inputs for the helpers."""

from __future__ import annotations

import copy
import dataclasses
import itertools
import re

import numpy as np
import plotly.graph_objects as go
import pytest

from engine.metrics import DIMENSION_METRICS, METRICS
from reports.figures.catalogue import FIGURES
from reports.figures.concentration import plot_lorenz, top_share
from reports.figures.costs import COST_LINES, bar_label, plot_cost_waterfall, waterfall_steps
from reports.figures.flow import member_flow, plot_flow, plot_funnel
from reports.figures.pool import MAX_FRAMES, frame_indices, plot_pool, plot_pool_animation
from reports.figures.retention import plot_retention
from reports.figures.value import clv_histogram, plot_clv_distribution, plot_clv_vs_cac, plot_payback
from reports.labels import LANGS, METRIC_DEFINITIONS, MISSING_ZH, TEXT, missing_reason, text
from reports.loading import RunResults

CJK = re.compile(r"[\u4e00-\u9fff]")


def metric(results: RunResults, name: str) -> float:
    value = results.summary["metrics"][name]["mean"]
    assert value is not None, name
    return value


def traces(figure: go.Figure, name: str) -> list[go.Scatter]:
    return [trace for trace in figure.data if trace.name == name and trace.showlegend is not False]


# ---------------------------------------------------------------------------------------------------------
# Flow and funnel


@pytest.mark.parametrize("lang", LANGS)
def test_the_sankey_conserves_people(results: RunResults, lang: str) -> None:
    flow = member_flow(results, lang)  # type: ignore[arg-type]
    new_members = metric(results, "new_members")
    inflow = np.zeros(len(flow.labels))
    outflow = np.zeros(len(flow.labels))
    for source, target, value in flow.links:
        assert flow.columns[target] == flow.columns[source] + 1  # links go one column to the right
        outflow[source] += value
        inflow[target] += value
    columns = np.array(flow.columns)
    for node in np.nonzero((columns == 1) | (columns == 2))[0]:
        assert inflow[node] == pytest.approx(outflow[node]), flow.labels[node]  # lures and carriers
    assert outflow[columns == 0].sum() == pytest.approx(new_members)
    assert inflow[columns == 3].sum() == pytest.approx(new_members)
    left = flow.labels.index(text("left", lang))  # type: ignore[arg-type]
    assert inflow[left] > 0
    assert inflow[left] == pytest.approx(np.sum(np.array(results.series["flow"]["mean"])[..., -1]))
    fans = flow.labels.index(results.label("tier", "die_hard", lang))  # type: ignore[arg-type]
    assert inflow[fans] > 0  # the scenario's tiers are the ends

    figure = plot_flow(results, lang)  # type: ignore[arg-type]
    sankey = figure.data[0]
    assert list(sankey.node.label) == flow.labels
    assert sum(sankey.link.value) == pytest.approx(3 * new_members)  # three columns of links, all conserved


def test_the_funnel_narrows_from_visitors_to_fans(results: RunResults) -> None:
    funnel = plot_funnel(results, "en").data[0]
    values = list(funnel.x)
    assert list(funnel.y) == ["visitors", "members", "activated", "first purchase", "repeat purchase", "fans"]
    assert values[0] == pytest.approx(metric(results, "visitors"))
    assert values[1] == pytest.approx(metric(results, "new_members"))
    assert all(a >= b for a, b in itertools.pairwise(values)) and values[-1] > 0


# ---------------------------------------------------------------------------------------------------------
# Curves


@pytest.mark.parametrize("dimension", ["carrier", "source"])
def test_retention_curves_pass_through_the_retention_metrics(results: RunResults, dimension: str) -> None:
    figure = plot_retention(results, "en", dimension)  # type: ignore[arg-type]
    days = results.series["retention"]["days"]
    drawn = 0
    for group, metrics in results.summary["breakdown"][dimension].items():
        curves = traces(figure, results.label(dimension, group, "en"))
        if metrics["retention_d30"]["mean"] is None:
            assert not curves
            continue
        (curve,) = curves
        for d in (30, 90, 180):
            assert curve.y[days.index(d)] == pytest.approx(metrics[f"retention_d{d}"]["mean"])
        drawn += 1
    assert drawn >= 1
    (everyone,) = traces(figure, "all members")
    assert everyone.y[days.index(90)] == pytest.approx(metric(results, "retention_d90"))


def test_the_pool_stacks_to_the_members_present(results: RunResults) -> None:
    figure = plot_pool(results, "zh")
    assert [trace.name for trace in figure.data] == ["引入期", "成长期", "成熟期", "休眠期"]
    assert all(trace.stackgroup == "pool" for trace in figure.data)
    stacked = np.sum([trace.y for trace in figure.data], axis=0)
    assert stacked[-1] == pytest.approx(metric(results, "members_end"))
    assert stacked.max() > stacked[-1]  # the pool grew while acquiring and shrank after: not flat


def test_the_animation_has_a_frame_per_review_a_play_button_and_a_day_slider(results: RunResults) -> None:
    figure = plot_pool_animation(results, "en")
    days = results.series["pool"]["days"]
    frames = figure.frames
    assert 2 <= len(frames) <= MAX_FRAMES
    assert frames[0].name == f"{days[0]:g}" and frames[-1].name == f"{days[-1]:g}"
    slider = figure.layout.sliders[0]
    assert [step.label for step in slider.steps] == [frame.name for frame in frames]
    assert [step.args[0][0] for step in slider.steps] == [frame.name for frame in frames]
    buttons = figure.layout.updatemenus[0].buttons
    assert buttons[0].method == "animate" and "play" in buttons[0].label
    stacked = plot_pool(results, "en")
    for frame in frames:
        i = days.index(float(frame.name))
        stages, carriers = frame.data
        assert sum(stages.y) == pytest.approx(sum(trace.y[i] for trace in stacked.data))
        assert list(carriers.x) == [results.label("carrier", c, "en") for c in results.series["carrier"]]
    assert sum(figure.data[0].y) > 0  # the first picture is not an empty pool


def test_the_clv_distribution_holds_every_customer_and_marks_clv_and_cac(results: RunResults) -> None:
    figure = plot_clv_distribution(results, "en")
    assert sum(figure.data[0].y) == pytest.approx(1.0)
    marked = sorted(shape.x0 for shape in figure.layout.shapes)
    assert marked == pytest.approx(sorted([metric(results, "clv"), metric(results, "cac")]))


def test_clv_histogram_from_a_hand_made_quantile_function() -> None:
    # customers uniform on [0, 100]: 101 quantiles 0, 1, …, 100
    edges, shares = clv_histogram(list(np.linspace(0, 100, 101)), bins=4, upper=1.0)
    assert edges.tolist() == [0.0, 25.0, 50.0, 75.0, 100.0]
    assert shares.tolist() == pytest.approx([0.25] * 4)
    # the axis stops at the 99th percentile; the last bar keeps the tail
    edges, shares = clv_histogram([0.0] * 50 + list(np.linspace(0, 10, 50)) + [1000.0], bins=2)
    assert edges[-1] < 20 and shares.sum() == pytest.approx(1.0) and shares[0] >= 0.5
    # one value for everyone: one bar
    assert clv_histogram([7.0] * 101)[1].tolist() == [1.0]


def test_clv_vs_cac_points_are_the_source_breakdown(results: RunResults) -> None:
    figure = plot_clv_vs_cac(results, "en")
    checked = 0
    for source, metrics in results.summary["breakdown"]["source"].items():
        (point,) = traces(figure, results.label("source", source, "en"))
        assert point.x[0] == pytest.approx(metrics["cac"]["mean"])
        assert point.y[0] == pytest.approx(metrics["clv"]["mean"])
        assert point.error_y.array[0] == pytest.approx(metrics["clv"]["ci_high"] - metrics["clv"]["mean"])
        checked += 1
    assert checked == 2
    assert (
        traces(figure, text("break_even", "en"))[0].y[-1] == traces(figure, text("break_even", "en"))[0].x[-1]
    )


def test_the_payback_curve_ends_at_clv_and_marks_cac_and_the_payback_day(results: RunResults) -> None:
    figure = plot_payback(results, "en")
    (curve,) = traces(figure, text("cumulative_contribution", "en"))
    assert curve.y[-1] == pytest.approx(metric(results, "clv"))
    assert len(curve.y) == int(results.series["clv_horizon_days"]) + 1
    lines = {shape.type: shape for shape in figure.layout.shapes if shape.type == "line"}
    horizontal = [s for s in figure.layout.shapes if s.type == "line" and s.y0 == s.y1 and s.yref == "y"]
    assert [s.y0 for s in horizontal] == [pytest.approx(metric(results, "cac"))]
    assert lines  # the payback day is marked when defined
    payback = results.summary["metrics"]["payback_days"]["mean"]
    vertical = [s.x0 for s in figure.layout.shapes if s.type == "line" and s.x0 == s.x1]
    assert vertical == ([payback] if payback is not None else [])


def test_the_lorenz_curve_ends_at_one_and_marks_the_top_20_share(results: RunResults) -> None:
    figure = plot_lorenz(results, "en")
    (curve,) = traces(figure, text("lorenz_curve", "en"))
    assert (curve.x[0], curve.y[0]) == (0.0, 0.0) and (curve.x[-1], curve.y[-1]) == (1.0, 1.0)
    share = metric(results, "top20_revenue_share")
    assert curve.y[80] == pytest.approx(1 - share)
    (mark,) = [trace for trace in figure.data if trace.mode == "lines+markers"]
    assert list(mark.x) == [0.8, 0.8] and mark.y[0] == pytest.approx(1 - share) and mark.y[1] == 1.0
    assert f"{share:.0%}" in mark.name
    assert top_share([0.0, 0.5, 1.0, None, 1.0, 1.0]) == 0.0 and top_share([None] * 11) is None


def test_the_waterfall_ends_at_profit(results: RunResults) -> None:
    figure = plot_cost_waterfall(results, "zh")
    bars = figure.data[0]
    assert bars.measure[0] == "absolute" and bars.measure[-1] == "total"
    assert sum(bars.y) == pytest.approx(metric(results, "profit"))
    assert bars.y[0] == pytest.approx(metric(results, "revenue"))
    assert list(bars.x[:3]) == ["收入", "商品成本", "媒介投放"] and bars.x[-1] == "利润"
    assert bars.text[-1] == bar_label(metric(results, "profit"), "zh")
    assert bars.customdata[-1] == f"{metric(results, 'profit'):,.0f}"  # the full amount on hover


def test_bar_labels_stay_short_on_narrow_bars() -> None:
    assert [bar_label(amount, "zh") for amount in (0.0, -20_000.0, 99_999.0)] == ["0", "-20,000", "99,999"]
    assert [bar_label(amount, "zh") for amount in (-328_595.0, 163_418_934.0, 2.5e9)] == [
        "-32.9万",
        "1.63亿",
        "25.0亿",
    ]
    assert [bar_label(amount, "en") for amount in (-328_595.0, 7_300_000.0, 163_418_934.0, 2.5e9)] == [
        "-329k",
        "7.30M",
        "163M",
        "2.50B",
    ]


def test_every_money_line_of_the_figure_data_has_a_waterfall_step(results: RunResults) -> None:
    """A cost kind added to the ledger must get a step, or the waterfall would silently miss profit."""
    stepped = [key for _, keys in COST_LINES for key in keys]
    assert sorted(stepped) == sorted(set(results.series["money"]) - {"revenue"})


def test_waterfall_steps_group_accounts_and_fees_and_drop_empty_lines() -> None:
    money = dict.fromkeys(
        ("revenue", "cost_of_goods", "media", "source_fixed", "lure", "referral_reward", "account_open"), 0.0
    )
    money |= {"account_running": 0.0, "staff": 0.0, "touch": 0.0, "platform_fee": 0.0, "venue_fees": 0.0}
    money |= {"revenue": 100.0, "media": 10.0, "account_open": 1.0, "account_running": 2.0, "venue_fees": 4.0}
    steps = waterfall_steps(money)
    assert steps == [
        ("revenue", 100.0),
        ("cost_of_goods", -0.0),
        ("media", -10.0),
        ("accounts", -3.0),
        ("fees", -4.0),
    ]


def test_a_run_where_no_one_joined_says_so_instead_of_drawing_empty_axes(results: RunResults) -> None:
    """A scenario with no private domain (ads straight to a marketplace): no flow, no pool to draw."""
    series = copy.deepcopy(results.series)
    series["flow"]["mean"] = (np.array(series["flow"]["mean"]) * 0).tolist()
    for band in (*series["pool"]["stages"].values(), *series["pool"]["carriers"].values()):
        band["mean"] = [0.0] * len(band["mean"])
    nobody = dataclasses.replace(results, series=series)
    for plot in (plot_flow, plot_pool, plot_pool_animation):
        figure = plot(nobody, "en")
        assert not figure.data and "No one joined the private domain" in figure.layout.annotations[0].text


def test_frame_indices_keep_the_first_and_last_review() -> None:
    assert frame_indices(5) == [0, 1, 2, 3, 4]
    indices = frame_indices(200, 60)
    assert len(indices) == 60 and indices[0] == 0 and indices[-1] == 199


# ---------------------------------------------------------------------------------------------------------
# Words


def test_every_word_exists_in_both_languages_and_the_chinese_is_chinese() -> None:
    for key, (zh, en) in TEXT.items():
        assert zh and en, key
        if key.startswith(("fig_", "cap_")):
            assert CJK.search(zh) and not CJK.search(en), key
    assert set(METRIC_DEFINITIONS) == {info.name for info in METRICS}


def test_every_reason_for_an_undefined_value_is_said_in_chinese() -> None:
    infos = [info for infos in DIMENSION_METRICS.values() for info in infos if info.missing]
    assert infos
    for info in infos:
        assert info.missing in MISSING_ZH, info.missing
        assert CJK.search(missing_reason(info, "zh")) and missing_reason(info, "en") == info.missing


@pytest.mark.parametrize("lang", LANGS)
def test_every_figure_has_a_title_and_a_caption(results: RunResults, lang: str) -> None:
    for spec in FIGURES:
        caption = spec.caption(results, lang)  # type: ignore[arg-type]
        assert text(spec.title_key, lang) and caption  # type: ignore[arg-type]
        assert bool(CJK.search(caption)) == (lang == "zh"), spec.key
    assert "铁杆粉丝" in FIGURES[1].caption(results, "zh")  # the fans step names the top tier
