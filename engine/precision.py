"""Precision control: add replications until every key metric's 95% CI is narrow enough (``--precision``).

A user asks for an accuracy, not a count: with ``--precision REL`` the run starts with ``--reps``
replications and adds more until, for every key metric, the half-width of its 95% CI is at most
``REL × scale``, or ``--max-reps`` is reached.

*Scale* is the mean absolute value of the metric over the replications. For a metric that keeps one sign
(CAC, CLV, retention, and most others) that is exactly ``|mean|``, so the rule reads "the CI half-width is
within REL of the mean". For a metric whose values take both signs — a profit or net value near break-even —
``|mean|`` can be arbitrarily close to 0 and no number of replications would meet ``REL × |mean|``; the mean
absolute value stays at the typical size of one replication's value, so the rule then asks for a CI that is
narrow compared with what the metric measures. A metric equal in every replication (zero-width CI) is met;
a metric undefined in every replication (say, CAC when nobody buys) is skipped and reported as undefined.

The stopping rule is checked after each round. Rounds grow towards the projected need: the half-width
shrinks like ``1/√n``, so ``n × (half-width / target)²`` replications should do; a round at most doubles the
run, so a noisy early variance estimate cannot overshoot much. As with every sequential stopping rule (Law &
Kelton, *Simulation Modeling and Analysis*, §9.4.1), the final CI covers slightly less than 95% when the
first round is small; the default first round is 20 replications. Which replications are run depends only on
the results, so the same seed gives the same replications whatever the executor.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.errors import OptionError
from engine.metrics import METRIC_NAMES, unknown_metric_message
from engine.runner import Replication, RunResult
from engine.stats import summarize

KEY_METRICS: tuple[str, ...] = ("cac", "clv", "net_value", "ltv_cac", "retention_d90", "profit")
"""The metrics a strategist decides on: precision targets and comparison verdicts use these by default."""
DEFAULT_MAX_REPS = 1_000
"""Most replications ``--precision`` runs when ``--max-reps`` is not given."""


def metric_names(
    values: Iterable[str] | None, option: str, default: Sequence[str] = KEY_METRICS
) -> tuple[str, ...]:
    """The metrics an option names (comma-separated or repeated), in the order given; ``default`` if none.

    Raises:
        OptionError: a name is not a metric (the message lists the allowed names).
    """
    names: list[str] = []
    for value in values or ():
        for name in (part.strip() for part in value.split(",")):
            if name not in METRIC_NAMES:
                raise OptionError(unknown_metric_message(name, option))
            if name not in names:
                names.append(name)
    return tuple(names) if names else tuple(default)


@dataclass(frozen=True)
class PrecisionGoal:
    """Add replications until every metric's CI half-width ≤ ``rel`` × its scale, or ``max_reps``."""

    rel: float
    max_reps: int
    metrics: tuple[str, ...] = KEY_METRICS

    def __post_init__(self) -> None:
        if not 0 < self.rel < 1:
            raise OptionError(
                f"--precision: {self.rel} is not allowed; give a fraction between 0 and 1 (0.05: ±5%)"
            )
        if self.max_reps < 2:
            raise OptionError(
                f"--max-reps: {self.max_reps} is not allowed; at least 2 replications give a CI"
            )


@dataclass(frozen=True)
class MetricPrecision:
    """How precisely one metric is known after a round."""

    name: str
    mean: float | None
    half_width: float | None
    """Half-width of the 95% CI; None with fewer than two defined values."""
    scale: float | None
    """Mean absolute value over the replications (``|mean|`` when the metric keeps one sign)."""
    met: bool | None
    """Whether half_width ≤ rel × scale; None when the metric is undefined in every replication."""

    @property
    def relative(self) -> float | None:
        """half_width / scale (0 for a metric equal in every replication)."""
        if self.half_width is None or self.scale is None:
            return None
        if self.half_width == 0:
            return 0.0
        return self.half_width / self.scale if self.scale > 0 else math.inf

    def as_json(self) -> dict[str, Any]:
        relative = self.relative
        return {
            "mean": self.mean,
            "half_width": self.half_width,
            "scale": self.scale,
            "relative_half_width": relative if relative is None or math.isfinite(relative) else None,
            "met": self.met,
        }


