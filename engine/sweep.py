"""Sweeps: a scenario run at every point of a one- or two-lever grid, every point on the same seeds.

Replication ``i`` of every point uses the same random streams (common random numbers), so the difference
between two points is paired: :func:`engine.stats.paired_difference` gives its CI, much narrower than two
independent CIs would suggest. The (point, replication) pairs are one flat list of tasks, so every worker
stays busy however many points there are (:func:`evaluate_points`, shared with
:mod:`engine.sensitivity` and :mod:`engine.optimize`).
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from engine.execution import Executor, ProgressCallback, SerialExecutor, execute
from engine.levers import Lever, LeverError, find_lever, parse_assignment, parse_spec, with_values
from engine.metrics import METRIC_INFO, METRIC_NAMES, Value, compute_metrics, unknown_metric_message
from engine.model.compiled import compile_scenario
from engine.model.simulation import simulate
from engine.scenario.schema import Scenario
from engine.stats import Difference, Summary, paired_difference, summarize

MetricRow = dict[str, Value]
Point = tuple[float, ...]
"""The values of a grid point, one per lever."""

COST_TOTALS = frozenset({"acquisition_cost", "ops_cost", "total_cost"})
"""Metrics with no agreed direction (spending may be the plan) that a sweep or optimiser still minimises."""

MAX_POINTS = 10_000
"""Grid points one sweep may have."""


def better(metric: str) -> str:
    """The direction a sweep or optimiser seeks: the metric's agreed one (:attr:`MetricInfo.better`: costs,
    waits and losses lower, value higher); for the others, lower for cost totals and higher otherwise."""
    agreed = METRIC_INFO[metric].better
    if agreed is not None:
        return agreed
    return "lower" if metric in COST_TOTALS else "higher"


def check_metric(metric: str, option: str = "--metric") -> str:
    """``metric`` if it is a metric's name; else a :class:`LeverError` listing the names."""
    if metric in METRIC_INFO:
        return metric
    raise LeverError(unknown_metric_message(metric, option))


# ---------------------------------------------------------------------------------------------------------
# Running variants of a scenario on common random numbers


@dataclass(frozen=True)
class VariantTask:
    """Replication ``r`` of point ``p`` (``base`` with ``levers`` set to ``points[p]``): one picklable task.

    The task carries the base scenario and the points' values, not one scenario per point, so it stays small
    when it is sent to a worker process; the worker builds the point's scenario itself.
    """

    base: Scenario
    levers: tuple[Lever, ...]
    points: tuple[Point, ...]
    seed: int

    def __call__(self, item: tuple[int, int]) -> MetricRow:
        point, replication = item
        scenario = point_scenario(self.base, self.levers, self.points[point])
        return compute_metrics(simulate(compile_scenario(scenario), self.seed, replication))


def point_scenario(base: Scenario, levers: Sequence[Lever], values: Point, origin: str = "") -> Scenario:
    """``base`` with each lever set to its value (the base itself when there are no levers)."""
    if not levers:
        return base
    return with_values(base, dict(zip(levers, values, strict=True)), origin)


def evaluate_points(
    base: Scenario,
    levers: Sequence[Lever],
    points: Sequence[Point],
    reps: int,
    seed: int,
    executor: Executor | None = None,
    progress: ProgressCallback | None = None,
    *,
    first: int = 0,
) -> list[list[MetricRow]]:
    """Replications ``first … first+reps−1`` of every point, all on root seed ``seed``.

    Returns ``rows[point][r]``, the metrics of replication ``first + r`` of the point. Every point is
    validated before anything runs, so a bad value fails at once.
    """
    if reps < 1:
        raise ValueError("reps must be at least 1")
    for values in points:
        point_scenario(base, levers, values)
    task = VariantTask(base, tuple(levers), tuple(tuple(float(v) for v in p) for p in points), seed)
    items = [(point, first + r) for point in range(len(points)) for r in range(reps)]
    rows: list[list[MetricRow | None]] = [[None] * reps for _ in points]
    for (point, replication), row in execute(task, items, executor or SerialExecutor(), progress):
        rows[point][replication - first] = row
    return [[row for row in point_rows if row is not None] for point_rows in rows]


def metric_values(rows: Sequence[MetricRow], metric: str) -> list[Value]:
    """One metric's value in each replication (None where undefined)."""
    return [row[metric] for row in rows]


# ---------------------------------------------------------------------------------------------------------
# Sweeps


@dataclass(frozen=True)
class Axis:
    """One varied lever and its values."""

    lever: Lever
    values: tuple[float, ...]


@dataclass(frozen=True)
class SweepPoint:
    """One point of the grid and its replications."""

    values: Point
    replications: tuple[MetricRow, ...]

    def summary(self, metric: str) -> Summary:
        """Mean and 95% CI of ``metric`` at this point."""
        return summarize(metric_values(self.replications, metric))


@dataclass(frozen=True)
class Best:
    """The best point of a sweep and how sure we are that it beats the runner-up."""

    index: int
    summary: Summary
    runner_up: int | None
    """Index of the second-best point (None when fewer than two points have a value)."""
    versus_runner_up: Difference | None
    """Paired difference best − runner-up over common-random-number replications."""


