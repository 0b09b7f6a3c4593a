"""Optimisation: split a fixed budget across spend levers to make a metric as good as possible.

The levers (``--over``) are amounts such as ``sources.douyin.spend_per_day``; every candidate split puts
the whole budget on them (Σ = budget, each ≥ 0). A split is parametrised by stick-breaking: fraction
x₁ ∈ [0, 1] of the budget goes to the first lever, fraction x₂ of the rest to the second, and so on, the
last lever taking what is left — every split is reachable and every point of the unit cube is a split.

Optuna's TPE sampler, seeded with the root seed, proposes the fractions (the same seed gives the same
answer). Every candidate is scored on the same replications ``0 … reps−1`` (common random numbers), so the
search compares candidates without the noise of different random numbers; the first trials are the
scenario as written (rescaled to the budget) and the equal split. The best candidate is then run again,
with the scenario as written, on fresh replications ``reps … reps+confirm_reps−1`` that took no part in
choosing it: its reported CI and its paired difference to the scenario as written are free of the
optimism of picking the best of many noisy scores.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.execution import Executor, ProgressCallback
from engine.levers import Lever, LeverError, all_numeric_levers, find_lever
from engine.scenario.schema import Scenario
from engine.stats import Difference, Summary, paired_difference, summarize
from engine.sweep import Point, better, check_metric, evaluate_points, metric_values

if TYPE_CHECKING:
    import optuna

DEFAULT_TRIALS = 40
DEFAULT_SEARCH_REPS = 10
DEFAULT_CONFIRM_REPS = 20
BATCH = 4
"""Candidates proposed and run together (their replications share the workers)."""


@dataclass(frozen=True)
class Trial:
    """One candidate split and its score on the search replications."""

    number: int
    values: Point
    mean: float | None
    """Mean of the metric over the search replications (None: undefined in all of them)."""


@dataclass(frozen=True)
class OptimizeResult:
    """The best split found, and how it compares with the scenario as written on fresh replications."""

    scenario: Scenario
    metric: str
    budget: float
    levers: tuple[Lever, ...]
    as_written: Point
    best: Point
    trials: tuple[Trial, ...]
    search_reps: int
    confirm_reps: int
    seed: int
    best_summary: Summary
    """The metric of the best split on the confirmation replications."""
    as_written_summary: Summary
    """The metric of the scenario as written on the same confirmation replications."""
    versus_as_written: Difference
    """Paired difference best − as written on the confirmation replications."""

    @property
    def evaluations(self) -> int:
        """Replications simulated: trials × search reps + 2 × confirmation reps."""
        return len(self.trials) * self.search_reps + 2 * self.confirm_reps


def split(budget: float, fractions: Sequence[float]) -> Point:
    """Stick-breaking: fraction ``fractions[i]`` of what is left goes to lever i; the last takes the rest.

    Every amount is a whole multiple of the budget's last binary digit (``math.ulp(budget)``), rounded
    down, so every subtraction and every sum of the amounts is exact: they add up to the budget exactly,
    in floating point too, and the reported total is the budget, not 499.99999999999994.
    """
    unit = math.ulp(budget)
    values = []
    remaining = budget
    for fraction in fractions:
        amount = math.floor(remaining * min(max(fraction, 0.0), 1.0) / unit) * unit
        values.append(amount)
        remaining -= amount
    values.append(remaining)
    return tuple(values)


def fractions_of(values: Sequence[float]) -> tuple[float, ...]:
    """The stick-breaking fractions of a split (inverse of :func:`split`)."""
    remaining = float(sum(values))
    fractions = []
    for value in values[:-1]:
        fractions.append(value / remaining if remaining > 0 else 0.0)
        remaining -= value
    return tuple(min(max(f, 0.0), 1.0) for f in fractions)


def resolve_spend_levers(scenario: Scenario, paths: Sequence[str], budget: float) -> tuple[Lever, ...]:
    """The levers of ``--over``: at least two different sources' daily spend, each allowed 0 … budget."""
    if not math.isfinite(budget) or budget <= 0:
        raise LeverError(f"--budget {budget:g}: must be a positive amount")
    if len(paths) < 2:
        raise LeverError(
            f"--over: give at least two fields to split the budget across (got {len(paths)}), e.g. "
            "--over sources.douyin.spend_per_day --over sources.ads.spend_per_day"
        )
    levers: list[Lever] = []
    for path in paths:
        try:
            lever = find_lever(scenario, path)
        except LeverError as error:
            raise LeverError(f"--over {path}: {error}") from None
        if any(other.path == lever.path for other in levers):
            raise LeverError(f"--over {path}: named twice; name each field once")
        if not _is_spend(lever):
            spend = ", ".join(other.path for other in all_numeric_levers(scenario) if _is_spend(other))
            raise LeverError(
                f"--over {path}: not a spend field; the budget is split across the sources' daily spend "
                f"(sources.ID.spend_per_day), the amounts that buy reach; here: {spend or 'none'}"
            )
        if not (lever.admits(0.0) and lever.admits(budget)):
            raise LeverError(
                f"--over {path}: its bounds do not allow every share of the budget 0 … {budget:g} "
                f"(allowed {lever.lower:g} … {lever.upper:g}); choose spend fields"
            )
        levers.append(lever)
    return tuple(levers)


