"""Scenarios run on common random numbers, and every metric's paired difference to the baseline.

Replication ``i`` of every scenario uses the random streams of (root seed, ``i``), so two scenarios that
differ in one lever share the rest of their randomness and ``variant[i] − baseline[i]`` has far less
noise than the difference of two independent runs. Replications of all scenarios go to one executor as
``(plan, index)`` tasks, so every core (or a Dask cluster) is busy whatever the number of scenarios; results
are put back in index order, so the output does not depend on the executor.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.errors import SiyuError
from engine.execution import Executor, ProgressCallback, execute
from engine.metrics import METRIC_NAMES
from engine.runner import Replication, ReplicationTask, RunResult
from engine.scenario.schema import Scenario
from engine.stats import Difference, paired_difference

PlanReplication = tuple[int, int]
"""``(plan, index)``: replication ``index`` of the ``plan``-th scenario."""


class ComparisonError(SiyuError):
    """Scenarios cannot be compared as asked (one scenario, different currencies, ...)."""


@dataclass(frozen=True)
class TimedReplication:
    """A replication's metrics and the seconds its worker spent on it (to decide where later ones run)."""

    replication: Replication
    seconds: float


@dataclass(frozen=True)
class PlanTask:
    """Replication ``index`` of plan ``plan`` under ``seed``: a picklable task for any executor."""

    scenarios: tuple[Scenario, ...]
    seed: int
    series: bool = False
    """Also reduce each ledger to the report's figure data (:mod:`engine.series`), for ``--out``."""

    def __call__(self, item: PlanReplication) -> TimedReplication:
        plan, index = item
        started = time.perf_counter()
        outcome = ReplicationTask(self.scenarios[plan], self.seed, series=self.series)(index)
        return TimedReplication(outcome.replication, time.perf_counter() - started)


def check_comparable(scenarios: Sequence[Scenario]) -> None:
    """At least two scenarios, all in one currency (differences of CNY and USD mean nothing)."""
    if len(scenarios) < 2:
        raise ComparisonError("compare: give at least two scenario files (the first is the baseline)")
    currencies = sorted({s.meta.currency for s in scenarios})
    if len(currencies) > 1:
        raise ComparisonError(
            f"compare: the scenarios use different currencies ({', '.join(currencies)}); "
            "money can only be compared in one currency: set meta.currency alike"
        )


def plan_names(scenarios: Sequence[Scenario], files: Sequence[Path]) -> tuple[str, ...]:
    """Each plan's name in tables, verdicts and JSON: its ``meta.name``, with its file name added where plans
    share a name (a variant that ``extends`` the baseline keeps the baseline's name unless it sets its own),
    and its position too if that is not enough."""
    names = [scenario.meta.name for scenario in scenarios]
    shared = Counter(names)
    labels = [
        name if shared[name] == 1 else f"{name} ({file.name})"
        for name, file in zip(names, files, strict=True)
    ]
    repeated = Counter(labels)
    return tuple(
        label if repeated[label] == 1 else f"{label} #{position}"
        for position, label in enumerate(labels, start=1)
    )


def run_plan_replications(
    scenarios: Sequence[Scenario],
    seed: int,
    items: Sequence[PlanReplication],
    executor: Executor,
    progress: ProgressCallback | None = None,
    done: int = 0,
    series: bool = False,
) -> dict[PlanReplication, TimedReplication]:
    """Run the given ``(plan, index)`` replications through ``executor``; the results keyed by item (with
    each replication's figure data if ``series``)."""
    task = PlanTask(tuple(scenarios), seed, series)
    return dict(execute(task, items, executor, progress, done))


def run_plans(
    scenarios: Sequence[Scenario],
    reps: int,
    seed: int,
    executor: Executor,
    progress: ProgressCallback | None = None,
    series: bool = False,
) -> tuple[tuple[RunResult, ...], float]:
    """Replications ``0 … reps−1`` of every scenario on common random numbers; with ``series``, each
    replication also keeps its figure data (:meth:`RunResult.series_summary` is then each plan's
    ``series.json``).

    Returns:
        The runs in the order of ``scenarios``, and the mean seconds a replication took in its worker.
    """
    if reps < 2:
        raise ComparisonError(f"--reps: {reps} is too few; a paired CI needs at least 2 replications")
    items = [(plan, index) for index in range(reps) for plan in range(len(scenarios))]
    done = run_plan_replications(scenarios, seed, items, executor, progress, series=series)
    results = tuple(
        RunResult(scenario, seed, tuple(done[(plan, index)].replication for index in range(reps)))
        for plan, scenario in enumerate(scenarios)
    )
    seconds = sum(timed.seconds for timed in done.values()) / len(done)
    return results, seconds


def differences(
    baseline: RunResult, variant: RunResult, metrics: Iterable[str] = METRIC_NAMES
) -> dict[str, Difference]:
    """Per metric, the paired difference ``variant − baseline`` with its 95% CI and p-value."""
    return {
        name: paired_difference(
            [r.metrics[name] for r in baseline.replications], [r.metrics[name] for r in variant.replications]
        )
        for name in metrics
    }


@dataclass(frozen=True)
class Comparison:
    """Runs of several scenarios on common seeds; the first is the baseline."""

    names: tuple[str, ...]
    """Each plan's name (its ``meta.name``, told apart by :func:`plan_names` where two share one)."""
    results: tuple[RunResult, ...]
    vs_baseline: tuple[Mapping[str, Difference], ...]
    """Per scenario, every metric's paired difference to the baseline (empty for the baseline itself)."""

    @classmethod
    def of(cls, results: Sequence[RunResult], names: Sequence[str] | None = None) -> Comparison:
        """Paired differences of every run to the first (``names``: by default each ``meta.name``)."""
        baseline = results[0]
        return cls(
            tuple(names) if names is not None else tuple(r.scenario.meta.name for r in results),
            tuple(results),
            ({}, *(differences(baseline, r) for r in results[1:])),
        )

    @property
    def reps(self) -> int:
        return self.results[0].reps

    @property
    def seed(self) -> int:
        return self.results[0].seed

    @property
    def currency(self) -> str:
        return self.results[0].scenario.meta.currency
