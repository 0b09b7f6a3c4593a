"""Read a transaction log (CSV, Parquet or Excel) into customers, purchase times and amounts.

Column names are the user's (``--customer-col``, ``--date-col``, ``--amount-col``); several comma-separated
customer columns form one key (``replication,customer_id`` for the engine's own transaction log). Dates are
read in the common formats (:mod:`engine.calibrate.dates`), or are day numbers when the column is numeric
(the engine's ``day``); amounts may carry currency symbols and thousands separators
(:mod:`engine.calibrate.values`). CSV is UTF-8 or GBK (decided on the whole file); a line with more fields
than the header (an unquoted ¥1,280.00) is refused. Every problem is raised as one
:class:`~engine.errors.CalibrationError` naming the file, the rows, the column, the value and what is
allowed, never as a traceback.
"""

from __future__ import annotations

import csv
import difflib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from engine.calibrate.dates import DateColumn, parse_dates
from engine.calibrate.values import parse_amounts, problem_rows
from engine.errors import CalibrationError

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
UNQUOTED = (
    "; a value may hold an unquoted delimiter, such as an amount written ¥1,280.00 in a comma-separated "
    "file: quote such values (Excel's 'Save as CSV' does) or drop the thousands separators"
)


@dataclass(frozen=True)
class Columns:
    """Which columns of the file hold what."""

    customer: tuple[str, ...] = ("customer_id",)
    """Column(s) that identify a customer (several together form one key)."""
    date: str = "date"
    """Column with the date (or day number) of each transaction."""
    amount: str = "amount"
    """Column with the amount of each transaction."""


@dataclass(frozen=True)
class TransactionLog:
    """Every transaction of a file: who, when (days since ``origin``), how much."""

    path: Path
    """The file read."""
    customer: np.ndarray
    """Customer code (0 … customers−1) of each transaction."""
    customer_labels: np.ndarray
    """The customer of each code as the file names it (several key columns joined by '/')."""
    day: np.ndarray
    """Days since ``origin`` (dates: whole days at midnight plus the time of day; day numbers as given)."""
    amount: np.ndarray
    """Amount of each transaction (returns negative)."""
    row: np.ndarray
    """Where each transaction is in the file, as the user sees it (CSV line, Excel row, Parquet row)."""
    dates: DateColumn
    """How the dates were read, and their origin (None for day numbers)."""
    row_word: str
    """What ``row`` counts: 'line' (CSV), 'row' (Excel, Parquet)."""
    columns: Columns
    """The columns read."""

    @property
    def customers(self) -> int:
        return int(self.customer.max()) + 1 if self.customer.size else 0

    def where(self, index: int) -> str:
        """'line 17' / 'row 17' of transaction ``index``."""
        return f"{self.row_word} {int(self.row[index])}"


def read_transactions(
    path: Path, columns: Columns = Columns(), date_format: str | None = None
) -> TransactionLog:
    """Read ``path`` and parse its customer, date and amount columns.

    Raises:
        CalibrationError: the file cannot be read, is empty, lacks a column, or has values that are not
            dates or amounts (the message lists how many rows and the first of them).
    """
    frame, row_offset, row_word = _read_frame(path, columns)
    if frame.empty:
        raise CalibrationError(
            f"{path}: no transactions (the file has the columns {', '.join(map(str, frame.columns))} "
            "but no rows)"
        )
    _check_columns(path, frame, columns)
    rows = np.arange(len(frame)) + row_offset
    for name in (*columns.customer, columns.date, columns.amount):
        blank = _blank(frame[name])
        if blank.any():
            raise CalibrationError(
                f"{path}: column '{name}': {problem_rows(rows, blank, row_word)} empty; "
                "every transaction needs a customer, a date and an amount"
            )
    dates = parse_dates(frame[columns.date], path, columns.date, rows, row_word, date_format)
    amount = parse_amounts(frame[columns.amount], path, columns.amount, rows, row_word)
    key = [frame[name].astype(str).str.strip() for name in columns.customer]
    if len(key) > 1:
        customer, keys = pd.MultiIndex.from_arrays(key).factorize()
        labels = np.array(["/".join(map(str, k)) for k in keys], dtype=object)
    else:
        customer, keys = key[0].factorize()
        labels = np.asarray(keys, dtype=object)
    return TransactionLog(
        path=path,
        customer=np.asarray(customer, dtype=np.int64),
        customer_labels=labels,
        day=dates.day,
        amount=amount,
        row=rows,
        dates=dates,
        row_word=row_word,
        columns=columns,
    )


