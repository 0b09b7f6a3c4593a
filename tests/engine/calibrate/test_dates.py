"""Dates, times of day and amounts that exports write in ways easy to misread: each is read right or refused
with a message, never read wrong in silence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.calibrate.dates import DateColumn
from engine.calibrate.reading import read_transactions
from engine.errors import CalibrationError

HEADER = "customer_id,date,amount\n"


def write(tmp_path: Path, body: str, name: str = "orders.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes((HEADER + body).encode(encoding))
    return path


@pytest.mark.parametrize(
    ("cells", "days"),
    [
        # the offset is dropped: 01:00 at +08:00 is on 5 March, as the export says (not 4 March in UTC)
        (("2024-03-05T01:00:00+08:00", "2024-03-06T10:00:00+08:00"), [1 / 24, 1 + 10 / 24]),
        # mixed offsets (pandas refuses to combine them) and Z
        (("2024-03-05T01:00:00+08:00", "2024-03-06 10:00:00Z"), [1 / 24, 1 + 10 / 24]),
        (("2024/3/5 2:30 PM", "2024/3/6 12:00 AM"), [14.5 / 24, 1.0]),
        (("2024-03-05", "25/03/2024"), [0.0, 20.0]),  # ISO and day-first in one file
    ],
)
def test_times_and_mixtures(tmp_path: Path, cells: tuple[str, str], days: list[float]) -> None:
    log = read_transactions(write(tmp_path, f"a,{cells[0]},1\nb,{cells[1]},2\n"))
    np.testing.assert_allclose(log.day, days, atol=1e-9)


def test_timezone_aware_parquet_keeps_the_local_day(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "date": pd.to_datetime(["2024-03-05 01:00", "2024-03-06 23:00"]).tz_localize("Asia/Shanghai"),
            "amount": [1.0, 2.0],
        }
    )
    path = tmp_path / "orders.parquet"
    frame.to_parquet(path)
    log = read_transactions(path)
    assert log.dates.label(log.day[0]) == "2024-03-05"
    np.testing.assert_allclose(log.day, [1 / 24, 1 + 23 / 24])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "a,2024-03-05 25:00,1\nb,2024-03-06,2\n",
            r"1 of 2 rows \(line 2\) are dates with a time of day that is not",
        ),
        ("a,2024/3/5 13:00 PM,1\nb,2024/3/6,2\n", "time of day that is not one"),
        ("a,2024-03-05 10:61,1\nb,2024-03-06,2\n", "time of day that is not one"),
        (
            "a,2024-03-05,1\nb,03/04/2024,2\n",
            r"'03/04/2024' \(1 cells\) can be read day-first or month-first",
        ),
    ],
)
def test_bad_times_and_ambiguous_mixtures(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(CalibrationError, match=message):
        read_transactions(write(tmp_path, body))


def test_date_format_reads_the_ambiguous_cells_of_a_mixed_file(tmp_path: Path) -> None:
    log = read_transactions(write(tmp_path, "a,2024-03-05,1\nb,03/04/2024,2\n"), date_format="%m/%d/%Y")
    assert [log.dates.label(day) for day in log.day] == ["2024-03-05", "2024-03-04"]
    assert log.dates.format == "%m/%d/%Y + %Y-%m-%d"


def test_calibration_end_is_read_like_the_file() -> None:
    origin = np.datetime64("2024-01-01T00:00:00")
    month_first = DateColumn(np.zeros(1), origin, "%m/%d/%Y")
    assert month_first.to_day("03/04/2024") == 63.0  # 4 March, as the file's dates are read
    unknown = DateColumn(np.zeros(1), origin, "ISO 8601")
    assert unknown.to_day("25/03/2024") == 84.0  # only one reading is a date
    with pytest.raises(CalibrationError, match="day-first or month-first; write it as YYYY-MM-DD"):
        unknown.to_day("03/04/2024")
    numbers = DateColumn(np.zeros(1), None, "day numbers")
    for text in ("nan", "inf", "soon"):
        with pytest.raises(CalibrationError, match="give a day number"):
            numbers.to_day(text)


@pytest.mark.parametrize(
    ("cell", "value"),
    [('"1,280.50"', 1280.5), ('"¥12,345,678"', 12345678.0), ('"1，280.50"', 1280.5), ('"-¥1,280"', -1280.0)],
)
def test_thousands_separators(tmp_path: Path, cell: str, value: float) -> None:
    log = read_transactions(write(tmp_path, f"a,2024-03-05,{cell}\n"))
    assert log.amount.tolist() == [value]


@pytest.mark.parametrize("cell", ['"12,50"', '"1.280,50"', '"1,28"'])
def test_decimal_commas_are_refused(tmp_path: Path, cell: str) -> None:
    """12,50 is twelve and a half in a European export: not 1 250."""
    with pytest.raises(CalibrationError, match=r"not amounts .*a decimal comma \(12,50\) is not read"):
        read_transactions(write(tmp_path, f"a,2024-03-05,{cell}\n"))


def test_unquoted_thousands_separator(tmp_path: Path) -> None:
    """¥1,280.00 unquoted in a CSV splits into two fields: said so, not read as a shifted table."""
    with pytest.raises(CalibrationError, match=r"every line has 4 fields but the header names 3.*unquoted"):
        read_transactions(write(tmp_path, "a,2024-03-05,¥1,280.00\nb,2024-03-06,¥2,000.00\n"))
    with pytest.raises(CalibrationError, match=r"Expected 3 fields in line 3, saw 4.*unquoted"):
        read_transactions(write(tmp_path, "a,2024-03-05,¥280.00\nb,2024-03-06,¥2,000.00\n"))


def test_gbk_after_a_long_ascii_start(tmp_path: Path) -> None:
    """The encoding is decided on the whole file, not its first 64 KB."""
    body = "".join(f"c{i},2024-03-05,10\n" for i in range(6000)) + "王五,2024-03-06,5\n"
    log = read_transactions(write(tmp_path, body, encoding="gbk"))
    assert log.customer_labels[-1] == "王五"


@pytest.mark.parametrize("form", ["%Q", "", " %H:%M"])
def test_bad_date_format_option(tmp_path: Path, form: str) -> None:
    with pytest.raises(CalibrationError, match=r"--date-format .*: not a strftime date format"):
        read_transactions(write(tmp_path, "a,2024-03-05,1\n"), date_format=form)
