"""The simulation held to closed forms (engine.theory): exits, BG/NBD buying, membership and regular timing.

Every statistical comparison uses a fixed seed and a tolerance of 4 standard errors of the simulated
quantity (about 6e-5 two-sided false-alarm rate per comparison under the null); each test states its SE.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from engine.ledger import Ledger
from engine.metrics import compute_metrics
from engine.model.simulation import simulate
from engine.theory import (
    CDNOW_BGNBD_PARAMS,
    bgnbd_expected_repeat_purchases,
    bgnbd_prob_repeat_purchases,
    exponential_survival,
    geometric_poisson_expected_purchases,
    hazard_from_period_rate,
)
from tests.engine.model.conftest import merge
from tests.engine.model.scenarios import NEUTRAL_EXITS, Z, assert_survival, member_scenario

SEED = 20240611


def purchases_in_window(ledger: Ledger, anchor: np.ndarray, length: float) -> np.ndarray:
    """Per person, the number of purchases in (anchor, anchor + length]."""
    purchases = ledger.purchases
    offset = purchases.day - anchor[purchases.person]
    inside = (offset > 0) & (offset <= length)
    return np.bincount(purchases.person[inside], minlength=len(ledger.people))


def purchase_counts(ledger: Ledger) -> np.ndarray:
    return np.bincount(ledger.purchases.person, minlength=len(ledger.people))


# ============================================================================ a. constant-hazard exit
N_MEMBERS = 20_000
MONTHLY_EXIT = 0.1
SURVIVAL_DAYS = (30, 90, 180)


def exit_scenario(build_scenario: Any, **extra: Any) -> Any:
    """N_MEMBERS members joining one carrier on day 0 (uniform within the day), buying nothing; every exit
    multiplier 1 unless ``extra`` says otherwise; step 7 days, so exit clocks are carried over ~26 reviews."""
    return member_scenario(
        build_scenario,
        members=N_MEMBERS,
        horizon=200,
        clv=180,
        carrier={"monthly_exit_rate": MONTHLY_EXIT, "capacity_per_account": 100_000},
        **merge(NEUTRAL_EXITS, extra),
    )


def test_constant_hazard_exit_is_exponential(build_scenario: Any) -> None:
    ledger = simulate(exit_scenario(build_scenario), SEED)
    metrics = compute_metrics(ledger)
    hazard = hazard_from_period_rate(MONTHLY_EXIT, 30)
    for days in SURVIVAL_DAYS:
        # Each member independently stays past `days` with probability S: binomial SE sqrt(S(1−S)/n).
        assert_survival(ledger, days, exponential_survival(days, hazard), N_MEMBERS)
        # Everyone joined on day 0 < horizon − 180, so the retention metric is this very share.
        people = ledger.people
        share = np.mean(people.leave_day > people.join_day + days)
        assert metrics[f"retention_d{days}"] == pytest.approx(share, abs=1e-12)


@pytest.mark.parametrize(
    ("case", "extra", "hazard_factor"),
    [
        (
            "deal-seekers exit at ×2",
            {
                "source": {"lure": "coupon"},
                "lures": [{"id": "coupon", "deal_seeker_share": 1.0}],
                "behaviour": {"deal_seeker_exit_multiplier": 2.0},
            },
            2.0,
        ),
        (
            "never activated: ×3 for ever",
            {
                "activation": {"window_days": 0, "activation_rate": 0.0, "unactivated_exit_multiplier": 3.0},
            },
            3.0,
        ),
    ],
)
def test_constant_exit_multipliers_scale_the_hazard(
    build_scenario: Any, case: str, extra: dict[str, Any], hazard_factor: float
) -> None:
    ledger = simulate(exit_scenario(build_scenario, **extra), SEED)
    hazard = hazard_factor * hazard_from_period_rate(MONTHLY_EXIT, 30)
    for days in SURVIVAL_DAYS:
        assert_survival(ledger, days, exponential_survival(days, hazard), N_MEMBERS, case)


def test_pending_reward_raises_the_hazard_until_fulfilment(build_scenario: Any) -> None:
    """Lure fulfilled after 10 days, exit hazard ×4 while waiting: cumulative hazard h·(4·min(t, 10) +
    max(t − 10, 0)), so S(t) = exp(−that). Checked before, at and after the breakpoint."""
    delay, factor = 10.0, 4.0
    extra = {
        "source": {"lure": "gift"},
        "lures": [{"id": "gift", "fulfilment_delay_days": delay, "waiting_exit_multiplier": factor}],
    }
    ledger = simulate(exit_scenario(build_scenario, **extra), SEED)
    hazard = hazard_from_period_rate(MONTHLY_EXIT, 30)
    for days in (5.0, 10.0, 30.0, 90.0):
        expected = math.exp(-hazard * (factor * min(days, delay) + max(days - delay, 0.0)))
        assert_survival(ledger, days, expected, N_MEMBERS)


def expected_survival_with_dormancy(
    days: float, hazard: float, factor: float, dormant_after: float, gap: float, step: float = 7.0
) -> float:
    """S(days) for a member who joins at u ~ U[0, 1) and buys exactly every ``gap`` days after joining: at
    each review (every ``step`` days) they are dormant when their last purchase (or joining) is at least
    ``dormant_after`` days old, and their exit hazard is ``factor`` × ``hazard`` until the next review.
    Averaged over u on a fine grid (the integrand is smooth in u between the few points where a review
    changes)."""
    survival = []
    for u in (np.arange(4000) + 0.5) / 4000:
        end = u + days
        cumulative, review = 0.0, 0.0
        while review < end:
            nxt = review + step
            if nxt > u:
                last = u + gap * math.floor((review - u) / gap) if review >= u else u
                multiplier = factor if review >= u and review - last >= dormant_after else 1.0
                cumulative += multiplier * (min(nxt, end) - max(review, u))
            review = nxt
        survival.append(math.exp(-hazard * cumulative))
    return float(np.mean(survival))


def test_dormancy_changes_the_hazard_at_the_reviews_that_find_it(build_scenario: Any) -> None:
    """Members buy exactly every 35 days; a review (every 7 days) finds them dormant when nothing happened
    for 20 days, and active again after their next purchase: the hazard is ×2.5 between the reviews that
    find them dormant and those that find them active, so the exits drawn ahead are redrawn both ways."""
    factor, dormant_after, gap = 2.5, 20.0, 35.0
    extra = {
        "lifecycle": {"dormant_exit_multiplier": factor, "dormant_after_days": dormant_after},
        "behaviour": {
            "timing": "regular",
            "purchase_rate": {"dist": "fixed", "value": 1 / gap},
            "membership_rate_multiplier": 1.0,
        },
    }
    ledger = simulate(exit_scenario(build_scenario, **extra), SEED)
    hazard = hazard_from_period_rate(MONTHLY_EXIT, 30)
    for days in (15.0, 30.0, 45.0, 60.0, 90.0, 150.0):
        expected = expected_survival_with_dormancy(days, hazard, factor, dormant_after, gap)
        assert_survival(ledger, days, expected, N_MEMBERS, days)
    # the multiplier matters: without it the survival at 90 days would be e^{-90h}, many SEs away
    plain = exponential_survival(90.0, hazard)
    assert abs(expected_survival_with_dormancy(90.0, hazard, factor, dormant_after, gap) - plain) > 0.05


def test_two_carriers_keep_a_member_until_the_last_exit(build_scenario: Any) -> None:
    """多点留存: every member is activated at once onto a second carrier; the exits are independent, and a
    member leaves the private domain at the later one: S(t) = 1 − (1 − e^{−h₁t})(1 − e^{−h₂t})."""
    second_rate = 0.3
    extra = {
        "carriers": [
            {"id": "wecom", "monthly_exit_rate": MONTHLY_EXIT, "capacity_per_account": 100_000},
            {"id": "group", "monthly_exit_rate": second_rate, "capacity_per_account": 100_000},
        ],
        "activation": {
            "window_days": 0,
            "activation_rate": 1.0,
            "unactivated_exit_multiplier": 1.0,
            "second_carrier": "group",
            "second_carrier_rate": 1.0,
        },
    }
    ledger = simulate(exit_scenario(build_scenario, **extra), SEED)
    assert len(ledger.memberships) == 2 * N_MEMBERS
    h1 = hazard_from_period_rate(MONTHLY_EXIT, 30)
    h2 = hazard_from_period_rate(second_rate, 30)
    for days in SURVIVAL_DAYS:
        expected = 1 - (1 - exponential_survival(days, h1)) * (1 - exponential_survival(days, h2))
        assert_survival(ledger, days, expected, N_MEMBERS)


# ============================================================================ b. BG/NBD
def fixed(value: float) -> dict[str, Any]:
    return {"dist": "fixed", "value": value}


def buyers_scenario(
    build_scenario: Any,
    n: int,
    purchase_rate: dict[str, Any],
    dropout: dict[str, Any],
    **sections: Any,
) -> Any:
    """``n`` customers arriving on day 0 and buying on arrival, never members, then buying at
    ``purchase_rate`` (per day) and dropping out with probability ``dropout`` after each repeat."""
    return build_scenario(
        {
            "sources": [
                {
                    "id": "src",
                    "arrivals": "fixed",
                    "reach": {"organic_per_day": n},
                    "first_purchase_probability": 1.0,
                }
            ],
            "behaviour": {"purchase_rate": purchase_rate, "dropout": dropout},
            **sections,
        }
    )


N_CUSTOMERS = 50_000
R, ALPHA, A, B = (CDNOW_BGNBD_PARAMS[k] for k in ("r", "alpha", "a", "b"))
WEEKS = (13, 39, 78)


@pytest.fixture(scope="module")
def bgnbd_ledger(build_scenario: Any) -> Ledger:
    """CDNOW's BG/NBD customers: never members, first purchase on arrival (day 0), observed 78+ weeks.

    λ per week ~ Gamma(r, rate α) means λ per day = λ/7 ~ Gamma(r, rate 7α): the purchase-rate
    distribution in days has rate α·7 (α is in weeks).
    """
    scenario = buyers_scenario(
        build_scenario,
        N_CUSTOMERS,
        purchase_rate={"dist": "gamma", "shape": R, "rate": ALPHA * 7},
        dropout={"dist": "beta", "a": A, "b": B},
        horizon={"acquisition_days": 1, "horizon_days": 560, "clv_horizon_days": 546},
    )
    return simulate(scenario, SEED)


def repeat_purchases(ledger: Ledger, weeks: float) -> np.ndarray:
    first = ledger.people.first_purchase_day
    assert len(ledger.people) == N_CUSTOMERS and not np.isnan(first).any()
    assert first.max() + weeks * 7 < ledger.horizon_days  # the whole window is observed
    return purchases_in_window(ledger, first, weeks * 7.0)


@pytest.mark.parametrize("weeks", WEEKS)
def test_bgnbd_mean_repeat_purchases(bgnbd_ledger: Ledger, weeks: int) -> None:
    x = repeat_purchases(bgnbd_ledger, weeks)
    # SE of a mean of n i.i.d. counts: sample sd / sqrt(n).
    se = x.std(ddof=1) / math.sqrt(x.size)
    expected = bgnbd_expected_repeat_purchases(weeks, R, ALPHA, A, B)
    assert abs(x.mean() - expected) < Z * se, (weeks, x.mean(), expected, se)


@pytest.mark.parametrize("x", range(8))
def test_bgnbd_repeat_purchase_distribution_at_39_weeks(bgnbd_ledger: Ledger, x: int) -> None:
    counts = repeat_purchases(bgnbd_ledger, 39)
    freq = float(np.mean(counts == x))
    prob = bgnbd_prob_repeat_purchases(x, 39, R, ALPHA, A, B)
    se = math.sqrt(prob * (1 - prob) / counts.size)  # binomial SE of a frequency under the closed form
    assert abs(freq - prob) < Z * se, (x, freq, prob, se)


def test_dropout_comes_after_repeat_purchases_only(build_scenario: Any) -> None:
    """Dropout 0.3 after each repeat, fast buyers, long horizon: repeats ~ Geometric(0.3) on {1, 2, ...},
    mean 1/p, variance (1 − p)/p²; the first purchase never ends a customer's buying."""
    p, n = 0.3, 20_000
    ledger = simulate(buyers_scenario(build_scenario, n, fixed(2.0), fixed(p)), SEED)
    repeats = purchase_counts(ledger) - 1
    # P(a customer's k-th repeat falls after the 199-day horizon) is negligible at 2 purchases a day.
    assert repeats.min() >= 1
    se = math.sqrt((1 - p) / p**2 / n)
    assert abs(repeats.mean() - 1 / p) < Z * se, (repeats.mean(), 1 / p, se)
    se_one = math.sqrt(p * (1 - p) / n)  # binomial SE of P(exactly one repeat) = p
    assert abs(np.mean(repeats == 1) - p) < Z * se_one


