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
