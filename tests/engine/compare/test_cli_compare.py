"""``siyu compare`` through the CLI: the JSON contract, the --out folder, verdicts, selection, same output on
any number of workers, and clean errors (exit 2)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from engine.cli import app
from engine.metrics import METRIC_NAMES
from engine.runner import run
from engine.scenario import load_scenario
from engine.stats import paired_difference

REPS = "4"


def invoke(*args: str | Path) -> Any:
    return CliRunner().invoke(app, [str(a) for a in args])


def compare_json(*args: str | Path) -> dict[str, Any]:
    result = invoke("compare", *args, "--format", "json", "--workers", "1")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def select_best_args(plans: dict[str, Path], reps: str) -> tuple[str | Path, ...]:
    """Arguments comparing base, take and take_more, selecting the lowest CAC with a 0.1 CNY indifference zone
    (true CACs about 17.7, 16.3 and 13.7 CNY)."""
    plan_files = (plans["base"], plans["take"], plans["take_more"])
    return (*plan_files, "--reps", reps, "--select-best", "cac", "--indifference", "0.1")


def assert_clean_failure(result: Any, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exc_info
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.output, result.output


@pytest.fixture(scope="module")
def two_plans(plans: dict[str, Path]) -> dict[str, Any]:
    return compare_json(plans["base"], plans["take"], "--reps", REPS, "--seed", "3")


def test_json_contract(two_plans: dict[str, Any], plans: dict[str, Path]) -> None:
    data = two_plans
    assert list(data)[:4] == ["baseline", "reps", "seed", "scenarios"]
    assert (data["baseline"], data["reps"], data["seed"]) == ("Base", 4, 3)
    assert [s["scenario"] for s in data["scenarios"]] == ["Base", "Higher take rate"]
    base, variant = data["scenarios"]
    assert list(base)[:3] == ["scenario", "metrics", "vs_baseline"]
    assert base["vs_baseline"] == {} and base["verdicts"] == {}
    assert list(variant["vs_baseline"]) == list(METRIC_NAMES)
    for value in variant["vs_baseline"].values():
        assert list(value) == ["diff_mean", "ci_low", "ci_high", "p_value"]
    assert data["key_metrics"] == ["cac", "clv", "net_value", "ltv_cac", "retention_d90", "profit"]
    assert data["multiple_comparisons"] == "holm"
    assert list(variant["verdicts"]) == data["key_metrics"]
    assert "selection" not in data


def test_metrics_are_as_run_and_differences_are_paired(
    two_plans: dict[str, Any], plans: dict[str, Path]
) -> None:
    """Each plan's metrics equal `siyu run`'s on the same seed; each difference is the paired difference of
    the plans' own runs, replication by replication."""
    runs = {}
    for stem, entry in zip(("base", "take"), two_plans["scenarios"], strict=True):
        result = invoke(
            "run", plans[stem], "--reps", REPS, "--seed", "3", "--format", "json", "--workers", "1"
        )
        assert result.exit_code == 0, result.output
        assert entry["metrics"] == json.loads(result.stdout)["metrics"]
        runs[stem] = run(load_scenario(plans[stem]).scenario, int(REPS), 3).replications
    for name in ("cac", "new_members", "profit", "retention_d90"):
        expected = paired_difference(
            [r.metrics[name] for r in runs["base"]], [r.metrics[name] for r in runs["take"]]
        )
        assert two_plans["scenarios"][1]["vs_baseline"][name] == pytest.approx(expected.as_json())


