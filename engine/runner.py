"""Replications of a scenario from one root seed, reduced to metrics and summarised with CIs.

A replication's randomness depends only on (root seed, replication index), so results do not depend on how
replications are scheduled: :func:`run` hands them to any executor (:mod:`engine.execution`) and orders
the results by index. A replication's ledger is reduced to metrics in the worker that made it; only its
purchases (the transaction log) travel back, and only when asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from engine.execution import Executor, ProgressCallback, SerialExecutor, execute
from engine.ledger import Ledger
from engine.metrics import METRIC_NAMES, Value, compute_breakdown, compute_metrics
from engine.model.compiled import compile_scenario
from engine.model.simulation import simulate
from engine.scenario.schema import Scenario
from engine.series import ReplicationSeries, replication_series, summarize_series
from engine.stats import Summary, summarize
from engine.transactions import purchase_table

MetricRow = dict[str, Value]
Breakdown = dict[str, dict[str, MetricRow]]


@dataclass(frozen=True)
class Replication:
    """Metrics of one replication, and its figure data when the run asked for it."""

    index: int
    metrics: MetricRow
    breakdown: Breakdown
    series: ReplicationSeries | None = None
    """:func:`engine.series.replication_series` of the ledger (for the report), or None."""


@dataclass(frozen=True)
class Outcome:
    """What a worker sends back for one replication: its metrics and, if asked for, its purchases."""

    replication: Replication
    purchases: pa.Table | None = None


@dataclass(frozen=True)
class ReplicationTask:
    """Replication ``index`` of ``scenario`` under ``seed``: a picklable task for any executor."""

    scenario: Scenario
    seed: int
    purchases: bool = False
    """Also return the replication's purchases (for the transaction log)."""
    series: bool = False
    """Also reduce the ledger to the report's figure data (:mod:`engine.series`)."""

    def __call__(self, index: int) -> Outcome:
        ledger = simulate(compile_scenario(self.scenario), self.seed, index)
        table = purchase_table(index, ledger) if self.purchases else None
        return Outcome(_reduce(index, ledger, self.series), table)


@dataclass(frozen=True)
class RunResult:
    """All replications of one scenario and their summaries."""

    scenario: Scenario
    seed: int
    replications: tuple[Replication, ...]

    @property
    def reps(self) -> int:
        return len(self.replications)

    def summary(self) -> dict[str, Summary]:
        """Per metric, mean and 95% CI over replications."""
        return {name: summarize([r.metrics[name] for r in self.replications]) for name in METRIC_NAMES}

    def breakdown_summary(self) -> dict[str, dict[str, dict[str, Summary]]]:
        """Per dimension, group and metric, mean and 95% CI over replications."""
        first = self.replications[0].breakdown
        return {
            dimension: {
                group: {
                    name: summarize([r.breakdown[dimension][group][name] for r in self.replications])
                    for name in metrics
                }
                for group, metrics in groups.items()
            }
            for dimension, groups in first.items()
        }

    def series_summary(self) -> dict[str, Any] | None:
        """The figure data summarised over replications (``series.json``); None if the run kept none."""
        series = [r.series for r in self.replications]
        if any(s is None for s in series):
            return None
        return summarize_series(series)  # type: ignore[arg-type]


def run_replication(
    scenario: Scenario, seed: int, index: int, on_ledger: Callable[[int, Ledger], None] | None = None
) -> Replication:
    """Simulate replication ``index`` in this process and reduce its ledger to metrics."""
    ledger = simulate(compile_scenario(scenario), seed, index)
    if on_ledger is not None:
        on_ledger(index, ledger)
    return _reduce(index, ledger)


def run(
    scenario: Scenario,
    reps: int,
    seed: int,
    progress: ProgressCallback | None = None,
    *,
    executor: Executor | None = None,
    finished: Mapping[int, Replication] | None = None,
    purchases: bool = False,
    on_outcome: Callable[[Outcome], None] | None = None,
    series: bool = False,
) -> RunResult:
    """Run replications ``0 … reps−1`` and return them in index order.

    Args:
        scenario: The validated scenario.
        reps: Replications in the run.
        seed: Root seed.
        progress: ``progress(done, total)`` after each replication (``done`` counts ``finished`` too).
        executor: Where replications run; default: serially in this process. The caller closes it.
        finished: Replications already done (a resumed run); only the others are run.
        purchases: Workers also send each replication's purchases, to ``on_outcome``.
        series: Workers also reduce each ledger to the report's figure data (:mod:`engine.series`).
        on_outcome: Called in this process with each new replication as it finishes (in any order), for
            example to save it; the purchases are not kept after the call.
    """
    if reps < 1:
        raise ValueError("reps must be at least 1")
    done = {index: finished[index] for index in range(reps) if finished and index in finished}
    missing = [index for index in range(reps) if index not in done]
    task = ReplicationTask(scenario, seed, purchases, series)
    for index, outcome in execute(task, missing, executor or SerialExecutor(), progress, len(done)):
        if on_outcome is not None:
            on_outcome(outcome)
        done[index] = outcome.replication
    return RunResult(scenario, seed, tuple(done[index] for index in range(reps)))


def _reduce(index: int, ledger: Ledger, series: bool = False) -> Replication:
    figures = replication_series(ledger) if series else None
    return Replication(index, compute_metrics(ledger), compute_breakdown(ledger), figures)
