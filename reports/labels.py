"""Words of the report in Chinese and English: figure titles and captions, metric definitions, UI text.

Metric names come from :data:`engine.metrics.METRICS` and lifecycle stages from
:data:`engine.ledger.STAGE_LABELS` (the Chinese terms of DESIGN.md); everything else the report says is here,
so that one ``lang`` switch changes every word on the page.
"""

from __future__ import annotations

from typing import Literal

from engine.ledger import STAGE_LABELS, Stage
from engine.metrics import DIMENSION_METRICS, MetricInfo

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")

TEXT: dict[str, tuple[str, str]] = {
    # page
    "report": ("私域策略仿真报告", "Private-traffic strategy report"),
    "reps_seed": (
        "{reps} 次重复仿真，随机种子 {seed}，95% 置信区间",
        "{reps} replications, seed {seed}, 95% CI",
    ),
    "scenario_file": ("场景文件", "scenario file"),
    "version": ("Siyu 版本", "Siyu version"),
    "currency": ("货币", "currency"),
    "key_numbers": ("关键指标", "Key numbers"),
    "figures": ("图表", "Figures"),
    "metrics_table": ("指标与定义", "Metrics and definitions"),
    "metrics_intro": (
        "每个指标为各次重复仿真的均值及 95% 置信区间（Student t）。",
        "Each metric is the mean over replications with its 95% confidence interval (Student t).",
    ),
    "breakdowns": ("分项指标", "Breakdowns"),
    "breakdown_intro": (
        "各分项的均值（括号内为 95% 置信区间）。",
        "Means per group (95% confidence interval in brackets).",
    ),
    "assumptions": ("场景假设（已补全默认值）", "Assumptions (the scenario with every default filled)"),
    "assumptions_intro": (
        "本次运行使用的完整场景（resolved.yaml）。",
        "The complete scenario this run used (resolved.yaml).",
    ),
    "metric": ("指标", "metric"),
    "mean": ("均值", "mean"),
    "ci": ("95% 置信区间", "95% CI"),
    "definition": ("定义", "definition"),
    "note": ("说明", "note"),
    "undefined": ("无定义：{why}", "undefined: {why}"),
    "defined_in": ("仅 {defined}/{reps} 次重复有值", "defined in {defined} of {reps} replications"),
    "no_ci": ("只有一个值，无置信区间", "one value: no CI"),
    "nav_lang": ("English", "中文"),
    "no_data": ("本次运行没有可画的数据。", "Nothing to draw in this run."),
    "no_members": (
        "本次运行没有人加入私域，因此没有可画的成员。",
        "No one joined the private domain in this run: no members to draw.",
    ),
    # dimensions
    "dim_source": ("来源", "source"),
    "dim_lure": ("诱饵（提供它的来源）", "lure (the sources offering it)"),
    "dim_carrier": ("承接平台（路径终点为它的来源）", "carrier (the sources whose path ends on it)"),
    "dim_campaign": ("运营活动", "campaign"),
    "dim_tier": ("分层（期末成员）", "tier (members at the end)"),
    # axes and legends
    "day": ("天", "day"),
    "days_after_joining": ("加入后天数", "days after joining"),
    "days_after_first_purchase": ("首购后天数", "days after first purchase"),
    "retention_axis": ("仍在私域的比例", "share still in the private domain"),
    "members": ("私域用户数", "members"),
    "people": ("人数", "people"),
    "all_members": ("全部成员", "all members"),
    "ci_band": ("95% 置信区间", "95% CI"),
    "customers_share": ("客户占比", "share of customers"),
    "revenue_share": ("收入占比", "share of revenue"),
    "equality": ("完全平均", "perfect equality"),
    "top20": ("前20%客户贡献 {share}", "top 20% bring {share}"),
    "lorenz_curve": ("集中度曲线", "concentration curve"),
    "clv_axis": ("单客 CLV", "CLV per customer"),
    "cac_axis": ("获客成本 CAC", "CAC"),
    "cumulative_contribution": ("人均累计贡献", "cumulative contribution per customer"),
    "payback_at": ("回本：第 {day} 天", "payback: day {day}"),
    "mean_clv": ("平均 CLV", "mean CLV"),
    "break_even": ("CLV = CAC（盈亏平衡）", "CLV = CAC (break-even)"),
    "three_times": ("CLV = 3 × CAC", "CLV = 3 × CAC"),
    "play": ("播放", "play"),
    "pause": ("暂停", "pause"),
    "by_stage": ("按生命周期阶段", "by lifecycle stage"),
    "by_carrier": ("按承接平台", "by carrier"),
    "left": ("已离开私域", "left the private domain"),
    "no_tier": ("未分层", "no tier"),
    "no_lure": ("无诱饵", "no lure"),
    "churned_cumulative": ("累计离开", "left so far"),
    "amount": ("金额", "amount"),
    # funnel steps
    "visitors": ("访客", "visitors"),
    "members_step": ("私域用户", "members"),
    "activated": ("已激活", "activated"),
    "first_purchase": ("首购", "first purchase"),
    "repeat": ("复购", "repeat purchase"),
    "fans": ("铁杆粉丝", "fans"),
    # money lines
    "revenue": ("收入", "revenue"),
    "cost_of_goods": ("商品成本", "product cost"),
    "media": ("媒介投放", "media"),
    "source_fixed": ("来源固定成本", "source fixed costs"),
    "lure": ("诱饵", "lures"),
    "referral_reward": ("转介绍奖励", "referral rewards"),
    "accounts": ("账号费用", "carrier accounts"),
    "staff": ("人员", "staff"),
    "touch": ("触达", "touches"),
    "fees": ("平台与渠道费用", "platform and venue fees"),
    "profit": ("利润", "profit"),
    # figure titles
    "fig_flow": ("顾客流向：来源 → 诱饵 → 承接平台 → 期末", "Customer flow: source → lure → carrier → end"),
    "fig_funnel": ("转化漏斗", "Funnel"),
    "fig_retention_carrier": ("留存曲线（按承接平台）", "Retention by carrier"),
    "fig_retention_source": ("留存曲线（按来源）", "Retention by source"),
    "fig_pool": ("私域池规模（按生命周期阶段）", "Pool size by lifecycle stage"),
    "fig_pool_animation": ("私域池动画：阶段与承接平台", "Pool animation: stages and carriers"),
    "fig_clv_distribution": ("客户终身价值分布", "CLV distribution"),
    "fig_clv_cac": ("各来源的 CLV 与 CAC（LTV:CAC）", "CLV vs CAC by source (LTV:CAC)"),
    "fig_payback": ("回本曲线", "Payback curve"),
    "fig_lorenz": ("二八集中度（洛伦兹曲线）", "20/80 concentration (Lorenz curve)"),
    "fig_waterfall": ("从收入到利润（成本瀑布）", "From revenue to profit (cost waterfall)"),
    # captions: one line each, what to read
    "cap_flow_tiers": (
        "看新增私域用户从哪来、因哪个诱饵加入、进了哪个平台、期末落在哪一层或已离开；"
        "带宽为人数（{reps} 次重复的均值）。",
        "Where new members came from, which lure brought them, which carrier they joined and which value "
        "tier they are in at the end, or whether they left; band widths are people (mean of {reps} "
        "replications).",
    ),
    "cap_flow_stages": (
        "看新增私域用户从哪来、因哪个诱饵加入、进了哪个平台、期末处于哪个生命周期阶段或已离开；"
        "带宽为人数（{reps} 次重复的均值）。",
        "Where new members came from, which lure brought them, which carrier they joined and which lifecycle "
        "stage they are in at the end, or whether they left; band widths are people (mean of {reps} "
        "replications).",
    ),
    "cap_funnel_fans": (
        "每一步只计通过了前面各步的人；粉丝 = 期末处于最高价值层（{tier}）的复购客户。看哪一步流失最多。",
        "Each step counts only those who passed the steps before; fans = repeat buyers in the top value tier "
        "({tier}) at the end. Read which step loses most people.",
    ),
    "cap_funnel_no_fans": (
        "每一步只计通过了前面各步的人；本场景未定义价值分层，因此没有“铁杆粉丝”一步。看哪一步流失最多。",
        "Each step counts only those who passed the steps before; this scenario defines no value tiers, so "
        "there is no fans step. Read which step loses most people.",
    ),
    "cap_retention": (
        "加入 d 天后仍在私域的比例（只计至少 d 天前加入的人），阴影为 95% 置信区间：曲线越陡，流失越快。",
        "Share of members still in the private domain d days after joining (of those who joined at least "
        "d days before the end), shaded: 95% CI. The steeper the curve, the faster people leave.",
    ),
    "cap_pool": (
        "每次阶段评估时私域中的人数，按生命周期阶段堆叠（{reps} 次重复的均值）：休眠层变厚说明私域在老化。",
        "Members in the private domain at each stage review, stacked by lifecycle stage (mean of {reps} "
        "replications): a thickening dormant layer means the pool is ageing.",
    ),
    "cap_pool_animation": (
        "按“播放”或拖动天数：看成员在生命周期阶段和承接平台之间的流动（{reps} 次重复的均值）。",
        "Press play or drag the day slider: members moving between lifecycle stages and carriers (mean of "
        "{reps} replications).",
    ),
    "cap_clv_distribution": (
        "CLV 观察期满的客户各自的 CLV 分布（各次重复的分位数取平均，最后一栏含最高的 1%）；"
        "竖线为平均 CLV 和 CAC：CAC 右边的客户才赚回了获客成本。",
        "Each customer's own CLV, for customers observed for the full CLV window (per-replication "
        "quantiles, averaged; the last bar also holds the top 1%); lines: mean CLV and CAC — only customers "
        "right of CAC earn back what acquiring a customer costs.",
    ),
    "cap_clv_cac": (
        "每个来源一点，误差线为 95% 置信区间：在盈亏线上方的来源赚回获客成本，3 倍线以上通常被视为健康。",
        "One point per source, error bars: 95% CI. Sources above the break-even line earn back their "
        "acquisition cost; above 3× is usually called healthy.",
    ),
    "cap_payback": (
        "CLV 客群首购后人均累计（折现）贡献，阴影为曲线和 CAC 各自的 95% 置信区间；"
        "与 CAC 线相交之日即回本天数，终点即 CLV。",
        "The CLV cohort's mean cumulative (discounted) contribution after the first purchase; shaded: the "
        "95% CIs of the curve and of CAC. Where it crosses the CAC line is the payback day, and it ends at "
        "CLV.",
    ),
    "cap_lorenz": (
        "按消费从低到高排列客户，曲线为累计收入占比（各次重复的均值）；80% 处标出的竖线长度："
        "前 20% 客户贡献的收入比例。",
        "Customers ranked from lowest to highest spend, curve: their cumulative share of revenue (mean over "
        "replications); the marked segment at 80%: the share of revenue from the top 20% of customers.",
    ),
    "cap_waterfall": (
        "从收入逐项减去商品成本和各类成本，最后一栏为利润（{reps} 次重复的均值）：看钱花在了哪里。",
        "Revenue minus product cost and each kind of cost, ending at profit (mean of {reps} replications): "
        "read where the money goes.",
    ),
}

