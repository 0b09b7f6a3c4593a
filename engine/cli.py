"""The ``siyu`` command line: wiring only (load → run → write); the work happens in :mod:`engine`."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from engine.errors import ScenarioError, SiyuError
from engine.output import (
    TransactionLog,
    dumps_json,
    prepare_output_dir,
    replications_csv,
    run_summary,
    write_text_atomic,
)
from engine.presentation import breakdown_table, metrics_table
from engine.runner import RunResult
from engine.runner import run as run_replications
from engine.scenario import Scenario, load_scenario, resolved_yaml

app = typer.Typer(
    name="siyu",
    help="Siyu 私域: simulate private-traffic strategies and compare CAC, retention and CLV.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_INVALID = 2
"""Exit code for invalid input (a bad scenario, a bad option), as for click's usage errors."""


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Scenario YAML files to check.", show_default=False)],
) -> None:
    """Check scenario files: print 'ok FILE (name)' for each valid one, every problem of the others."""
    failed = False
    for file in files:
        try:
            loaded = load_scenario(file)
        except ScenarioError as error:
            typer.echo(str(error), err=True)
            failed = True
        else:
            typer.echo(f"ok {file} ({loaded.scenario.meta.name})")
    if failed:
        raise typer.Exit(EXIT_INVALID)


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editors and documentation)."""
    typer.echo(json.dumps(Scenario.model_json_schema(by_alias=True), indent=2, ensure_ascii=False))


class OutputFormat(StrEnum):
    """How ``siyu run`` prints its result."""

    table = "table"
    json = "json"


@app.command()
def run(
    file: Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)],
    reps: Annotated[int, typer.Option(min=1, max=100_000, help="Replications.")] = 20,
    seed: Annotated[int, typer.Option(min=0, max=2**63 - 1, help="Root seed; same seed, same output.")] = 1,
    out: Annotated[Path | None, typer.Option(help="Write results to this folder.")] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="table or json (one JSON object).")
    ] = (OutputFormat.table),
    force: Annotated[bool, typer.Option(help="Overwrite results in a non-empty --out folder.")] = False,
    transactions: Annotated[
        bool, typer.Option(help="With --out: also write transactions.parquet (every purchase).")
    ] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Run replications of a scenario; print CAC, retention, CLV and the rest with 95% CIs."""
    try:
        _run(file, reps, seed, out, output_format, force, transactions, quiet)
    except SiyuError as error:  # also when the app is invoked directly (CliRunner, embedding), not via main()
        typer.echo(str(error), err=True)
        raise typer.Exit(EXIT_INVALID) from None


def _run(
    file: Path,
    reps: int,
    seed: int,
    out: Path | None,
    output_format: OutputFormat,
    force: bool,
    transactions: bool,
    quiet: bool,
) -> None:
    """The work of ``siyu run``; Siyu's own errors propagate to :func:`run`."""
    loaded = load_scenario(file)
    if transactions and out is None:
        raise typer.BadParameter("--transactions needs --out DIR", param_hint="--transactions")
    out_dir = prepare_output_dir(out, force) if out is not None else None
    log = TransactionLog(out_dir / "transactions.parquet") if out_dir is not None and transactions else None
    result = _run_with_progress(loaded.scenario, reps, seed, log, quiet or output_format is OutputFormat.json)
    summary = run_summary(loaded.scenario.meta.name, result)
    if out_dir is not None:
        write_text_atomic(out_dir / "resolved.yaml", resolved_yaml(loaded.scenario))
        write_text_atomic(out_dir / "summary.json", dumps_json(summary) + "\n")
        write_text_atomic(out_dir / "replications.csv", replications_csv(result))
        if log is None:  # a transaction log left by an earlier --force'd run would contradict this summary
            (out_dir / "transactions.parquet").unlink(missing_ok=True)
    if output_format is OutputFormat.json:
        typer.echo(dumps_json(summary))
    else:
        _print_tables(loaded.scenario, result)
        if out_dir is not None:
            typer.echo(f"results written to {out_dir}")


def _run_with_progress(
    scenario: Scenario, reps: int, seed: int, log: TransactionLog | None, quiet: bool
) -> RunResult:
    on_ledger = log.add if log is not None else None
    show = not quiet and sys.stderr.isatty()
    progress = Progress(
        TextColumn("replications"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not show,
        transient=True,
    )
    ok = False
    try:
        with progress:
            task = progress.add_task("run", total=reps)
            result = run_replications(
                scenario,
                reps,
                seed,
                on_ledger=on_ledger,
                progress=lambda done, _total: progress.update(task, completed=done),
            )
        ok = True
    finally:
        if log is not None:
            log.close(ok)
    return result


def _print_tables(scenario: Scenario, result: RunResult) -> None:
    console = Console(width=None if sys.stdout.isatty() else 140)
    currency = scenario.meta.currency
    title = f"{scenario.meta.name} — {result.reps} replications, seed {result.seed}, 95% CI"
    console.print(metrics_table(title, result.summary(), currency))
    for dimension, groups in result.breakdown_summary().items():
        if groups:
            console.print(breakdown_table(dimension, groups, currency))


def main() -> None:
    """Entry point of the ``siyu`` script: Siyu's own errors become a message and exit code 2."""
    try:
        app()
    except SiyuError as error:
        typer.echo(str(error), err=True)
        raise SystemExit(EXIT_INVALID) from None
