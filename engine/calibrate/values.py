"""Dates and amounts as order exports write them, read into numbers, with every unreadable cell reported.

Dates: ISO (2024-03-05, 2024-03-05T14:22:01), 2024/3/5, 2024.3.5, 20240305, 2024年3月5日, day-first or
month-first with slashes (05/03/2024, only when the file is unambiguous, else ``--date-format``), each with
or without a time of day; Excel and Parquet dates as they are; a numeric column of 8-digit numbers is read
as YYYYMMDD, any other numeric column as day numbers (the engine's ``day``). Amounts: numbers, or text with
currency symbols or codes (¥ ￥ $ € £ 元 RMB CNY USD …), thousands separators and (12.50) for −12.50.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from engine.errors import CalibrationError

DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%Y%m%d",
    "%Y年%m月%d日",
)
"""Unambiguous date formats tried in turn (on the date part of each cell; a time of day is kept)."""
AMBIGUOUS_FORMATS = ("%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%m-%d-%Y")
"""Day-first and month-first formats: used only when exactly one of them reads every cell."""
ALLOWED_DATES = (
    "dates like 2024-03-05, 2024/3/5, 2024.3.5, 20240305 or 2024年3月5日 (a time of day may follow), "
    "05/03/2024 with --date-format %d/%m/%Y, or day numbers"
)
CURRENCY = re.compile(r"(?i)(rmb|cny|usd|hkd|eur|gbp|jpy|元|¥|￥|\$|€|£|\s|,|，)")
SHOWN_ROWS = 5
DAY = np.timedelta64(1, "D")


@dataclass(frozen=True)
class DateColumn:
    """Transaction times as days since ``origin`` and how they were read."""

    day: np.ndarray
    """Days since ``origin`` (fractions keep the time of day)."""
    origin: np.datetime64 | None
    """Midnight of the earliest date; None when the column holds day numbers."""
    format: str
    """What was recognised: a strftime format, 'ISO 8601', 'Excel/Parquet dates' or 'day numbers'."""

    def label(self, day: float) -> str:
        """A day as the user wrote it: a date (YYYY-MM-DD) or 'day 12.5'."""
        if self.origin is None:
            return f"day {day:g}"
        when = self.origin + np.timedelta64(int(np.floor(day)), "D")
        return str(np.datetime_as_string(when, unit="D"))

    def to_day(self, text: str, option: str = "--calibration-end") -> float:
        """A date or day number given on the command line (``option``), in days since origin."""
        if self.origin is None:
            try:
                return float(text)
            except ValueError:
                raise CalibrationError(
                    f"{option} '{text}': the file's dates are day numbers, so give a day number"
                ) from None
        for form in ("ISO8601", *DATE_FORMATS, *AMBIGUOUS_FORMATS):
            parsed = pd.to_datetime(pd.Series([text]), format=form, errors="coerce").iloc[0]
            if not pd.isna(parsed):
                return float((np.datetime64(parsed, "s") - self.origin) / DAY)
        raise CalibrationError(f"{option} '{text}': not a date; allowed: {ALLOWED_DATES}")


def problem_rows(rows: np.ndarray, bad: np.ndarray, word: str) -> str:
    """'3 of 120 rows (lines 4, 9, 17)': how many are bad, and where the first few are."""
    where = rows[bad][:SHOWN_ROWS]
    shown = ", ".join(str(int(r)) for r in where) + (", …" if int(bad.sum()) > SHOWN_ROWS else "")
    plural = "s" if len(where) > 1 else ""
    return f"{int(bad.sum())} of {bad.size} rows ({word}{plural} {shown}) are"


def _first_values(column: pd.Series, bad: np.ndarray) -> str:
    return ", ".join(repr(str(v)) for v in column[bad].head(3))


def parse_dates(
    column: pd.Series, path: Path, name: str, rows: np.ndarray, word: str, date_format: str | None = None
) -> DateColumn:
    """Read a date column (see the module docstring); every cell must be a date."""
    if pd.api.types.is_datetime64_any_dtype(column):
        return _as_days(column, "Excel/Parquet dates")
    if pd.api.types.is_numeric_dtype(column) and date_format is None:
        values = column.to_numpy(dtype=np.float64)
        if np.all(np.isfinite(values)) and np.all(values == np.round(values)) and values.min() >= 19000101:
            column = column.astype(np.int64).astype(str)
            date_format = "%Y%m%d"
        else:
            bad = ~np.isfinite(values)
            if bad.any():
                raise CalibrationError(
                    f"{path}: column '{name}': {problem_rows(rows, bad, word)} not day numbers"
                )
            return DateColumn(values - 0.0, None, "day numbers")
    text = column.astype(str).str.strip()
    if date_format is None and text.str.fullmatch(r"-?\d+(\.\d+)?").all():
        values = text.astype(np.float64).to_numpy()
        if not (np.all(values == np.round(values)) and values.min() >= 19000101):
            return DateColumn(values, None, "day numbers")
    pieces = text.str.split(r"[ T]", n=1, regex=True)
    date_part = pieces.str[0]
    time_part = pd.Series(
        [piece[1] if len(piece) > 1 else "" for piece in pieces], index=text.index, dtype=object
    ).astype(str)
    if date_format is not None:
        parsed = pd.to_datetime(date_part, format=_date_only(date_format), errors="coerce")
        return _checked(parsed, time_part, date_format, column, path, name, rows, word)
    iso = pd.to_datetime(text, format="ISO8601", errors="coerce")
    if not iso.isna().any():
        return _as_days(iso, "ISO 8601")
    # each cell in the first unambiguous format that reads it (an export may mix two)
    combined = pd.Series(pd.NaT, index=text.index, dtype="datetime64[s]")
    used = []
    for form in DATE_FORMATS:
        missing = combined.isna()
        if not missing.any():
            break
        parsed = pd.to_datetime(date_part[missing], format=form, errors="coerce")
        if parsed.notna().any():
            combined[missing] = parsed
            used.append(form)
    if combined.notna().all():
        return _checked(combined, time_part, " + ".join(used), column, path, name, rows, word)
    complete = [
        form
        for form in AMBIGUOUS_FORMATS
        if pd.to_datetime(date_part, format=form, errors="coerce").notna().all()
    ]
    if len(complete) == 1:
        parsed = pd.to_datetime(date_part, format=complete[0], errors="coerce")
        return _checked(parsed, time_part, complete[0], column, path, name, rows, word)
    if len(complete) > 1:
        raise CalibrationError(
            f"{path}: column '{name}': dates like {text.iloc[0]!r} can be read day-first or month-first "
            f"({' or '.join(complete)}); say which with --date-format, e.g. --date-format '{complete[0]}'"
        )
    bad = combined.isna().to_numpy()
    raise CalibrationError(
        f"{path}: column '{name}': {problem_rows(rows, bad, word)} not dates "
        f"(e.g. {_first_values(column, bad)}); allowed: {ALLOWED_DATES}"
    )


def _date_only(date_format: str) -> str:
    """The date part of a user's format (the time of day is read separately)."""
    return re.split(r"[ T]%H", date_format, maxsplit=1)[0]


