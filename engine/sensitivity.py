"""Sensitivity: which assumptions move a metric, one at a time (a tornado) and together (Morris or Sobol).

The tornado moves every lever of the scenario (:func:`engine.levers.enumerate_levers`) to ×(1−change) and
×(1+change), one at a time, and ranks the levers by the larger absolute paired difference from the base
(every point on the same seeds as the base: common random numbers). A move outside a field's bounds is
clipped to an inclusive bound, or not run when the bound is exclusive or the value is already at it; each
such case is noted.

The global method takes the ``top`` levers of the tornado over the same ranges and runs SALib's design:
Morris elementary effects (μ*, σ, with μ*'s bootstrap confidence) or Sobol indices (S1, ST, with their
confidence), on the mean of the metric over ``reps`` common-random-number replications per design point.
Two levers whose ranges break a cross-field rule together (a uniform price's low ×1.2 above its high ×0.8)
are not varied together: the lower-ranked one is left out, and said so. Whole-number levers are rounded at
each design point, so their indices describe the rounded lever.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from engine.execution import Executor, ProgressCallback
from engine.levers import Lever, LeverError, Skipped, enumerate_levers
from engine.metrics import METRIC_INFO
from engine.scenario.schema import Scenario
from engine.stats import Difference, Summary, paired_difference, summarize
from engine.sweep import MetricRow, Point, check_metric, evaluate_points, metric_values, point_scenario

Method = Literal["morris", "sobol"]

DEFAULT_CHANGE = 0.2
DEFAULT_REPS = 5
"""Replications per point: small, because every point shares its seeds with the base (paired)."""
DEFAULT_TOP = 5
DEFAULT_TRAJECTORIES = 10
DEFAULT_SOBOL_SAMPLES = 16
MORRIS_LEVELS = 4
CONFIDENCE_RESAMPLES = 1000


@dataclass(frozen=True)
class Move:
    """One side of a tornado bar: the lever moved down or up."""

    factor: float
    """The intended multiplier (0.8 or 1.2)."""
    value: float | None
    """The value run (None: not run, see ``note``)."""
    note: str
    """Why the value differs from value × factor, or why it was not run ("" when neither)."""
    difference: Difference | None = None
    """Paired difference (moved − base) of the metric."""


@dataclass(frozen=True)
class Bar:
    """A lever of the tornado and the effect of moving it down and up."""

    lever: Lever
    low: Move
    high: Move

    @property
    def swing(self) -> float:
        """The larger absolute mean effect of the two moves (0 when neither could be run)."""
        effects = [m.difference.diff_mean for m in (self.low, self.high) if m.difference is not None]
        return max((abs(e) for e in effects if e is not None), default=0.0)

    @property
    def undefined(self) -> bool:
        """Both moves that ran left the metric undefined in every replication (no effect to measure)."""
        ran = [m for m in (self.low, self.high) if m.value is not None]
        return bool(ran) and all(m.difference is None or m.difference.diff_mean is None for m in ran)


@dataclass(frozen=True)
class Tornado:
    """One-at-a-time effects of every lever, largest first."""

    metric: str
    base: Summary
    bars: tuple[Bar, ...]
    skipped: tuple[Skipped, ...]
    change: float
    reps: int
    seed: int
    runs: int
    """Replications simulated."""


@dataclass(frozen=True)
class GlobalResult:
    """Indices of a global method over the top levers of the tornado, ranked by μ* (Morris) or ST (Sobol)."""

    method: Method
    levers: tuple[Lever, ...]
    bounds: tuple[tuple[float, float], ...]
    indices: tuple[dict[str, float | None], ...]
    """Per lever (as ``levers``): mu, mu_star, mu_star_conf, sigma — or S1, S1_conf, ST, ST_conf."""
    points: int
    """Design points run."""
    runs: int
    """Replications simulated (points × reps)."""
    left_out: tuple[tuple[str, str], ...] = ()
    """Levers of the top that were left out: (path, the chosen lever together with which it breaks a
    cross-field rule of the scenario, e.g. a uniform price's low above its high)."""

    def ranked(self) -> list[tuple[Lever, tuple[float, float], dict[str, float | None]]]:
        """Levers with their range and indices, the most influential first."""
        key = "mu_star" if self.method == "morris" else "ST"
        rows = list(zip(self.levers, self.bounds, self.indices, strict=True))
        return sorted(rows, key=lambda row: -_finite(row[2][key]))


def _finite(value: float | None) -> float:
    return value if value is not None else -np.inf


# ---------------------------------------------------------------------------------------------------------
# The tornado


def _planned_move(scenario: Scenario, lever: Lever, factor: float) -> Move:
    target = lever.value * factor
    word = f"×{factor:g} = {target:g}"
    value = lever.clip(target)
    if value is None:
        return Move(factor, None, f"{word} is outside the field's bounds; not run")
    if value == lever.value:
        rounds_back = lever.integer and round(target) == lever.value
        reason = "a whole number that this change does not move" if rounds_back else "already at its bound"
        return Move(factor, None, f"{word}: {reason}; not run")
    try:
        point_scenario(scenario, (lever,), (value,))
    except LeverError as error:
        return Move(factor, None, f"{word} makes the scenario invalid ({error}); not run")
    if lever.integer and value != target and lever.admits(round(target)):
        return Move(factor, value, f"rounded to the whole number {value:g}")
    note = "" if value == target else f"{word} clipped to the bound {value:g}"
    return Move(factor, value, note)


def tornado(
    scenario: Scenario,
    metric: str,
    reps: int = DEFAULT_REPS,
    seed: int = 1,
    change: float = DEFAULT_CHANGE,
    executor: Executor | None = None,
    progress: ProgressCallback | None = None,
) -> Tornado:
    """Move every lever to ×(1−change) and ×(1+change) one at a time; rank by paired effect on ``metric``."""
    check_metric(metric)
    if not 0 < change < 1:
        raise LeverError(f"--change {change:g}: must lie between 0 and 1 (0.2 moves each lever by ±20%)")
    levers, skipped = enumerate_levers(scenario)
    plans = [
        (lever, _planned_move(scenario, lever, 1 - change), _planned_move(scenario, lever, 1 + change))
        for lever in levers
    ]
    base_values: Point = tuple(lever.value for lever in levers)
    points: list[Point] = [base_values]
    where: list[tuple[int, str]] = []
    for index, (_lever, low, high) in enumerate(plans):
        for side, move in (("low", low), ("high", high)):
            if move.value is not None:
                values = list(base_values)
                values[index] = move.value
                points.append(tuple(values))
                where.append((index, side))
    rows = evaluate_points(scenario, levers, points, reps, seed, executor, progress)
    base_rows = metric_values(rows[0], metric)
    if summarize(base_rows).mean is None:
        raise LeverError(
            f"--metric {metric}: undefined in every replication of the scenario as written "
            f"({METRIC_INFO[metric].missing}); choose another metric"
        )
    effects: dict[tuple[int, str], Difference] = {
        key: paired_difference(base_rows, metric_values(point_rows, metric))
        for key, point_rows in zip(where, rows[1:], strict=True)
    }
    bars = [
        Bar(
            lever,
            Move(low.factor, low.value, low.note, effects.get((index, "low"))),
            Move(high.factor, high.value, high.note, effects.get((index, "high"))),
        )
        for index, (lever, low, high) in enumerate(plans)
    ]
    bars.sort(key=lambda bar: -bar.swing)
    return Tornado(
        metric=metric,
        base=summarize(base_rows),
        bars=tuple(bars),
        skipped=tuple(skipped),
        change=change,
        reps=reps,
        seed=seed,
        runs=len(points) * reps,
    )


# ---------------------------------------------------------------------------------------------------------
# The global method


def global_sensitivity(
    scenario: Scenario,
    result: Tornado,
    method: Method = "morris",
    top: int = DEFAULT_TOP,
    trajectories: int = DEFAULT_TRAJECTORIES,
    samples: int = DEFAULT_SOBOL_SAMPLES,
    executor: Executor | None = None,
    progress: ProgressCallback | None = None,
) -> GlobalResult | None:
    """SALib's Morris or Sobol analysis of the ``top`` levers of the tornado over the tornado's ranges.

    Morris runs ``trajectories × (top + 1)`` design points, Sobol ``samples × (top + 2)`` (``samples`` a
    power of two); each point is ``result.reps`` replications on ``result.seed``. Returns None when fewer
    than two levers moved the metric.
    """
    chosen: list[Bar] = []
    left_out: list[tuple[str, str]] = []
    for bar in result.bars:
        if len(chosen) == top:
            break
        if bar.swing == 0 or _range(bar)[0] == _range(bar)[1]:
            continue
        clash = _clash(scenario, chosen, bar)
        if clash is None:
            chosen.append(bar)
        else:
            left_out.append((bar.lever.path, clash))
    if len(chosen) < 2:
        return None
    levers = tuple(bar.lever for bar in chosen)
    bounds = tuple(_range(bar) for bar in chosen)
    problem: dict[str, Any] = {
        "num_vars": len(levers),
        "names": [lever.path for lever in levers],
        "bounds": [list(b) for b in bounds],
    }
    # SALib takes about two seconds to import (pandas, matplotlib): only when a global method runs.
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    if method == "morris":
        design = morris_sample.sample(problem, N=trajectories, num_levels=MORRIS_LEVELS, seed=result.seed)
    else:
        design = sobol_sample.sample(problem, samples, calc_second_order=False, seed=result.seed)
    points = [tuple(float(v) for v in row) for row in design]
    try:
        rows = evaluate_points(scenario, levers, points, result.reps, result.seed, executor, progress)
    except LeverError as error:  # a rule among three or more levers, which the pairwise check cannot see
        raise LeverError(
            f"--method {method}: a design point over the top {len(levers)} levers makes the scenario "
            f"invalid ({error}); use a smaller --top or --method none"
        ) from None
    outputs = np.array([_mean(point_rows, result.metric) for point_rows in rows], dtype=float)
    if not np.isfinite(outputs).all():
        missing = int((~np.isfinite(outputs)).sum())
        raise LeverError(
            f"--metric {result.metric}: undefined at {missing} of {len(points)} design points "
            f"({METRIC_INFO[result.metric].missing}); choose another metric or --method none"
        )
    if float(np.ptp(outputs)) == 0.0:  # no variation over the design: nothing to apportion
        return None
    if method == "morris":
        found = morris_analyze.analyze(
            problem,
            design,
            outputs,
            num_resamples=CONFIDENCE_RESAMPLES,
            num_levels=MORRIS_LEVELS,
            seed=result.seed,
        )
        keys = ("mu", "mu_star", "mu_star_conf", "sigma")
    else:
        found = sobol_analyze.analyze(
            problem, outputs, calc_second_order=False, num_resamples=CONFIDENCE_RESAMPLES, seed=result.seed
        )
        keys = ("S1", "S1_conf", "ST", "ST_conf")
    indices = tuple(
        {key: _finite_or_none(np.asarray(found[key])[i]) for key in keys} for i in range(len(levers))
    )
    return GlobalResult(
        method, levers, bounds, indices, len(points), len(points) * result.reps, tuple(left_out)
    )


def _clash(scenario: Scenario, chosen: Sequence[Bar], bar: Bar) -> str | None:
    """The first chosen lever with which ``bar``'s lever, both at an end of their ranges (the other levers
    at their values), breaks a cross-field rule of the scenario (None: no such lever). Each range is valid
    on its own, but two ranges need not be together: a uniform price's low ×1.2 above its high ×0.8."""
    for other in chosen:
        levers = (other.lever, bar.lever)
        for corner in itertools.product(_range(other), _range(bar)):
            try:
                point_scenario(scenario, levers, corner)
            except LeverError:
                return other.lever.path
    return None


def _finite_or_none(value: Any) -> float | None:
    """SALib's value as a float; None where it could not estimate one (NaN, a masked entry)."""
    if np.ma.is_masked(value):
        return None
    number = float(value)
    return number if np.isfinite(number) else None


def _range(bar: Bar) -> tuple[float, float]:
    low = bar.low.value if bar.low.value is not None else bar.lever.value
    high = bar.high.value if bar.high.value is not None else bar.lever.value
    return (min(low, high), max(low, high))


def _mean(rows: Sequence[MetricRow], metric: str) -> float:
    mean = summarize(metric_values(rows, metric)).mean
    return float("nan") if mean is None else mean


# ---------------------------------------------------------------------------------------------------------
# JSON


def sensitivity_summary(
    scenario: Scenario, result: Tornado, global_result: GlobalResult | None
) -> dict[str, Any]:
    """The JSON object of ``siyu sensitivity --format json`` (shape documented in README)."""

    def move(m: Move) -> dict[str, Any]:
        difference = m.difference.as_json() if m.difference is not None else None
        return {"factor": m.factor, "value": m.value, "note": m.note, "difference": difference}

    data: dict[str, Any] = {
        "scenario": scenario.meta.name,
        "metric": result.metric,
        "reps": result.reps,
        "seed": result.seed,
        "change": result.change,
        "base": result.base.as_json(),
        "tornado": [
            {
                "path": bar.lever.path,
                "value": bar.lever.value,
                "swing": bar.swing,
                "low": move(bar.low),
                "high": move(bar.high),
            }
            for bar in result.bars
        ],
        "skipped": [{"path": s.path, "value": s.value, "reason": s.reason} for s in result.skipped],
        "runs": result.runs,
        "global": None,
    }
    if global_result is not None:
        data["global"] = {
            "method": global_result.method,
            "points": global_result.points,
            "runs": global_result.runs,
            "levers": [
                {"path": lever.path, "low": bounds[0], "high": bounds[1], **indices}
                for lever, bounds, indices in global_result.ranked()
            ],
            "left_out": [{"path": path, "with": other} for path, other in global_result.left_out],
        }
    return data