def _read_frame(path: Path, columns: Columns) -> tuple[pd.DataFrame, int, str]:
    """The file as text/typed columns, the user-facing number of its first data row, and what rows are."""
    if not path.exists():
        raise CalibrationError(f"{path}: no such file")
    if path.is_dir():
        raise CalibrationError(f"{path}: is a directory, not a transaction log")
    suffix = path.suffix.lower()
    wanted = {*columns.customer, columns.date, columns.amount}
    try:
        if suffix in PARQUET_SUFFIXES:
            return pd.read_parquet(path), 1, "row"
        if suffix in EXCEL_SUFFIXES:
            frame = pd.read_excel(path, dtype=dict.fromkeys(columns.customer, object))
            return frame, 2, "row"
        if suffix in CSV_SUFFIXES:
            return _read_csv(path, wanted), 2, "line"
    except CalibrationError:
        raise
    except pd.errors.EmptyDataError:
        raise CalibrationError(f"{path}: the file is empty (no header, no transactions)") from None
    except pd.errors.ParserError as error:
        reason = str(error).strip()
        raise CalibrationError(f"{path}: cannot be read as {suffix[1:]} ({reason}){UNQUOTED}") from None
    except (ImportError, ModuleNotFoundError) as error:
        raise CalibrationError(f"{path}: cannot read this kind of file here ({error})") from None
    except UnicodeDecodeError as error:
        raise CalibrationError(
            f"{path}: not UTF-8 or GBK text (byte 0x{error.object[error.start]:02x} at offset "
            f"{error.start}); "
            "save the file as UTF-8"
        ) from None
    except Exception as error:  # the readers' own failures on a malformed file are still bad input
        raise CalibrationError(
            f"{path}: cannot be read as {suffix[1:]} ({type(error).__name__}: {error})"
        ) from None
    raise CalibrationError(
        f"{path}: unknown kind of file '{suffix or '(no suffix)'}'; "
        f"allowed: CSV ({', '.join(CSV_SUFFIXES)}), "
        f"Parquet ({', '.join(PARQUET_SUFFIXES)}) or Excel ({', '.join(EXCEL_SUFFIXES)})"
    )


def _read_csv(path: Path, wanted: set[str]) -> pd.DataFrame:
    """A delimited text file, UTF-8 or GBK (GB 18030); the delimiter (, ; tab |) is sniffed, the key
    columns are read as text."""
    raw = path.read_bytes()
    if not raw.strip():
        raise pd.errors.EmptyDataError
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030")  # exports from Chinese Excel
    header = text.lstrip().split("\n", 1)[0]
    try:
        delimiter = csv.Sniffer().sniff(header, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    frame = pd.read_csv(
        io.StringIO(text), sep=delimiter, dtype=dict.fromkeys(wanted, str), keep_default_na=False
    )
    if not isinstance(frame.index, pd.RangeIndex):  # pandas takes extra leading fields as an index
        fields = len(frame.columns) + frame.index.nlevels
        raise CalibrationError(
            f"{path}: every line has {fields} fields but the header names {len(frame.columns)}{UNQUOTED}"
        )
    return frame


def _check_columns(path: Path, frame: pd.DataFrame, columns: Columns) -> None:
    present = [str(c) for c in frame.columns]
    problems = []
    for option, names in (
        ("--customer-col", columns.customer),
        ("--date-col", (columns.date,)),
        ("--amount-col", (columns.amount,)),
    ):
        for name in names:
            if name not in present:
                close = [
                    c for c in present if c.strip().lower() == name.lower()
                ] or difflib.get_close_matches(name, present, n=1, cutoff=0.5)
                hint = f" — did you mean '{close[0]}'?" if close else ""  # engine.scenario.explain's wording
                problems.append(f"no column '{name}' ({option}){hint}")
    if problems:
        raise CalibrationError(f"{path}: {'; '.join(problems)}; the file's columns are: {', '.join(present)}")


def _blank(column: pd.Series) -> np.ndarray:
    """Missing or empty cells."""
    missing = column.isna().to_numpy(dtype=bool, copy=True)
    if column.dtype == object or pd.api.types.is_string_dtype(column):
        missing |= column.astype(str).str.strip().eq("").to_numpy(dtype=bool)
    return missing
