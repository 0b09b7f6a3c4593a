"""Replications of a scenario from one root seed, reduced to metrics and summarised with CIs.

A replication's randomness depends only on (root seed, replication index), so results do not depend on how
replications are scheduled. Ledgers are reduced to metrics as soon as they are made; a caller that wants
the raw facts (the transaction log) gets each ledger through ``on_ledger``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engine.ledger import Ledger
from engine.metrics import METRIC_NAMES, Value, compute_breakdown, compute_metrics
from engine.model.compiled import compile_scenario
from engine.model.simulation import simulate
from engine.scenario.schema import Scenario
from engine.stats import Summary, summarize

MetricRow = dict[str, Value]
Breakdown = dict[str, dict[str, MetricRow]]


@dataclass(frozen=True)
class Replication:
    """Metrics of one replication."""

    index: int
    metrics: MetricRow
    breakdown: Breakdown


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


def run_replication(
    scenario: Scenario, seed: int, index: int, on_ledger: Callable[[int, Ledger], None] | None = None
) -> Replication:
    """Simulate replication ``index`` and reduce its ledger to metrics."""
    ledger = simulate(compile_scenario(scenario), seed, index)
    if on_ledger is not None:
        on_ledger(index, ledger)
    return Replication(index, compute_metrics(ledger), compute_breakdown(ledger))


def run(
    scenario: Scenario,
    reps: int,
    seed: int,
    on_ledger: Callable[[int, Ledger], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Run ``reps`` replications serially; ``progress(done, total)`` is called after each."""
    if reps < 1:
        raise ValueError("reps must be at least 1")
    replications = []
    for index in range(reps):
        replications.append(run_replication(scenario, seed, index, on_ledger))
        if progress is not None:
            progress(index + 1, reps)
    return RunResult(scenario, seed, tuple(replications))
