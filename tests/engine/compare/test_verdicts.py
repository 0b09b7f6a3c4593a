"""Plain verdicts: direction words, units, better/worse, and the multiple-comparison control."""

from __future__ import annotations

import pytest

from engine.compare.verdicts import Adjustment, Language, adjust, control_note, verdicts
from engine.stats import Difference

NAMES = ("Plan A", "Plan B", "Plan C")


def _vs(**differences: Difference) -> dict[str, Difference]:
    return differences


def test_holm_and_bh_match_their_definitions() -> None:
    """Holm: sorted p_(i) × (m − i + 1), made monotone; BH: p_(i) × m / i, made monotone from the top."""
    p = [0.01, 0.04, 0.03, 0.5]
    assert adjust(p, Adjustment.holm) == pytest.approx([0.04, 0.09, 0.09, 0.5])
    assert adjust(p, Adjustment.bh) == pytest.approx([0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.5])
    assert adjust(p, Adjustment.none) == p


def test_a_lower_cac_is_claimed_with_its_ci_in_money_and_called_better() -> None:
    cac = Difference(-210.0, -240.0, -180.0, 0.0001, 20)
    (_, (verdict,), _) = verdicts(
        NAMES, [{}, _vs(cac=cac), _vs(cac=cac)], ["cac"], "CNY", language=Language.en
    )
    assert verdict.detected
    assert verdict.text == (
        "Plan B lowers CAC by 210.00 CNY (95% CI 180.00–240.00 CNY; Holm-adjusted p < 0.001) — better"
    )


def test_chinese_verdicts_and_percentage_points_for_shares() -> None:
    retention = Difference(0.032, 0.011, 0.053, 0.004, 20)
    ((), (verdict,)) = verdicts(
        NAMES[:2], [{}, _vs(retention_d90=retention)], ["retention_d90"], "CNY", language=Language.zh
    )
    assert (
        verdict.text
        == "Plan B 使90天留存率 提高 3.2 个百分点（95% 置信区间 1.1–5.3 个百分点；Holm 校正 p = 0.004），更好"
    )
    ((), (english,)) = verdicts(
        NAMES[:2], [{}, _vs(retention_d90=retention)], ["retention_d90"], "CNY", language=Language.en
    )
    assert (
        "raises 90-day retention by 3.2 percentage points (95% CI 1.1–5.3 percentage points" in english.text
    )


def test_no_detectable_difference_when_the_ci_covers_zero() -> None:
    clv = Difference(5.0, -3.0, 13.0, 0.2, 20)
    ((), (verdict,)) = verdicts(NAMES[:2], [{}, _vs(clv=clv)], ["clv"], "CNY", language=Language.en)
    assert not verdict.detected
    assert (
        verdict.text == "CLV: no detectable difference (95% CI −3.00 … +13.00 CNY; Holm-adjusted p = 0.200)"
    )


def test_no_claim_unless_the_ci_excludes_zero() -> None:
    """A p-value below 5% whose CI still touches 0 (rounding at the boundary, or an inconsistent input) is no
    claim: a verdict never states a difference its CI does not support."""
    touching = Difference(2.0, 0.0, 4.0, 0.0499, 20)
    ((), (verdict,)) = verdicts(
        NAMES[:2], [{}, _vs(clv=touching)], ["clv"], "CNY", Adjustment.none, Language.en
    )
    assert verdict.p_adjusted == 0.0499 and not verdict.detected
    assert "no detectable difference" in verdict.text


def test_the_adjustment_withholds_claims_a_single_test_would_make() -> None:
    """Six metrics, one with raw p = 0.02: alone it is a difference; Holm over six comparisons is not."""
    names = ["cac", "clv", "net_value", "ltv_cac", "retention_d90", "profit"]
    noise = Difference(1.0, -1.0, 3.0, 0.5, 20)
    borderline = Difference(2.0, 0.3, 3.7, 0.02, 20)
    vs = {name: noise for name in names} | {"clv": borderline}
    holm = {v.metric: v for v in verdicts(NAMES[:2], [{}, vs], names, "CNY", language=Language.en)[1]}
    raw = {v.metric: v for v in verdicts(NAMES[:2], [{}, vs], names, "CNY", Adjustment.none, Language.en)[1]}
    assert raw["clv"].detected and raw["clv"].p_adjusted == 0.02
    assert not holm["clv"].detected and holm["clv"].p_adjusted == pytest.approx(0.12)
    assert "no detectable difference" in holm["clv"].text


def test_better_or_worse_only_where_the_direction_is_agreed() -> None:
    up = Difference(100.0, 90.0, 110.0, 0.0001, 20)
    ((), rows) = verdicts(
        NAMES[:2],
        [{}, _vs(profit=up, acquisition_cost=up, cac=up)],
        ["profit", "acquisition_cost", "cac"],
        "CNY",
        language=Language.en,
    )
    profit, spend, cac = (v.text for v in rows)
    assert profit.endswith("— better")
    assert cac.endswith("— worse")  # a higher CAC
    assert "better" not in spend and "worse" not in spend  # spending more may be the plan


def test_identical_exact_and_undefined_differences() -> None:
    same = Difference(0.0, 0.0, 0.0, 1.0, 5)
    exact = Difference(-3000.0, -3000.0, -3000.0, 0.0, 5)
    undefined = Difference(None, None, None, None, 0)
    ((), rows) = verdicts(
        NAMES[:2],
        [{}, _vs(visitors=same, acquisition_cost=exact, payback_days=undefined)],
        ["visitors", "acquisition_cost", "payback_days"],
        "CNY",
        language=Language.en,
    )
    assert rows[0].text == "visitors: identical in every replication" and not rows[0].detected
    assert rows[1].text == "Plan B lowers acquisition cost by 3,000.00 CNY in every replication"
    assert rows[1].detected
    ((), (zh,)) = verdicts(NAMES[:2], [{}, _vs(cac=exact)], ["cac"], "CNY", language=Language.zh)
    assert zh.text == "Plan B 使获客成本 CAC 降低 3,000.00 CNY（每次重复都相同），更好"
    assert rows[2].text.startswith(
        "payback days: cannot be compared, defined in both plans in 0 replications"
    )
    assert rows[2].p_adjusted is None and not rows[2].detected


def test_the_control_note_names_the_family_and_the_promise() -> None:
    note = control_note(12, 2, 6, Adjustment.holm, Language.en)
    assert "Holm-adjusted over the 12 comparisons (2 variant(s) × 6 key metrics)" in note
    assert "at most 5%" in note
    assert "the tables' p column is unadjusted, their 'adj.' column holds the adjusted p-values" in note
    assert "false discovery rate" in control_note(12, 2, 6, Adjustment.bh, Language.en)
    assert "Holm 逐步法" in control_note(12, 2, 6, Adjustment.holm, Language.zh)


def test_verdicts_are_in_chinese_by_default() -> None:
    cac = Difference(-2.0, -3.0, -1.0, 0.001, 20)
    ((), (verdict,)) = verdicts(NAMES[:2], [{}, _vs(cac=cac)], ["cac"], "CNY")
    assert (
        verdict.text
        == "Plan B 使获客成本 CAC 降低 2.00 CNY（95% 置信区间 1.00–3.00 CNY；Holm 校正 p = 0.001），更好"
    )


def test_a_latin_label_is_set_off_by_a_space_in_chinese_verdicts() -> None:
    from engine.compare.verdicts import _gap

    assert (_gap("LTV:CAC"), _gap("获客成本 CAC"), _gap("90天留存率")) == (" ", "", "")
