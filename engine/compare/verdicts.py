"""Plain verdicts on key metrics, in Chinese or English, under control for multiple comparisons.

A verdict says what a variant does to a metric compared with the baseline — "B lowers CAC by 210 CNY (95% CI
180–240)" — or "no detectable difference". With several variants and several key metrics, some differences
would look real by chance alone, so a difference is *claimed* only when its p-value, adjusted over all the
verdicts of the comparison (the family: variants × key metrics with a p-value), is below 5%:

- ``holm`` (default): Holm's step-down method controls the family-wise error rate: the probability that any
  verdict claims a difference that is not there is at most 5%.
- ``bh``: Benjamini–Hochberg controls the false discovery rate: on average at most 5% of the claimed
  differences are not real (more claims, a weaker promise).
- ``none``: each verdict at its own 5% level.

The adjustment is :func:`statsmodels.stats.multitest.multipletests`. The CIs shown are each metric's own 95%
interval; a claimed difference always has a CI that excludes 0 (an adjusted p-value is never below the raw
one, and raw p < 5% is the same event as a paired-t 95% CI without 0; :func:`verdicts` also checks the CI, so
no rounding at the boundary can claim what the CI does not support). "Better" or "worse" is said only for
metrics where the direction is not a matter of strategy (:data:`BETTER`): a higher CAC is worse, but higher
spending or more touches may be the plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from engine.metrics import METRIC_INFO, METRICS, MetricInfo
from engine.stats import Difference

LEVEL = 0.05
"""Family-wise error rate (Holm) or false discovery rate (BH) of the claims."""

BETTER: dict[str, Literal["higher", "lower"]] = {info.name: info.better for info in METRICS if info.better}
"""Metrics where higher (or lower) is better whatever the strategy; the others get no "better/worse"."""


class Adjustment(StrEnum):
    """How verdicts control for multiple comparisons."""

    holm = "holm"
    bh = "bh"
    none = "none"


_METHOD = {Adjustment.holm: "holm", Adjustment.bh: "fdr_bh"}


class Language(StrEnum):
    """Language of verdicts."""

    zh = "zh"
    en = "en"


DEFAULT_LANGUAGE = Language.zh
"""Verdicts in Chinese unless asked otherwise, as ``siyu report --lang`` (labels lead with Chinese too)."""


def adjust(p_values: Sequence[float], adjustment: Adjustment) -> list[float]:
    """Adjusted p-values of a family (the same values with ``none``)."""
    if not p_values or adjustment is Adjustment.none:
        return list(p_values)
    from statsmodels.stats.multitest import multipletests  # imported when needed: it takes a second

    _, adjusted, _, _ = multipletests(list(p_values), alpha=LEVEL, method=_METHOD[adjustment])
    return [float(p) for p in adjusted]


@dataclass(frozen=True)
class Verdict:
    """What one variant does to one key metric, compared with the baseline."""

    scenario: str
    metric: str
    difference: Difference
    p_adjusted: float | None
    detected: bool
    """A difference is claimed: adjusted p < 5%."""
    text: str

    def as_json(self) -> dict[str, Any]:
        return {"p_adjusted": self.p_adjusted, "detected": self.detected, "text": self.text}


def verdicts(
    names: Sequence[str],
    vs_baseline: Sequence[Mapping[str, Difference]],
    metrics: Sequence[str],
    currency: str,
    adjustment: Adjustment = Adjustment.holm,
    language: Language = DEFAULT_LANGUAGE,
) -> tuple[tuple[Verdict, ...], ...]:
    """Per scenario (the baseline first, with none), a verdict on each of ``metrics``.

    The family adjusted together is every (variant, metric) pair whose difference has a p-value.
    """
    family = [
        (plan, name)
        for plan in range(1, len(names))
        for name in metrics
        if vs_baseline[plan][name].p_value is not None
    ]
    adjusted = dict(
        zip(family, adjust([vs_baseline[p][m].p_value for p, m in family], adjustment), strict=True)
    )  # type: ignore[misc]
    result: list[tuple[Verdict, ...]] = [()]
    for plan in range(1, len(names)):
        row = []
        for name in metrics:
            difference = vs_baseline[plan][name]
            p_adjusted = adjusted.get((plan, name))
            detected = p_adjusted is not None and p_adjusted < LEVEL and _excludes_zero(difference)
            text = verdict_text(
                names[plan],
                METRIC_INFO[name],
                difference,
                p_adjusted,
                detected,
                currency,
                adjustment,
                language,
            )
            row.append(Verdict(names[plan], name, difference, p_adjusted, detected, text))
        result.append(tuple(row))
    return tuple(result)


def _excludes_zero(difference: Difference) -> bool:
    """The 95% CI lies wholly on one side of 0 (a zero-width CI at a non-zero difference included)."""
    low, high = difference.ci_low, difference.ci_high
    return low is not None and high is not None and (low > 0 or high < 0)


def format_p(value: float) -> str:
    """A p-value as the tables and verdicts show it: three decimals, or "< 0.001"."""
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _unit(info: MetricInfo, currency: str, language: Language) -> str:
    """The unit a difference is stated in: money in the currency, shares in percentage points."""
    zh = language is Language.zh
    units = {"money": f" {currency}", "share": " 个百分点" if zh else " percentage points"}
    units["days"] = " 天" if zh else " days"
    return units.get(info.unit, "")


def _number(value: float, info: MetricInfo) -> str:
    """A difference's size (no sign, no unit)."""
    size = abs(value)
    if info.unit == "share":
        return f"{100 * size:.1f}"
    if info.unit == "money":
        return f"{size:,.2f}" if size < 1e5 else f"{size:,.0f}"
    if info.unit in ("days", "count"):
        return f"{size:,.1f}" if size < 1e4 else f"{size:,.0f}"
    return f"{size:,.3f}" if size < 1 else f"{size:,.2f}"


