"""Running many independent tasks (replications) serially, in local processes or on a Dask cluster.

Every command that runs replications (``run`` today; compare, sweep, sensitivity and optimize later) goes
through :func:`execute` with an executor from :class:`ExecutorChoice`.
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
