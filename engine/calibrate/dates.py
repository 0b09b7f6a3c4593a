"""Order dates as exports write them, read into days since the earliest one, every unreadable cell reported.

Dates: ISO (2024-03-05, 2024-03-05T14:22:01), 2024/3/5, 2024.3.5, 20240305, 2024年3月5日, and day-first or
month-first with slashes, dots or dashes (05/03/2024): those only when one reading fits every such cell,
else ``--date-format``. A file may mix these; each cell is read in the first unambiguous format that reads
it, and ``--date-format`` says how to read the rest. A time of day may follow (14:22, 14:22:01.5,
2:22 PM); an offset after it (+08:00, Z) is ignored: a purchase is on the calendar day the export wrote,
as are timezone-aware Excel or Parquet dates. A numeric column of 8-digit numbers is read as YYYYMMDD, any
other numeric column as day numbers (the engine's ``day``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from engine.calibrate.values import first_values, problem_rows
from engine.errors import CalibrationError

DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%Y%m%d",
    "%Y年%m月%d日",
)
"""Unambiguous date formats tried in turn (on the date part of each cell)."""
AMBIGUOUS_FORMATS = ("%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%m-%d-%Y")
"""Day-first and month-first formats: used only when exactly one of them reads every cell left."""
ALLOWED_DATES = (
    "dates like 2024-03-05, 2024/3/5, 2024.3.5, 20240305 or 2024年3月5日 (a time of day such as 14:22 "
    "may follow), 05/03/2024 with --date-format %d/%m/%Y, or day numbers"
)
TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*([AaPp][Mm])?")
"""A time of day: 14:22, 14:22:01, 14:22:01.250, 2:22 PM."""
OFFSET = r"\s*(?:[Zz]|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$"
"""A time zone after the time of day (ignored: the wall-clock time as written counts)."""
DAY = np.timedelta64(1, "D")


@dataclass(frozen=True)
class DateColumn:
    """Transaction times as days since ``origin`` and how they were read."""

    day: np.ndarray
    """Days since ``origin`` (fractions keep the time of day)."""
    origin: np.datetime64 | None
    """Midnight of the earliest date; None when the column holds day numbers."""
    format: str
    """What was recognised: strftime format(s) joined by ' + ', 'ISO 8601', 'Excel/Parquet dates' or
    'day numbers'."""

    def label(self, day: float) -> str:
        """A day as the user wrote it: a date (YYYY-MM-DD) or 'day 12.5'."""
        if self.origin is None:
            return f"day {day:g}"
        when = self.origin + np.timedelta64(int(np.floor(day)), "D")
        return str(np.datetime_as_string(when, unit="D"))

    def to_day(self, text: str, option: str = "--calibration-end") -> float:
        """A date or day number given on the command line (``option``), in days since origin.

        A day-first or month-first date is read as the file's dates were, and refused when the file does
        not say which and both readings are dates.
        """
        if self.origin is None:
            try:
                value = float(text)
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                raise CalibrationError(
                    f"{option} '{text}': the file's dates are day numbers, so give a day number"
                )
            return value
        for form in ("ISO8601", *DATE_FORMATS):
            parsed = _one_date(text, form)
            if parsed is not None:
                return float((np.datetime64(parsed, "s") - self.origin) / DAY)
        readings = {form: _one_date(text, form) for form in AMBIGUOUS_FORMATS}
        readings = {form: value for form, value in readings.items() if value is not None}
        preferred = [form for form in self.format.split(" + ") if form in readings]
        if preferred or len(set(readings.values())) == 1:
            parsed = readings[preferred[0]] if preferred else next(iter(readings.values()))
            return float((np.datetime64(parsed, "s") - self.origin) / DAY)
        if readings:
            raise CalibrationError(
                f"{option} '{text}': can be read day-first or month-first; write it as YYYY-MM-DD"
            )
        raise CalibrationError(f"{option} '{text}': not a date; allowed: {ALLOWED_DATES}")


def _one_date(text: str, form: str) -> pd.Timestamp | None:
    """``text`` read with ``form`` (wall-clock time, any offset dropped), or None."""
    try:
        parsed = pd.to_datetime(pd.Series([text.strip()]), format=form, errors="coerce").iloc[0]
    except ValueError:
        return None
    if pd.isna(parsed):
        return None
    return parsed.tz_localize(None) if parsed.tzinfo is not None else parsed


def parse_dates(
    column: pd.Series, path: Path, name: str, rows: np.ndarray, word: str, date_format: str | None = None
) -> DateColumn:
    """Read a date column (see the module docstring); every cell must be a date."""
    if pd.api.types.is_datetime64_any_dtype(column):
        if isinstance(column.dtype, pd.DatetimeTZDtype):
            column = column.dt.tz_localize(None)  # the local time the export wrote
        return _as_days(column, "Excel/Parquet dates")
    if pd.api.types.is_numeric_dtype(column) and date_format is None:
        values = column.to_numpy(dtype=np.float64)
        if np.all(np.isfinite(values)) and np.all(values == np.round(values)) and values.min() >= 19000101:
            column = column.astype(np.int64).astype(str)
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
    date_part = pieces.str[0].astype(str)
    time_part = pd.Series(
        [piece[1] if len(piece) > 1 else "" for piece in pieces], index=text.index, dtype=object
    ).astype(str)
    parsed, form = _read_dates(date_part, date_format, path, name)
    bad = parsed.isna().to_numpy()
    if bad.any():
        within = f" in the format {form}" if form else ""
        raise CalibrationError(
            f"{path}: column '{name}': {problem_rows(rows, bad, word)} not dates{within} "
            f"(e.g. {first_values(column, bad)}); allowed: {ALLOWED_DATES}"
        )
    seconds, bad = _time_of_day(time_part)
    if bad.any():
        raise CalibrationError(
            f"{path}: column '{name}': {problem_rows(rows, bad, word)} dates with a time of day that is "
            f"not one (e.g. {first_values(column, bad)}); allowed: 14:22, 14:22:01, 2:22 PM (0–23 hours, "
            "0–59 minutes and seconds)"
        )
    return _as_days(parsed + pd.to_timedelta(pd.Series(seconds, index=parsed.index), unit="s"), form)


def _read_dates(
    date_part: pd.Series, date_format: str | None, path: Path, name: str
) -> tuple[pd.Series, str]:
    """The date part of each cell (NaT where unread) and the format(s) that read them."""
    if date_format is not None:
        try:
            if not _date_only(date_format).strip():
                raise ValueError("no date in it")
            own = pd.to_datetime(date_part, format=_date_only(date_format), errors="coerce")
        except ValueError as error:
            raise CalibrationError(
                f"--date-format '{date_format}': not a strftime date format ({error}); e.g. %d/%m/%Y"
            ) from None
        return _fill(own.astype("datetime64[s]"), date_part, DATE_FORMATS, [date_format])
    try:
        iso = pd.to_datetime(date_part, format="ISO8601", errors="coerce")
    except ValueError:  # pandas refuses some mixtures outright
        iso = pd.Series(pd.NaT, index=date_part.index, dtype="datetime64[s]")
    if iso.notna().all():
        return iso, "ISO 8601"
    empty = pd.Series(pd.NaT, index=date_part.index, dtype="datetime64[s]")
    combined, form = _fill(empty, date_part, DATE_FORMATS, [])
    missing = combined.isna()
    if not missing.any():
        return combined, form
    complete = [
        option
        for option in AMBIGUOUS_FORMATS
        if pd.to_datetime(date_part[missing], format=option, errors="coerce").notna().all()
    ]
    if len(complete) > 1:
        example = date_part[missing].iloc[0]
        raise CalibrationError(
            f"{path}: column '{name}': dates like {example!r} ({int(missing.sum())} cells) can be read "
            f"day-first or month-first ({' or '.join(complete)}); say which with --date-format, e.g. "
            f"--date-format '{complete[0]}'"
        )
    if complete:
        return _fill(combined, date_part, complete[:1], form.split(" + ") if form else [])
    return combined, form


def _fill(
    parsed: pd.Series, date_part: pd.Series, formats: Sequence[str], used: list[str]
) -> tuple[pd.Series, str]:
    """Cells still unread, read with each of ``formats`` in turn; the formats that read any."""
    for form in formats:
        missing = parsed.isna()
        if not missing.any():
            break
        found = pd.to_datetime(date_part[missing], format=form, errors="coerce")
        if found.notna().any():
            parsed[missing] = found
            used.append(form)
    return parsed, " + ".join(used)


def _date_only(date_format: str) -> str:
    """The date part of a user's format (the time of day is read separately)."""
    return re.split(r"[ T]%[HIp]", date_format, maxsplit=1)[0]


