"""``siyu report RESULT_DIR [--lang zh|en]``: rewrites a run folder's report and exports from its files, and
refuses anything that is not a finished run with a message saying what is missing (exit code 2)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.output import run_summary
from engine.run_folder import REPORT_FILES


def invoke(*args: str | Path) -> object:
    return CliRunner().invoke(app, ["report", *map(str, args)])


@pytest.fixture
def copy(run_folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / "run"
    shutil.copytree(run_folder, target)
    return target


def test_run_out_writes_the_report_and_the_exports(run_folder: Path) -> None:
    names = {path.name for path in run_folder.iterdir()}
    assert set(REPORT_FILES) <= names and "series.json" in names
    page = (run_folder / "index.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page and "获客成本 CAC" in page


def test_report_rewrites_the_page_in_english_and_back(copy: Path) -> None:
    for path in REPORT_FILES:
        (copy / path).unlink()
    result = invoke(copy, "--lang", "en")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"wrote {copy / name}" for name in REPORT_FILES]
    page = (copy / "index.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in page and "Customer flow" in page and "客户终身价值" not in page
    chinese = invoke(copy)  # zh is the default
    assert chinese.exit_code == 0, chinese.output
    assert "顾客流向" in (copy / "index.html").read_text(encoding="utf-8")


def test_the_same_results_give_the_same_page(run_folder: Path, copy: Path) -> None:
    assert invoke(copy).exit_code == 0
    assert (copy / "index.html").read_bytes() == (run_folder / "index.html").read_bytes()
    assert (copy / "summary.csv").read_bytes() == (run_folder / "summary.csv").read_bytes()


def test_the_page_is_self_contained(run_folder: Path) -> None:
    page = (run_folder / "index.html").read_text(encoding="utf-8")
    assert page.count("Plotly.newPlot") >= 11  # every figure drawn by the one embedded plotly.js
    assert "cdn.plot.ly" not in page.replace("https://cdn.plot.ly", "")  # no <script src> to a CDN
    assert '<script src="http' not in page and "@import" not in page and "url(http" not in page
    assert page.count("<link ") == 1 and '<link rel="icon" href="data:,">' in page  # no favicon request


def assert_refused(result: object, *messages: str) -> None:
    assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
    assert "Traceback" not in result.output  # type: ignore[attr-defined]
    for message in messages:
        assert message in result.stderr  # type: ignore[attr-defined]


def test_a_folder_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    assert_refused(invoke(missing), f"{missing}: no such folder", "siyu run FILE --out DIR")


def test_a_file_instead_of_a_folder(copy: Path) -> None:
    summary = copy / "summary.json"
    assert_refused(invoke(summary), f"{summary}: a file, not a folder", "siyu run FILE --out DIR")


def test_a_folder_that_is_not_a_result_folder(tmp_path: Path) -> None:
    assert_refused(
        invoke(tmp_path), f"{tmp_path}: not a siyu result folder (no summary.json)", "siyu run FILE --out"
    )


def test_an_unfinished_run(copy: Path) -> None:
    (copy / "summary.json").unlink()
    assert_refused(invoke(copy), "the run is not finished (no summary.json)", f"siyu run --resume {copy}")


def test_a_run_without_figure_data(copy: Path) -> None:
    (copy / "series.json").unlink()
    assert_refused(
        invoke(copy), f"{copy}: no series.json (the figure data", "run the scenario again with --out"
    )


def test_damaged_files_are_named(copy: Path) -> None:
    (copy / "series.json").write_text("{not json", encoding="utf-8")
    assert_refused(invoke(copy), f"{copy / 'series.json'}: cannot be read as figure data")
    (copy / "summary.json").write_text(json.dumps({"scenario": "x"}), encoding="utf-8")
    assert_refused(
        invoke(copy), f"{copy / 'summary.json'}: not a run summary (missing reps, seed, metrics, breakdown)"
    )


def test_figure_data_of_another_run(copy: Path) -> None:
    series = json.loads((copy / "series.json").read_text(encoding="utf-8"))
    (copy / "series.json").write_text(json.dumps({**series, "reps": 99}), encoding="utf-8")
    assert_refused(invoke(copy), "not the figure data of this run (reps 99 vs 3 in summary.json)")


def test_a_damaged_comparison_folder(tmp_path: Path) -> None:
    """A comparison folder gets the comparison report (tests/reports/test_comparison.py); a damaged one a
    message naming what is wrong."""
    (tmp_path / "comparison.json").write_text("{}", encoding="utf-8")
    assert_refused(invoke(tmp_path), "comparison.json: not a comparison (missing baseline, reps")


def test_an_unknown_language(copy: Path) -> None:
    result = invoke(copy, "--lang", "fr")
    assert result.exit_code == 2
    assert "Invalid value for '--lang'" in result.output and "'zh', 'en'" in result.output


def test_run_summary_is_still_the_json_contract(run_folder: Path) -> None:
    summary = json.loads((run_folder / "summary.json").read_text(encoding="utf-8"))
    assert list(summary) == ["scenario", "reps", "seed", "metrics", "breakdown"]
    assert run_summary.__name__ == "run_summary"  # the report adds files, never keys to summary.json


def test_resume_of_a_complete_run_writes_a_missing_report(copy: Path) -> None:
    """A run killed after summary.json but before its report gets the report from `siyu run --resume`."""
    (copy / "index.html").unlink()
    summary = (copy / "summary.json").read_bytes()
    result = CliRunner().invoke(app, ["run", "--resume", str(copy), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "nothing to resume" in result.stdout
    assert '<html lang="en">' in (copy / "index.html").read_text(encoding="utf-8")
    assert (copy / "summary.json").read_bytes() == summary