def assess(result: RunResult, goal: PrecisionGoal) -> tuple[MetricPrecision, ...]:
    """Each goal metric's CI half-width against ``goal.rel × scale``."""
    assessments = []
    for name in goal.metrics:
        values = [
            value
            for value in (r.metrics[name] for r in result.replications)
            if value is not None and math.isfinite(value)
        ]
        if not values:
            assessments.append(MetricPrecision(name, None, None, None, None))
            continue
        summary = summarize(values)
        scale = math.fsum(abs(v) for v in values) / len(values)
        if summary.ci_low is None or summary.ci_high is None:
            assessments.append(MetricPrecision(name, summary.mean, None, scale, False))
            continue
        half = (summary.ci_high - summary.ci_low) / 2
        assessments.append(MetricPrecision(name, summary.mean, half, scale, half <= goal.rel * scale))
    return tuple(assessments)


def next_reps(reps: int, assessments: Sequence[MetricPrecision], goal: PrecisionGoal) -> int | None:
    """Replications for the next round, or None when every metric is met (or ``goal.max_reps`` is reached)."""
    unmet = [a for a in assessments if a.met is False]
    if not unmet or reps >= goal.max_reps:
        return None
    ratios = [
        a.half_width / (goal.rel * a.scale)
        if a.half_width is not None and a.scale is not None and a.scale > 0
        else math.sqrt(2)  # no CI yet (one defined value): double the run
        for a in unmet
    ]
    needed = math.ceil(reps * max(ratios) ** 2)
    return min(goal.max_reps, max(reps + 1, min(needed, 2 * reps)))


@dataclass(frozen=True)
class PrecisionOutcome:
    """The final run of a precision-controlled run and how precise its metrics are."""

    result: RunResult
    goal: PrecisionGoal
    assessments: tuple[MetricPrecision, ...]
    rounds: tuple[int, ...]
    """Replications after each round."""

    @property
    def reached(self) -> bool:
        """Every defined goal metric met its target."""
        return all(a.met is not False for a in self.assessments)

    def as_json(self) -> dict[str, Any]:
        """The ``"precision"`` object of ``siyu run --precision … --format json`` and ``summary.json``."""
        return {
            "rel": self.goal.rel,
            "max_reps": self.goal.max_reps,
            "reached": self.reached,
            "rounds": list(self.rounds),
            "metrics": {a.name: a.as_json() for a in self.assessments},
        }


RoundRunner = Callable[[int, Mapping[int, Replication]], RunResult]
"""``run_round(reps, finished)``: replications 0 … reps−1, running only those not in ``finished``."""


def run_to_precision(first_reps: int, goal: PrecisionGoal, run_round: RoundRunner) -> PrecisionOutcome:
    """Run ``first_reps`` replications, then rounds of more until ``goal`` is met or its ``max_reps``."""
    reps: int | None = min(first_reps, goal.max_reps)
    finished: dict[int, Replication] = {}
    rounds: list[int] = []
    while True:
        assert reps is not None
        result = run_round(reps, finished)
        finished = {r.index: r for r in result.replications}
        rounds.append(reps)
        assessments = assess(result, goal)
        reps = next_reps(reps, assessments, goal)
        if reps is None:
            return PrecisionOutcome(result, goal, assessments, tuple(rounds))


def describe(outcome: PrecisionOutcome) -> str:
    """One line for people: whether the precision was reached, and each metric's relative half-width."""
    parts = []
    for a in outcome.assessments:
        relative = a.relative
        if a.met is None:
            parts.append(f"{a.name} undefined")
        elif relative is None:
            parts.append(f"{a.name} no CI")
        else:
            parts.append(f"{a.name} ±{100 * relative:.1f}%" if math.isfinite(relative) else f"{a.name} ±∞")
    reps = outcome.result.reps
    target = f"±{100 * outcome.goal.rel:g}%"
    if outcome.reached:
        head = f"precision {target} reached with {reps} replications"
    else:
        head = (
            f"precision {target} NOT reached within --max-reps {outcome.goal.max_reps} ({reps} replications)"
        )
    return f"{head}: {', '.join(parts)} (CI half-width / mean absolute value)"