def _is_spend(lever: Lever) -> bool:
    """A source's daily media spend: the amounts a budget buys reach with (and all in one unit)."""
    location = lever.location
    return len(location) == 3 and location[0] == "sources" and location[2] == "spend_per_day"


def optimize(
    scenario: Scenario,
    levers: Sequence[Lever],
    budget: float,
    metric: str,
    trials: int = DEFAULT_TRIALS,
    search_reps: int = DEFAULT_SEARCH_REPS,
    confirm_reps: int = DEFAULT_CONFIRM_REPS,
    seed: int = 1,
    executor: Executor | None = None,
    progress: ProgressCallback | None = None,
) -> OptimizeResult:
    """Split ``budget`` across ``levers`` to make ``metric`` best (see the module's description).

    Args:
        scenario: the validated scenario.
        levers: the spend levers (:func:`resolve_spend_levers`).
        budget: the total the levers' values add up to.
        metric: the metric to maximise (or minimise, for costs: :func:`engine.sweep.better`).
        trials: candidate splits scored, the two starting ones included.
        search_reps: replications per candidate (the same for every candidate).
        confirm_reps: fresh replications of the best split and of the scenario as written.
        seed: root seed of every replication, and the sampler's seed.
        executor: where replications run (default: this process); the caller closes it.
        progress: ``progress(done, total)`` over all replications.
    """
    check_metric(metric)
    if trials < 2 or search_reps < 1 or confirm_reps < 2:
        raise LeverError("--trials must be ≥ 2, --reps ≥ 1 and --confirm-reps ≥ 2")
    levers = tuple(levers)
    as_written: Point = tuple(lever.value for lever in levers)
    total = search_reps * trials + 2 * confirm_reps
    done = 0

    def counted(finished: int, _total: int) -> None:
        if progress is not None:
            progress(done + finished, total)

    import optuna  # half a second to import: only when an optimisation runs

    names = [f"x{i}" for i in range(len(levers) - 1)]
    study = _study(better(metric), seed, trials)
    starts = [as_written if sum(as_written) > 0 else None, tuple(budget / len(levers) for _ in levers)]
    for start in starts:
        if start is not None:
            study.enqueue_trial(dict(zip(names, fractions_of(start), strict=True)))
    history: list[Trial] = []
    while len(history) < trials:
        batch = [study.ask() for _ in range(min(BATCH, trials - len(history)))]
        points = [split(budget, [trial.suggest_float(name, 0.0, 1.0) for name in names]) for trial in batch]
        rows = evaluate_points(scenario, levers, points, search_reps, seed, executor, counted)
        done += len(points) * search_reps
        for trial, values, point_rows in zip(batch, points, rows, strict=True):
            mean = summarize(metric_values(point_rows, metric)).mean
            history.append(Trial(trial.number, values, mean))
            if mean is None:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
            else:
                study.tell(trial, mean)
    scored = [trial for trial in history if trial.mean is not None]
    if not scored:
        raise LeverError(f"--metric {metric}: undefined at every split tried; choose another metric")
    sign = 1.0 if better(metric) == "higher" else -1.0
    best = max(scored, key=lambda trial: sign * (trial.mean or 0.0)).values
    confirm = evaluate_points(
        scenario, levers, [best, as_written], confirm_reps, seed, executor, counted, first=search_reps
    )
    best_values = metric_values(confirm[0], metric)
    written_values = metric_values(confirm[1], metric)
    return OptimizeResult(
        scenario=scenario,
        metric=metric,
        budget=budget,
        levers=levers,
        as_written=as_written,
        best=best,
        trials=tuple(history),
        search_reps=search_reps,
        confirm_reps=confirm_reps,
        seed=seed,
        best_summary=summarize(best_values),
        as_written_summary=summarize(written_values),
        versus_as_written=paired_difference(written_values, best_values),
    )


def _study(direction: str, seed: int, trials: int) -> optuna.Study:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(
            seed=seed % 2**32,
            multivariate=True,
            constant_liar=True,
            n_startup_trials=max(2, min(10, trials // 4)),
        )
    return optuna.create_study(direction="maximize" if direction == "higher" else "minimize", sampler=sampler)


def optimize_summary(result: OptimizeResult) -> dict[str, Any]:
    """The JSON object of ``siyu optimize --format json`` (shape documented in README)."""

    def named(values: Point) -> dict[str, float]:
        return {lever.path: value for lever, value in zip(result.levers, values, strict=True)}

    return {
        "scenario": result.scenario.meta.name,
        "metric": result.metric,
        "better": better(result.metric),
        "budget": result.budget,
        "over": [lever.path for lever in result.levers],
        "seed": result.seed,
        "trials": len(result.trials),
        "search_reps": result.search_reps,
        "confirm_reps": result.confirm_reps,
        "evaluations": result.evaluations,
        "best": {"values": named(result.best), "total": sum(result.best), **result.best_summary.as_json()},
        "as_written": {
            "values": named(result.as_written),
            "total": sum(result.as_written),
            **result.as_written_summary.as_json(),
        },
        "versus_as_written": result.versus_as_written.as_json(),
        "history": [
            {"trial": trial.number, "values": named(trial.values), "mean": trial.mean}
            for trial in result.trials
        ],
    }
