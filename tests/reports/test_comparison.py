"""The comparison report: its loader (and clean errors), its figures' data against ``comparison.json`` and
the plans' ``series.json``, the page's verdicts, tables and assumptions, and ``siyu report`` on a comparison
folder."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.compare.tables import difference_ci
from engine.metrics import METRIC_INFO, METRICS
from reports.comparison import ComparisonResults, load_comparison
from reports.comparison_page import COMPARISON_FIGURES, render_comparison_report
from reports.figures.comparison import (
    difference_points,
    plot_differences,
    plot_lorenz_overlay,
    plot_payback_overlay,
    plot_pool_overlay,
    plot_retention_overlay,
)
from reports.loading import ReportError

NAMES = ("Base", "Higher take rate", "Much higher take rate")


@pytest.fixture(scope="module")
def comparison(comparison_folder: Path) -> ComparisonResults:
    return load_comparison(comparison_folder)


@pytest.fixture(scope="module")
def data(comparison_folder: Path) -> dict[str, Any]:
    return json.loads((comparison_folder / "comparison.json").read_text(encoding="utf-8"))


def test_the_loader_reads_every_plan_as_a_run(comparison: ComparisonResults, data: dict[str, Any]) -> None:
    assert comparison.names == NAMES and comparison.reps == 4 and comparison.seed == 1
    assert comparison.folders == ("01-base", "02-take", "03-take_more")
    for plan, run in enumerate(comparison.plans):
        assert run.summary["metrics"] == data["scenarios"][plan]["metrics"]
        assert run.series["reps"] == 4 and run.scenario.meta.name == NAMES[plan]
    assert comparison.pairs[0]["cac"] == 0 and comparison.pairs[1]["cac"] == 4
    assert comparison.pairs[1]["retention_d180"] == 0  # a 100-day horizon: never defined
    assert comparison.selection is not None and comparison.selection["best"] == "Much higher take rate"


def test_each_ci_bar_is_the_paired_difference_of_comparison_json(
    comparison: ComparisonResults, data: dict[str, Any]
) -> None:
    """Point, bar ends and marker of every (key metric, variant) equal comparison.json's diff_mean, ci_low,
    ci_high and verdict; shares are drawn in percentage points."""
    figure = plot_differences(comparison, "en")
    traces = iter(figure.data)
    for metric in data["key_metrics"]:
        scale = 100 if METRIC_INFO[metric].unit == "share" else 1
        for plan in (1, 2):
            expected = data["scenarios"][plan]["vs_baseline"][metric]
            trace = next(traces)
            assert trace.y == (NAMES[plan],)
            assert trace.x[0] == pytest.approx(expected["diff_mean"] * scale)
            assert trace.x[0] + trace.error_x.array[0] == pytest.approx(expected["ci_high"] * scale)
            assert trace.x[0] - trace.error_x.arrayminus[0] == pytest.approx(expected["ci_low"] * scale)
            detected = data["scenarios"][plan]["verdicts"][metric]["detected"]
            assert (trace.marker.symbol == "diamond") is detected
    assert next(traces, None) is None
    cac = difference_points(comparison, "cac")
    assert [p.plan for p in cac] == list(NAMES[1:])
    assert all(p.detected and p.better and p.diff < 0 for p in cac)  # a higher take rate lowers CAC
    retention = difference_points(comparison, "retention_d90")[0]
    raw = data["scenarios"][1]["vs_baseline"]["retention_d90"]["diff_mean"]
    assert retention.diff == pytest.approx(100 * raw)
    titles = [a.text for a in figure.layout.annotations]
    assert "CAC (CNY)" in titles and "90-day retention (pp)" in titles


def test_overlays_draw_each_plans_series(comparison: ComparisonResults) -> None:
    figure = plot_retention_overlay(comparison, "en")
    retention = [t for t in figure.data if t.name in NAMES and t.fill is None and t.line.width == 3]
    assert [t.name for t in retention] == list(NAMES)
    for trace, run in zip(retention, comparison.plans, strict=True):
        assert list(trace.y) == run.series["retention"]["all"]["mean"]
    pool = plot_pool_overlay(comparison, "en").data
    for trace, run in zip(pool, comparison.plans, strict=True):
        stages = [band["mean"] for band in run.series["pool"]["stages"].values()]
        assert list(trace.y) == pytest.approx([sum(values) for values in zip(*stages, strict=True)])
    assert pool[2].y[-1] > pool[1].y[-1] > pool[0].y[-1]  # more members with a higher take rate
    payback = plot_payback_overlay(comparison, "zh").data
    cac_lines = [t for t in payback if t.name.endswith("的 CAC")]
    assert [t.y[0] for t in cac_lines] == [run.summary["metrics"]["cac"]["mean"] for run in comparison.plans]
    lorenz = [t.name for t in plot_lorenz_overlay(comparison, "en").data if t.name]
    assert any(name.startswith("Base (top 20%: ") for name in lorenz)


def verdict_items(html: str) -> list[tuple[str, str, str]]:
    """(metric, detected, text) of every verdict on the page."""
    items = re.findall(r'<li class="\w+" data-metric="(\w+)" data-detected="(\w+)">\s*(.*?)</li>', html, re.S)
    return [(metric, detected, text.strip()) for metric, detected, text in items]


def test_the_page_says_the_verdicts_in_its_language(
    comparison: ComparisonResults, data: dict[str, Any]
) -> None:
    """Verdicts are written again in the page's language with the comparison's claims (made in zh)."""
    en, zh = render_comparison_report(comparison, "en"), render_comparison_report(comparison, "zh")
    expected = [
        (metric, str(verdict["detected"]).lower())
        for entry in data["scenarios"][1:]
        for metric, verdict in entry["verdicts"].items()
    ]
    for html in (en, zh):
        assert [item[:2] for item in verdict_items(html)] == expected
    zh_texts = [text for _, _, text in verdict_items(zh)]
    assert zh_texts == [v["text"] for e in data["scenarios"][1:] for v in e["verdicts"].values()]
    assert any(text.startswith("Higher take rate lowers CAC by") for _, _, text in verdict_items(en))
    assert "Holm-adjusted over the 12 comparisons" in en and "Holm 逐步法" in zh
    assert "Best plan (lowest CAC): Much higher take rate" in en and "最优方案" in zh


def test_the_page_holds_every_metric_figure_and_plan(comparison: ComparisonResults) -> None:
    html = render_comparison_report(comparison, "en")
    assert html.count("<script") == 1 + len(COMPARISON_FIGURES)  # plotly.js once, then one per figure
    assert not re.search(r"<(script|link|img)[^>]*\s(src|href)=\"?(https?:)?//", html)  # nothing fetched
    for spec in COMPARISON_FIGURES:
        assert f'data-figure="{spec.key}"' in html
    rows = re.findall(r'<tr data-metric="(\w+)">', html)
    assert rows == [info.name for info in METRICS if info.name in comparison.entry(0)["metrics"]]
    cac_row = html.split('<tr data-metric="cac">')[1].split("</tr>")[0]
    assert cac_row.count('class="num better"') == 2 and "★" in cac_row  # both claimed, a key metric
    for plan in (1, 2):
        assert difference_ci(comparison.difference(plan, "cac"), METRIC_INFO["cac"]) in cac_row
    assert html.count("<details") == 3 and "take_rate: 0.8" in html
    assert render_comparison_report(comparison, "en") == html  # same results, same bytes


def test_siyu_report_writes_a_comparison_report(comparison_folder: Path, tmp_path: Path) -> None:
    folder = tmp_path / "cmp"
    shutil.copytree(comparison_folder, folder)
    (folder / "index.html").unlink()
    result = CliRunner().invoke(app, ["report", str(folder), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"wrote {folder / 'index.html'}"
    html = (folder / "index.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in html and "Paired differences vs the baseline" in html
    assert not (folder / "summary.csv").exists()  # the finance exports are a run's
    assert (comparison_folder / "index.html").read_text(encoding="utf-8").count("私域方案对比报告") >= 1


def damage(folder: Path, how: str) -> None:
    """Break a copy of a comparison folder in one way."""
    plans = folder / "plans"
    if how == "json":
        (folder / "comparison.json").write_text("{not json", encoding="utf-8")
    elif how == "keys":
        (folder / "comparison.json").write_text('{"baseline": "Base"}', encoding="utf-8")
    elif how == "plan":
        shutil.rmtree(plans / "03-take_more")
    elif how == "series":
        (plans / "02-take" / "series.json").unlink()
    elif how == "csv":
        (plans / "02-take" / "replications.csv").unlink()
    elif how == "name":
        summary = json.loads((plans / "02-take" / "summary.json").read_text(encoding="utf-8"))
        summary["scenario"] = "Another plan"
        (plans / "02-take" / "summary.json").write_text(json.dumps(summary), encoding="utf-8")


@pytest.mark.parametrize(
    ("how", "fragments"),
    [
        ("json", ["comparison.json: cannot be read as a comparison"]),
        ("keys", ["not a comparison (missing reps, seed, scenarios"]),
        ("plan", ["2 plan folders for the 3 scenarios"]),
        ("series", ["02-take: no series.json", "siyu compare"]),
        ("csv", ["replications.csv: cannot be read"]),
        ("name", ["'Another plan'", "does not match 'Higher take rate'"]),
    ],
)
def test_a_damaged_comparison_is_a_clean_error(
    comparison_folder: Path, tmp_path: Path, how: str, fragments: list[str]
) -> None:
    folder = tmp_path / "cmp"
    shutil.copytree(comparison_folder, folder)
    damage(folder, how)
    with pytest.raises(ReportError) as error:
        load_comparison(folder)
    for fragment in fragments:
        assert fragment in str(error.value)
    result = CliRunner().invoke(app, ["report", str(folder)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert fragments[0] in result.output.replace("\n", "")


def test_no_comparison_here(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="no such folder"):
        load_comparison(tmp_path / "missing")
    with pytest.raises(ReportError, match=r"no comparison\.json"):
        load_comparison(tmp_path)
