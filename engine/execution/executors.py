"""Where tasks run: in this process, in local worker processes, or on a Dask cluster.

An executor maps a picklable one-argument task over items (replication indices, or ``(point,
replication)`` pairs for a sweep) and yields ``(item, result)`` pairs as tasks finish, in any order. It
decides only where and when a task runs; a task's result depends on its item alone, so results never
depend on the executor or the number of workers. Closing an executor that still has unfinished tasks
(after Ctrl-C or a failed task) cancels them and stops its workers at once.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Self, TypeVar

from engine.errors import ExecutionError

Item = TypeVar("Item", bound=Hashable)
Result = TypeVar("Result")

POOL_THRESHOLD_S = 3.0
"""Serial time left below which the default executor does not start worker processes."""
PARENT_CHECK_S = 0.5
"""How often a worker process checks that the process that started it is still alive."""


class Executor(ABC):
    """Runs tasks; use as a context manager so that workers are released however the block ends."""

    description: str
    """Where the tasks run, for people ("2 local processes")."""

    @abstractmethod
    def imap_unordered(
        self, task: Callable[[Item], Result], items: Sequence[Item]
    ) -> Iterator[tuple[Item, Result]]:
        """Run ``task(item)`` for every item; yield ``(item, result)`` as each finishes.

        A task that raises stops the iteration with its exception; the other tasks are abandoned when the
        executor is closed.
        """

    @abstractmethod
    def close(self) -> None:
        """Release the workers; abandon tasks that have not finished."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


class SerialExecutor(Executor):
    """Runs tasks one after another in this process, in the order given."""

    description = "this process"

    def imap_unordered(
        self, task: Callable[[Item], Result], items: Sequence[Item]
    ) -> Iterator[tuple[Item, Result]]:
        for item in items:
            yield item, task(item)

    def close(self) -> None:
        """Nothing to release."""


class ProcessExecutor(Executor):
    """Runs tasks in ``workers`` local processes (``concurrent.futures``, started with spawn: fresh
    interpreters, never a fork of a process that may hold threads).

    Workers ignore SIGINT: Ctrl-C at a terminal reaches the whole process group, and only this process
    decides what an interruption means (it closes the executor, which stops the workers). A worker whose
    parent dies (killed, crashed) exits by itself within a second instead of waiting for work forever.
    """

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ExecutionError(f"workers must be at least 1 (got {workers})")
        self.workers = workers
        self.description = f"{workers} local processes"
        self._pool = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_started,
            initargs=(os.getpid(),),
        )
        self._unfinished: set[Future[Any]] = set()

    def imap_unordered(
        self, task: Callable[[Item], Result], items: Sequence[Item]
    ) -> Iterator[tuple[Item, Result]]:
        futures: dict[Future[Result], Item] = {}
        with _interrupts_ignored():  # workers start during the first submit()s: they inherit SIGINT ignored
            futures.update((self._pool.submit(task, item), item) for item in items[: self.workers])
        futures.update((self._pool.submit(task, item), item) for item in items[self.workers :])
        self._unfinished.update(futures)
        for future in as_completed(futures):
            item = futures.pop(future)
            try:
                result = future.result()
            except BrokenProcessPool as error:
                raise ExecutionError(
                    f"a worker process died while running task {item!r} (out of memory?); "
                    "the other tasks were stopped"
                ) from error
            self._unfinished.discard(future)
            yield item, result

    def close(self) -> None:
        abandoned = [future for future in self._unfinished if not future.done()]
        self._unfinished.clear()
        if abandoned:  # the pool then marks their futures broken; nothing waits for them
            _terminate_workers(self._pool)
        self._pool.shutdown(wait=True)


class AdaptiveExecutor(Executor):
    """Up to ``workers`` local processes, started only when they pay: the first task runs in this process
    and is timed; if the rest would take less than ``threshold_s`` serially, they run here too (starting
    worker processes costs about a second), else in a :class:`ProcessExecutor`.

    Once started, the worker processes serve every later call until the executor is closed (one pool per
    executor, however many batches). ``expected_tasks``, when given, counts the tasks of the whole run,
    which may come in several calls (optimiser trials; a tornado, then Morris): the choice is then made
    once, on the run's first task, for every call. Without it, each call decides on its own items until
    one of them starts the processes.
    """

    def __init__(
        self, workers: int, threshold_s: float = POOL_THRESHOLD_S, expected_tasks: int | None = None
    ) -> None:
        self.workers = workers
        self.threshold_s = threshold_s
        self.expected_tasks = expected_tasks
        self.description = f"up to {workers} local processes"
        self._pool: ProcessExecutor | None = None
        self._serial = False
        """Decided for the whole run (``expected_tasks`` given): every task runs in this process."""

    def imap_unordered(
        self, task: Callable[[Item], Result], items: Sequence[Item]
    ) -> Iterator[tuple[Item, Result]]:
        if self._pool is not None:
            yield from self._pool.imap_unordered(task, items)
            return
        if self._serial or not items:
            yield from SerialExecutor().imap_unordered(task, items)
            return
        started = time.perf_counter()
        yield items[0], task(items[0])
        rest = items[1:]
        left = len(rest) if self.expected_tasks is None else max(self.expected_tasks - 1, len(rest))
        if (time.perf_counter() - started) * left < self.threshold_s or left < 2:
            if self.expected_tasks is not None:
                self._serial = True
                self.description = SerialExecutor.description
            yield from SerialExecutor().imap_unordered(task, rest)
            return
        self._pool = ProcessExecutor(min(self.workers, left))
        self.description = self._pool.description
        yield from self._pool.imap_unordered(task, rest)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()


def default_workers() -> int:
    """Cores this process may use."""
    try:
        return len(_affinity())
    except (AttributeError, OSError):  # no sched_getaffinity on this platform
        return multiprocessing.cpu_count()


def _affinity() -> set[int]:
    from os import sched_getaffinity

    return sched_getaffinity(0)


@contextmanager
def _interrupts_ignored() -> Iterator[None]:
    """Ignore SIGINT in this block (when this is the main thread, the only one that may set handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _worker_started(parent: int) -> None:
    """In each worker: ignore SIGINT, and exit when the parent is gone (the worker is then re-parented)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_S)
        os._exit(1)

    threading.Thread(target=watch, name="siyu-parent-watch", daemon=True).start()


def _terminate_workers(pool: ProcessPoolExecutor) -> None:
    """Stop the workers now, abandoning their tasks: ``terminate_workers()`` from Python 3.14 on. Before,
    the pool's processes are terminated directly, without cancelling futures first (Python < 3.12 fails
    in its manager thread when a cancelled future is then marked broken)."""
    if sys.version_info >= (3, 14):
        pool.terminate_workers()  # type: ignore[attr-defined]
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        if process.is_alive():
            process.terminate()


ProgressCallback = Callable[[int, int], None]
"""``progress(done, total)``: called after each finished task (the CLI draws a bar with it)."""


def execute(
    task: Callable[[Item], Result],
    items: Sequence[Item],
    executor: Executor,
    progress: ProgressCallback | None = None,
    done: int = 0,
) -> Iterator[tuple[Item, Result]]:
    """Run ``task`` over ``items`` through ``executor``; yield ``(item, result)`` as each finishes.

    ``done`` counts tasks finished before (a resumed run), so progress reads ``done + finished now`` of
    ``done + len(items)``. Progress is reported once the caller has taken the result (for example, saved
    it), so a reported count never runs ahead of what is kept.
    """
    total = done + len(items)
    for item, result in executor.imap_unordered(task, items):
        yield item, result
        done += 1
        if progress is not None:
            progress(done, total)
