"""A source's reach day by day (engine.model.reach): bans of public accounts, paid posts and active windows.

Visitors who neither buy nor join leave no row in the ledger, so every source here sells on the visit
(first_purchase_probability 1): its visitors are exactly its people rows, and the day of a visit is the
floor of its ``visit_day``. A source's open days are read from its media spend (one cost entry per day it
is open); spend with no paid audience (max_paid_per_day 0) marks the days without adding visitors.

Statistical checks use a fixed seed and a tolerance of Z = 4 standard errors; each states its SE.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from engine.ledger import CostKind, Ledger
from engine.metrics import compute_metrics
from engine.model.simulation import simulate
from engine.scenario.schema import Scenario

Z = 4.0  # tolerance in standard errors
SEED = 20240613


def reach_scenario(build_scenario: Any, sources: list[dict[str, Any]], acquisition: float) -> Scenario:
    """``sources`` (each selling to every visitor, nobody joining, no purchases after the visit) over an
    acquisition window of ``acquisition`` days and one more day of horizon."""
    base = {"first_purchase_probability": 1.0, "arrivals": "fixed"}
    return build_scenario(
        {
            "horizon": {
                "acquisition_days": acquisition,
                "horizon_days": acquisition + 1,
                "clv_horizon_days": 1,
            },
            "sources": [{**base, **source} for source in sources],
            "behaviour": {
                "purchase_rate": {"dist": "fixed", "value": 0.0},
                "dropout": {"dist": "fixed", "value": 0.0},
            },
        }
    )


def visitors_by_day(ledger: Ledger, source: int, days: int) -> np.ndarray:
    """Rows (= visitors, since everyone buys) of ``source`` per whole day."""
    people = ledger.people
    day = np.floor(people.visit_day[people.source == source]).astype(np.int64)
    return np.bincount(day, minlength=days)[:days] if day.size else np.zeros(days, dtype=np.int64)


def media(ledger: Ledger, source: int) -> tuple[np.ndarray, np.ndarray]:
    """Days and amounts of the media cost entries of ``source``."""
    costs = ledger.costs
    mine = (costs.kind == CostKind.MEDIA) & (costs.source == source)
    return costs.day[mine], costs.amount[mine]


def open_days(ledger: Ledger, source: int, days: int) -> np.ndarray:
    """Boolean per whole day: the source booked media spend that day (it was not banned)."""
    spend_days, _ = media(ledger, source)
    is_open = np.zeros(days, dtype=bool)
    is_open[np.floor(spend_days).astype(np.int64)] = True
    return is_open


def closed_runs(is_open: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs ``(start, end)`` of closed days (end exclusive)."""
    runs: list[tuple[int, int]] = []
    start = None
    for day, value in enumerate(is_open):
        if not value and start is None:
            start = day
        elif value and start is not None:
            runs.append((start, day))
            start = None
    if start is not None:
        runs.append((start, is_open.size))
    return runs


def first_closed_day(is_open: np.ndarray) -> float:
    closed = np.nonzero(~is_open)[0]
    return float(closed[0]) if closed.size else math.inf


# ============================================================================ bans
N_SOURCES = 200
BAN_DAYS_WINDOW = 60


def ban_sources(n: int, ban: dict[str, Any], prefix: str = "s", **extra: Any) -> list[dict[str, Any]]:
    """``n`` public accounts with 10 followers' visits a day, 5 a day of spend (no paid audience)."""
    return [
        {
            "id": f"{prefix}{i}",
            "reach": {"organic_per_day": 10},
            "spend_per_day": 5.0,
            "ban": ban,
            **extra,
        }
        for i in range(n)
    ]


def test_first_ban_day_is_geometric(build_scenario: Any) -> None:
    """Each open day an account is banned with probability 1 − exp(−h/30): the first ban falls before day D
    with probability 1 − exp(−h·D/30). permanent_after 1: one ban at most per account, and none after it."""
    hazard = 0.5
    ban = {"monthly_hazard": hazard, "marketing_intensity": 0.0, "permanent_after": 1}
    scenario = reach_scenario(build_scenario, ban_sources(N_SOURCES, ban), BAN_DAYS_WINDOW)
    ledger = simulate(scenario, SEED)
    first = np.array([first_closed_day(open_days(ledger, s, BAN_DAYS_WINDOW)) for s in range(N_SOURCES)])
    # the bans the model counted are the accounts that closed
    np.testing.assert_array_equal(ledger.source_bans, np.isfinite(first).astype(np.int64))
    assert compute_metrics(ledger)["bans"] == float(ledger.source_bans.sum())
    for days in (5, 15, 30, BAN_DAYS_WINDOW):
        p = -math.expm1(-hazard * days / 30)
        banned = int(np.sum(first < days))
        se = math.sqrt(N_SOURCES * p * (1 - p))  # binomial count over independent accounts
        assert abs(banned - N_SOURCES * p) < Z * se, (days, banned, N_SOURCES * p, se)
    # a permanent ban: from its day on, no visitor and no spend ever again; before it, 10 a day
    for s in range(N_SOURCES):
        visits = visitors_by_day(ledger, s, BAN_DAYS_WINDOW)
        cut = int(min(first[s], BAN_DAYS_WINDOW))
        assert np.all(visits[:cut] == 10), s
        assert np.all(visits[cut:] == 0), s
        _, amounts = media(ledger, s)
        assert amounts.sum() == pytest.approx(5.0 * cut), s
    assert int(ledger.visitors.sum()) == len(ledger.people)


