"""Interruption loses nothing: a real ``siyu run`` stopped by SIGINT or killed by SIGKILL keeps its finished
replications, ``--resume`` runs only the missing ones, and the result equals an uninterrupted run's bytes."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.run_folder import RunFolder
from engine.runner import ReplicationTask
from engine.scenario import load_scenario
from tests.engine.conftest import ROOT, SCALE_REPS, SCALE_SEED, ReferenceRun, read_results

SIYU = Path(sys.executable).with_name("siyu")
RETAINED = ROOT / "scenarios" / "examples" / "seed004_retained.yaml"
needs_script = pytest.mark.skipif(not SIYU.exists(), reason="the siyu script is not installed")


def invoke(*args: str | Path | int) -> Any:
    return CliRunner().invoke(app, ["run", *map(str, args)])


def start_run(scenario: Path, out: Path) -> subprocess.Popen[str]:
    """``siyu run`` on two workers in its own process group (as a shell runs a job)."""
    return subprocess.Popen(
        [
            *(str(SIYU), "run", str(scenario), "--reps", str(SCALE_REPS), "--seed", str(SCALE_SEED)),
            *("--workers", "2", "--out", str(out), "--format", "json"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        cwd=ROOT,
    )


def kept(out: Path) -> set[int]:
    folder = out / "replications"
    names = [p.name for p in folder.iterdir()] if folder.is_dir() else []
    return {int(m[1]) for name in names if (m := re.fullmatch(r"rep-(\d+)\.json", name))}


def wait_for_kept(out: Path, count: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while len(kept(out)) < count:
        assert process.poll() is None, "the run ended before it could be interrupted"
        assert time.monotonic() < deadline, "no replication finished in time"
        time.sleep(0.02)


def wait_for_group_to_end(group: int) -> None:
    """Every process of the run (its workers) leaves by itself; whatever lingers is killed."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.killpg(group, signal.SIGKILL)
    pytest.fail("processes of the interrupted run were still alive 15 s later")


def resume_recording(out: Path, monkeypatch: pytest.MonkeyPatch, *options: str) -> tuple[Any, list[int]]:
    """``siyu run --resume OUT --workers 1`` in this process, recording which replications it runs."""
    ran: list[int] = []
    original = ReplicationTask.__call__

    def recording(task: ReplicationTask, index: int) -> Any:
        ran.append(index)
        return original(task, index)

    monkeypatch.setattr(ReplicationTask, "__call__", recording)
    return invoke("--resume", out, "--workers", "1", "--format", "json", *options), ran


