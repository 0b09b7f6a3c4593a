"""Exact bulk draws of memoryless clocks over an interval.

Between two batch events a person's exit hazard and purchase rate are piecewise constant with at most two
known breakpoints, so what happens in the interval can be drawn exactly and for everyone at once:

* an exit is the time the cumulative hazard crosses the person's unit-exponential budget
  (:func:`piecewise_integral`, :func:`piecewise_crossing`);
* purchases are Poisson counts per constant-rate piece, placed uniformly within the piece, cut to the
  first ``k`` where the buyer drops out (:func:`poisson_events`, :func:`keep_first`).

These have the same distribution as simulating one event at a time (tests check them against closed forms).
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray


def _overlap(start: Array, end: Array, low: Array, high: Array) -> Array:
    """Length of [start, end] ∩ [low, high], elementwise (0 when disjoint)."""
    return np.maximum(0.0, np.minimum(end, high) - np.maximum(start, low))


class TwoBreakMultiplier:
    """A multiplier m(t) that is constant on (−∞, b1), [b1, b2), [b2, ∞) per person (b1 ≤ b2).

    Built from two switch-off times: factor ``w`` applies before ``w_end`` and factor ``u`` before
    ``u_end``; both multiply a constant ``base``.
    """

    def __init__(self, base: Array, w: Array, w_end: Array, u: Array, u_end: Array) -> None:
        first_w = w_end <= u_end
        self.b1 = np.where(first_w, w_end, u_end)
        self.b2 = np.where(first_w, u_end, w_end)
        self.v0 = base * w * u
        self.v1 = base * np.where(first_w, u, w)
        self.v2 = base

    def _pieces(self, start: Array, end: Array) -> tuple[Array, Array, Array]:
        neg = np.full_like(start, -np.inf)
        pos = np.full_like(start, np.inf)
        return (
            _overlap(start, end, neg, self.b1),
            _overlap(start, end, self.b1, self.b2),
            _overlap(start, end, self.b2, pos),
        )

    def integral(self, start: Array, end: Array) -> Array:
        """∫_start^end m(t) dt."""
        l0, l1, l2 = self._pieces(start, end)
        return self.v0 * l0 + self.v1 * l1 + self.v2 * l2

    def crossing(self, start: Array, end: Array, target: Array) -> tuple[Array, Array]:
        """First t in [start, end] with ∫_start^t m = target.

        Returns ``(time, used)``: ``time`` is inf where the integral over the interval stays below target,
        ``used`` the integral consumed up to ``time`` (or over the whole interval when not crossed).
        """
        l0, l1, l2 = self._pieces(start, end)
        c0 = self.v0 * l0
        c1 = c0 + self.v1 * l1
        c2 = c1 + self.v2 * l2
        s0 = start
        s1 = np.maximum(start, self.b1)
        s2 = np.maximum(start, self.b2)
        with np.errstate(divide="ignore", invalid="ignore"):
            t0 = s0 + target / self.v0
            t1 = s1 + (target - c0) / self.v1
            t2 = s2 + (target - c1) / self.v2
        time = np.where(target <= c0, t0, np.where(target <= c1, t1, t2))
        crossed = (target <= c2) & (c2 > 0)
        time = np.where(crossed, np.minimum(time, end), np.inf)
        used = np.where(crossed, target, c2)
        return time, used


def poisson_events(
    rng: np.random.Generator, who: Array, start: Array, end: Array, rate: Array
) -> tuple[Array, Array]:
    """Events of a Poisson process of constant ``rate`` on [start, end) for each ``who``.

    Returns ``(person, time)`` of every event, with the count of each person Poisson(rate × length) and the
    times uniform on the interval (the conditional law of a Poisson process given its count).
    """
    length = np.maximum(0.0, end - start)
    counts = rng.poisson(rate * length)
    return place_events(rng, who, start, length, counts)


def place_events(
    rng: np.random.Generator, who: Array, start: Array, length: Array, counts: Array
) -> tuple[Array, Array]:
    """``counts[i]`` events of ``who[i]`` at independent uniform times on [start[i], start[i] + length[i])."""
    person = np.repeat(who, counts)
    time = np.repeat(start, counts) + rng.random(person.size) * np.repeat(length, counts)
    return person, time


def keep_first(person: Array, time: Array, allowed: Array) -> np.ndarray:
    """Mask keeping, for each person, only their ``allowed[person]`` earliest events.

    ``allowed`` is indexed by person id. Events need not be sorted.
    """
    if person.size == 0:
        return np.zeros(0, dtype=bool)
    order = np.lexsort((time, person))
    sorted_person = person[order]
    new_group = np.empty(sorted_person.size, dtype=bool)
    new_group[0] = True
    np.not_equal(sorted_person[1:], sorted_person[:-1], out=new_group[1:])
    group_start = np.maximum.accumulate(np.where(new_group, np.arange(sorted_person.size), 0))
    rank = np.arange(sorted_person.size) - group_start
    keep_sorted = rank < allowed[sorted_person]
    keep = np.empty_like(keep_sorted)
    keep[order] = keep_sorted
    return keep
