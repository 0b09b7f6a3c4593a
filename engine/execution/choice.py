"""Which executor a command uses: ``--workers N``, ``--scheduler ADDRESS`` or ``SIYU_SCHEDULER``.

Checked cheaply up front (:meth:`ExecutorChoice.from_options`), opened when there is work
(:meth:`ExecutorChoice.open`): no process is started or cluster contacted for a bad option.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from engine.errors import ExecutionError
from engine.execution.executors import (
    AdaptiveExecutor,
    Executor,
    ProcessExecutor,
    SerialExecutor,
    default_workers,
)

SCHEDULER_ENV = "SIYU_SCHEDULER"
"""Environment variable naming a Dask scheduler, used when neither --workers nor --scheduler is given."""

SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")
_ADDRESS = re.compile(
    r"(?:(?P<scheme>[A-Za-z]+)://)?(?P<host>\[[0-9A-Fa-f:.]+\]|[^\s:/\[\]]+):(?P<port>\d{1,5})"
)
INSTALL_DASK = 'pip install -e ".[dask]"'


@dataclass(frozen=True)
class ExecutorChoice:
    """Local processes (``workers``; None: every core) or a Dask scheduler (``scheduler``)."""

    workers: int | None = None
    scheduler: str | None = None
    origin: str = "--scheduler"
    """Where the scheduler address came from, for messages."""

    @classmethod
    def from_options(
        cls, workers: int | None, scheduler: str | None, environ: Mapping[str, str] | None = None
    ) -> ExecutorChoice:
        """Explicit options win over ``SIYU_SCHEDULER``; --workers and --scheduler together are refused."""
        if workers is not None and workers < 1:
            raise ExecutionError(f"--workers: must be at least 1 (got {workers})")
        if workers is not None and scheduler is not None:
            raise ExecutionError("--workers and --scheduler: choose one (local processes or a Dask cluster)")
        origin = "--scheduler"
        if workers is None and scheduler is None:
            scheduler = (os.environ if environ is None else environ).get(SCHEDULER_ENV) or None
            origin = SCHEDULER_ENV if scheduler is not None else origin
        if scheduler is not None:
            _parse_address(scheduler, origin)
        return cls(workers, scheduler, origin)

    def open(self, tasks: int) -> Executor:
        """An executor for ``tasks`` tasks: never more local processes than tasks; one runs in-process;
        by default processes start only when the tasks are long enough to pay for them.

        ``tasks`` counts every task the executor will run, also when they come in several batches
        (optimiser trials; a tornado, then Morris): by default the choice of processes is made once for
        all of them, and processes once started serve every batch."""
        if self.scheduler is not None:
            return _dask_executor(self.scheduler, self.origin)
        workers = min(self.workers or default_workers(), max(tasks, 1))
        if workers == 1:
            return SerialExecutor()
        if self.workers is not None:
            return ProcessExecutor(workers)
        return AdaptiveExecutor(workers, expected_tasks=tasks)


def _parse_address(address: str, origin: str) -> tuple[str, int]:
    match = _ADDRESS.fullmatch(address.strip())
    problem = None
    if match is None:
        problem = "expected tcp://HOST:PORT"
    elif (match["scheme"] or "tcp").lower() not in SCHEMES:
        problem = f"unknown scheme {match['scheme']!r}; allowed: {', '.join(SCHEMES)}"
    elif not 0 < int(match["port"]) < 65536:
        problem = "the port must be 1–65535"
    if problem is not None or match is None:
        raise ExecutionError(f"{origin}: {address!r} is not a Dask scheduler address ({problem})")
    return match["host"], int(match["port"])


def _dask_executor(address: str, origin: str) -> Executor:
    host, port = _parse_address(address, origin)
    try:
        from engine.execution.dask_cluster import DaskExecutor
    except ImportError as error:
        if (error.name or "").split(".")[0] not in ("dask", "distributed"):
            raise
        raise ExecutionError(
            f"{origin} {address}: running on a Dask cluster needs the dask extra: {INSTALL_DASK}"
        ) from None
    return DaskExecutor(address.strip(), host, port, origin)