@needs_script
@pytest.mark.slow
def test_ctrl_c_keeps_finished_replications_and_resume_equals_an_uninterrupted_run(
    reference_run: ReferenceRun, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    process = start_run(reference_run.scenario, out)
    wait_for_kept(out, 2, process)
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C at a terminal reaches the whole process group
    stdout, stderr = process.communicate(timeout=60)

    assert process.returncode == 130, stderr
    assert stdout == ""
    assert "Traceback" not in stderr
    finished = kept(out)
    assert 2 <= len(finished) < SCALE_REPS
    assert f"interrupted: {len(finished)} of {SCALE_REPS} replications finished and are kept" in stderr
    assert f"resume with: siyu run --resume {out}" in stderr
    assert not (out / "summary.json").exists()
    wait_for_group_to_end(process.pid)

    resumed = invoke("--resume", out, "--workers", "2", "--format", "json")
    assert resumed.exit_code == 0, resumed.output
    assert resumed.stdout == reference_run.stdout
    assert read_results(out) == reference_run.files
    assert not (out / "replications").exists()


@needs_script
@pytest.mark.slow
def test_after_sigkill_resume_runs_only_the_missing_replications(
    reference_run: ReferenceRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"
    process = start_run(reference_run.scenario, out)
    wait_for_kept(out, 3, process)
    os.kill(process.pid, signal.SIGKILL)  # no chance to clean up: a crash, the OOM killer
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    wait_for_group_to_end(process.pid)
    finished = kept(out)
    assert 3 <= len(finished) < SCALE_REPS

    fresh = invoke(reference_run.scenario, "--out", out)
    assert fresh.exit_code == 2
    assert f"holds an interrupted run; finish it with `siyu run --resume {out}`" in fresh.stderr
    assert kept(out) == finished

    resumed, ran = resume_recording(out, monkeypatch)
    assert resumed.exit_code == 0, resumed.output
    assert sorted(ran) == sorted(set(range(SCALE_REPS)) - finished)
    assert resumed.stdout == reference_run.stdout
    assert read_results(out) == reference_run.files
    assert sorted(p.name for p in out.iterdir()) == [
        "replications.csv",
        "resolved.yaml",
        "run.json",
        "summary.json",
    ]


# ---------------------------------------------------------------------------------------------------------
# Resuming a folder made in process (fast)


def interrupted_folder(
    scenario: Path, out: Path, reps: int, done: list[int], transactions: bool = False
) -> Path:
    """What an interrupted ``siyu run SCENARIO --reps REPS --out OUT`` leaves: replications ``done`` kept."""
    loaded = load_scenario(scenario)
    folder = RunFolder.create(out, loaded, reps, 1, transactions, force=False)
    task = ReplicationTask(loaded.scenario, 1, transactions)
    for index in done:
        folder.save(task(index))
    return out


def test_resume_with_transactions_equals_an_uninterrupted_run(
    scale_scenario: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = invoke(scale_scenario, "--reps", 3, "--out", tmp_path / "whole", "--transactions", "--workers", 1)
    assert whole.exit_code == 0, whole.output
    out = interrupted_folder(scale_scenario, tmp_path / "part", 3, [1], transactions=True)
    resumed, ran = resume_recording(out, monkeypatch)
    assert resumed.exit_code == 0, resumed.output
    assert sorted(ran) == [0, 2]
    for name in ("summary.json", "replications.csv", "transactions.parquet"):
        assert (out / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name


def test_a_replication_without_its_purchases_is_run_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = interrupted_folder(RETAINED, tmp_path / "part", 3, [0, 1], transactions=True)
    (out / "replications" / "rep-00001.parquet").unlink()  # as if killed between the two writes
    (out / "replications" / ".rep-00002.json.abc.tmp").write_text("{")  # an unfinished atomic write
    resumed, ran = resume_recording(out, monkeypatch)
    assert resumed.exit_code == 0, resumed.output
    assert sorted(ran) == [1, 2]
    assert not (out / "replications").exists()


def test_resume_refuses_a_changed_scenario_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(RETAINED.parent, tmp_path / "plans")  # the scenario and the base it extends
    scenario = tmp_path / "plans" / RETAINED.name
    out = interrupted_folder(scenario, tmp_path / "out", 3, [0])
    original = scenario.read_text(encoding="utf-8")

    scenario.write_text(original.replace("name:", "name: changed", 1), encoding="utf-8")
    result = invoke("--resume", out)
    assert result.exit_code == 2, result.output
    assert f"{scenario} changed since the run started" in result.stderr
    assert "Traceback" not in result.output

    scenario.write_text("meta: [", encoding="utf-8")
    result = invoke("--resume", out)
    assert result.exit_code == 2, result.output
    assert "changed since the run started and no longer loads" in result.stderr

    scenario.unlink()  # gone: the folder's resolved.yaml is the scenario
    resumed, ran = resume_recording(out, monkeypatch)
    assert resumed.exit_code == 0, resumed.output
    assert sorted(ran) == [1, 2]


def test_resume_keeps_the_runs_settings(tmp_path: Path) -> None:
    out = interrupted_folder(RETAINED, tmp_path / "out", 3, [0])
    result = invoke("--resume", out, "--reps", 5)
    assert result.exit_code == 2
    assert "--reps 5: the run in" in result.stderr and "was started with --reps 3" in result.stderr
    assert invoke("--resume", out, "--seed", 2).exit_code == 2
    assert "was started without it" in invoke("--resume", out, "--transactions").stderr
    assert "--out: not with --resume" in invoke("--resume", out, "--out", tmp_path).stderr
    finished = invoke("--resume", out, "--reps", 3, "--seed", 1, "--quiet")
    assert finished.exit_code == 0, finished.output
    assert f"results written to {out}" in finished.stdout


def test_resume_of_a_complete_run_runs_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert invoke(RETAINED, "--reps", 2, "--out", out, "--workers", 1).exit_code == 0
    summary = (out / "summary.json").read_text(encoding="utf-8")
    again = invoke("--resume", out)
    assert again.exit_code == 0, again.output
    assert "nothing to resume" in again.stdout
    as_json = invoke("--resume", out, "--format", "json")
    assert as_json.exit_code == 0
    assert as_json.stdout == summary


def test_force_starts_over_an_interrupted_run(tmp_path: Path) -> None:
    out = interrupted_folder(RETAINED, tmp_path / "out", 3, [0, 2])
    result = invoke(RETAINED, "--reps", 2, "--out", out, "--force", "--workers", 1)
    assert result.exit_code == 0, result.output
    assert not (out / "replications").exists()
    assert '"reps": 2' in (out / "run.json").read_text(encoding="utf-8")


def test_resume_after_a_kill_while_writing_the_final_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = interrupted_folder(RETAINED, tmp_path / "out", 2, [0, 1])  # every replication kept, no summary
    resumed, ran = resume_recording(out, monkeypatch)
    assert resumed.exit_code == 0, resumed.output
    assert ran == []
    assert (out / "summary.json").is_file()