METRIC_DEFINITIONS: dict[str, tuple[str, str]] = {
    "visitors": (
        "到达诱饵的人数（点击、扫码、进店）",
        "people who reached the offer (clicked, scanned, walked in)",
    ),
    "new_members": ("加入至少一个承接平台的访客", "visitors who joined at least one carrier"),
    "new_customers": ("首购发生在仿真期内的人数", "people whose first purchase fell in the horizon"),
    "acquisition_cost": (
        "媒介投放 + 来源固定成本 + 加入时支付的诱饵成本 + 转介绍奖励",
        "media spend + source fixed costs + lure costs paid at joining + referral rewards",
    ),
    "cost_per_member": ("获客成本总额 / 新增私域用户", "acquisition_cost / new_members"),
    "cac": ("获客成本总额 / 新客户", "acquisition_cost / new_customers"),
    "retention_d30": (
        "至少 30 天前加入的成员中，加入 30 天后仍在私域的比例",
        "of members who joined at least 30 days before the end, the share still in the private domain "
        "30 days after joining",
    ),
    "retention_d90": (
        "至少 90 天前加入的成员中，加入 90 天后仍在私域的比例",
        "of members who joined at least 90 days before the end, the share still in the private domain "
        "90 days after joining",
    ),
    "retention_d180": (
        "至少 180 天前加入的成员中，加入 180 天后仍在私域的比例",
        "of members who joined at least 180 days before the end, the share still in the private domain "
        "180 days after joining",
    ),
    "repurchase_rate": (
        "首购在结束前至少 180 天的客户中，首购后 180 天内再次购买的比例",
        "of customers whose first purchase was at least 180 days before the end, the share who bought "
        "again within 180 days of it",
    ),
    "clv": (
        "首购在结束前至少一个 CLV 观察期的新客户：观察期内收入 − 商品成本 − 渠道费用 − 该客户的服务成本，"
        "按年折现率连续折现后的人均值",
        "per new customer whose first purchase was at least clv_horizon_days before the end: revenue − "
        "product cost − venue fees − that customer's service costs over the window, discounted "
        "continuously at the annual discount_rate, averaged",
    ),
    "net_value": ("CLV − CAC（种子 004：100 − 30 = 70）", "clv − cac (seed 004: 100 − 30 = 70)"),
    "ltv_cac": ("CLV / CAC", "clv / cac"),
    "payback_days": (
        "首购后 CLV 客群人均累计（折现）贡献达到 CAC 的第一个整天；观察期内未达到则为空",
        "first whole day after the first purchase at which the CLV cohort's mean cumulative (discounted) "
        "contribution reaches cac; null if never within the CLV window",
    ),
    "revenue": ("仿真期内收入合计", "total over the horizon"),
    "gross_margin": ("收入 − 商品成本", "revenue − product cost"),
    "ops_cost": (
        "人员 + 承接账号（开通与运营）+ 活动触达 + 平台费用",
        "staff + carrier accounts (opening and running) + campaign touches + platform fees",
    ),
    "total_cost": ("获客成本总额 + 运营成本", "acquisition_cost + ops_cost"),
    "profit": ("毛利 − 总成本", "gross_margin − total_cost"),
    "top20_revenue_share": (
        "消费最高的前 20% 客户贡献的收入占比",
        "share of revenue from the top 20% of customers",
    ),
    "k_factor": (
        "经转介绍加入的新成员 / 全部新成员",
        "new members who arrived by referral / all new members",
    ),
    "referral_share": (
        "经转介绍的新客户 / 全部新客户",
        "new customers who arrived by referral / all new customers",
    ),
    "touches_per_member": ("触达到人的次数 / 新增私域用户", "touches that reached someone / new_members"),
    "annoyance_exits": ("因过度打扰离开承接平台的人数", "people who left a carrier because of over-touching"),
    "staff_utilisation": ("顾问服务时间 /（人数 × 仿真期）", "adviser service time / (headcount × horizon)"),
    "mean_wait_days": (
        "从加入到开始咨询的平均天数（已接待线索）",
        "mean days from joining to the consultation (leads served)",
    ),
    "unserved_leads": ("期末仍未完成咨询的线索", "consultation leads not finished by the end of the horizon"),
    "bans": ("公域账号被封次数", "bans of public-account sources"),
    "members_end": ("期末私域用户数", "private-domain pool size at the end"),
    "dormant_share_end": ("期末私域中休眠者的比例", "the dormant share of the pool at the end"),
}


