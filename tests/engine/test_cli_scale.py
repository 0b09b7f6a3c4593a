"""``siyu run`` at scale: worker counts give byte-identical output, a progress bar on a terminal,
interruption messages and exit codes, and clean refusals (exit 2) of bad executor and resume options."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from engine import cli
from engine.cli import app
from tests.engine.conftest import ROOT, SCALE_REPS, SCALE_SEED, ReferenceRun

RETAINED = ROOT / "scenarios" / "examples" / "seed004_retained.yaml"
SIYU = Path(sys.executable).with_name("siyu")


def invoke(*args: str | Path | int, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(app, ["run", *map(str, args)], env=env)


def assert_clean_failure(result: Any, *messages: str) -> None:
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exc_info
    assert "Traceback" not in result.output
    for message in messages:
        assert message in result.output, result.output


def test_two_workers_give_the_same_bytes_as_one(reference_run: ReferenceRun, tmp_path: Path) -> None:
    out = tmp_path / "two"
    result = invoke(
        reference_run.scenario,
        *("--reps", SCALE_REPS, "--seed", SCALE_SEED, "--workers", "2", "--format", "json", "--out", out),
    )
    reference_run.assert_reproduced(result, out)


def test_transaction_logs_are_identical_and_in_replication_order(
    scale_scenario: Path, tmp_path: Path
) -> None:
    logs = {}
    for workers in ("1", "2"):
        out = tmp_path / workers
        result = invoke(
            scale_scenario, "--reps", "3", "--workers", workers, "--out", out, "--transactions", "--quiet"
        )
        assert result.exit_code == 0, result.output
        logs[workers] = (out / "transactions.parquet").read_bytes()
        assert not (out / "replications").exists()  # per-replication parts are joined, then removed
    assert logs["1"] == logs["2"]
    replication = pq.read_table(tmp_path / "2" / "transactions.parquet", columns=["replication"]).column(0)
    values = replication.to_numpy()
    assert values[0] == 0 and values[-1] == 2 and (values[1:] >= values[:-1]).all()


def _run_on_terminal(stdout_on_terminal: bool) -> str:
    """Run ``siyu run`` with stderr (and stdout, if asked) on a pseudo-terminal; return what it showed."""
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [str(SIYU), "run", str(RETAINED), "--reps", "3", "--workers", "1"],
        stdin=subprocess.DEVNULL,
        stdout=secondary if stdout_on_terminal else subprocess.DEVNULL,
        stderr=secondary,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "160", "TERM": "xterm"},
    )
    os.close(secondary)
    output = b""
    while True:
        ready, _, _ = select.select([primary], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the terminal closed: the process ended
            break
        if not chunk:
            break
        output += chunk
    os.close(primary)
    assert process.wait(timeout=60) == 0
    return output.decode("utf-8", "replace")


def test_the_progress_bar_shows_on_a_terminal() -> None:
    if not SIYU.exists():
        pytest.skip("the siyu script is not installed in this environment")
    text = _run_on_terminal(stdout_on_terminal=True)
    assert "replications (this process)" in text
    assert "3/3" in text
    assert "/s" in text or "/min" in text  # the rate


def test_no_progress_bar_when_stdout_is_redirected() -> None:
    if not SIYU.exists():
        pytest.skip("the siyu script is not installed in this environment")
    assert "replications (this process)" not in _run_on_terminal(stdout_on_terminal=False)


def test_no_progress_bar_with_quiet_or_off_a_terminal() -> None:
    result = invoke(RETAINED, "--reps", "2")  # the CliRunner's stderr is not a terminal
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


# ---------------------------------------------------------------------------------------------------------
# Interruption, in process (the real signals are in test_resume.py)


def interrupt_after_one(signum: int) -> Any:
    def fake_run(scenario: Any, reps: int, seed: int, progress: Any, **options: Any) -> Any:
        outcome_saver = options["on_outcome"]
        if outcome_saver is not None:
            from engine.runner import ReplicationTask

            outcome_saver(ReplicationTask(scenario, seed, options["purchases"], options["series"])(0))
        progress(1, reps)
        os.kill(os.getpid(), signum)
        raise AssertionError("the signal should have stopped the run")

    return fake_run


def test_ctrl_c_without_out_says_nothing_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "run_replications", interrupt_after_one(signal.SIGINT))
    result = invoke(RETAINED, "--reps", "3", "--workers", "1")
    assert result.exit_code == 130, result.output
    assert "interrupted: 1 of 3 replications had finished; nothing is kept without --out DIR" in result.stderr
    assert result.stdout == ""


def test_sigterm_keeps_what_finished_and_exits_143(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(cli, "run_replications", interrupt_after_one(signal.SIGTERM))
    out = tmp_path / "out"
    result = invoke(RETAINED, "--reps", "3", "--workers", "1", "--out", out)
    assert result.exit_code == 143, result.output
    assert f"1 of 3 replications finished and are kept in {out / 'replications'}" in result.stderr
    assert f"resume with: siyu run --resume {out}" in result.stderr
    assert (out / "replications" / "rep-00000.json").is_file()
    assert not (out / "summary.json").exists()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handler is put back


# ---------------------------------------------------------------------------------------------------------
# Bad input: a message and exit code 2, never a traceback


@pytest.mark.parametrize(
    ("args", "messages"),
    [
        (["--workers", "0"], ["Invalid value for '--workers'"]),
        (
            ["--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"],
            ["--workers and --scheduler: choose one"],
        ),
        (["--scheduler", "nonsense"], ["--scheduler: 'nonsense' is not a Dask scheduler address"]),
        (["--scheduler", "udp://1.2.3.4:5"], ["unknown scheme 'udp'"]),
    ],
)
def test_bad_executor_options(args: list[str], messages: list[str]) -> None:
    assert_clean_failure(invoke(RETAINED, *args), *messages)


def test_a_bad_scheduler_in_the_environment() -> None:
    result = invoke(RETAINED, "--reps", "2", env={"SIYU_SCHEDULER": "not an address"})
    assert_clean_failure(result, "SIYU_SCHEDULER: 'not an address' is not a Dask scheduler address")
    assert invoke(RETAINED, "--reps", "2", "--workers", "1", env={"SIYU_SCHEDULER": "x"}).exit_code == 0


def test_an_unreachable_scheduler(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    result = invoke(RETAINED, "--scheduler", "tcp://127.0.0.1:1", "--out", tmp_path / "out")
    assert_clean_failure(result, "--scheduler tcp://127.0.0.1:1: cannot reach the Dask scheduler")


def test_resume_of_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine\n")
    assert_clean_failure(
        invoke("--resume", tmp_path), f"--resume {tmp_path}: not a siyu run folder (no run.json)"
    )
    assert_clean_failure(invoke("--resume", tmp_path / "missing"), "no such folder")
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_resume_of_a_damaged_manifest(tmp_path: Path) -> None:
    (tmp_path / "run.json").write_text('{"seed": 1}')
    assert_clean_failure(invoke("--resume", tmp_path), "run.json: cannot be read as a run manifest")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give a scenario FILE, or --resume DIR"),
        ([RETAINED, "--resume", "somewhere"], "FILE: not with --resume"),
    ],
)
def test_file_or_resume(args: list[str | Path], message: str, tmp_path: Path) -> None:
    assert_clean_failure(invoke(*args), message)
