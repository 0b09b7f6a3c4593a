"""Running many independent tasks (replications) serially, in local processes or on a Dask cluster.

Every command that runs replications (run, compare, sweep, sensitivity, optimize) goes through
:func:`execute` with an executor from :class:`ExecutorChoice`; one executor may serve several batches
(optimiser trials; a tornado, then Morris) on the same worker processes.
"""

from engine.execution.choice import SCHEDULER_ENV, ExecutorChoice
from engine.execution.executors import (
    AdaptiveExecutor,
    Executor,
    ProcessExecutor,
    ProgressCallback,
    SerialExecutor,
    default_workers,
    execute,
)

__all__ = [
    "SCHEDULER_ENV",
    "AdaptiveExecutor",
    "Executor",
    "ExecutorChoice",
    "ProcessExecutor",
    "ProgressCallback",
    "SerialExecutor",
    "default_workers",
    "execute",
]
