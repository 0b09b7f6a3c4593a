"""Exports for finance: ``summary.csv`` (UTF-8 with BOM, so Excel keeps the Chinese) and ``summary.xlsx``.

Both hold every metric of the run and of each breakdown group as rows of ``dimension, group, metric, mean,
ci_low, ci_high`` with Chinese and English labels; an empty cell is an undefined value (see the report's
notes for why).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from engine.metrics import DIMENSION_METRICS, METRICS, MetricInfo
from reports.labels import metric_definition, text
from reports.loading import RunResults

OVERALL = "all"
"""The ``dimension`` of the run's own metrics (its ``group`` is empty)."""
COLUMNS = (
    "dimension",
    "group",
    "group_zh",
    "group_en",
    "metric",
    "metric_zh",
    "metric_en",
    "unit",
    "mean",
    "ci_low",
    "ci_high",
)


@dataclass(frozen=True)
class ExportRow:
    """One metric of the run or of one breakdown group."""

    dimension: str
    group: str
    group_zh: str
    group_en: str
    info: MetricInfo
    unit: str
    mean: float | None
    ci_low: float | None
    ci_high: float | None

    def cells(self) -> list[str | float | None]:
        """The row's cells in the order of :data:`COLUMNS`."""
        return [
            self.dimension,
            self.group,
            self.group_zh,
            self.group_en,
            self.info.name,
            self.info.zh,
            self.info.en,
            self.unit,
            self.mean,
            self.ci_low,
            self.ci_high,
        ]


def export_rows(results: RunResults) -> Iterator[ExportRow]:
    """The run's metrics (dimension ``all``), then every breakdown dimension's groups and metrics."""
    currency = results.currency

    def unit(info: MetricInfo) -> str:
        return currency if info.unit == "money" else info.unit

    for info in METRICS:
        summary = results.summary["metrics"][info.name]
        yield ExportRow(OVERALL, "", "", "", info, unit(info), *_values(summary))
    for dimension, groups in results.summary["breakdown"].items():
        for group, metrics in groups.items():
            zh, en = results.label(dimension, group, "zh"), results.label(dimension, group, "en")
            for info in DIMENSION_METRICS[dimension]:
                yield ExportRow(dimension, group, zh, en, info, unit(info), *_values(metrics[info.name]))


def _values(summary: dict[str, float | None]) -> tuple[float | None, float | None, float | None]:
    return summary["mean"], summary["ci_low"], summary["ci_high"]


def summary_csv(results: RunResults) -> str:
    """``summary.csv`` as text (write it with encoding ``utf-8-sig``): the columns of :data:`COLUMNS`,
    numbers in full precision, an empty cell where a value is undefined."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in export_rows(results):
        writer.writerow(
            ["" if cell is None else repr(cell) if isinstance(cell, float) else cell for cell in row.cells()]
        )
    return buffer.getvalue()


NUMBER_FORMATS = {"share": "0.0%", "money": "#,##0.00", "count": "#,##0", "days": "#,##0.0", "ratio": "0.00"}
SHEET_METRICS = "指标 metrics"
SHEET_BREAKDOWNS = "分项 breakdowns"
SHEET_ASSUMPTIONS = "假设 assumptions"


def write_summary_xlsx(results: RunResults, path: Path) -> None:
    """``summary.xlsx``: the run's metrics with definitions, the breakdowns, and the resolved scenario;
    numbers are numbers (formatted as %, money, counts), undefined values are empty cells."""
    workbook = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": False})
    try:
        bold = workbook.add_format({"bold": True, "bg_color": "#E8EAF0", "border": 1})
        formats = {unit: workbook.add_format({"num_format": fmt}) for unit, fmt in NUMBER_FORMATS.items()}
        rows = list(export_rows(results))

        overall = workbook.add_worksheet(SHEET_METRICS)
        header = ["metric", "指标", "metric (en)", "unit", "mean", "ci_low", "ci_high", "定义", "definition"]
        overall.write_row(0, 0, header, bold)
        for r, row in enumerate((row for row in rows if row.dimension == OVERALL), start=1):
            info = row.info
            overall.write_row(r, 0, [info.name, info.zh, info.en, row.unit])
            _write_numbers(overall, r, 4, row, formats[info.unit])
            overall.write_row(r, 7, [metric_definition(info.name, "zh"), metric_definition(info.name, "en")])
        overall.set_column(0, 0, 22)
        overall.set_column(1, 2, 24)
        overall.set_column(4, 6, 16)
        overall.set_column(7, 8, 60)
        overall.freeze_panes(1, 1)

        breakdowns = workbook.add_worksheet(SHEET_BREAKDOWNS)
        breakdowns.write_row(0, 0, COLUMNS, bold)
        r = 0
        for row in rows:
            if row.dimension == OVERALL:
                continue
            r += 1
            breakdowns.write_row(r, 0, row.cells()[:8])
            _write_numbers(breakdowns, r, 8, row, formats[row.info.unit])
        breakdowns.autofilter(0, 0, max(r, 1), len(COLUMNS) - 1)
        breakdowns.set_column(0, 7, 16)
        breakdowns.set_column(8, 10, 16)
        breakdowns.freeze_panes(1, 0)

        assumptions = workbook.add_worksheet(SHEET_ASSUMPTIONS)
        assumptions.write(0, 0, f"{text('assumptions', 'zh')} / {text('assumptions', 'en')}", bold)
        for r, line in enumerate(results.resolved_yaml.splitlines(), start=1):
            assumptions.write_string(r, 0, line)
        assumptions.set_column(0, 0, 100)
    finally:
        workbook.close()


def _write_numbers(sheet: Worksheet, row: int, column: int, data: ExportRow, fmt: Format) -> None:
    """Mean, CI low and CI high as numbers from ``column`` on (an undefined value: an empty cell)."""
    for offset, value in enumerate((data.mean, data.ci_low, data.ci_high)):
        if value is None:
            sheet.write_blank(row, column + offset, None)
        else:
            sheet.write_number(row, column + offset, value, fmt)
