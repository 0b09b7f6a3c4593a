"""Siyu reports: figures, the HTML page and the finance exports, built from results, never from the model.

``engine`` never imports this package; :mod:`engine.cli` (``siyu run --out``, ``siyu compare --out``,
``siyu report``) is the one place that uses both. :func:`write_report` turns a finished run folder into
``index.html`` (one self-contained page: plotly.js embedded, no request leaves it), ``summary.csv`` and
``summary.xlsx``, and a finished comparison folder into its ``index.html`` (:mod:`reports.comparison_page`).
"""

from __future__ import annotations

from pathlib import Path

from engine.output import atomic_path, write_text_atomic
from reports.comparison import is_comparison_folder
from reports.comparison_page import write_comparison_report
from reports.exports import summary_csv, write_summary_xlsx
from reports.html import render_run_report
from reports.labels import LANGS, Lang
from reports.loading import ReportError, RunResults, load_results

REPORT = "index.html"
SUMMARY_CSV = "summary.csv"
SUMMARY_XLSX = "summary.xlsx"


def write_report(folder: Path, lang: Lang = "zh") -> list[Path]:
    """Write ``index.html`` (in ``lang``), ``summary.csv`` and ``summary.xlsx`` into the run folder
    ``folder``, or ``index.html`` alone into a comparison folder; a folder that is neither a finished run
    nor a finished comparison raises :class:`ReportError`. Returns the files."""
    if lang not in LANGS:
        raise ReportError(f"--lang {lang}: not a report language; allowed: {', '.join(LANGS)}")
    if is_comparison_folder(folder):
        return [write_comparison_report(folder, lang)]
    results = load_results(folder)
    write_text_atomic(folder / REPORT, render_run_report(results, lang))
    with atomic_path(folder / SUMMARY_CSV) as tmp:
        tmp.write_text(summary_csv(results), encoding="utf-8-sig", newline="")
    with atomic_path(folder / SUMMARY_XLSX) as tmp:
        write_summary_xlsx(results, tmp)
    return [folder / REPORT, folder / SUMMARY_CSV, folder / SUMMARY_XLSX]


__all__ = ["LANGS", "Lang", "ReportError", "RunResults", "load_results", "write_report"]