# ============================================================================ c. membership multiplier
RATE = 0.05  # purchases per day
MULTIPLIER = 1.5
WINDOW = 100.0  # days after joining
N_PER_GROUP = 10_000


def membership_scenario(build_scenario: Any, monthly_exit_rate: float, **behaviour: Any) -> Any:
    """Two sources of N_PER_GROUP people each. 'join' sends everyone to a carrier (nobody buys on arrival);
    'stay' has no path, and its visitors buy on arrival (otherwise they would be lost visitors, never
    rows). Fixed rate RATE, never dropping out; the arrival purchase is outside (visit, visit + WINDOW]."""
    return build_scenario(
        {
            "horizon": {"acquisition_days": 1, "horizon_days": 120, "clv_horizon_days": 100},
            "sources": [
                {
                    "id": "join",
                    "arrivals": "fixed",
                    "reach": {"organic_per_day": N_PER_GROUP},
                    "take_rate": 1.0,
                    "path": "add",
                    "lure": "coupon",
                },
                {
                    "id": "stay",
                    "arrivals": "fixed",
                    "reach": {"organic_per_day": N_PER_GROUP},
                    "first_purchase_probability": 1.0,
                },
            ],
            "lures": [{"id": "coupon", "deal_seeker_share": behaviour.pop("deal_seeker_share", 0.0)}],
            "paths": [{"id": "add", "carrier": "wecom"}],
            "carriers": [
                {"id": "wecom", "monthly_exit_rate": monthly_exit_rate, "capacity_per_account": 100_000}
            ],
            "activation": {"window_days": 0, "activation_rate": 1.0, "unactivated_exit_multiplier": 1.0},
            "lifecycle": {"dormant_exit_multiplier": 1.0},
            "behaviour": {
                "purchase_rate": {"dist": "fixed", "value": RATE},
                "dropout": {"dist": "fixed", "value": 0.0},
                "membership_rate_multiplier": MULTIPLIER,
                **behaviour,
            },
        }
    )


