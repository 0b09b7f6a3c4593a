"""Words of the comparison report in Chinese and English; the run report's words (:mod:`reports.labels`)
for everything the two pages share."""

from __future__ import annotations

from engine.metrics import MetricInfo
from reports.labels import TEXT, Lang

COMPARISON_TEXT: dict[str, tuple[str, str]] = {
    "comparison_report": ("私域方案对比报告", "Private-traffic plan comparison"),
    "paired_reps": (
        "每个方案 {reps} 次配对重复仿真（公共随机数），随机种子 {seed}，95% 置信区间",
        "{reps} paired replications per plan (common random numbers), seed {seed}, 95% CI",
    ),
    "verdicts": ("结论（与基线相比）", "Verdicts (against the baseline)"),
    "vs_baseline": ("{plan} 对比基线 {baseline}", "{plan} vs the baseline {baseline}"),
    "selection": ("选出最优方案（KN 程序）", "Selecting the best plan (KN procedure)"),
    "selection_intro": (
        "按 {metric} 用 Kim–Nelson KN 程序选优：只给仍在竞争的方案追加重复。",
        "The best plan by {metric}, by Kim & Nelson's KN procedure: replications were added only to plans "
        "still in contention.",
    ),
    "plan": ("方案", "plan"),
    "replications": ("重复次数", "replications"),
    "outcome": ("结果", "outcome"),
    "selected": ("选中（最优）", "selected (best)"),
    "eliminated_after": ("在 {reps} 次重复后淘汰", "eliminated after {reps} replications"),
    "in_contention": ("仍在竞争", "still in contention"),
    "not_selected": ("未选中", "not selected"),
    "baseline": ("基线", "baseline"),
    "difference": ("与基线之差 Δ", "Δ vs baseline"),
    "adjusted": ("校正 p", "adj. p"),
    "key_metric": ("关键指标", "key metric"),
    "compare_metrics_intro": (
        "每个方案各指标的均值（下方为 95% 置信区间），以及与基线的配对差值 Δ"
        "（同一批随机数，逐次相减后求均值）及其 95% 置信区间和 p 值；"
        "★ 为关键指标，其“校正 p”经多重比较校正。比例的差值以百分点（pp）计。",
        "Each plan's mean of every metric (below it: the 95% CI), and its paired difference Δ to the "
        "baseline (replication by replication on the same random numbers, then averaged) with its 95% CI "
        "and p-value; "
        "★ marks the key metrics, whose adjusted p is corrected for multiple comparisons. Differences of "
        "shares are in percentage points (pp).",
    ),
    "plan_assumptions_intro": (
        "每个方案运行时使用的完整场景（resolved.yaml），点击展开。",
        "The complete scenario each plan ran with (resolved.yaml); click to open.",
    ),
    "detected_better": ("可检测：更好", "detectable: better"),
    "detected_worse": ("可检测：更差", "detectable: worse"),
    "detected_neutral": ("可检测", "detectable"),
    "not_detected": ("不可检测（置信区间含 0 或校正 p ≥ 5%）", "not detectable (CI spans 0 or adj. p ≥ 5%)"),
    "share_points": ("个百分点", "pp"),
    "days_unit": ("天", "days"),
    "cannot_compare": ("无法比较", "cannot be compared"),
    "fig_differences": ("与基线的配对差值（95% 置信区间）", "Paired differences vs the baseline (95% CI)"),
    "fig_retention_overlay": ("各方案留存曲线", "Retention by plan"),
    "fig_pool_overlay": ("各方案私域池规模", "Pool size by plan"),
    "fig_payback_overlay": ("各方案回本曲线", "Payback curve by plan"),
    "fig_lorenz_overlay": ("各方案二八集中度（洛伦兹曲线）", "20/80 concentration by plan (Lorenz curve)"),
    "cap_differences": (
        "每个关键指标一格，每个方案一行：点为与基线的平均配对差值，横线为 95% 置信区间，"
        "单位同指标（比例为百分点）。实心彩色 = {detectable}（绿更好、红更差、紫无好坏之分）；"
        "空心灰 = 不可检测。线越过 0 即无法区分。",
        "One panel per key metric, one row per plan: the point is the mean paired difference to the "
        "baseline, the bar its 95% CI, in the metric's units (shares in percentage points). Filled colour = "
        "{detectable} (green better, red worse, purple neither); hollow grey = not detectable. A bar across "
        "0 cannot tell the plans apart.",
    ),
    "cap_retention_overlay": (
        "所有成员加入 d 天后仍在私域的比例，每个方案一条曲线，阴影为 95% 置信区间：曲线越高，留存越好。",
        "Share of all members still in the private domain d days after joining, one curve per plan, shaded: "
        "95% CI. The higher the curve, the better the plan keeps people.",
    ),
    "cap_pool_overlay": (
        "每次阶段评估时私域中的总人数（不含已离开者，{reps} 次重复的均值），每个方案一条线："
        "看哪个方案的私域更大、增长更久。",
        "Members in the private domain at each stage review (those who left excluded; mean of {reps} "
        "replications), one line per plan: read which plan builds the larger pool and for how long it grows.",
    ),
    "cap_payback_overlay": (
        "CLV 客群首购后人均累计（折现）贡献，每个方案一条曲线（阴影为 95% 置信区间），虚线为该方案的 CAC："
        "曲线与同色虚线相交之日即回本天数。",
        "The CLV cohort's mean cumulative (discounted) contribution after the first purchase, one curve per "
        "plan (shaded: 95% CI); the dashed line of the same colour is that plan's CAC: where they cross is "
        "the plan's payback day.",
    ),
    "cap_lorenz_overlay": (
        "按消费从低到高排列客户的累计收入占比，每个方案一条曲线（阴影为 95% 置信区间）："
        "曲线越靠下，收入越集中于少数大客户。",
        "Customers ranked from lowest to highest spend against their cumulative share of revenue, one curve "
        "per plan (shaded: 95% CI): the lower the curve, the more revenue depends on a few big customers.",
    ),
    "top20_of": ("{plan}（前20%贡献 {share}）", "{plan} (top 20%: {share})"),
    "cac_of": ("{plan} 的 CAC", "CAC of {plan}"),
    "detectable_holm": ("经 Holm 校正后可检测", "detectable after Holm adjustment"),
    "detectable_bh": ("经 Benjamini–Hochberg 校正后可检测", "detectable after Benjamini–Hochberg adjustment"),
    "detectable_none": ("可检测（各自 5% 水平，未做多重比较校正）", "detectable (each at 5%, no adjustment)"),
}


def text(key: str, lang: Lang, **values: object) -> str:
    """The comparison report's words for ``key`` in ``lang`` (the run report's for shared keys), with
    ``{name}`` placeholders filled from ``values``."""
    zh, en = COMPARISON_TEXT.get(key) or TEXT[key]
    words = zh if lang == "zh" else en
    return words.format(**values) if values else words


def difference_unit(info: MetricInfo, currency: str, lang: Lang) -> str:
    """The unit a difference of ``info`` is drawn in: the currency, percentage points, days, or nothing."""
    if info.unit == "money":
        return currency
    if info.unit == "share":
        return text("share_points", lang)
    if info.unit == "days":
        return text("days_unit", lang)
    return ""
