"""The scenario library (scenarios/library/): each lesson's direction, and a rough size where it has one.

Every comparison runs the baseline and its variant on the same seeds (common random numbers: replication i of
both uses the same random streams), so the paired differences are independent across replications and their
Student-t 95% confidence interval (engine.stats.paired_difference) must exclude zero in the lesson's
direction.
Replications are few and populations small: each lesson takes a second or two.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from engine.runner import RunResult, run
from engine.scenario import load_scenario
from engine.stats import Difference, paired_difference

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / "scenarios" / "library"
README = ROOT / "scenarios" / "README.md"
SEED = 11
REPS = 4
CJK = re.compile(r"[\u4e00-\u9fff]")


@cache
def _run(name: str, reps: int = REPS) -> RunResult:
    loaded = load_scenario(LIBRARY / f"{name}.yaml")
    assert loaded.warnings == ()
    return run(loaded.scenario, reps, SEED)


def _values(result: RunResult, metric: str, source: str | None = None) -> list[float | None]:
    if source is None:
        return [r.metrics[metric] for r in result.replications]
    return [r.breakdown["source"][source][metric] for r in result.replications]


def _diff(
    baseline: str, variant: str, metric: str, reps: int = REPS, source: str | None = None
) -> Difference:
    """Paired difference variant − baseline of ``metric`` (of one source's breakdown, if given)."""
    difference = paired_difference(
        _values(_run(baseline, reps), metric, source), _values(_run(variant, reps), metric, source)
    )
    assert difference.pairs == reps, (baseline, variant, metric)
    return difference


def _higher(baseline: str, variant: str, metric: str, reps: int = REPS) -> Difference:
    """Assert that ``variant`` beats ``baseline`` on ``metric``: the paired 95% CI lies above zero."""
    difference = _diff(baseline, variant, metric, reps)
    assert difference.ci_low is not None and difference.ci_low > 0, (baseline, variant, metric, difference)
    return difference


def _lower(baseline: str, variant: str, metric: str, reps: int = REPS) -> Difference:
    """Assert that ``variant`` is below ``baseline`` on ``metric``: the paired 95% CI lies under zero."""
    difference = _diff(baseline, variant, metric, reps)
    assert difference.ci_high is not None and difference.ci_high < 0, (baseline, variant, metric, difference)
    return difference


def _mean(name: str, metric: str, reps: int = REPS, source: str | None = None) -> float:
    values = [v for v in _values(_run(name, reps), metric, source) if v is not None]
    assert values, (name, metric)
    return sum(values) / len(values)


# ------------------------------------------------------------------------------------------- the lessons


@pytest.mark.slow
def test_path_a_two_step_path_brings_the_pass_rate_ratio_more_members() -> None:
    """Seed 001 Q3: the shorter the path, the higher the efficiency. The same viewers pass two steps
    (0.85 × 0.7) about 3.2 times as often as five (0.85 × 0.6 × 0.7 × 0.75 × 0.7)."""
    _higher("path_five_steps", "path_two_steps", "new_members")
    _lower("path_five_steps", "path_two_steps", "cost_per_member")
    _lower("path_five_steps", "path_two_steps", "cac")
    ratio = _mean("path_two_steps", "new_members") / _mean("path_five_steps", "new_members")
    # seed 11: 3.128 against 3.175 (−1.5%); the ratio of two 4-replication means has a relative SE of about
    # 1.6% (delta method, ignoring the common random numbers that only narrow it), so 5% is about 3 SE
    assert ratio == pytest.approx((0.85 * 0.7) / (0.85 * 0.6 * 0.7 * 0.75 * 0.7), rel=0.05)


@pytest.mark.slow
def test_carrier_wecom_beats_the_official_account_which_beats_the_mini_program() -> None:
    """Seed 001 Q4: WeCom is sticky and reaches members; a folded official account keeps them but reaches
    few; a mini program's users use it and leave."""
    _lower("carrier_wecom", "carrier_official_account", "clv")
    _lower("carrier_wecom", "carrier_official_account", "profit")
    _lower("carrier_official_account", "carrier_mini_program", "clv")
    _lower("carrier_official_account", "carrier_mini_program", "profit")
    _lower("carrier_wecom", "carrier_mini_program", "retention_d90")
    assert _mean("carrier_mini_program", "retention_d30") == pytest.approx(0.1, abs=0.02)  # 10% stay a month
    assert _mean("carrier_official_account", "touches_per_member") < 0.05 * _mean(
        "carrier_wecom", "touches_per_member"
    )  # folded: 1% of followers see an article, against 90% of WeCom contacts


@pytest.mark.slow
def test_lure_money_pulls_the_most_members_a_relationship_the_stickiest() -> None:
    """Seed 001 Q3: a reward lure brings the most members, many of them deal-seekers who buy less and leave
    sooner; a service lure fewer and better; a relationship lure the fewest and the stickiest. A trade-off:
    at these numbers the red packet's volume still brings the most total profit."""
    _lower("lure_reward", "lure_service", "new_members")
    _lower("lure_service", "lure_relationship", "new_members")
    _higher("lure_reward", "lure_service", "retention_d90")
    _higher("lure_service", "lure_relationship", "retention_d90")
    _higher("lure_reward", "lure_service", "clv")
    _higher("lure_reward", "lure_relationship", "clv")
    _lower("lure_reward", "lure_relationship", "profit")


@pytest.mark.slow
def test_tea_coffee_a_win_back_coupon_wakes_dormant_members() -> None:
    """Seed 001 Q6: each lifecycle stage has its play. A 1-on-1 coupon when a member goes dormant brings some
    back: more profit and CLV. (The dormant share at the end falls too, by about a point: too little to show
    on a few replications.)"""
    _higher("tea_coffee_store_groups", "tea_coffee_win_back", "profit")
    _higher("tea_coffee_store_groups", "tea_coffee_win_back", "clv")
    _higher("tea_coffee_store_groups", "tea_coffee_win_back", "touches_per_member")
    sends = _run("tea_coffee_win_back").replications[0].breakdown["campaign"]["win_back"]
    assert sends["responses"] > 0 and sends["reached"] > 10 * sends["responses"]


@pytest.mark.slow
def test_restaurant_a_reward_paid_at_once_keeps_new_members() -> None:
    """Seed 001 Q3: rewards must be paid out promptly. Waiting a month for the joining reward, new members
    leave at four times the usual rate: 30-day retention falls by roughly a quarter of the members."""
    gain = _higher("restaurant_reward_next_month", "restaurant_reward_at_once", "retention_d30")
    assert gain.diff_mean is not None and 0.15 < gain.diff_mean < 0.3
    _higher("restaurant_reward_next_month", "restaurant_reward_at_once", "members_end")
    _higher("restaurant_reward_next_month", "restaurant_reward_at_once", "profit")


@pytest.mark.slow
def test_fmcg_settling_ad_traffic_on_the_official_account_pays() -> None:
    """Seed 001 Q2 and seed 004: without a venue of its own, an FMCG brand that lets ad buyers go back to the
    platform cannot reach them again; settled on its service account they buy again: CAC falls by more than
    half, CLV and repurchase rise, and the net value turns from about zero to clearly positive."""
    _higher("fmcg_ads_only", "fmcg_ads_to_official_account", "clv")
    _higher("fmcg_ads_only", "fmcg_ads_to_official_account", "repurchase_rate")
    _higher("fmcg_ads_only", "fmcg_ads_to_official_account", "net_value")
    _higher("fmcg_ads_only", "fmcg_ads_to_official_account", "profit")
    assert _mean("fmcg_ads_to_official_account", "cac") < 0.5 * _mean("fmcg_ads_only", "cac")
    assert abs(_mean("fmcg_ads_only", "net_value")) < 30 < _mean("fmcg_ads_to_official_account", "net_value")


@pytest.mark.slow
def test_retail_guiding_members_into_store_groups_keeps_more_of_them() -> None:
    """Seed 001 Q3 (多点留存): a member leaves only when gone from every carrier, so guiding WeCom members
    into store groups as well raises retention and the pool at the end, from the same new members."""
    assert _diff("retail_stores_wecom_only", "retail_stores_wecom_and_groups", "new_members").diff_mean == 0
    _higher("retail_stores_wecom_only", "retail_stores_wecom_and_groups", "retention_d90")
    _higher("retail_stores_wecom_only", "retail_stores_wecom_and_groups", "members_end")


@pytest.mark.slow
def test_clinic_one_on_one_advisers_close_several_times_the_customers_of_group_posts() -> None:
    """Seed 001 Q7 and Q10: a 40 000 CNY treatment sells through trusted 1-on-1 service, not group posts; the
    advisers cost money and still pay for themselves many times over."""
    more = _higher("clinic_group_posts", "clinic_one_on_one_advisers", "new_customers")
    _higher("clinic_group_posts", "clinic_one_on_one_advisers", "profit")
    _lower("clinic_group_posts", "clinic_one_on_one_advisers", "cac")
    assert more.diff_mean is not None and more.diff_mean > 2 * _mean("clinic_group_posts", "new_customers")
    extra_cost = _diff("clinic_group_posts", "clinic_one_on_one_advisers", "ops_cost")
    assert extra_cost.diff_mean == pytest.approx(3 * 15_000 * 545 / 30)  # three advisers' pay, nothing else


@pytest.mark.slow
def test_education_the_same_money_on_referrals_brings_three_times_the_customers() -> None:
    """Seed 002: about the same monthly budget brings about three times the new families through referral
    rewards as through ads, so CAC falls by about two thirds."""
    ads_cost = _mean("education_ads", "acquisition_cost", source="feed_ads")
    referral_cost = _mean("education_referral", "acquisition_cost", source="referrals")
    assert referral_cost == pytest.approx(ads_cost, rel=0.15)  # the same money
    ads = _mean("education_ads", "new_customers", source="feed_ads")
    referred = _mean("education_referral", "new_customers", source="referrals")
    assert 2.4 < referred / ads < 3.6
    ratio = _mean("education_referral", "cac", source="referrals") / _mean(
        "education_ads", "cac", source="feed_ads"
    )
    assert ratio == pytest.approx(1 / 3, abs=0.07)  # "CAC down by two thirds"
    _higher("education_ads", "education_referral", "new_customers")
    _higher("education_ads", "education_referral", "profit")
    _lower("education_ads", "education_referral", "cac")


@pytest.mark.slow
def test_education_referral_without_good_service_fails() -> None:
    """Seed 002: "服务没做好，上来就想裂变，必死" — with unhappy parents the same rewards bring a fraction
    of the referrals: fewer new customers, a smaller pool, less profit."""
    _lower("education_referral", "education_referral_poor_service", "k_factor")
    _lower("education_referral", "education_referral_poor_service", "new_customers")
    _lower("education_referral", "education_referral_poor_service", "members_end")
    _lower("education_referral", "education_referral_poor_service", "profit")
    good = _mean("education_referral", "new_members", source="referrals")
    poor = _mean("education_referral_poor_service", "new_members", source="referrals")
    assert poor / good == pytest.approx(0.2, abs=0.07)  # a fifth of the referrals


@pytest.mark.slow
def test_douyin_hard_selling_gets_the_account_banned_and_the_followers_wiped() -> None:
    """Seed 002: followers on a public platform are not yours; at the slightest hint of marketing the account
    is banned and the followers drop to zero. Bans are rare events, so this lesson takes 10 replications; the
    red packet pulls more people in between bans, so new members and profit fall only on average."""
    reps = 10
    _higher("douyin_account_soft", "douyin_account_hard_sell", "bans", reps)
    _lower("douyin_account_soft", "douyin_account_hard_sell", "visitors", reps)
    _lower("douyin_account_soft", "douyin_account_hard_sell", "members_end", reps)
    assert _mean("douyin_account_hard_sell", "bans", reps) > 3 * _mean("douyin_account_soft", "bans", reps)


# ----------------------------------------------------------------------------------- the library as a whole

LESSON_FILE = re.compile(r"`(library/[a-z0-9_]+\.yaml)`")
EXAMPLE_FILE = re.compile(r"`((?:examples/)?[a-z0-9_]+\.yaml)`")


def test_the_readme_lists_every_library_file_and_every_listed_file_exists() -> None:
    text = README.read_text(encoding="utf-8")
    listed = set(LESSON_FILE.findall(text))
    shipped = {f"library/{path.name}" for path in LIBRARY.glob("*.yaml")}
    assert shipped - listed == set(), "scenarios/README.md must list every library scenario"
    mentioned = set(EXAMPLE_FILE.findall(text)) | listed
    missing = [name for name in mentioned if not (ROOT / "scenarios" / name).is_file()]
    assert missing == [], "scenarios/README.md names files that do not exist"
    assert len(shipped) >= 20  # ten lessons or more, each a baseline and at least one variant


@pytest.mark.parametrize("path", sorted(LIBRARY.glob("*.yaml")), ids=lambda p: p.name)
def test_a_library_scenario_explains_itself_in_chinese_and_english(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    header = text.split("\nmeta:")[0]
    assert CJK.search(header) and re.search(r"[A-Za-z]{4,}", header), "opening comment in Chinese and English"
    assert "seed 0" in header.lower(), "the opening comment names the seed the lesson comes from"
    assert "DOMAIN-FACTS" in header or "estimate" in header, "and where its numbers come from"
    scenario = load_scenario(path).scenario
    meta = scenario.meta
    assert CJK.search(meta.name) and re.search(r"[A-Za-z]{4,}", meta.name)
    assert CJK.search(meta.description) and re.search(r"[A-Za-z]{4,}", meta.description)
    sections = (scenario.sources, scenario.lures, scenario.paths, scenario.carriers, scenario.campaigns)
    unlabelled = [
        item.id
        for items in (*sections, scenario.products, scenario.staff)
        for item in items
        if not (CJK.search(item.label.zh) and item.label.en)
    ]
    assert unlabelled == [], "every source, lure, path, carrier, campaign, product and staff pool is labelled"


def test_every_variant_extends_a_library_baseline() -> None:
    """A variant states only its lever: it extends its baseline (or a shipped scenario)."""
    variants = [p for p in LIBRARY.glob("*.yaml") if "\nextends:" in p.read_text(encoding="utf-8")]
    assert len(variants) >= 10
    for path in variants:
        base = re.search(r"^extends: (\S+)$", path.read_text(encoding="utf-8"), re.MULTILINE)
        assert base is not None and (path.parent / base.group(1)).is_file(), path.name
