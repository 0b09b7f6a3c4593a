"""Exports for finance: summary.csv (UTF-8 with BOM, Chinese intact, every metric and breakdown) and
summary.xlsx (numbers as numbers), both equal to summary.json."""

from __future__ import annotations

import codecs
import csv
import io
import json
from pathlib import Path

import openpyxl
import pytest

from engine.metrics import DIMENSION_METRICS, METRICS
from reports.exports import COLUMNS, SHEET_ASSUMPTIONS, SHEET_BREAKDOWNS, SHEET_METRICS


def expected_rows(summary: dict) -> list[tuple[str, str, str, dict]]:
    """(dimension, group, metric, {mean, ci_low, ci_high}) in the order the exports promise."""
    rows = [("all", "", info.name, summary["metrics"][info.name]) for info in METRICS]
    for dimension, groups in summary["breakdown"].items():
        for group, metrics in groups.items():
            rows += [
                (dimension, group, info.name, metrics[info.name]) for info in DIMENSION_METRICS[dimension]
            ]
    return rows


def approx(values: dict) -> object:
    """The values as Excel keeps them: 15 significant digits (None: an empty cell)."""
    return tuple(
        None if values[k] is None else pytest.approx(values[k], rel=1e-14)
        for k in ("mean", "ci_low", "ci_high")
    )


def number(cell: str) -> float | None:
    return None if cell == "" else float(cell)


def test_summary_csv_has_a_bom_and_every_metric_of_summary_json(run_folder: Path) -> None:
    raw = (run_folder / "summary.csv").read_bytes()
    assert raw.startswith(codecs.BOM_UTF8)  # Excel reads UTF-8 (and so the Chinese) only with the BOM
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == list(COLUMNS)
    summary = json.loads((run_folder / "summary.json").read_text(encoding="utf-8"))
    expected = expected_rows(summary)
    assert len(rows) - 1 == len(expected) > len(METRICS)
    for row, (dimension, group, name, values) in zip(rows[1:], expected, strict=True):
        record = dict(zip(COLUMNS, row, strict=True))
        assert (record["dimension"], record["group"], record["metric"]) == (dimension, group, name)
        for key in ("mean", "ci_low", "ci_high"):
            assert number(record[key]) == values[key]  # full precision: repr of the float
    by_metric = {(r[0], r[1], r[4]): r for r in rows[1:]}
    cac = by_metric[("all", "", "cac")]
    assert cac[5] == "获客成本 CAC" and cac[7] == "CNY"
    assert by_metric[("source", "store_qr", "visitors")][2] == "门店扫码"  # group labels in Chinese ...
    assert by_metric[("source", "store_qr", "visitors")][3] == "store QR code"  # ... and English
    assert by_metric[("tier", "die_hard", "members_end")][2] == "铁杆粉丝"
    assert any(r[8] == "" for r in rows[1:])  # an undefined value is an empty cell, not "None" or "nan"


def test_summary_xlsx_holds_the_same_numbers_as_numbers(run_folder: Path) -> None:
    workbook = openpyxl.load_workbook(run_folder / "summary.xlsx")
    assert workbook.sheetnames == [SHEET_METRICS, SHEET_BREAKDOWNS, SHEET_ASSUMPTIONS]
    summary = json.loads((run_folder / "summary.json").read_text(encoding="utf-8"))

    overall = list(workbook[SHEET_METRICS].iter_rows(values_only=True))
    assert overall[0][:7] == ("metric", "指标", "metric (en)", "unit", "mean", "ci_low", "ci_high")
    assert [row[0] for row in overall[1:]] == [info.name for info in METRICS]
    for row in overall[1:]:
        values = summary["metrics"][row[0]]
        assert row[4:7] == approx(values)
    cac = next(row for row in overall if row[0] == "cac")
    assert cac[1] == "获客成本 CAC" and "新客户" in cac[7] and "new_customers" in cac[8]
    assert workbook[SHEET_METRICS].cell(row=overall.index(cac) + 1, column=5).number_format == "#,##0.00"

    breakdowns = list(workbook[SHEET_BREAKDOWNS].iter_rows(values_only=True))
    assert breakdowns[0] == COLUMNS
    expected = [row for row in expected_rows(summary) if row[0] != "all"]
    assert len(breakdowns) - 1 == len(expected)
    for row, (dimension, group, name, values) in zip(breakdowns[1:], expected, strict=True):
        assert (row[0], row[1], row[4]) == (dimension, group, name)
        assert row[8:11] == approx(values)

    assumptions = [row[0] for row in workbook[SHEET_ASSUMPTIONS].iter_rows(values_only=True)]
    resolved = (run_folder / "resolved.yaml").read_text(encoding="utf-8").splitlines()
    assert [line or None for line in resolved] == assumptions[1:]


@pytest.mark.parametrize("name", ["summary.csv", "summary.xlsx"])
def test_exports_are_beside_the_json(run_folder: Path, name: str) -> None:
    assert (run_folder / name).stat().st_size > 1000