def window_counts(ledger: Ledger) -> tuple[np.ndarray, np.ndarray]:
    """Purchases in (visit, visit + WINDOW] of the people of source 'join' and of source 'stay'."""
    people = ledger.people
    counts = purchases_in_window(ledger, people.visit_day, WINDOW)
    assert people.visit_day.max() + WINDOW < ledger.horizon_days  # the whole window is observed
    return counts[people.source == 0], counts[people.source == 1]


@pytest.mark.parametrize(("deal_seeker_share", "deal_rate"), [(0.0, 1.0), (1.0, 0.6)])
def test_members_buy_at_the_membership_multiplied_rate(
    build_scenario: Any, deal_seeker_share: float, deal_rate: float
) -> None:
    scenario = membership_scenario(
        build_scenario, 0.0, deal_seeker_share=deal_seeker_share, deal_seeker_rate_multiplier=deal_rate
    )
    join, stay = window_counts(simulate(scenario, SEED))
    assert join.size == stay.size == N_PER_GROUP
    for counts, mean in ((join, RATE * MULTIPLIER * deal_rate * WINDOW), (stay, RATE * WINDOW)):
        # Poisson(mean) counts: variance = mean, so SE of the sample mean = sqrt(mean / n).
        se = math.sqrt(mean / counts.size)
        assert abs(counts.mean() - mean) < Z * se, (counts.mean(), mean, se)
        # Poisson dispersion: the sample variance should match the mean; SE of s² ≈ sqrt((μ + 2μ²)/n).
        se_var = math.sqrt((mean + 2 * mean**2) / counts.size)
        assert abs(counts.var(ddof=1) - mean) < Z * se_var, (counts.var(ddof=1), mean, se_var)


