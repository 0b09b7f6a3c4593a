"""Running on a real Dask cluster (a LocalCluster of two worker processes on 127.0.0.1): the same bytes as
one local process, and a worker killed mid-run changes nothing (the scheduler retries its tasks)."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.execution import SCHEDULER_ENV, ExecutorChoice
from engine.output import dumps_json, replications_csv, run_summary
from engine.runner import run
from engine.scenario import load_scenario
from tests.engine.conftest import ROOT, SCALE_REPS, SCALE_SEED, ReferenceRun

distributed = pytest.importorskip("distributed")

RETAINED = ROOT / "scenarios" / "examples" / "seed004_retained.yaml"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """The address of a fresh LocalCluster: two worker processes with one thread each."""
    import dask

    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 3}),
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
    ):
        yield cluster.scheduler_address


def invoke(*args: Any, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(app, ["run", *map(str, args)], env=env)


def test_a_dask_cluster_gives_the_same_bytes_as_one_process(
    scheduler: str, reference_run: ReferenceRun, tmp_path: Any
) -> None:
    out = tmp_path / "dask"
    result = invoke(
        reference_run.scenario,
        *("--reps", SCALE_REPS, "--seed", SCALE_SEED, "--scheduler", scheduler, "--format", "json"),
        *("--out", out),
    )
    reference_run.assert_reproduced(result, out)


def test_the_scheduler_can_come_from_the_environment(scheduler: str) -> None:
    local = invoke(RETAINED, "--reps", 3, "--workers", 1, "--format", "json")
    on_dask = invoke(RETAINED, "--reps", 3, "--format", "json", env={SCHEDULER_ENV: scheduler})
    assert on_dask.exit_code == 0, on_dask.output
    assert on_dask.stdout == local.stdout


def test_a_worker_killed_mid_run_changes_nothing(scheduler: str, reference_run: ReferenceRun) -> None:
    scenario = load_scenario(reference_run.scenario).scenario
    with distributed.Client(scheduler, set_as_default=False) as watcher:
        pids: dict[str, int] = watcher.run(os.getpid)
        killed: list[int] = []

        def kill_a_busy_worker(done: int, total: int) -> None:
            """After the first result, SIGKILL a worker that is running replications."""
            if killed:
                return
            busy = [address for address, keys in watcher.processing().items() if keys and address in pids]
            assert busy, "no worker had replications to lose"
            os.kill(pids[busy[0]], signal.SIGKILL)
            killed.append(pids[busy[0]])

        with ExecutorChoice(scheduler=scheduler).open(SCALE_REPS) as executor:
            assert "2 workers" in executor.description
            result = run(scenario, SCALE_REPS, SCALE_SEED, kill_a_busy_worker, executor=executor)

    assert killed
    with pytest.raises(ProcessLookupError):
        os.kill(killed[0], 0)
    assert replications_csv(result).encode() == reference_run.files["replications.csv"]
    summary = dumps_json(run_summary(scenario.meta.name, result)) + "\n"
    assert summary.encode() == reference_run.files["summary.json"]