def test_out_folder_holds_everything_a_report_needs(plans: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    result = invoke(
        "compare",
        plans["base"],
        plans["take"],
        "--reps",
        "3",
        "--out",
        out,
        "--workers",
        "1",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    assert (out / "comparison.json").read_text(encoding="utf-8") == result.stdout
    assert sorted(p.name for p in (out / "plans").iterdir()) == ["01-base", "02-take"]
    for folder, name in (("01-base", "Base"), ("02-take", "Higher take rate")):
        summary = json.loads((out / "plans" / folder / "summary.json").read_text(encoding="utf-8"))
        assert summary["scenario"] == name and summary["reps"] == 3
        rows = list(csv.reader(io.StringIO((out / "plans" / folder / "replications.csv").read_text())))
        assert rows[0] == ["replication", *METRIC_NAMES] and len(rows) == 4
        assert "meta:" in (out / "plans" / folder / "resolved.yaml").read_text(encoding="utf-8")
    # each plan's figure data is the very series.json `siyu run` writes on the same seed
    run_out = tmp_path / "run"
    ran = invoke("run", plans["take"], "--reps", "3", "--out", run_out, "--workers", "1", "--quiet")
    assert ran.exit_code == 0, ran.output
    assert (out / "plans/02-take/series.json").read_bytes() == (run_out / "series.json").read_bytes()
    html = (out / "index.html").read_text(encoding="utf-8")  # the report, in zh by default
    assert '<html lang="zh-CN">' in html and "Higher take rate 对比基线 Base" in html
    assert not list(out.rglob("*.tmp"))
    again = invoke("compare", plans["base"], plans["take"], "--reps", "3", "--out", out, "--workers", "1")
    assert_clean_failure(again, "not empty", "--force")


def test_table_shows_both_labels_verdicts_and_the_control(plans: dict[str, Path]) -> None:
    result = invoke("compare", plans["base"], plans["take"], "--reps", REPS, "--workers", "1", "--lang", "en")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "获客成本 CAC cac (CNY)" in out and "Higher take rate vs 基线 baseline Base" in out
    assert "Higher take rate lowers CAC by" in out and "— better" in out
    assert "Holm-adjusted over the 6 comparisons" in out
    assert max(cell_len(line.rstrip()) for line in out.splitlines()) <= 140  # stdout is not a terminal
    zh = invoke("compare", plans["base"], plans["take"], "--reps", REPS, "--workers", "1")  # zh by default
    assert "使获客成本 CAC 降低" in zh.stdout and "结论" in zh.stdout


def test_metric_option_chooses_the_verdicts(plans: dict[str, Path]) -> None:
    data = compare_json(
        plans["base"],
        plans["take"],
        "--reps",
        "3",
        "--metric",
        "new_members,cac",
        "--adjust",
        "bh",
        "--lang",
        "en",
    )
    assert data["key_metrics"] == ["new_members", "cac"] and data["multiple_comparisons"] == "bh"
    verdict = data["scenarios"][1]["verdicts"]["new_members"]
    assert verdict["detected"] and verdict["text"].startswith("Higher take rate raises new members by")


def test_select_best_names_the_known_best_adding_replications_only_to_contenders(
    plans: dict[str, Path], tmp_path: Path
) -> None:
    """True CACs about 17.7, 16.3 and 13.7 CNY, δ = 0.1 CNY: KN picks the much higher take rate, eliminates
    the other two, and adds replications to a plan only while it is in contention. A first stage of 4 does
    not settle it at these seeds, so the sequential rounds run (the test checks that they did)."""
    first_stage = 4
    out = tmp_path / "select"
    data = compare_json(*select_best_args(plans, str(first_stage)), "--out", out)
    selection = data["selection"]
    assert selection["best"] == "Much higher take rate"
    assert selection["contenders"] == ["Much higher take rate"]
    assert (selection["metric"], selection["goal"], selection["indifference"], selection["pcs"]) == (
        "cac",
        "lower",
        0.1,
        0.95,
    )
    base, take, best = selection["plans"]
    assert (
        base["eliminated_at"] is not None
        and take["eliminated_at"] is not None
        and best["eliminated_at"] is None
    )
    for plan in (base, take):
        assert plan["reps"] == plan["eliminated_at"] >= first_stage
    assert best["reps"] == max(p["reps"] for p in selection["plans"]) > first_stage
    assert best["mean"] < take["mean"] < base["mean"]
    rows = list(csv.DictReader(io.StringIO((out / "selection.csv").read_text(encoding="utf-8"))))
    assert len(rows) == sum(p["reps"] for p in selection["plans"])
    # the first stage is the comparison's replications
    assert [float(r["value"]) for r in rows if r["scenario"] == "Base"][:first_stage] == pytest.approx(
        [
            float(r["cac"])
            for r in csv.DictReader(io.StringIO((out / "plans/01-base/replications.csv").read_text()))
        ]
    )
    table = invoke("compare", *select_best_args(plans, "5"), "--workers", "1", "--lang", "EN")
    assert "Best plan (lowest CAC): Much higher take rate" in table.stdout
    assert "probability ≥ 95%" in table.stdout


@pytest.mark.slow
def test_same_seed_same_bytes_on_one_or_two_workers(plans: dict[str, Path], tmp_path: Path) -> None:
    outputs = []
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}"
        result = invoke(
            "compare", *select_best_args(plans, "4"), "--format", "json", "--out", out, "--workers", workers
        )
        assert result.exit_code == 0, result.output
        files = {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
        outputs.append((result.stdout, files))
    assert {Path("index.html"), Path("plans/03-take_more/series.json")} <= set(outputs[0][1])
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[0][0])["selection"]["best"] == "Much higher take rate"


def test_bad_input_is_a_clean_error(plans: dict[str, Path], tmp_path: Path) -> None:
    base, take = plans["base"], plans["take"]
    assert_clean_failure(invoke("compare", base), "at least two scenario files")
    assert_clean_failure(invoke("compare", base, tmp_path / "missing.yaml"), "missing.yaml", "no such file")
    assert_clean_failure(invoke("compare", base, plans["usd"]), "different currencies (CNY, USD)")
    assert_clean_failure(
        invoke("compare", base, take, "--metric", "cacc"),
        "--metric 'cacc': no such metric — did you mean 'cac'?",
        "allowed: visitors",
    )
    assert_clean_failure(invoke("compare", base, take, "--indifference", "1"), "--indifference: only with")
    three = (base, take, plans["take_more"])
    assert_clean_failure(
        invoke("compare", base, take, "--select-best", "cac"), "--select-best: needs 3 or more", "got 2"
    )
    assert_clean_failure(
        invoke("compare", *three, "--select-best", "acquisition_cost"), "no agreed 'better' direction"
    )
    assert_clean_failure(
        invoke("compare", *three, "--select-best", "nope"), "--select-best 'nope': no such metric"
    )
    assert_clean_failure(invoke("compare", *three, "--select-best", "cac", "--pcs", "0.4"), "--pcs")
    for bad in ("-1", "0", "inf", "nan"):
        assert_clean_failure(
            invoke("compare", *three, "--select-best", "cac", "--indifference", bad),
            "--indifference: ",
            "is not allowed; give a positive, finite difference",
        )
    assert_clean_failure(
        invoke("compare", *three, "--select-best", "cac", "--max-reps", "3"),
        "--max-reps: 3 is below --reps 20",
    )
    bad_yaml = tmp_path / "broken.yaml"
    bad_yaml.write_text("meta: {name: x\n  bad: [\n", encoding="utf-8")
    assert_clean_failure(invoke("compare", base, bad_yaml), "broken.yaml:", "YAML")
    assert_clean_failure(invoke("compare", base, take, "--reps", "1"), "--reps: 1 is too few")
    assert_clean_failure(invoke("compare", base, take, "--lang", "fr"), "--lang")


def test_selection_sentence_states_a_share_zone_in_points_and_what_was_added() -> None:
    """δ on a share is a difference of shares (percentage points), not a relative %; the sentence says
    whether the first stage sufficed."""
    from engine.compare.selection import Selection, SystemResult
    from engine.compare.tables import selection_sentence
    from engine.compare.verdicts import Language
    from engine.metrics import METRIC_INFO

    names = ("A", "B", "C")
    at_once = Selection(
        2,
        (SystemResult(5, 0.9, 5), SystemResult(5, 0.91, 5), SystemResult(5, 0.95, None)),
        (2,),
        0.002,
        0.95,
        5,
        1.0,
        8.0,
        100,
    )
    info = METRIC_INFO["retention_d90"]
    text = selection_sentence(at_once, names, info, "CNY", True, Language.en)
    assert "at least 0.2 percentage points better" in text
    assert "The first stage's 15 replications sufficed; none were added." in text
    zh = selection_sentence(at_once, names, info, "CNY", True, Language.zh)
    assert "至少好 0.2 个百分点" in zh and "未追加" in zh
    later = Selection(
        2,
        (SystemResult(5, 30.0, 5), SystemResult(7, 29.0, 7), SystemResult(9, 20.0, None)),
        (2,),
        1.5,
        0.95,
        5,
        1.0,
        8.0,
        100,
    )
    text = selection_sentence(later, names, METRIC_INFO["cac"], "CNY", False, Language.en)
    assert "at least 1.50 CNY better" in text and "21 replications in all; the 6 added went only" in text
