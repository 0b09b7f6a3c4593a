"""Rule conditions (tiers, campaign audiences) evaluated as vectorized masks over the customer arrays.

A condition is data — ``{field: value}`` or ``{field: {gt|gte|lt|lte|in: …}}`` — never code. Fields that
name things (tier, stage, carrier, source, lure) are compared by id; the others are numbers or flags read
from the population at the evaluation time.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from engine.model.population import Population
from engine.scenario.operations import STAGES, Comparison, Condition

NAMED_FIELDS = ("tier", "stage", "source", "lure")


class RuleContext:
    """What rules can see: the population at time ``now`` and the id → index maps of named things."""

    def __init__(self, population: Population, ids: Mapping[str, tuple[str, ...]]) -> None:
        self.population = population
        self.index = {field: {name: i for i, name in enumerate(names)} for field, names in ids.items()}
        self.index["stage"] = {name: i for i, name in enumerate(STAGES)}

    def values(self, field: str, rows: np.ndarray, now: float) -> np.ndarray:
        """The value of ``field`` for ``rows`` at time ``now`` (never-happened times count as infinitely
        long ago)."""
        pop = self.population
        if field == "days_since_join":
            return now - pop.join_day[rows]
        if field == "days_since_last_purchase":
            return np.where(np.isnan(pop.last_purchase_day[rows]), np.inf, now - pop.last_purchase_day[rows])
        if field == "days_since_last_touch":
            return np.where(np.isnan(pop.last_touch_day[rows]), np.inf, now - pop.last_touch_day[rows])
        if field == "activated":
            return pop.activation_day[rows] <= now
        return getattr(pop, field)[rows]

    def mask(self, conditions: Mapping[str, Condition], rows: np.ndarray, now: float) -> np.ndarray:
        """Which of ``rows`` meet every condition at ``now``."""
        keep = np.ones(rows.size, dtype=bool)
        for field, condition in conditions.items():
            if field == "carrier":
                keep &= self._on_carrier(condition, rows, now)
            elif field in NAMED_FIELDS:
                keep &= self._named(field, condition, rows, now)
            else:
                keep &= _compare(self.values(field, rows, now), condition)
        return keep

    def _named(self, field: str, condition: Condition, rows: np.ndarray, now: float) -> np.ndarray:
        wanted = condition.in_ if isinstance(condition, Comparison) else (condition,)
        codes = [self.index[field][str(name)] for name in wanted or ()]
        return np.isin(self.values(field, rows, now), codes)

    def _on_carrier(self, condition: Condition, rows: np.ndarray, now: float) -> np.ndarray:
        wanted = condition.in_ if isinstance(condition, Comparison) else (condition,)
        pop = self.population
        on = np.zeros(rows.size, dtype=bool)
        for name in wanted or ():
            carrier = self.index["carrier"][str(name)]
            on |= (pop.member_start[carrier, rows] <= now) & (pop.member_exit[carrier, rows] > now)
        return on


def _compare(values: np.ndarray, condition: Condition) -> np.ndarray:
    if not isinstance(condition, Comparison):
        return values == condition
    keep = np.ones(values.shape, dtype=bool)
    if condition.gt is not None:
        keep &= values > condition.gt
    if condition.gte is not None:
        keep &= values >= condition.gte
    if condition.lt is not None:
        keep &= values < condition.lt
    if condition.lte is not None:
        keep &= values <= condition.lte
    if condition.in_ is not None:
        keep &= np.isin(values, np.array(condition.in_))
    return keep