@pytest.mark.parametrize(
    ("intensity", "multiplier"),
    [(0.5, 10.0), (1.0, 2.0)],
)
def test_marketing_intensity_raises_the_ban_hazard(
    build_scenario: Any, intensity: float, multiplier: float
) -> None:
    """Half the accounts post no marketing, half at ``intensity``: their hazards are h and
    h·(1 + multiplier·intensity); the share banned within the window follows each."""
    hazard, n = 0.1, N_SOURCES // 2
    quiet = {"monthly_hazard": hazard, "marketing_intensity": 0.0, "permanent_after": 1}
    loud = {**quiet, "marketing_intensity": intensity, "intensity_multiplier": multiplier}
    sources = ban_sources(n, quiet, "quiet") + ban_sources(n, loud, "loud")
    ledger = simulate(reach_scenario(build_scenario, sources, BAN_DAYS_WINDOW), SEED)
    bans = ledger.source_bans
    counts = {"quiet": int(bans[:n].sum()), "loud": int(bans[n:].sum())}
    for name, factor in (("quiet", 1.0), ("loud", 1.0 + multiplier * intensity)):
        p = -math.expm1(-hazard * factor * BAN_DAYS_WINDOW / 30)
        se = math.sqrt(n * p * (1 - p))  # binomial
        assert abs(counts[name] - n * p) < Z * se, (name, counts[name], n * p, se)
    assert counts["loud"] > counts["quiet"]


@pytest.mark.parametrize("permanent_after", [1, 3, 100])
def test_a_ban_stops_arrivals_and_spend_for_ban_days(build_scenario: Any, permanent_after: int) -> None:
    """Followers kept (followers_lost 0): every open day brings exactly 10 visitors and 5 of spend; a ban
    closes the account for exactly ban_days (unless the window ends first), the permanent_after-th ban for
    good; the closed runs are the bans the ledger counts."""
    ban_days = 10
    ban = {
        "monthly_hazard": 1.5,
        "ban_days": float(ban_days),
        "followers_lost": 0.0,
        "permanent_after": permanent_after,
    }
    n, window = 50, 120
    ledger = simulate(reach_scenario(build_scenario, ban_sources(n, ban), window), SEED)
    total_bans = 0
    for s in range(n):
        is_open = open_days(ledger, s, window)
        visits = visitors_by_day(ledger, s, window)
        np.testing.assert_array_equal(visits, np.where(is_open, 10, 0))
        spend_days, amounts = media(ledger, s)
        np.testing.assert_array_equal(amounts, np.full(amounts.size, 5.0))
        assert np.unique(np.floor(spend_days)).size == spend_days.size  # one entry a day
        runs = closed_runs(is_open)
        bans = int(ledger.source_bans[s])
        # a ban may start the very day the last one ended: a run is a train of bans of ban_days each
        counted = 0
        for start, end in runs:
            length = end - start
            if end < window:  # reopened: only temporary bans, each exactly ban_days long
                assert length % ban_days == 0, (s, runs)
                counted += length // ban_days
            elif bans >= permanent_after:  # the last run holds the permanent ban: closed for good
                left = bans - counted
                assert 1 <= left <= permanent_after and (left - 1) * ban_days < length, (s, runs, bans)
                counted += left
            else:  # cut by the end of the window
                counted += math.ceil(length / ban_days)
        assert counted == bans, (s, runs, bans)
        assert bans <= permanent_after
        if permanent_after == 1:
            assert len(runs) == bans and all(end == window for _, end in runs), (s, runs)
        total_bans += bans
    assert total_bans >= 0.9 * n  # the hazard is high: almost every account is banned at least once
    assert compute_metrics(ledger)["bans"] == float(total_bans)
    assert int(ledger.visitors.sum()) == len(ledger.people)


