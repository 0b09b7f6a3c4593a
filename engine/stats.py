"""Summary statistics over replications: means with Student-t 95% confidence intervals."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Summary:
    """Mean and 95% CI of a metric over the replications where it is defined."""

    mean: float | None
    ci_low: float | None
    ci_high: float | None
    defined: int  # replications in which the metric had a value
    reps: int

    def as_json(self) -> dict[str, float | None]:
        """The JSON contract: mean, ci_low, ci_high (null when undefined)."""
        return {"mean": self.mean, "ci_low": self.ci_low, "ci_high": self.ci_high}


def summarize(values: Sequence[float | None]) -> Summary:
    """Mean ± t(0.975, n−1) · s/√n over the defined values; the CI is null with fewer than two values."""
    defined = np.array([v for v in values if v is not None and math.isfinite(v)], dtype=np.float64)
    n = defined.size
    if n == 0:
        return Summary(None, None, None, 0, len(values))
    if n > 1 and (defined == defined[0]).all():  # exact: a deterministic metric, a zero-width CI
        value = float(defined[0])
        return Summary(value, value, value, n, len(values))
    mean = float(defined.mean())
    if n < 2:
        return Summary(mean, None, None, 1, len(values))
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * defined.std(ddof=1) / math.sqrt(n))
    return Summary(mean, mean - half, mean + half, n, len(values))


@dataclass(frozen=True)
class Difference:
    """Paired difference (variant − baseline) of a metric over common-random-number replications."""

    diff_mean: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None  # two-sided paired t-test of "no difference"
    pairs: int  # replications in which both values were defined

    def as_json(self) -> dict[str, float | None]:
        """The JSON contract of a comparison: diff_mean, ci_low, ci_high, p_value (null when undefined)."""
        return {
            "diff_mean": self.diff_mean,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "p_value": self.p_value,
        }


def paired_difference(baseline: Sequence[float | None], variant: Sequence[float | None]) -> Difference:
    """Mean of ``variant[i] − baseline[i]`` with its Student-t 95% CI and two-sided p-value.

    Replication ``i`` of both runs used the same random numbers (same root seed and index), so the
    differences are independent across ``i`` and the paired t interval applies. Pairs where either value is
    undefined are dropped. Identical differences give a zero-width CI and p = 1 (all zero) or p = 0.
    """
    if len(baseline) != len(variant):
        raise ValueError(f"paired runs need equal replications, got {len(baseline)} and {len(variant)}")
    diffs = np.array(
        [
            v - b
            for b, v in zip(baseline, variant, strict=True)
            if b is not None and v is not None and math.isfinite(b) and math.isfinite(v)
        ],
        dtype=np.float64,
    )
    n = diffs.size
    if n == 0:
        return Difference(None, None, None, None, 0)
    mean = float(diffs.mean())
    if n < 2:
        return Difference(mean, None, None, None, 1)
    if (diffs == diffs[0]).all():
        return Difference(mean, mean, mean, 1.0 if mean == 0.0 else 0.0, n)
    sem = float(diffs.std(ddof=1) / math.sqrt(n))
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * sem)
    p_value = float(2 * stats.t.sf(abs(mean) / sem, n - 1))
    return Difference(mean, mean - half, mean + half, p_value, n)
