"""Tasks on a Dask distributed cluster: the optional ``dask`` extra (``pip install -e ".[dask]"``).

Only :mod:`engine.execution.choice` imports this module, and only when a scheduler is asked for, so Siyu
works without Dask. Every worker needs the same version of Siyu installed (it unpickles the task and runs
the model); that is checked on connecting. A worker that dies mid-task has its tasks retried on another
worker by the scheduler, up to its ``distributed.scheduler.allowed-failures`` (default 3); results do not
change, because a task's result depends on its item alone.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from distributed import Client, Future, KilledWorker, as_completed

from engine.errors import ExecutionError
from engine.execution.executors import Executor, Item, Result
from engine.run_folder import siyu_version

CONNECT_TIMEOUT_S = 10.0
"""How long to wait for the scheduler to answer."""


class DaskExecutor(Executor):
    """Submits every task to the scheduler at ``address`` and collects results as they finish."""

    def __init__(self, address: str, host: str, port: int, origin: str = "--scheduler") -> None:
        _check_reachable(address, host, port, origin)
        try:
            self._client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as error:
            raise ExecutionError(
                f"{origin} {address}: cannot connect to a Dask scheduler ({error})"
            ) from None
        try:
            workers = _check_workers(self._client)
        except BaseException:
            self._client.close()
            raise
        self.description = f"Dask cluster at {address} ({workers} workers)"
        self._unfinished: dict[str, Future[Any]] = {}

    def imap_unordered(
        self, task: Callable[[Item], Result], items: Sequence[Item]
    ) -> Iterator[tuple[Item, Result]]:
        run = uuid.uuid4().hex[:12]  # task keys unique to this call: a cluster never serves a stale result
        item_of: dict[str, Item] = {}
        for position, item in enumerate(items):
            key = f"siyu-{run}-{position}"
            item_of[key] = item
            # Earlier items first, so that an interrupted run has finished a prefix, as far as possible.
            self._unfinished[key] = self._client.submit(task, item, key=key, pure=False, priority=-position)
        for future in as_completed(list(self._unfinished.values()), loop=self._client.loop):
            item = item_of[future.key]
            try:
                result = future.result()
            except KilledWorker as error:
                raise ExecutionError(
                    f"task {item!r} was running on each of several Dask workers when they died; the "
                    "scheduler gave up on it (distributed.scheduler.allowed-failures)"
                ) from error
            del self._unfinished[future.key]
            future.release()
            yield item, result

    def close(self) -> None:
        if self._unfinished:
            self._client.cancel(list(self._unfinished.values()), force=True)
            self._unfinished.clear()
        self._client.close()


def _check_reachable(address: str, host: str, port: int, origin: str) -> None:
    """Fail fast, with the reason, when nothing listens at the address (Dask would retry until timeout)."""
    try:
        with socket.create_connection((host.strip("[]"), port), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        raise ExecutionError(f"{origin} {address}: cannot reach the Dask scheduler ({reason})") from None


def _check_workers(client: Client) -> int:
    """Every worker must run this version of Siyu; returns how many workers there are now."""
    here = siyu_version()
    try:
        versions: dict[str, str] = client.run(siyu_version)  # looked up afresh in each worker
    except Exception as error:
        raise ExecutionError(
            f"the Dask workers cannot run Siyu ({type(error).__name__}: {error}); install siyu "
            f"{here} in every worker's environment"
        ) from None
    wrong = sorted(f"{worker} has {theirs}" for worker, theirs in versions.items() if theirs != here)
    if wrong:
        raise ExecutionError(
            f"Dask workers run another version of Siyu than this one ({here}): {'; '.join(wrong)}"
        )
    return len(versions)