def test_followers_lost_at_a_ban_grow_back_linearly(build_scenario: Any) -> None:
    """followers_lost 1, regrow_days 40: after the first ban ends (day E) an account's organic reach (100 a
    day) is 100·min(1, t/40) at E + t. Averaged over the accounts open throughout [E, E + 60): ~25 a day in
    the first 20 days, ~75 in the next 20 (a day's reach is taken at its start or its middle: ±100/40/2), and
    100 after."""
    regrow, ban_days, window = 40, 10, 150
    ban = {
        "monthly_hazard": 0.5,
        "ban_days": float(ban_days),
        "followers_lost": 1.0,
        "regrow_days": float(regrow),
        "permanent_after": 2,
    }
    sources = [
        {"id": f"s{i}", "reach": {"organic_per_day": 100}, "spend_per_day": 1.0, "ban": ban}
        for i in range(100)
    ]
    ledger = simulate(reach_scenario(build_scenario, sources, window), SEED)
    after: list[np.ndarray] = []
    for s in range(len(sources)):
        is_open = open_days(ledger, s, window)
        visits = visitors_by_day(ledger, s, window)
        first = first_closed_day(is_open)
        if math.isfinite(first):
            assert np.all(visits[: int(first)] == 100)  # full reach before the first ban
            end = int(first) + ban_days
            if end + 60 <= window and is_open[end : end + 60].all():
                after.append(visits[end : end + 60])
    assert len(after) >= 10, len(after)
    mean = np.mean(after, axis=0)  # per day after the ban ends, over accounts (fixed arrivals)
    early, late, full = mean[:20].mean(), mean[20:40].mean(), mean[40:].mean()
    slack = 100 / regrow / 2 + 0.1  # discretisation of the ramp within a day, and the fixed carry
    assert 25 - slack <= early <= 25 + slack, early
    assert 75 - slack <= late <= 75 + slack, late
    assert full == pytest.approx(100.0, abs=0.1), full
    assert mean[0] < 5  # the followers are gone when the ban ends
    assert early < late < full


def test_no_ban_hazard_means_no_ban(build_scenario: Any) -> None:
    ban = {"monthly_hazard": 0.0, "marketing_intensity": 1.0}
    ledger = simulate(reach_scenario(build_scenario, ban_sources(20, ban), 60), SEED)
    assert ledger.source_bans.sum() == 0
    assert compute_metrics(ledger)["bans"] == 0.0
    assert len(ledger.people) == 20 * 10 * 60


# ============================================================================ paid posts
REACH_PER_POST = 20_000.0
VISIT_RATE = 0.5
DECAY = 3.0
FEE = 1000.0


def post_source(**extra: Any) -> dict[str, Any]:
    return {
        "id": "kol",
        "arrivals": "poisson",
        "visit_rate": VISIT_RATE,
        "posts": {
            "days": [10.0],
            "reach_per_post": REACH_PER_POST,
            "decay_days": DECAY,
            "cost_per_post": FEE,
        },
        **extra,
    }


def test_a_post_brings_its_reach_after_its_day_and_is_paid_once(build_scenario: Any) -> None:
    """One post on day 10 reaching R = 20 000 at visit rate v = 0.5: R·v = 10 000 visitors in all (Poisson,
    SE 100), none before day 10, and a share 1 − e^{−1} of them within decay_days of the post (binomial SE
    given the total). The fee is one media cost entry on day 10."""
    ledger = simulate(reach_scenario(build_scenario, [post_source()], 60), SEED)
    visits = ledger.people.visit_day
    total = len(visits)
    assert int(ledger.visitors[0]) == total
    expected = REACH_PER_POST * VISIT_RATE * -math.expm1(-(60 - 10) / DECAY)
    assert abs(total - expected) < Z * math.sqrt(expected), (total, expected)
    assert visits.min() >= 10.0
    share = float(np.mean(visits < 10 + DECAY))
    p = -math.expm1(-1.0)
    se = math.sqrt(p * (1 - p) / total)
    assert abs(share - p) < Z * se, (share, p, se)
    # the first day alone: 1 − e^{−1/3} of the total
    first_day = float(np.mean(visits < 11))
    p1 = -math.expm1(-1 / DECAY)
    assert abs(first_day - p1) < Z * math.sqrt(p1 * (1 - p1) / total), (first_day, p1)
    days, amounts = media(ledger, 0)
    np.testing.assert_array_equal(days, [10.0])
    np.testing.assert_array_equal(amounts, [FEE])
    assert compute_metrics(ledger)["acquisition_cost"] == FEE


