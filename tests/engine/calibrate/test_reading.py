"""Reading order exports: formats, dates, amounts, and a clear error for every kind of bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.calibrate.reading import Columns, read_transactions
from engine.errors import CalibrationError


def write(tmp_path: Path, text: str, name: str = "orders.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_chinese_export_with_currency_and_dates(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "客户,下单时间,实付金额\n"
        '张三,2024年3月5日 14:22,"¥1,280.50"\n'
        "李四,2024年3月6日,88元\n"
        "张三,2024年3月9日 09:00:30,￥12\n",
    )
    log = read_transactions(path, Columns(("客户",), "下单时间", "实付金额"))
    assert log.amount.tolist() == [1280.5, 88.0, 12.0]
    assert log.customer.tolist() == [0, 1, 0]
    assert log.dates.format == "%Y年%m月%d日"
    np.testing.assert_allclose(log.day, [14 / 24 + 22 / 1440, 1.0, 4 + 9 / 24 + 30 / 86400])
    assert log.dates.label(4.4) == "2024-03-09"


@pytest.mark.parametrize(
    ("cells", "form"),
    [
        (("2024-03-05", "2024-03-06 10:00:00"), "ISO 8601"),
        (("2024/3/5", "2024/3/6 10:00"), "ISO 8601"),
        (("2024.3.5", "2024.3.6"), "ISO 8601"),
        (("2024/3/5", "2024年3月6日"), "%Y/%m/%d + %Y年%m月%d日"),
        (("20240305", "20240306"), "ISO 8601"),
        (("25/03/2024", "26/03/2024"), "%d/%m/%Y"),
    ],
)
def test_common_date_formats(tmp_path: Path, cells: tuple[str, str], form: str) -> None:
    path = write(tmp_path, f"customer_id,date,amount\na,{cells[0]},1\nb,{cells[1]},2\n")
    log = read_transactions(path)
    assert log.dates.format == form
    assert np.floor(log.day).tolist() == [0.0, 1.0]


def test_semicolon_and_gbk(tmp_path: Path) -> None:
    path = write(
        tmp_path, "customer_id;date;amount\n王五;2024-01-01;5\n王五;2024-01-08;(2.50)\n", encoding="gbk"
    )
    log = read_transactions(path)
    assert log.amount.tolist() == [5.0, -2.5]
    assert log.day.tolist() == [0.0, 7.0]


def test_parquet_day_numbers_and_composite_key(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "replication": [0, 0, 1],
            "customer_id": [7, 7, 7],
            "day": [1.5, 3.25, 2.0],
            "amount": [1.0, 2.0, 3.0],
        }
    )
    path = tmp_path / "t.parquet"
    frame.to_parquet(path)
    log = read_transactions(path, Columns(("replication", "customer_id"), "day", "amount"))
    assert log.dates.origin is None and log.dates.format == "day numbers"
    assert log.day.tolist() == [1.5, 3.25, 2.0]
    assert log.customer.tolist() == [
        0,
        0,
        1,
    ]  # customer 7 of replication 0 is not customer 7 of replication 1
    assert log.dates.label(3.25) == "day 3.25"


def test_excel(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "date": pd.to_datetime(["2024-01-01", "2024-02-01 12:00"], format="ISO8601"),
            "amount": ["¥10", 20],
        }
    )
    path = tmp_path / "orders.xlsx"
    frame.to_excel(path, index=False)
    log = read_transactions(path)
    assert log.amount.tolist() == [10.0, 20.0]
    assert log.day.tolist() == [0.0, 31.5]
    assert log.where(1) == "row 3"  # Excel's own row number, under the header


@pytest.mark.parametrize(
    ("text", "name", "message"),
    [
        ("", "empty.csv", r"empty\.csv: the file is empty"),
        ("customer_id,date,amount\n", "header.csv", r"no transactions .*customer_id, date, amount.* no rows"),
        (
            "customer,date,amount\na,2024-01-01,1\n",
            "col.csv",
            r"no column 'customer_id' \(--customer-col\) — did you mean 'customer'\?; "
            "the file's columns are",
        ),
        (
            "customer_id,date,amount\na,2024-01-01,1\nb,yesterday,2\nc,2024-13-45,3\n",
            "dates.csv",
            r"column 'date': 2 of 3 rows \(lines 3, 4\) are not dates .*'yesterday'.*allowed: dates like",
        ),
        (
            "customer_id,date,amount\na,2024-01-01,12 CNY\nb,2024-01-02,free\n",
            "amounts.csv",
            r"column 'amount': 1 of 2 rows \(line 3\) are not amounts \(e\.g\. 'free'\); allowed: numbers",
        ),
        (
            "customer_id,date,amount\na,2024-01-01,\n",
            "blank.csv",
            r"column 'amount': 1 of 1 rows \(line 2\) are empty",
        ),
        (
            "customer_id,date,amount\na,03/04/2024,1\nb,05/06/2024,1\n",
            "ambiguous.csv",
            r"day-first or month-first .*--date-format",
        ),
        ("x", "orders.json", r"unknown kind of file '\.json'; allowed: CSV"),
    ],
)
def test_bad_files(tmp_path: Path, text: str, name: str, message: str) -> None:
    path = write(tmp_path, text, name)
    with pytest.raises(CalibrationError, match=message):
        read_transactions(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CalibrationError, match="no such file"):
        read_transactions(tmp_path / "nope.csv")


def test_explicit_date_format_resolves_ambiguity(tmp_path: Path) -> None:
    path = write(tmp_path, "customer_id,date,amount\na,03/04/2024,1\nb,05/06/2024 08:00,1\n")
    log = read_transactions(path, date_format="%m/%d/%Y")
    assert log.dates.label(0) == "2024-03-04"
    assert log.day[1] == pytest.approx(
        (pd.Timestamp("2024-05-06 08:00") - pd.Timestamp("2024-03-04")).days + 1 / 3
    )
