"""Running a scenario for the page: baseline and variant on the same seed, off the event loop, cached.

A scenario's variants run with the baseline's reps and root seed, so replication ``i`` of the variant and of
the baseline share their random numbers (common random numbers): the paired difference is the lever's
effect, not noise. The reps are chosen once per scenario, when its baseline runs: the configured number, or
fewer (never below :data:`MIN_REPS`) when the baseline's first replication says a rerun would take longer
than the time budget — a trainer waits seconds, not minutes. Runs are made one at a time (the machine's
cores are shared by all of them) on a worker pool kept for the life of the server, and remembered by the
scenario's content: the baseline is run once per scenario, and moving a slider back to a value already tried
shows its result at once.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from engine.execution import Executor, ProcessExecutor, SerialExecutor
from engine.runner import RunResult, run
from engine.scenario import Scenario

CACHE_SIZE = 64
"""Runs kept in memory (a run of five replications with figure data is well under a megabyte)."""
MIN_REPS = 3
"""Fewest replications of a rerun: with fewer, a 95% CI is too wide to say anything."""
DEFAULT_BUDGET_S = 6.0
"""Seconds a rerun should take at most, when MIN_REPS allow it."""


@dataclass(frozen=True)
class Timed:
    """A run's result and how long it took (0 when it came from the cache)."""

    result: RunResult
    seconds: float
    cached: bool


class Simulator:
    """Runs scenarios with up to ``reps`` replications from ``seed`` on ``workers`` processes (1: in this
    process), fewer for a scenario whose rerun would take more than ``budget_s`` seconds.

    Thread-safe: the web server calls :meth:`baseline` and :meth:`variant` from worker threads; runs are made
    one at a time.
    """

    def __init__(self, reps: int, seed: int, workers: int, budget_s: float = DEFAULT_BUDGET_S) -> None:
        if reps < 2:
            raise ValueError("the playground needs at least 2 replications for confidence intervals")
        self.reps = reps
        self.seed = seed
        self.workers = max(1, min(workers, reps))
        self.budget_s = budget_s
        self._executor: Executor | None = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, int], RunResult] = OrderedDict()
        self._reps: dict[str, int] = {}

    @property
    def description(self) -> str:
        """Where runs happen, for people."""
        return "this process" if self.workers == 1 else f"{self.workers} local processes"

    def baseline(self, scenario: Scenario) -> Timed:
        """The scenario as written; its run fixes the reps of its variants (:meth:`variant`)."""
        key = _content_key(scenario)
        with self._lock:
            reps = self._reps.get(key)
            if reps is not None:
                return self._run(scenario, key, reps)
            started = time.perf_counter()
            first = run(scenario, 1, self.seed, series=True)  # in this thread: timed without pool start-up
            seconds = time.perf_counter() - started
            reps = self.affordable_reps(seconds)
            self._reps[key] = reps
            finished = {0: first.replications[0]}
            result = run(scenario, reps, self.seed, executor=self._open(), finished=finished, series=True)
            self._remember((key, reps), result)
            return Timed(result, time.perf_counter() - started, False)

    def variant(self, baseline: RunResult, scenario: Scenario) -> Timed:
        """``scenario`` (a changed baseline) with the baseline's reps and seed: its paired twin."""
        with self._lock:
            return self._run(scenario, _content_key(scenario), baseline.reps)

    def affordable_reps(self, first_seconds: float) -> int:
        """Replications a rerun can have within the budget, given how long one took: whole rounds of one
        replication per worker that fit in the budget."""
        if first_seconds <= 0:
            return self.reps
        affordable = int(self.budget_s / first_seconds) * self.workers
        return max(MIN_REPS, min(self.reps, affordable)) if self.reps >= MIN_REPS else self.reps

    def _run(self, scenario: Scenario, key: str, reps: int) -> Timed:
        cached = self._cache.get((key, reps))
        if cached is not None:
            self._cache.move_to_end((key, reps))
            return Timed(cached, 0.0, True)
        started = time.perf_counter()
        result = run(scenario, reps, self.seed, executor=self._open(), series=True)
        self._remember((key, reps), result)
        return Timed(result, time.perf_counter() - started, False)

    def _remember(self, key: tuple[str, int], result: RunResult) -> None:
        self._cache[key] = result
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)

    def _open(self) -> Executor:
        if self._executor is None:
            self._executor = SerialExecutor() if self.workers == 1 else ProcessExecutor(self.workers)
        return self._executor

    def close(self) -> None:
        """Stop the worker processes (if any were started)."""
        with self._lock:
            if self._executor is not None:
                self._executor.close()
                self._executor = None


def _content_key(scenario: Scenario) -> str:
    """A scenario's identity for the cache: a hash of its full content."""
    return hashlib.sha256(scenario.model_dump_json().encode()).hexdigest()
