"""Interruption loses nothing: a real ``siyu run`` stopped by SIGINT or killed by SIGKILL keeps its finished
replications, ``--resume`` runs only the missing ones, and the result equals an uninterrupted run's bytes."""

from __future__ import annotations

import json
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
from tests.engine.conftest import ROOT, SCALE_REPS, SCALE_SEED, ReferenceRun

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
    reference_run.assert_reproduced(resumed, out)  # and the kept replications/ folder is gone


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
    assert sorted(ran) == sorted(set(range(SCALE_REPS)) - finished)
    reference_run.assert_reproduced(resumed, out)


# ---------------------------------------------------------------------------------------------------------
# Resuming a folder made in process (fast)


def interrupted_folder(
    scenario: Path, out: Path, reps: int, done: list[int], transactions: bool = False
) -> Path:
    """What an interrupted ``siyu run SCENARIO --reps REPS --out OUT`` leaves: replications ``done`` kept."""
    loaded = load_scenario(scenario)
    folder = RunFolder.create(out, loaded, reps, 1, transactions, force=False)
    task = ReplicationTask(loaded.scenario, 1, transactions, series=True)  # as `siyu run --out` does
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


# ---------------------------------------------------------------------------------------------------------
# Damaged checkpoints and manifests


def _rewrite(path: Path, change: Any) -> None:
    """Apply ``change`` to the JSON in ``path`` and write it back."""
    data = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(change(data)), encoding="utf-8")


def _drop_first(mapping: dict[str, Any]) -> dict[str, Any]:
    return dict(list(mapping.items())[1:])


WRONG_SHAPES: dict[str, Any] = {
    "metrics not a mapping": lambda d: {**d, "metrics": [1, 2, 3]},
    "a metric missing": lambda d: {**d, "metrics": _drop_first(d["metrics"])},
    "an unknown metric": lambda d: {**d, "metrics": {**d["metrics"], "bogus": 1.0}},
    "a metric not a number": lambda d: {**d, "metrics": {**d["metrics"], "revenue": "lots"}},
    "a metric true": lambda d: {**d, "metrics": {**d["metrics"], "revenue": True}},
    "breakdown not a mapping": lambda d: {**d, "breakdown": None},
    "a dimension missing": lambda d: {**d, "breakdown": _drop_first(d["breakdown"])},
    "a dimension not a mapping": lambda d: {**d, "breakdown": {**d["breakdown"], "source": []}},
    "a group missing": lambda d: {**d, "breakdown": {**d["breakdown"], "source": {}}},
    "a group's metric missing": lambda d: {
        **d,
        "breakdown": {
            **d["breakdown"],
            "source": {g: _drop_first(row) for g, row in d["breakdown"]["source"].items()},
        },
    },
    "index a string": lambda d: {**d, "index": str(d["index"])},
    "index missing": lambda d: {key: value for key, value in d.items() if key != "index"},
    "not an object": lambda d: [d],
}


@pytest.fixture(scope="module")
def retained_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, bytes]:
    """Stdout and replications.csv of an uninterrupted 3-replication run of seed 004 (kept)."""
    out = tmp_path_factory.mktemp("whole")
    whole = invoke(RETAINED, "--reps", 3, "--out", out, "--workers", 1, "--format", "json", "--force")
    assert whole.exit_code == 0, whole.output
    return whole.stdout, (out / "replications.csv").read_bytes()


@pytest.mark.parametrize("change", WRONG_SHAPES.values(), ids=WRONG_SHAPES.keys())
def test_a_checkpoint_of_the_wrong_shape_is_run_again(
    change: Any, retained_run: tuple[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Valid JSON that is not a replication of this scenario counts as damaged, like an unreadable file."""
    out = interrupted_folder(RETAINED, tmp_path / "part", 3, [0, 1, 2])
    _rewrite(out / "replications" / "rep-00001.json", change)
    resumed, ran = resume_recording(out, monkeypatch)
    assert resumed.exit_code == 0, resumed.output
    assert ran == [1]
    assert (resumed.stdout, (out / "replications.csv").read_bytes()) == retained_run


TIERED_YAML = f"""\
extends: {RETAINED}
meta: {{name: "Seed 004 with tiers and a campaign (resume tests)"}}
tiers:
  - id: buyers
    when: {{purchases: {{gte: 1}}}}
  - id: others
campaigns:
  - id: article
    channel: oa_article
    carrier: official_account
    schedule: {{every_days: 30}}
    response: {{default: 0.01, by_tier: {{buyers: 0.02}}}}
"""


def test_checkpoints_with_every_breakdown_dimension_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shape a checkpoint is held to is the one a replication really has (sources, carriers, campaigns
    and tiers all present), so nothing finished is run again."""
    scenario = tmp_path / "tiered.yaml"
    scenario.write_text(TIERED_YAML, encoding="utf-8")
    out = interrupted_folder(scenario, tmp_path / "out", 3, [0, 2])
    breakdown = json.loads((out / "replications" / "rep-00000.json").read_text(encoding="utf-8"))["breakdown"]
    assert list(breakdown["campaign"]) == ["article"] and list(breakdown["tier"]) == ["buyers", "others"]
    resumed, ran = resume_recording(out, monkeypatch)
    assert resumed.exit_code == 0, resumed.output
    assert ran == [1]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("seed", -1, "seed is -1; it must be a whole number from 0 to 9223372036854775807"),
        ("seed", 1.5, "seed is 1.5; it must be a whole number from 0 to 9223372036854775807"),
        ("seed", "1", 'seed is "1"; it must be a whole number from 0 to 9223372036854775807'),
        ("seed", 2**63, f"seed is {2**63}; it must be a whole number from 0 to 9223372036854775807"),
        ("reps", -3, "reps is -3; it must be a whole number from 1 to 100000"),
        ("reps", 0, "reps is 0; it must be a whole number from 1 to 100000"),
        ("reps", 2.0, "reps is 2.0; it must be a whole number from 1 to 100000"),
        ("reps", True, "reps is true; it must be a whole number from 1 to 100000"),
        ("transactions", "no", 'transactions is "no"; it must be true or false'),
    ],
)
def test_a_manifest_with_a_bad_seed_or_reps_is_refused_clearly(
    field: str, value: Any, expected: str, tmp_path: Path
) -> None:
    out = interrupted_folder(RETAINED, tmp_path / "out", 3, [0])
    _rewrite(out / "run.json", lambda d: {**d, field: value})
    result = invoke("--resume", out)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # a clean exit, not an exception escaping
    assert result.stderr == f"{out / 'run.json'}: cannot be read as a run manifest ({expected})\n"


@pytest.mark.parametrize("text", ["[1, 2]", "{", '{"seed": 1}', "null"])
def test_a_manifest_that_is_not_one_is_refused_clearly(text: str, tmp_path: Path) -> None:
    out = interrupted_folder(RETAINED, tmp_path / "out", 3, [0])
    (out / "run.json").write_text(text, encoding="utf-8")
    result = invoke("--resume", out)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"{out / 'run.json'}: cannot be read as a run manifest (")