def test_leaving_the_private_domain_drops_the_rate_back(build_scenario: Any) -> None:
    """Members leave at hazard h; they buy at λ·m while in and λ after. Expected time in over [0, T] is
    (1 − e^{−hT})/h, so E[N] = λ·(T + (m − 1)(1 − e^{−hT})/h)."""
    monthly = 0.2
    join, _ = window_counts(simulate(membership_scenario(build_scenario, monthly), SEED))
    hazard = hazard_from_period_rate(monthly, 30)
    time_in = -math.expm1(-hazard * WINDOW) / hazard
    expected = RATE * (WINDOW + (MULTIPLIER - 1) * time_in)
    se = join.std(ddof=1) / math.sqrt(join.size)  # a mixed Poisson: SE from the sample sd
    assert abs(join.mean() - expected) < Z * se, (join.mean(), expected, se)
    # and not the plain rate: the two hypotheses are ~12 SE apart
    assert abs(join.mean() - RATE * WINDOW) > Z * se


def test_geometric_poisson_buyer_without_membership(build_scenario: Any) -> None:
    """Known λ and p, no membership: repeats in (first, first + T] average (1 − e^{−λpT})/p."""
    lam, p, window, n = 0.1, 0.2, 150.0, 20_000
    ledger = simulate(buyers_scenario(build_scenario, n, fixed(lam), fixed(p)), SEED)
    counts = purchases_in_window(ledger, ledger.people.first_purchase_day, window)
    expected = geometric_poisson_expected_purchases(lam, p, window)
    se = counts.std(ddof=1) / math.sqrt(counts.size)  # SE of the mean from the sample sd
    assert abs(counts.mean() - expected) < Z * se, (counts.mean(), expected, se)


