"""Exact bulk draws of memoryless clocks over an interval.

Between two batch events a person's exit hazard and purchase rate are piecewise constant with at most two
known breakpoints, so what happens in the interval can be drawn exactly and for everyone at once:

* an exit is the time the cumulative hazard crosses the person's unit-exponential budget
  (:func:`piecewise_integral`, :func:`piecewise_crossing`);
* purchases are a Poisson count over the interval's total intensity; the first ``k`` of them (``k``: what
  the buyer has left before dropping out) are placed as uniform order statistics of the intensity and
  mapped back to time through the piecewise-constant rate (:func:`first_order_statistics`).

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


SMALL_MEAN = 2.0  # below it a Poisson count is drawn by inverting its distribution function


def poisson_counts(rng: np.random.Generator, mean: Array) -> Array:
    """Poisson counts with the given means (≥ 0): one uniform each, inverted through the distribution function
    where the mean is small (most intervals between reviews hold a fraction of a purchase), numpy's sampler
    for the rest. Inversion takes a few passes over fewer and fewer people instead of numpy's per-draw loop.
    """
    counts = np.zeros(mean.size, dtype=np.int64)
    small = np.flatnonzero(mean < SMALL_MEAN)
    large = np.flatnonzero(mean >= SMALL_MEAN)
    if large.size:
        counts[large] = rng.poisson(mean[large])
    if small.size == 0:
        return counts
    who = small  # people whose count is still being decided
    uniform = rng.random(who.size)
    rate = mean[who]
    term = np.exp(-rate)  # P(N = k), from k = 0
    cumulative = term
    k = 0
    while True:
        beyond = np.flatnonzero(uniform >= cumulative)  # their count is above k
        if beyond.size == 0 or k >= 100:  # (mean < 2: the distribution function is 1 in floating point)
            return counts
        who, uniform, rate, term, cumulative = (x[beyond] for x in (who, uniform, rate, term, cumulative))
        k += 1
        counts[who] = k
        term = term * rate / k
        cumulative = cumulative + term


def first_order_statistics(rng: np.random.Generator, counts: Array, allowed: Array) -> tuple[Array, Array]:
    """The first ``min(counts[i], allowed[i])`` of ``counts[i]`` sorted uniforms on [0, 1), for each i.

    Returns ``(group, fraction)``: for every kept draw, its index ``i`` and its value; draws come grouped by
    ``i`` in increasing order and sorted within each group. Uses exponential spacings — the sorted
    uniforms of a sample of n are the partial sums of n + 1 unit exponentials divided by their total — so
    the first k need k exponentials and one Gamma(n + 1 − k) for the rest: exact, and no sorting.
    """
    kept = np.minimum(counts, allowed)
    group = np.repeat(np.arange(counts.size), kept)
    spacings = rng.exponential(1.0, group.size)
    running = np.cumsum(spacings)
    ends = np.cumsum(kept)
    before = np.concatenate(([0.0], running))[ends - kept]  # running total before each group
    partial = running - np.repeat(before, kept)
    last = np.where(kept > 0, np.concatenate(([0.0], running))[ends] - before, 0.0)
    total = last + rng.gamma(counts - kept + 1.0)
    return group, partial / np.repeat(total, kept)