def _amount(value: float, info: MetricInfo, currency: str, language: Language) -> str:
    return _number(value, info) + _unit(info, currency, language)


def _signed(value: float, info: MetricInfo) -> str:
    return ("−" if value < 0 else "+") + _number(value, info)


def _judgement(info: MetricInfo, diff: float, language: Language) -> str:
    better = BETTER.get(info.name)
    if better is None:
        return ""
    good = (diff > 0) == (better == "higher")
    if language is Language.zh:
        return "，更好" if good else "，更差"
    return " — better" if good else " — worse"


def _p(p_adjusted: float | None, adjustment: Adjustment, language: Language) -> str:
    if p_adjusted is None:
        return ""
    value = format_p(p_adjusted)
    equals = "" if value.startswith("<") else "= "
    if adjustment is Adjustment.none:
        return f"p {equals}{value}"
    label = {Adjustment.holm: "Holm", Adjustment.bh: "BH"}[adjustment]
    return (
        f"{label} 校正 p {equals}{value}"
        if language is Language.zh
        else f"{label}-adjusted p {equals}{value}"
    )


def verdict_text(
    scenario: str,
    info: MetricInfo,
    difference: Difference,
    p_adjusted: float | None,
    detected: bool,
    currency: str,
    adjustment: Adjustment,
    language: Language,
) -> str:
    """One sentence: the direction and size of the change with its 95% CI, or why nothing is claimed."""
    zh = language is Language.zh
    label = info.zh if zh else info.en
    diff, low, high = difference.diff_mean, difference.ci_low, difference.ci_high
    if diff is None or low is None or high is None:
        if zh:
            return f"{label}：无法比较（两方案都有定义的重复只有 {difference.pairs} 次）"
        reason = f" ({info.missing})" if info.missing else ""
        return (
            f"{label}: cannot be compared, defined in both plans in {difference.pairs} replications{reason}"
        )
    if low == high:  # the same difference in every replication
        if diff == 0:
            return f"{label}：每次重复都完全相同" if zh else f"{label}: identical in every replication"
        basis = "（每次重复都相同）" if zh else " in every replication"
    else:
        p_text = _p(p_adjusted, adjustment, language)
        if not detected:
            ci = f"{_signed(low, info)} … {_signed(high, info)}{_unit(info, currency, language)}"
            if zh:
                return f"{label}：无可检测的差异（95% 置信区间 {ci}；{p_text}）"
            return f"{label}: no detectable difference (95% CI {ci}; {p_text})"
        near, far = sorted((abs(low), abs(high)))
        ci = f"{_number(near, info)}–{_amount(far, info, currency, language)}"
        basis = f"（95% 置信区间 {ci}；{p_text}）" if zh else f" (95% CI {ci}; {p_text})"
    amount = _amount(diff, info, currency, language)
    judgement = _judgement(info, diff, language)
    if zh:
        verb = "提高" if diff > 0 else "降低"
        return f"{scenario} 使{_gap(label)}{label} {verb} {amount}{basis}{judgement}"
    verb = "raises" if diff > 0 else "lowers"
    return f"{scenario} {verb} {label} by {amount}{basis}{judgement}"


def control_note(
    family_size: int, variants: int, metrics: int, adjustment: Adjustment, language: Language
) -> str:
    """How the verdicts control for multiple comparisons, for the reader of the table."""
    zh = language is Language.zh
    if zh:
        family = f"{family_size} 项比较（{variants} 个方案 × {metrics} 个关键指标）"
        if adjustment is Adjustment.holm:
            return (
                f"多重比较控制：对 {family} 用 Holm 逐步法校正 p 值；"
                "任何一条结论错误声称存在差异的概率不超过 5%。"
                "置信区间为各指标各自的 95% 区间；表中 p 列未校正，“校正 p”列为校正后的值。"
            )
        if adjustment is Adjustment.bh:
            return (
                f"多重比较控制：对 {family} 用 Benjamini–Hochberg 法控制错误发现率；"
                "声称的差异中平均不超过 5% 不真实。置信区间与表中 p 列未校正，“校正 p”列为校正后的值。"
            )
        return f"未做多重比较校正：{family} 中约 5% 可能仅因偶然而显示差异。"
    family = f"{family_size} comparisons ({variants} variant(s) × {metrics} key metrics)"
    if adjustment is Adjustment.holm:
        return (
            f"Multiple comparisons: p-values are Holm-adjusted over the {family}, so the chance that any "
            "verdict claims a difference that is not there is at most 5% (family-wise error rate). "
            "CIs are each metric's own 95% interval; the tables' p column is unadjusted, their 'adj.' column "
            "holds the adjusted p-values."
        )
    if adjustment is Adjustment.bh:
        return (
            f"Multiple comparisons: Benjamini–Hochberg over the {family} controls the false discovery rate: "
            "on average at most 5% of the claimed differences are not real. "
            "CIs and the tables' p column are unadjusted; their 'adj.' column holds the adjusted p-values."
        )
    return f"No multiple-comparison adjustment: among the {family}, about 5% may show a difference by chance."


def _gap(label: str) -> str:
    """A space between 使 and a label that starts with Latin letters (使 LTV:CAC), none before Chinese."""
    return " " if label[:1].isascii() and label[:1].isalpha() else ""