def _time_of_day(time_part: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Seconds since midnight of each time of day ('' is midnight), and which cells are not times."""
    cleaned = time_part.str.replace(OFFSET, "", regex=True).str.strip()
    given = cleaned.ne("").to_numpy()
    parts = cleaned.str.fullmatch(TIME)
    found = cleaned.str.extract(TIME.pattern + "$")
    hour = pd.to_numeric(found[0], errors="coerce").to_numpy(dtype=np.float64)
    minute = pd.to_numeric(found[1], errors="coerce").to_numpy(dtype=np.float64)
    second = pd.to_numeric(found[2], errors="coerce").fillna(0).to_numpy(dtype=np.float64)
    fraction = pd.to_numeric("0." + found[3].fillna("0"), errors="coerce").to_numpy(dtype=np.float64)
    meridiem = found[4].fillna("").str.upper().to_numpy()
    twelve = meridiem != ""
    with np.errstate(invalid="ignore"):
        valid = (
            parts.to_numpy(dtype=bool)
            & np.where(twelve, (hour >= 1) & (hour <= 12), hour <= 23)
            & (minute <= 59)
            & (second <= 59)
        )
    hour = np.where(twelve, hour % 12 + np.where(meridiem == "PM", 12, 0), hour)
    seconds = np.where(given & valid, hour * 3600 + minute * 60 + second + fraction, 0.0)
    return seconds, given & ~valid


def _as_days(parsed: pd.Series, form: str) -> DateColumn:
    stamps = parsed.to_numpy(dtype="datetime64[s]")
    origin = stamps.min().astype("datetime64[D]").astype("datetime64[s]")
    return DateColumn((stamps - origin) / DAY, origin, form)