def test_posts_are_paid_only_inside_the_active_window(build_scenario: Any) -> None:
    """Posts on days 5, 10, 30.5, 55, 100 from a source active on [8, 50) within a 60-day window: the posts
    of days 10 and 30.5 are paid (once each, on their day); the others never; no visitor outside [8, 50)."""
    source = post_source(active_from_day=8.0, active_until_day=50.0)
    source["posts"] = {**source["posts"], "days": [5.0, 10.0, 30.5, 55.0, 100.0]}
    ledger = simulate(reach_scenario(build_scenario, [source], 60), SEED)
    days, amounts = media(ledger, 0)
    np.testing.assert_array_equal(np.sort(days), [10.0, 30.0])  # the day's event starts at its day
    np.testing.assert_array_equal(amounts, [FEE, FEE])
    visits = ledger.people.visit_day
    assert visits.min() >= 8.0 and visits.max() < 50.0


def test_a_post_outside_the_active_window_brings_nobody(build_scenario: Any) -> None:
    """A post on day 5 from a source active from day 8: the post is not paid (it did not go out), so it must
    not bring anyone either. The model brings R·v·e^{−3/3} ≈ 3 700 unpaid visitors."""
    source = post_source(active_from_day=8.0)
    source["posts"] = {**source["posts"], "days": [5.0]}
    ledger = simulate(reach_scenario(build_scenario, [source], 60), SEED)
    days, _ = media(ledger, 0)
    assert days.size == 0  # not paid: holds
    assert len(ledger.people) == 0  # fails: ~3 700 visitors of the unpaid post


# ============================================================================ active window
def test_a_source_brings_visitors_and_spends_only_inside_its_active_window(build_scenario: Any) -> None:
    """Active on [10.5, 20.25): 100 a day (Poisson) → 975 expected visitors (SE √975), every one inside the
    window; 10 a day of media spend → exactly 97.5, every entry inside it; nothing before or after."""
    source = {
        "id": "src",
        "arrivals": "poisson",
        "reach": {"organic_per_day": 100},
        "spend_per_day": 10.0,
        "active_from_day": 10.5,
        "active_until_day": 20.25,
    }
    ledger = simulate(reach_scenario(build_scenario, [source], 30), SEED)
    visits = ledger.people.visit_day
    assert visits.min() >= 10.5 and visits.max() < 20.25
    expected = 100 * (20.25 - 10.5)
    assert abs(visits.size - expected) < Z * math.sqrt(expected), (visits.size, expected)
    days, amounts = media(ledger, 0)
    assert amounts.sum() == pytest.approx(10.0 * (20.25 - 10.5), abs=1e-9)
    assert days.min() >= 10.5 and days.max() < 20.25
    np.testing.assert_allclose(days, [10.5, *range(11, 21)])


@pytest.mark.parametrize(
    ("window", "expected_days"),
    [
        ({"active_from_day": 0.0, "active_until_day": 500.0}, 30.0),  # never past the acquisition window
        ({"active_from_day": 30.0}, 0.0),  # starts when acquisition ends: never active
        ({"active_from_day": 12.0, "active_until_day": 12.0}, 0.0),  # empty window
        ({"active_from_day": 25.5}, 4.5),
    ],
)
def test_active_window_is_cut_by_the_acquisition_window(
    build_scenario: Any, window: dict[str, float], expected_days: float
) -> None:
    """Fixed arrivals of 100 a day and 10 a day of spend: exactly 100 and 10 per active day."""
    source = {"id": "src", "reach": {"organic_per_day": 100}, "spend_per_day": 10.0, **window}
    ledger = simulate(reach_scenario(build_scenario, [source], 30), SEED)
    assert len(ledger.people) == round(100 * expected_days)
    _, amounts = media(ledger, 0)
    assert amounts.sum() == pytest.approx(10.0 * expected_days, abs=1e-9)
    if len(ledger.people):
        start = window.get("active_from_day", 0.0)
        assert ledger.people.visit_day.min() >= start and ledger.people.visit_day.max() < 30.0


def test_a_ban_hazard_runs_only_inside_the_active_window(build_scenario: Any) -> None:
    """An account active on [40, 50) of a 60-day window: bans happen only while active — at most 10 days
    of hazard, P(ban) = 1 − exp(−10h/30) per account (binomial SE) — never from the 40 inactive days."""
    hazard, n = 1.5, N_SOURCES
    ban = {"monthly_hazard": hazard, "permanent_after": 1}
    sources = ban_sources(n, ban, active_from_day=40.0, active_until_day=50.0)
    ledger = simulate(reach_scenario(build_scenario, sources, 60), SEED)
    p = -math.expm1(-hazard * 10 / 30)
    banned = int(ledger.source_bans.sum())
    se = math.sqrt(n * p * (1 - p))
    assert abs(banned - n * p) < Z * se, (banned, n * p, se)
    visits = ledger.people.visit_day
    assert visits.min() >= 40.0 and visits.max() < 50.0