# ============================================================================ d. regular timing
@pytest.mark.parametrize(
    ("horizon", "period"),
    [
        (
            200.0,
            30.0,
        ),  # last review step (196, 200]: nobody is due then (first + 180 < 190, first + 210 > 200)
        (210.0, 25.0),  # purchases due in the last review step (203, 210): it must be simulated too
    ],
)
def test_regular_timing_buys_exactly_every_period(build_scenario: Any, horizon: float, period: float) -> None:
    """Fixed rate 1/period, no dropout, no members, first purchase on arrival: the purchases are exactly
    first + k·period for every k with first + k·period < horizon."""
    ledger = simulate(
        build_scenario(
            {
                "horizon": {
                    "acquisition_days": 10,
                    "horizon_days": horizon,
                    "clv_horizon_days": horizon - 10,
                },
                "sources": [
                    {
                        "id": "src",
                        "arrivals": "fixed",
                        "reach": {"organic_per_day": 50},
                        "first_purchase_probability": 1.0,
                    }
                ],
                "behaviour": {
                    "purchase_rate": {"dist": "fixed", "value": 1 / period},
                    "dropout": {"dist": "fixed", "value": 0.0},
                    "timing": "regular",
                },
            }
        ),
        SEED,
    )
    first = ledger.people.first_purchase_day
    assert len(ledger.people) == 500
    np.testing.assert_array_equal(first, ledger.people.visit_day)
    expected = 1 + np.floor((ledger.horizon_days - first) / period).astype(np.int64)
    np.testing.assert_array_equal(purchase_counts(ledger), expected)
    # and each purchase is a whole number of periods after the first
    purchases = ledger.purchases
    periods = (purchases.day - first[purchases.person]) / period
    np.testing.assert_allclose(periods, np.round(periods), atol=1e-9)
