"""``siyu report RESULT_DIR [--lang zh|en]``: the report of a finished run or comparison, from its files.

Wiring only: :mod:`reports` reads the folder and writes ``index.html`` (and, for a run, the finance exports
``summary.csv`` and ``summary.xlsx``); nothing is simulated. ``siyu run … --out DIR`` calls
:func:`write_run_report` and ``siyu compare … --out DIR`` :func:`write_comparison_report` the same way.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from engine.cli_common import exit_on_siyu_error


class ReportLanguage(StrEnum):
    """The language of a report's labels, captions and metric names."""

    zh = "zh"
    en = "en"


DEFAULT_LANGUAGE = ReportLanguage.zh
LangOption = Annotated[
    ReportLanguage,
    typer.Option("--lang", help="Report language: zh (中文) or en.", case_sensitive=False),
]


def write_run_report(folder: Path, lang: ReportLanguage = DEFAULT_LANGUAGE) -> list[Path]:
    """Write the report and exports of the finished run in ``folder``; returns the files written."""
    from reports import write_report  # plotly takes seconds to import: only when a report is written

    return write_report(folder, lang.value)


def write_comparison_report(folder: Path, lang: str) -> Path:
    """Write ``index.html`` of the finished comparison in ``folder`` (``lang``: zh or en); returns it."""
    from reports.comparison_page import write_comparison_report as write  # plotly: only when writing

    return write(folder, lang)


def report_command(
    result_dir: Annotated[
        Path,
        typer.Argument(
            help="The --out folder of a finished `siyu run` or `siyu compare`.",
            show_default=False,
            metavar="RESULT_DIR",
        ),
    ],
    lang: LangOption = DEFAULT_LANGUAGE,
) -> None:
    """Write index.html (one self-contained page of figures and tables, offline) into a finished run's or
    comparison's folder, and for a run summary.csv and summary.xlsx, from its results (nothing is run
    again)."""
    with exit_on_siyu_error():
        for path in write_run_report(result_dir, lang):
            typer.echo(f"wrote {path}")
