"""Executors: serial and local processes give the same results, report progress, stop at once when closed
early; choosing an executor validates its options before anything starts."""

from __future__ import annotations

import math
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.errors import ExecutionError
from engine.execution import (
    SCHEDULER_ENV,
    AdaptiveExecutor,
    ExecutorChoice,
    ProcessExecutor,
    SerialExecutor,
    default_workers,
    execute,
)
from engine.execution.choice import INSTALL_DASK


def sleep_then_return(seconds: float) -> float:
    """A task for worker processes (importable by them); a negative argument fails."""
    if seconds < 0:
        raise ValueError(f"negative: {seconds}")
    time.sleep(seconds)
    return seconds


def test_serial_executor_runs_in_order() -> None:
    with SerialExecutor() as executor:
        assert list(executor.imap_unordered(math.factorial, [3, 1, 2])) == [(3, 6), (1, 1), (2, 2)]


def test_processes_give_the_serial_results() -> None:
    items = list(range(12))
    with ProcessExecutor(2) as executor:
        parallel = dict(executor.imap_unordered(math.factorial, items))
    assert parallel == {item: math.factorial(item) for item in items}


def test_execute_reports_progress_counting_earlier_work() -> None:
    calls: list[tuple[int, int]] = []
    results = dict(execute(math.factorial, [4, 5, 6], SerialExecutor(), lambda d, t: calls.append((d, t)), 2))
    assert results == {4: 24, 5: 120, 6: 720}
    assert calls == [(3, 5), (4, 5), (5, 5)]


def test_progress_never_runs_ahead_of_the_caller() -> None:
    seen: list[str] = []
    iterator = execute(math.factorial, [1, 2], SerialExecutor(), lambda d, _t: seen.append(f"progress {d}"))
    for item, _result in iterator:
        seen.append(f"saved {item}")
    assert seen == ["saved 1", "progress 1", "saved 2", "progress 2"]


def test_a_failing_task_raises_and_closing_abandons_the_rest() -> None:
    started = time.perf_counter()
    with pytest.raises(ValueError, match="negative"), ProcessExecutor(2) as executor:
        for _ in executor.imap_unordered(sleep_then_return, [-1.0, 60.0, 60.0, 60.0]):
            pass
    assert time.perf_counter() - started < 30  # the 60 s tasks were stopped, not awaited


def test_closing_early_stops_running_tasks_at_once() -> None:
    executor = ProcessExecutor(2)
    iterator = executor.imap_unordered(sleep_then_return, [0.0, 60.0, 60.0])
    assert next(iterator) == (0.0, 0.0)
    started = time.perf_counter()
    executor.close()  # what Ctrl-C does: the block around the executor ends
    assert time.perf_counter() - started < 10


def test_the_default_executor_starts_processes_only_when_they_pay() -> None:
    with AdaptiveExecutor(2) as quick:
        assert dict(quick.imap_unordered(math.factorial, range(8))) == {
            i: math.factorial(i) for i in range(8)
        }
        assert quick.description == "up to 2 local processes"  # the rest was quicker than starting workers
    with AdaptiveExecutor(2, threshold_s=0.0) as long:
        assert dict(long.imap_unordered(math.factorial, range(8))) == {i: math.factorial(i) for i in range(8)}
        assert long.description == "2 local processes"


def worker_pid(_item: int) -> int:
    """A task for worker processes: the process that ran it."""
    time.sleep(0.05)
    return os.getpid()


def test_the_default_executor_keeps_one_pool_for_every_batch() -> None:
    """A run in batches (optimiser trials; a tornado, then Morris) starts worker processes once: the later
    batches run on the same processes, and closing the executor stops them."""
    with AdaptiveExecutor(2, threshold_s=0.0) as executor:
        first = {pid for _, pid in executor.imap_unordered(worker_pid, range(6))}
        workers = {process.pid for process in multiprocessing.active_children()}
        second = {pid for _, pid in executor.imap_unordered(worker_pid, range(6))}
        assert len(workers) == 2 and (first - {os.getpid()}) <= workers
        assert second <= workers  # no new pool: the same two processes ran the second batch
        assert {process.pid for process in multiprocessing.active_children()} == workers
    time.sleep(0.5)
    assert not workers & {process.pid for process in multiprocessing.active_children()}


