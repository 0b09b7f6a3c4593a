"""Terminal tables of a comparison (rich): metrics labelled in Chinese and English, like ``siyu run``."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

from engine.compare.paired import Comparison
from engine.compare.selection import Selection
from engine.compare.verdicts import Language, Verdict, format_p
from engine.metrics import METRICS, MetricInfo
from engine.presentation import format_value, metric_label
from engine.stats import Difference


def format_difference(value: float | None, info: MetricInfo) -> str:
    """A signed difference: shares in percentage points."""
    if value is None:
        return "—"
    if info.unit == "share":
        text = f"{100 * abs(value):.1f} pp"
        return text if text == "0.0 pp" else ("−" if value < 0 else "+") + text
    text = format_value(abs(value), info)
    return ("−" if value < 0 else "+") + text if value != 0 else "0"


def difference_ci(difference: Difference, info: MetricInfo) -> str:
    """A difference's 95% CI, signed (shares in percentage points); "—" when undefined."""
    if difference.ci_low is None or difference.ci_high is None:
        return "—"
    return f"{format_difference(difference.ci_low, info)} … {format_difference(difference.ci_high, info)}"


def _p(value: float | None) -> str:
    return "—" if value is None else format_p(value)


def difference_table(comparison: Comparison, plan: int, verdicts: Sequence[Verdict]) -> Table:
    """Plan ``plan`` against the baseline: both means, the paired difference, its 95% CI, p (and the
    adjusted p of key metrics)."""
    names, currency = comparison.names, comparison.currency
    adjusted = {v.metric: v.p_adjusted for v in verdicts}
    table = Table(
        title=f"{names[plan]} vs 基线 baseline {names[0]} — {comparison.reps} paired replications "
        f"(common random numbers), seed {comparison.seed}",
        title_justify="left",
    )
    table.add_column("指标 metric", no_wrap=True)
    table.add_column("基线 baseline", justify="right", no_wrap=True)
    table.add_column("方案 variant", justify="right", no_wrap=True)
    table.add_column("差值 Δ", justify="right", no_wrap=True)
    table.add_column("95% 置信区间 CI", justify="right", no_wrap=True)
    table.add_column("p", justify="right", no_wrap=True)
    table.add_column("校正 p adj.", justify="right", no_wrap=True)
    base = comparison.results[0].summary()
    variant = comparison.results[plan].summary()
    for info in METRICS:
        difference = comparison.vs_baseline[plan][info.name]
        table.add_row(
            metric_label(info, currency),
            format_value(base[info.name].mean, info),
            format_value(variant[info.name].mean, info),
            format_difference(difference.diff_mean, info),
            difference_ci(difference, info),
            _p(difference.p_value),
            _p(adjusted[info.name]) if info.name in adjusted else "",
        )
    return table


def verdict_lines(
    comparison: Comparison, verdicts: Sequence[Sequence[Verdict]], language: Language
) -> list[str]:
    """The verdicts of every variant, one line each, under a heading."""
    heading = "结论（与基线相比）" if language is Language.zh else "Verdicts (against the baseline)"
    lines = [f"{heading} — {comparison.names[0]}:"]
    for plan in range(1, len(comparison.names)):
        lines.append(f"  {comparison.names[plan]}:")
        lines.extend(f"    • {v.text}" for v in verdicts[plan])
    return lines


def selection_table(selection: Selection, names: Sequence[str], metric: MetricInfo, currency: str) -> Table:
    """Every plan's part in the selection: replications used, mean, and whether it was selected or when it
    was eliminated."""
    table = Table(
        title=f"选优 selection of the best by {metric_label(metric, currency)} — KN (Kim & Nelson 2001)",
        title_justify="left",
    )
    table.add_column("方案 plan")
    table.add_column("重复次数 replications", justify="right", no_wrap=True)
    table.add_column("均值 mean", justify="right", no_wrap=True)
    table.add_column("结果 outcome")
    for plan, system in enumerate(selection.systems):
        if plan == selection.best:
            outcome = "选中 selected (best)"
        elif system.eliminated_at is not None:
            outcome = f"淘汰 eliminated after {system.eliminated_at} replications"
        elif plan in selection.contenders:
            outcome = "仍在竞争 still in contention" if selection.best is None else "not selected"
        else:
            outcome = ""
        table.add_row(names[plan], str(system.reps), format_value(system.mean, metric), outcome)
    return table


def selection_sentence(
    selection: Selection,
    names: Sequence[str],
    metric: MetricInfo,
    currency: str,
    maximize: bool,
    language: Language,
) -> str:
    """What the selection says, with its probability of correct selection and its assumptions."""
    zh = language is Language.zh
    label = metric.zh if zh else metric.en
    if metric.unit == "share":  # δ is a difference of shares: percentage points, not a relative %
        delta = f"{100 * selection.delta:.3g}" + (" 个百分点" if zh else " percentage points")
    else:
        delta = format_value(selection.delta, metric) + (f" {currency}" if metric.unit == "money" else "")
    added = selection.total_reps - len(selection.systems) * selection.first_stage
    pcs = f"{100 * selection.pcs:g}%"
    if selection.best is None:
        still = ", ".join(names[i] for i in selection.contenders)
        if zh:
            return (
                f"在 --max-reps {selection.max_reps} 次重复内未能选出最优方案；仍在竞争：{still}"
                "（它们的差异可能小于无差异区间）。"
            )
        return (
            f"No plan selected within --max-reps {selection.max_reps} replications per plan; still in "
            f"contention: {still} (their means may differ by less than the indifference zone)."
        )
    best = names[selection.best]
    direction = ("更高" if maximize else "更低") if zh else ("highest" if maximize else "lowest")
    if zh:
        return (
            f"最优方案（{label}{direction}）：{best}。若最优方案比其他方案至少好 {delta}（无差异区间），"
            f"选对的概率不低于 {pcs}；前提：每个方案的各次重复独立同分布、近似正态（允许公共随机数）。"
            + (
                f"共用 {selection.total_reps} 次重复，其中追加的 {added} 次只给了仍在竞争的方案。"
                if added
                else f"第一阶段的 {selection.total_reps} 次重复已足够，未追加。"
            )
        )
    return (
        f"Best plan ({direction} {label}): {best}. If the best plan is at least {delta} better than every "
        f"other (the indifference zone), this choice is correct with probability ≥ {pcs}; this assumes "
        "each plan's replications are independent, identically and approximately normally distributed "
        "(common random numbers are allowed). "
        + (
            f"{selection.total_reps} replications in all; the {added} added went only to plans still in "
            "contention."
            if added
            else f"The first stage's {selection.total_reps} replications sufficed; none were added."
        )
    )
