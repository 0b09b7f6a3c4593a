"""A source's reach day by day: steady reach, paid posts that fade, and bans that stop and shrink it."""

from __future__ import annotations

import math

import numpy as np

from engine.model.compiled import SourcePlan
from engine.scenario.schema import Source


class SourceReach:
    """Expected visitors of one source over a day, and whether a ban keeps it closed."""

    def __init__(self, plan: SourcePlan, source: Source, acquisition_days: float) -> None:
        self.plan = plan
        self.active_from = source.active_from_day
        until = source.active_until_day
        self.active_until = acquisition_days if until is None else min(acquisition_days, until)
        self.ban = source.ban
        self.posts = source.posts
        self.visit_rate = source.visit_rate
        self.bans = 0
        self.closed_until = -math.inf
        self._followers_after_ban = 1.0  # share of organic reach left right after the last ban
        self._daily_ban_hazard = 0.0
        if self.ban is not None:
            ban = self.ban
            self._daily_ban_hazard = (
                ban.monthly_hazard * (1 + ban.intensity_multiplier * ban.marketing_intensity) / 30
            )

    def is_closed(self, day: float) -> bool:
        """Whether a ban in force keeps the source closed on ``day`` (draws nothing)."""
        return day < self.closed_until

    def closed(self, day: float, duration: float, rng: np.random.Generator) -> bool:
        """Whether the source is banned over [day, day + duration); may start a ban (drawn from ``rng``)."""
        if self.ban is None:
            return False
        if day < self.closed_until:
            return True
        if rng.random() < -math.expm1(-self._daily_ban_hazard * duration):
            self.bans += 1
            permanent = self.bans >= self.ban.permanent_after
            self.closed_until = math.inf if permanent else day + self.ban.ban_days
            self._followers_after_ban = 1.0 - self.ban.followers_lost
            return True
        return False

    def _followers(self, day: float) -> float:
        """Share of the organic reach present: it grows back linearly after the last ban ends."""
        if self.bans == 0 or self.ban is None:
            return 1.0
        regrown = (day - self.closed_until) / self.ban.regrow_days
        return min(1.0, self._followers_after_ban + (1.0 - self._followers_after_ban) * max(0.0, regrown))

    def expected_visitors(self, day: float, duration: float) -> float:
        """Expected visitors over [day, day + duration)."""
        plan = self.plan
        organic = plan.organic_visitors_per_day * self._followers(day)
        expected = (plan.visitors_per_day - plan.organic_visitors_per_day + organic) * duration
        if self.posts is not None:
            decay = self.posts.decay_days
            for post in self.posts.days:
                if not self.active_from <= post < self.active_until:
                    continue  # a post outside the source's active window never goes out
                since_start = max(0.0, day - post)
                since_end = max(0.0, day + duration - post)
                share = math.exp(-since_start / decay) - math.exp(-since_end / decay)
                expected += self.posts.reach_per_post * self.visit_rate * share
        return expected

    def post_cost(self, day: float, duration: float) -> float:
        """Fees of the posts going out in [day, day + duration)."""
        if self.posts is None:
            return 0.0
        count = sum(
            1
            for post in self.posts.days
            if day <= post < day + duration and self.active_from <= post < self.active_until
        )
        return count * self.posts.cost_per_post
