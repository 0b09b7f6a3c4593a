"""What every ``siyu`` command shares: exit codes, defaults, the common options, error handling.

Each command lives in its own module (``engine/cli_*.py``) and is registered in :mod:`engine.cli`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from engine.errors import SiyuError
from engine.execution import SCHEDULER_ENV
from engine.execution.choice import INSTALL_DASK
from engine.precision import DEFAULT_MAX_REPS
from engine.scenario import LoadedScenario, load_scenario

EXIT_INVALID = 2
"""Exit code for invalid input (a bad scenario, a bad option), as for click's usage errors."""
DEFAULT_REPS = 20
DEFAULT_SEED = 1
METRIC_NAMES_HINT = "e.g. cac, clv, retention_d90, profit; a name that is not a metric lists them all"
"""For the help of a command's ``--metric``."""


class OutputFormat(StrEnum):
    """How a command prints its result."""

    table = "table"
    json = "json"


RepsOption = Annotated[
    int | None, typer.Option(min=1, max=100_000, help="Replications.", show_default=str(DEFAULT_REPS))
]
SeedOption = Annotated[
    int | None,
    typer.Option(
        min=0, max=2**63 - 1, help="Root seed; same seed, same output.", show_default=str(DEFAULT_SEED)
    ),
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", help="table or json (one JSON object).")]
QuietOption = Annotated[bool, typer.Option(help="No progress bar.")]
ForceOption = Annotated[bool, typer.Option(help="Overwrite results in a non-empty --out folder.")]
WorkersOption = Annotated[
    int | None,
    typer.Option(
        min=1,
        max=4096,
        help="Local worker processes; 1 runs in this process.",
        show_default="every core, if the run is long enough to gain",
    ),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        help=f"Run on the Dask cluster of this scheduler (tcp://HOST:PORT; or set {SCHEDULER_ENV}). "
        f"Needs the dask extra: {INSTALL_DASK.replace('[', chr(92) + '[')}.",
        show_default=False,
    ),
]


def max_reps_option(help: str) -> Any:
    """``--max-reps``: the same bounds and default in every command; ``help`` says what it limits there."""
    return typer.Option("--max-reps", min=2, max=100_000, help=help, show_default=str(DEFAULT_MAX_REPS))


@contextmanager
def exit_on_siyu_error() -> Iterator[None]:
    """Siyu's own errors (bad input) become their message on stderr and exit code 2, never a traceback.

    Also when a command is invoked directly (CliRunner, embedding), not via :func:`engine.cli.main`.
    """
    try:
        yield
    except SiyuError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(EXIT_INVALID) from None


def load_with_warnings(file: Path) -> LoadedScenario:
    """Load a scenario (a bad one raises :class:`ScenarioError`), printing its warnings on stderr."""
    loaded = load_scenario(file)
    for warning in loaded.warnings:
        typer.echo(warning, err=True)
    return loaded


def table_console() -> Console:
    """A console for tables on stdout: the terminal's width, or 140 columns when stdout is redirected."""
    return Console(width=None if sys.stdout.isatty() else 140)


def show_progress(quiet: bool) -> bool:
    """A progress bar on stderr only for a person at a terminal: off when either stream is redirected."""
    return not quiet and sys.stdout.isatty() and sys.stderr.isatty()