@dataclass(frozen=True)
class SweepResult:
    """Every point of a sweep, its replications, and the chosen metric."""

    scenario: Scenario
    axes: tuple[Axis, ...]
    points: tuple[SweepPoint, ...]
    metric: str
    reps: int
    seed: int

    def best(self) -> Best | None:
        """The point with the best mean of the metric (None when it is undefined everywhere)."""
        means = [(index, point.summary(self.metric)) for index, point in enumerate(self.points)]
        defined = [(index, summary) for index, summary in means if summary.mean is not None]
        if not defined:
            return None
        sign = -1.0 if better(self.metric) == "higher" else 1.0
        ranked = sorted(defined, key=lambda pair: sign * float(pair[1].mean or 0.0))
        index, summary = ranked[0]
        if len(ranked) < 2:
            return Best(index, summary, None, None)
        runner_up = ranked[1][0]
        return Best(index, summary, runner_up, self.versus(runner_up, index))

    def versus(self, baseline: int, variant: int) -> Difference:
        """Paired difference of the metric, point ``variant`` − point ``baseline``."""
        return paired_difference(
            metric_values(self.points[baseline].replications, self.metric),
            metric_values(self.points[variant].replications, self.metric),
        )


def parse_axes(scenario: Scenario, assignments: Sequence[str], option: str = "--vary") -> tuple[Axis, ...]:
    """The axes of ``--vary PATH=SPEC`` options (one or two, on different levers), each value checked."""
    if not 1 <= len(assignments) <= 2:
        raise LeverError(f"{option}: give one or two (a line or a 2-D grid); got {len(assignments)}")
    axes: list[Axis] = []
    for text in assignments:
        path, spec = parse_assignment(text, option)
        try:
            lever = find_lever(scenario, path)
        except LeverError as error:
            raise LeverError(f"{option} {text}: {error}") from None
        if any(axis.lever.path == lever.path for axis in axes):
            raise LeverError(f"{option} {text}: '{lever.path}' is varied twice; vary each field once")
        values = parse_spec(spec, f"{option} {text}")
        if lever.integer:
            wrong = [v for v in values if v != round(v)]
            if wrong:
                raise LeverError(f"{option} {text}: {lever.path} takes whole numbers only (got {wrong[0]:g})")
        for value in values:
            point_scenario(scenario, (lever,), (value,), f"{option} {text}")
        axes.append(Axis(lever, values))
    size = 1
    for axis in axes:
        size *= len(axis.values)
    if size > MAX_POINTS:
        raise LeverError(f"{option}: the grid has {size:,} points; at most {MAX_POINTS:,}")
    return tuple(axes)


def grid(axes: Sequence[Axis]) -> list[Point]:
    """Every combination of the axes' values, the last axis varying fastest."""
    return [tuple(values) for values in itertools.product(*(axis.values for axis in axes))]


def sweep(
    scenario: Scenario,
    axes: Sequence[Axis],
    metric: str,
    reps: int,
    seed: int,
    executor: Executor | None = None,
    progress: ProgressCallback | None = None,
) -> SweepResult:
    """Run ``reps`` replications of ``scenario`` at every grid point of ``axes``, all on seed ``seed``."""
    check_metric(metric)
    points = grid(axes)
    levers = tuple(axis.lever for axis in axes)
    rows = evaluate_points(scenario, levers, points, reps, seed, executor, progress)
    return SweepResult(
        scenario=scenario,
        axes=tuple(axes),
        points=tuple(SweepPoint(values, tuple(r)) for values, r in zip(points, rows, strict=True)),
        metric=metric,
        reps=reps,
        seed=seed,
    )


# ---------------------------------------------------------------------------------------------------------
# The sweep's JSON and CSV


def _point_values(result: SweepResult, index: int) -> dict[str, float]:
    return {
        axis.lever.path: value for axis, value in zip(result.axes, result.points[index].values, strict=True)
    }


def sweep_summary(result: SweepResult) -> dict[str, Any]:
    """The JSON object of ``siyu sweep --format json`` and ``sweep.json`` (shape documented in README)."""
    best = result.best()
    best_json: dict[str, Any] | None = None
    if best is not None:
        best_json = {
            "point": best.index,
            "values": _point_values(result, best.index),
            **best.summary.as_json(),
            "runner_up": None
            if best.runner_up is None
            else {"point": best.runner_up, "values": _point_values(result, best.runner_up)},
            "versus_runner_up": None if best.versus_runner_up is None else best.versus_runner_up.as_json(),
        }
    return {
        "scenario": result.scenario.meta.name,
        "reps": result.reps,
        "seed": result.seed,
        "metric": result.metric,
        "better": better(result.metric),
        "vary": [{"path": axis.lever.path, "values": list(axis.values)} for axis in result.axes],
        "points": [
            {
                "point": index,
                "values": _point_values(result, index),
                "metrics": {name: point.summary(name).as_json() for name in METRIC_NAMES},
            }
            for index, point in enumerate(result.points)
        ],
        "best": best_json,
    }


def sweep_csv(result: SweepResult) -> str:
    """Tidy rows, one per point and metric: point, the levers' values, metric, label, mean, CI, best.

    Starts with a UTF-8 byte-order mark so that Excel reads the Chinese labels right.
    """
    best = result.best()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    paths = [axis.lever.path for axis in result.axes]
    writer.writerow(["point", *paths, "metric", "指标", "mean", "ci_low", "ci_high", "best"])
    for index, point in enumerate(result.points):
        for name in METRIC_NAMES:
            summary = point.summary(name)
            cells = (summary.mean, summary.ci_low, summary.ci_high)
            is_best = best is not None and index == best.index and name == result.metric
            writer.writerow(
                [
                    index,
                    *(repr(v) for v in point.values),
                    name,
                    METRIC_INFO[name].zh,
                    *("" if v is None else repr(v) for v in cells),
                    "yes" if is_best else "",
                ]
            )
    return "\ufeff" + buffer.getvalue()
