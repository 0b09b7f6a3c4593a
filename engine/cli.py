"""The ``siyu`` command line: wiring only (load → run → write); the work happens in :mod:`engine`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from engine.errors import ScenarioError, SiyuError
from engine.scenario import Scenario, load_scenario

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


def main() -> None:
    """Entry point of the ``siyu`` script: Siyu's own errors become a message and exit code 2."""
    try:
        app()
    except SiyuError as error:
        typer.echo(str(error), err=True)
        raise SystemExit(EXIT_INVALID) from None
