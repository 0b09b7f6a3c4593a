"""``siyu serve``: clear errors with exit code 2, the address it prints, a warning for a public address, and a
real server process that answers and stops on Ctrl-C."""

from __future__ import annotations

import json
import socket
import subprocess
import urllib.request
from pathlib import Path

import pytest
import uvicorn
from typer.testing import CliRunner

from engine.cli import app
from engine.cli_serve import SHIPPED_SCENARIOS, scenario_folder
from tests.playground.conftest import siyu_serve


def test_a_missing_folder_is_refused_with_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["serve", str(tmp_path / "NOT_A_DIR")])
    assert result.exit_code == 2
    assert "NOT_A_DIR: no such folder; give a folder of scenario YAML files" in result.output


def test_a_file_instead_of_a_folder_is_refused(scenario_folder: Path) -> None:
    result = CliRunner().invoke(app, ["serve", str(scenario_folder / "tiny_shop.yaml")])
    assert result.exit_code == 2
    assert "not a folder; give the folder that holds the scenario files" in result.output


def test_a_folder_without_valid_scenarios_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("meta: {name: x}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["serve", str(tmp_path)])
    assert result.exit_code == 2
    assert "no scenario to show (1 YAML files, none valid)" in result.output


def test_a_port_in_use_is_refused_with_exit_2(scenario_folder: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["serve", str(scenario_folder), "--port", str(port)])
    assert result.exit_code == 2
    assert f"--port {port}: cannot listen on 127.0.0.1:{port}" in result.output
    assert "--port 0 for any free one" in result.output


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--port", "70000"], "Invalid value for '--port': Input should be less than or equal to 65535"),
        (["--reps", "1"], "Invalid value for '--reps': Input should be greater than or equal to 2"),
    ],
)
def test_out_of_range_options_exit_2(scenario_folder: Path, option: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["serve", str(scenario_folder), *option])
    assert result.exit_code == 2
    assert message in result.output, result.output  # refused for the option's range, not for anything else


def test_the_default_folder_is_the_shipped_one() -> None:
    assert scenario_folder(None) == SHIPPED_SCENARIOS
    assert (SHIPPED_SCENARIOS / "retail_store_wecom.yaml").is_file()


def test_by_default_the_socket_is_bound_to_localhost_only(
    scenario_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bound: list[tuple[str, int]] = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets: bound.append(sockets[0].getsockname()))
    result = CliRunner().invoke(app, ["serve", str(scenario_folder), "--port", "0"])
    assert result.exit_code == 0, result.output
    assert bound[0][0] == "127.0.0.1" and bound[0][1] > 0
    assert "warning" not in result.output
    assert f"http://127.0.0.1:{bound[0][1]}/" in result.output


def test_another_host_is_served_with_a_warning(
    scenario_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: list[int] = []
    monkeypatch.setattr(
        uvicorn.Server, "run", lambda self, sockets: served.append(sockets[0].getsockname()[1])
    )
    result = CliRunner().invoke(app, ["serve", str(scenario_folder), "--host", "0.0.0.0", "--port", "0"])
    assert result.exit_code == 0, result.output
    assert "warning: --host 0.0.0.0 exposes the playground beyond this machine" in result.output
    assert f"http://0.0.0.0:{served[0]}/" in result.output
    assert "skipped: " in result.output and "broken.yaml" in result.output  # the broken file, said why


@pytest.mark.slow
def test_a_real_server_answers_on_localhost_and_stops_on_ctrl_c(scenario_folder: Path) -> None:
    with siyu_serve(scenario_folder, reps=2, stderr=subprocess.PIPE, must_stop=True) as (process, line):
        assert line.startswith("Siyu playground 私域课堂演练: http://127.0.0.1:"), line
        url = line.split(": ", 1)[1].strip()
        with urllib.request.urlopen(f"{url}api/scenarios", timeout=30) as response:
            listed = json.loads(response.read())
        assert [s["key"] for s in listed["scenarios"]] == ["tiny_shop", "more/plain"]
    assert process.returncode == 0, process.stderr.read() if process.stderr else ""