MISSING_ZH: dict[str, str] = {
    "CLV or CAC undefined": "CLV 或 CAC 无定义",
    "CLV or CAC undefined, or CAC is zero": "CLV 或 CAC 无定义，或 CAC 为零",
    "cohort contribution never reaches CAC within the CLV window (or CAC undefined)": (
        "CLV 观察期内客群累计贡献未达到 CAC（或 CAC 无定义）"
    ),
    "no customer observed for the full CLV window": "没有客户被观察满一个 CLV 观察期",
    "no customer's first purchase was 180+ days before the end": "没有客户的首购在结束前 180 天以上",
    "no customers": "没有客户",
    "no lead was served": "没有线索被接待",
    "no member joined 180+ days before the end": "没有成员在结束前 180 天以上加入",
    "no member joined 30+ days before the end": "没有成员在结束前 30 天以上加入",
    "no member joined 90+ days before the end": "没有成员在结束前 90 天以上加入",
    "no members at the end": "期末没有成员",
    "no members in the tier": "该分层没有成员",
    "no new customers": "没有新客户",
    "no new members": "没有新增私域用户",
    "no staff pool": "没有顾问团队",
    "no touch reached anyone": "没有触达到任何人",
}
"""Why a metric can be undefined (:attr:`engine.metrics.MetricInfo.missing`), in Chinese."""


