"""Amounts as order exports write them, read into numbers, and how problem rows are reported.

Amounts: numbers, or text with currency symbols or codes (¥ ￥ $ € £ 元 RMB CNY USD …), thousands separators
(1,280.50 or 1，280.50: a comma must separate groups of three digits, so a decimal comma such as 12,50 is
refused rather than read as 1250) and (12.50) for −12.50. Dates: :mod:`engine.calibrate.dates`.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from engine.errors import CalibrationError

CURRENCY = re.compile(r"(?i)(rmb|cny|usd|hkd|eur|gbp|jpy|元|¥|￥|\$|€|£|\s)")
GROUPED = r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?"
"""A number with thousands separators."""
SHOWN_ROWS = 5


def problem_rows(rows: np.ndarray, bad: np.ndarray, word: str) -> str:
    """'3 of 120 rows (lines 4, 9, 17) are': how many are bad, and where the first few are."""
    where = rows[bad][:SHOWN_ROWS]
    shown = ", ".join(str(int(r)) for r in where) + (", …" if int(bad.sum()) > SHOWN_ROWS else "")
    plural = "s" if len(where) > 1 else ""
    return f"{int(bad.sum())} of {bad.size} rows ({word}{plural} {shown}) are"


def first_values(column: pd.Series, bad: np.ndarray) -> str:
    """The first few bad cells, quoted."""
    return ", ".join(repr(str(v)) for v in column[bad].head(3))


def parse_amounts(column: pd.Series, path: Path, name: str, rows: np.ndarray, word: str) -> np.ndarray:
    """Read an amount column (see the module docstring); every cell must be a finite number."""
    misgrouped = np.zeros(len(column), dtype=bool)
    if pd.api.types.is_numeric_dtype(column):
        values = column.to_numpy(dtype=np.float64)
    else:
        text = column.astype(str).str.strip()
        negative = text.str.fullmatch(r"\(.*\)")
        cleaned = text.str.strip("()").str.replace(CURRENCY, "", regex=True).str.replace("，", ",")
        grouped = cleaned.str.contains(",", regex=False)
        misgrouped = (grouped & ~cleaned.str.fullmatch(GROUPED)).to_numpy(dtype=bool)
        values = pd.to_numeric(cleaned.str.replace(",", ""), errors="coerce").to_numpy(dtype=np.float64)
        values = np.where(negative.to_numpy(), -np.abs(values), values)
        values[misgrouped] = np.nan
    bad = ~np.isfinite(values)
    if bad.any():
        comma = (
            "; a comma separates thousands (1,280.50): a decimal comma (12,50) is not read"
            if misgrouped.any()
            else ""
        )
        raise CalibrationError(
            f"{path}: column '{name}': {problem_rows(rows, bad, word)} not amounts "
            f"(e.g. {first_values(column, bad)}); allowed: numbers such as 128.50, ¥1,280.00, 1280元, "
            f"(12.50) for a refund{comma}"
        )
    return values