def test_the_default_executor_decides_once_for_a_run_of_many_batches() -> None:
    """With the run's size known, a small first batch of a long run starts the processes."""
    with AdaptiveExecutor(2, threshold_s=1.0, expected_tasks=1000) as executor:
        list(executor.imap_unordered(worker_pid, range(3)))  # 0.05 s × 999 tasks left > 1 s
        assert executor.description == "2 local processes"
    with AdaptiveExecutor(2, threshold_s=1.0) as executor:
        list(executor.imap_unordered(worker_pid, range(3)))  # 0.05 s × 2 tasks < 1 s: stays here
        assert executor.description == "up to 2 local processes"


def test_a_short_run_stays_in_process_for_every_batch() -> None:
    """Decided once for the run: the later batch is not timed again, and runs here too."""
    with AdaptiveExecutor(2, threshold_s=3600.0, expected_tasks=6) as executor:
        results = list(executor.imap_unordered(abs, [-1, -2, -3]))
        assert executor.description == "this process"
        results += list(executor.imap_unordered(abs, [-4, -5, -6]))
    assert results == [(-1, 1), (-2, 2), (-3, 3), (-4, 4), (-5, 5), (-6, 6)]


def test_process_executor_needs_a_worker() -> None:
    with pytest.raises(ExecutionError, match="at least 1"):
        ProcessExecutor(0)


# ---------------------------------------------------------------------------------------------------------
# Choosing an executor


def test_choice_opens_no_more_processes_than_tasks() -> None:
    assert isinstance(ExecutorChoice(workers=4).open(1), SerialExecutor)
    assert isinstance(ExecutorChoice(workers=1).open(50), SerialExecutor)
    assert isinstance(
        ExecutorChoice().open(50), AdaptiveExecutor if default_workers() > 1 else SerialExecutor
    )
    with ExecutorChoice(workers=3).open(2) as executor:
        assert isinstance(executor, ProcessExecutor)
        assert executor.workers == 2
        assert executor.description == "2 local processes"
    assert default_workers() >= 1


def test_choice_reads_the_scheduler_from_the_environment() -> None:
    environ = {SCHEDULER_ENV: "tcp://10.0.0.5:8786"}
    assert ExecutorChoice.from_options(None, None, environ) == ExecutorChoice(
        None, "tcp://10.0.0.5:8786", SCHEDULER_ENV
    )
    assert ExecutorChoice.from_options(3, None, environ) == ExecutorChoice(3, None)  # explicit wins
    assert ExecutorChoice.from_options(None, "127.0.0.1:9000", environ).scheduler == "127.0.0.1:9000"
    assert ExecutorChoice.from_options(None, None, {}) == ExecutorChoice()


@pytest.mark.parametrize(
    ("workers", "scheduler", "message"),
    [
        (0, None, "--workers: must be at least 1"),
        (2, "tcp://127.0.0.1:8786", "choose one"),
        (None, "nonsense", "'nonsense' is not a Dask scheduler address"),
        (None, "http://host:8786", "unknown scheme 'http'"),
        (None, "tcp://host:99999", "the port must be 1–65535"),
        (None, "tcp://host", "expected tcp://HOST:PORT"),
    ],
)
def test_choice_refuses_bad_options(workers: int | None, scheduler: str | None, message: str) -> None:
    with pytest.raises(ExecutionError, match=message):
        ExecutorChoice.from_options(workers, scheduler, {})


def test_a_bad_scheduler_in_the_environment_names_the_variable() -> None:
    with pytest.raises(ExecutionError, match=f"^{SCHEDULER_ENV}: 'tcp:/x' is not"):
        ExecutorChoice.from_options(None, None, {SCHEDULER_ENV: "tcp:/x"})


def test_without_the_dask_extra_the_message_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # what an environment without Dask looks like
    monkeypatch.delitem(sys.modules, "engine.execution.dask_cluster", raising=False)
    with pytest.raises(ExecutionError, match=r"needs the dask extra: pip install -e \"\.\[dask\]\""):
        ExecutorChoice(scheduler="tcp://127.0.0.1:8786").open(4)
    assert "[dask]" in INSTALL_DASK


def test_an_unreachable_scheduler_fails_fast() -> None:
    pytest.importorskip("distributed")
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.perf_counter()
    with pytest.raises(ExecutionError, match=f"tcp://127.0.0.1:{port}: cannot reach the Dask scheduler"):
        ExecutorChoice(scheduler=f"tcp://127.0.0.1:{port}").open(4)
    assert time.perf_counter() - started < 5


def test_the_executor_module_imports_no_dask(tmp_path: Path) -> None:
    """Dask is optional: importing the engine must not need it."""
    code = "import engine.cli, sys; sys.exit('distributed' in sys.modules)"
    completed = subprocess.run([sys.executable, "-c", code], check=False, cwd=tmp_path)
    assert completed.returncode == 0
