"""``siyu calibrate`` through the CLI: the table, the JSON object, the fragment, and exit 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from engine.cli import app
from tests.engine.calibrate.conftest import CDNOW_CALIBRATION_END


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["calibrate", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_table(cdnow_csv: Path, tmp_path: Path) -> None:
    fragment = tmp_path / "cdnow.yaml"
    code, out, err = invoke(
        str(cdnow_csv), "--calibration-end", CDNOW_CALIBRATION_END, "--out", str(fragment)
    )
    assert code == 0, err
    for needed in (
        "参数 parameters",
        "BG/NBD",
        "Gamma-Gamma",
        "0.2426",
        "4.414",
        "复购次数分布",
        "验证期 holdout (39.0 weeks): 1,882 purchases",
        "calibration ends in this week",
        "weakly correlated",
        f"fragment written to {fragment}",
    ):
        assert needed in out, needed
    assert fragment.exists()


def test_json(cdnow_csv: Path) -> None:
    code, out, _ = invoke(str(cdnow_csv), "--calibration-end", CDNOW_CALIBRATION_END, "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"file", "model", "time_unit", "data", "buying", "spend", "fit", "engine", "fragment"}
    assert data["data"]["customers"] == 2357 and data["data"]["calibration_end"] == "1997-09-30"
    r = data["buying"]["parameters"]["r"]
    assert r["ci_low"] < r["estimate"] < r["ci_high"] and r["se"] == pytest.approx(0.01256, abs=1e-4)
    assert set(data["spend"]["parameters"]) == {"p", "q", "gamma"}
    assert data["spend"]["independence"]["verdict"] == "weakly correlated"
    fit = data["fit"]
    assert len(fit["histogram"]["actual"]) == len(fit["histogram"]["expected"]) == 8
    tracking = fit["tracking"]
    assert (
        len(tracking["week"])
        == len(tracking["actual_cumulative"])
        == len(tracking["expected_cumulative"])
        == 78
    )
    assert fit["holdout"]["actual_total"] == 1882 and len(fit["holdout"]["by_frequency"]) == 8
    assert data["engine"]["behaviour"]["purchase_rate"]["rate"] == pytest.approx(7 * 4.4136, rel=1e-3)
    assert data["fragment"] is None


def test_paretonbd_table_and_no_fragment(cdnow_csv: Path, tmp_path: Path) -> None:
    code, out, _ = invoke(str(cdnow_csv), "--model", "paretonbd", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert set(data["buying"]["parameters"]) == {"r", "alpha", "s", "beta"}
    assert data["fit"]["holdout"] is None  # no --calibration-end: the whole log calibrates
    assert "Pareto/NBD" in data["engine"]["unavailable"]
    code, _, err = invoke(str(cdnow_csv), "--model", "paretonbd", "--out", str(tmp_path / "f.yaml"))
    assert code == 2 and "fit --model bgnbd for a fragment" in err
    assert not (tmp_path / "f.yaml").exists()


def write(tmp_path: Path, text: str, name: str = "orders.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


REPEATS = "".join(f"c{i},2024-01-0{1 + d},10\n" for i in range(12) for d in range(2))


@pytest.mark.parametrize(
    ("text", "args", "message"),
    [
        ("", (), "the file is empty"),
        ("customer_id,date,amount\n", (), "no transactions"),
        (
            "customer_id,day,amount\na,2024-01-01,1\n",
            (),
            "no column 'date' (--date-col) — did you mean 'day'?",
        ),
        ("customer_id,date,amount\na,soon,1\n", (), "1 of 1 rows (line 2) are not dates"),
        ("customer_id,date,amount\na,2024-01-01,lots\n", (), "1 of 1 rows (line 2) are not amounts"),
        ("customer_id,date,amount\na,2024-01-01,5\na,2024-01-02,-5\n", (), "are negative"),
        (
            "".join(["customer_id,date,amount\n"] + [f"o{i},2024-01-01,3\n" for i in range(40)]),
            (),
            "every customer made a single purchase",
        ),
        (
            "customer_id,date,amount\n" + REPEATS,
            ("--calibration-end", "2025-01-01"),
            "after the end of the data",
        ),
        (
            "customer_id,date,amount\n" + REPEATS,
            ("--calibration-end", "someday"),
            "--calibration-end 'someday': not",
        ),
        ("customer_id,date,amount\n" + REPEATS, ("--base", "x.yaml"), "--base needs --out"),
        # once tracebacks: a calibration end of nan on day numbers, a time of day past 23:59
        (
            "customer_id,date,amount\n" + "".join(f"c{i % 12},{i // 12},5\n" for i in range(36)),
            ("--calibration-end", "nan"),
            "give a day number",
        ),
        ("customer_id,date,amount\na,2024-01-01 24:30,1\n", (), "a time of day that is not one"),
    ],
)
def test_bad_input_exits_2(tmp_path: Path, text: str, args: tuple[str, ...], message: str) -> None:
    code, out, err = invoke(str(write(tmp_path, text)), *args)
    assert code == 2
    assert message in err
    assert "Traceback" not in err + out


def test_returns_netted(tmp_path: Path) -> None:
    rows = "".join(f"c{i},2024-01-0{1 + d},{10 + d}\n" for i in range(12) for d in range(3))
    path = write(tmp_path, "customer_id,date,amount\n" + rows + "c0,2024-01-03,-12\nc1,2024-01-04,-2\n")
    code, out, _ = invoke(str(path), "--returns", "net", "--time-unit", "day", "--format", "json")
    assert code == 0
    data = json.loads(out)["data"]
    assert data["returns"] == {
        "treatment": "net",
        "rows": 2,
        "amount": 14.0,
        "unmatched": 0,
        "fully_returned": 1,
    }
    assert data["purchase_occasions"] == 35


def test_customers_out(cdnow_csv: Path, tmp_path: Path) -> None:
    """The per-customer table: one row per customer, named as in the file, with the holdout forecast the
    summary statistics are computed from."""
    table_path = tmp_path / "customers.csv"
    code, out, _ = invoke(
        str(cdnow_csv),
        "--calibration-end",
        CDNOW_CALIBRATION_END,
        "--customers-out",
        str(table_path),
        "--format",
        "json",
    )
    assert code == 0
    holdout = json.loads(out)["fit"]["holdout"]
    table = pd.read_csv(table_path)
    assert len(table) == 2357 and table["customer"].is_unique
    first = table.iloc[0]
    assert (first["customer"], first["first_purchase"], first["frequency"]) == (1, "1997-01-01", 2)
    assert first["mean_spend"] == pytest.approx(22.345)
    assert table["holdout_purchases"].sum() == holdout["actual_total"]
    assert table["expected_holdout_purchases"].sum() == pytest.approx(holdout["expected_total"])
    error = (table["expected_holdout_purchases"] - table["holdout_purchases"]).abs().mean()
    assert error == pytest.approx(holdout["mean_absolute_error"])
    assert table.loc[table["frequency"] == 0, "probability_alive"].eq(1.0).all()
    assert table["probability_alive"].between(0, 1).all()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cells=st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", "", "客户"]),
            st.one_of(
                st.sampled_from(["2024-01-01", "2024/1/5", "x", "", "20240230", "1e9"]), st.text(max_size=6)
            ),
            st.one_of(st.sampled_from(["10", "-5", "¥3", "", "nan", "inf", "(2)"]), st.text(max_size=6)),
        ),
        max_size=12,
    )
)
def test_any_file_gives_a_result_or_exit_2(tmp_path: Path, cells: list[tuple[str, str, str]]) -> None:
    """Whatever the cells hold, the command ends with a result or a message and exit 2, never a traceback."""
    rows = "".join(",".join('"' + c.replace('"', '""') + '"' for c in row) + "\n" for row in cells)
    path = write(tmp_path, "customer_id,date,amount\n" + rows)
    code, _, err = invoke(str(path))
    assert code in (0, 2)
    if code == 2:
        assert str(path) in err or "--" in err


def test_unidentified_parameters_are_flagged(cdnow_csv: Path, tmp_path: Path) -> None:
    """Customers who all buy like clockwork (no heterogeneity, no dropout) leave BG/NBD's parameters running
    off to the search bounds: the command says so on stderr and in the fragment, which it still writes."""
    rows = "".join(
        f"c{i},2024-{1 + k:02d}-{1 + i % 28:02d},{20 + i % 7}\n" for i in range(40) for k in range(6)
    )
    fragment = tmp_path / "f.yaml"
    code, _, err = invoke(str(write(tmp_path, "customer_id,date,amount\n" + rows)), "--out", str(fragment))
    assert code == 0, err
    assert "warning: the data do not pin down bgnbd" in err
    assert "# WARNING: the data do not pin down bgnbd" in fragment.read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    code, _, err = invoke(str(cdnow_csv), "--calibration-end", CDNOW_CALIBRATION_END)
    assert code == 0 and "warning" not in err