def missing_reason(info: MetricInfo, lang: Lang) -> str:
    """Why ``info``'s value can be undefined, in ``lang`` (the English reason if no translation exists)."""
    return MISSING_ZH.get(info.missing, info.missing) if lang == "zh" else info.missing


def text(key: str, lang: Lang, **values: object) -> str:
    """The report's words for ``key`` in ``lang``, with ``{name}`` placeholders filled from ``values``."""
    zh, en = TEXT[key]
    words = zh if lang == "zh" else en
    return words.format(**values) if values else words


def metric_label(info: MetricInfo, lang: Lang) -> str:
    """A metric's name in ``lang`` (the Chinese terms of DESIGN.md)."""
    return info.zh if lang == "zh" else info.en


def metric_definition(name: str, lang: Lang) -> str:
    """A metric's definition as DESIGN.md states it (empty for breakdown-only metrics)."""
    pair = METRIC_DEFINITIONS.get(name)
    if pair is None:
        return ""
    return pair[0] if lang == "zh" else pair[1]


def stage_label(stage: Stage, lang: Lang) -> str:
    """A lifecycle stage's name (引入期 intro … 流失期 churned)."""
    zh, en = STAGE_LABELS[stage]
    return zh if lang == "zh" else en


def dimension_metric(dimension: str, name: str) -> MetricInfo:
    """The :class:`MetricInfo` of ``name`` in breakdown ``dimension``."""
    return next(info for info in DIMENSION_METRICS[dimension] if info.name == name)