def _checked(
    parsed: pd.Series,
    time_part: pd.Series,
    form: str,
    column: pd.Series,
    path: Path,
    name: str,
    rows: np.ndarray,
    word: str,
) -> DateColumn:
    """Dates read with ``form`` plus their time of day; any cell still unread is an error."""
    seconds = pd.to_timedelta(
        time_part.where(time_part.str.count(":") != 1, time_part + ":00"), errors="coerce"
    )
    seconds = seconds.where(time_part != "", pd.Timedelta(0))
    bad = (parsed.isna() | seconds.isna()).to_numpy()
    if bad.any():
        raise CalibrationError(
            f"{path}: column '{name}': {problem_rows(rows, bad, word)} not dates in the format {form} "
            f"(e.g. {_first_values(column, bad)}); allowed: {ALLOWED_DATES}"
        )
    return _as_days(parsed + seconds, form)


def _as_days(parsed: pd.Series, form: str) -> DateColumn:
    stamps = parsed.to_numpy(dtype="datetime64[s]")
    origin = stamps.min().astype("datetime64[D]").astype("datetime64[s]")
    return DateColumn((stamps - origin) / DAY, origin, form)


def parse_amounts(column: pd.Series, path: Path, name: str, rows: np.ndarray, word: str) -> np.ndarray:
    """Read an amount column (see the module docstring); every cell must be a finite number."""
    if pd.api.types.is_numeric_dtype(column):
        values = column.to_numpy(dtype=np.float64)
    else:
        text = column.astype(str).str.strip()
        negative = text.str.fullmatch(r"\(.*\)")
        cleaned = text.str.strip("()").str.replace(CURRENCY, "", regex=True)
        values = pd.to_numeric(cleaned, errors="coerce").to_numpy(dtype=np.float64)
        values = np.where(negative.to_numpy(), -np.abs(values), values)
    bad = ~np.isfinite(values)
    if bad.any():
        raise CalibrationError(
            f"{path}: column '{name}': {problem_rows(rows, bad, word)} not amounts "
            f"(e.g. {_first_values(column, bad)}); allowed: numbers such as 128.50, ¥1,280.00, 1280元, "
            "(12.50) for a refund"
        )
    return values
