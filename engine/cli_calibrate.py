"""``siyu calibrate``: fit buying and spend to a transaction log, check the fit, write a scenario fragment."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from engine.calibrate.choices import ModelName, Returns, TimeUnit
from engine.cli_common import FormatOption, OutputFormat, exit_on_siyu_error, table_console
from engine.errors import CalibrationError
from engine.output import dumps_json

if TYPE_CHECKING:
    from engine.calibrate.calibration import Calibration


def calibrate_command(
    transactions: Annotated[
        Path,
        typer.Argument(help="Transaction log: CSV, Parquet or Excel, one row per order.", show_default=False),
    ],
    customer_col: Annotated[
        str, typer.Option(help="Column(s) naming the customer; several, comma-separated, form one key.")
    ] = "customer_id",
    date_col: Annotated[str, typer.Option(help="Column with the order date (or day number).")] = "date",
    amount_col: Annotated[str, typer.Option(help="Column with the order amount.")] = "amount",
    time_unit: Annotated[TimeUnit, typer.Option(help="Unit the models are fitted in.")] = TimeUnit.week,
    calibration_end: Annotated[
        str | None,
        typer.Option(
            help="Last date of the calibration period; later orders are the holdout that checks the fit.",
            show_default="the last order: no holdout",
        ),
    ] = None,
    observation_end: Annotated[
        str | None,
        typer.Option(
            help="End of the data (the day it was exported), if later than the last order.",
            show_default="the last order",
        ),
    ] = None,
    model: Annotated[ModelName, typer.Option(help="Purchase/dropout model.")] = ModelName.bgnbd,
    returns: Annotated[
        Returns,
        typer.Option(
            help="Negative amounts: error (refuse), net (subtract from the customer's latest purchase on or "
            "before), drop (ignore)."
        ),
    ] = Returns.error,
    date_format: Annotated[
        str | None,
        typer.Option(
            help="strftime format of the dates, e.g. %d/%m/%Y (default: recognised).", show_default=False
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write a scenario fragment (YAML) with the fitted behaviour and spend.", show_default=False
        ),
    ] = None,
    customers_out: Annotated[
        Path | None,
        typer.Option(
            help="Write one row per customer (history, P(alive), holdout forecast and actual, expected "
            "spend): CSV, or Parquet for a .parquet name.",
            show_default=False,
        ),
    ] = None,
    base: Annotated[
        Path | None,
        typer.Option(
            help="With --out: the fragment extends this scenario (and is then a complete scenario).",
            show_default=False,
        ),
    ] = None,
    output_format: FormatOption = OutputFormat.table,
) -> None:
    """Fit BG/NBD (or Pareto/NBD) and Gamma-Gamma to a transaction log; show the fit; write a fragment."""
    # the fitting code and its data libraries (pandas) load only when this command runs
    from engine.calibrate.calibration import CalibrationRequest, calibrate
    from engine.calibrate.customer_table import write_customer_table
    from engine.calibrate.fragment import pareto_refusal, unidentified_warning, write_fragment
    from engine.calibrate.reading import Columns
    from engine.calibrate.result_json import calibration_json

    with exit_on_siyu_error():
        if base is not None and out is None:
            raise CalibrationError("--base needs --out FRAGMENT.yaml (it says what the fragment extends)")
        if out is not None and model is not ModelName.bgnbd:
            raise CalibrationError(pareto_refusal())
        columns = Columns(
            customer=tuple(name.strip() for name in customer_col.split(",") if name.strip()),
            date=date_col,
            amount=amount_col,
        )
        request = CalibrationRequest(
            path=transactions,
            columns=columns,
            unit=time_unit,
            calibration_end=calibration_end,
            observation_end=observation_end,
            model=model,
            returns=returns,
            date_format=date_format,
        )
        result = calibrate(request)
        if out is not None:
            write_fragment(result, out, base)
        if customers_out is not None:
            write_customer_table(result, customers_out)
        if output_format is OutputFormat.json:
            typer.echo(dumps_json(calibration_json(result, out)))
        else:
            _print_tables(result, out, customers_out)
        warning = unidentified_warning(result)
        if warning is not None:
            typer.echo(f"warning: {warning}", err=True)


def _print_tables(result: Calibration, out: Path | None, customers_out: Path | None) -> None:
    from engine.calibrate.tables import (
        data_table,
        engine_lines,
        histogram_table,
        holdout_table,
        parameters_table,
        tracking_table,
    )

    console = table_console()
    for table in (
        data_table(result),
        parameters_table(result),
        histogram_table(result),
        holdout_table(result),
        tracking_table(result),
    ):
        if table is not None:
            console.print(table)
    for line in engine_lines(result):
        console.print(line, highlight=False)
    if out is not None:
        console.print(f"fragment written to {out}", highlight=False)
    if customers_out is not None:
        console.print(f"per-customer table written to {customers_out}", highlight=False)
