"""``siyu sweep``: a scenario over a one- or two-lever grid, every point on the same seeds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from engine.cli_common import (
    DEFAULT_REPS,
    DEFAULT_SEED,
    METRIC_NAMES_HINT,
    ForceOption,
    FormatOption,
    OutputFormat,
    QuietOption,
    RepsOption,
    SchedulerOption,
    SeedOption,
    WorkersOption,
    exit_on_siyu_error,
    load_with_warnings,
    show_progress,
    table_console,
)
from engine.cli_progress import progress_bar
from engine.execution import ExecutorChoice
from engine.levers import LeverError
from engine.metrics import METRIC_INFO, MetricInfo
from engine.output import dumps_json, prepare_output_dir, write_text_atomic
from engine.presentation import ci_text, difference_text, format_value, metric_label
from engine.sweep import SweepResult, better, check_metric, grid, parse_axes, sweep, sweep_csv, sweep_summary

VaryOption = Annotated[
    list[str],
    typer.Option(
        "--vary",
        help="PATH=SPEC: a numeric field (sources.douyin.spend_per_day; list items by id) and its values, "
        "a list 1000,5000,9000 or a range start:stop:count (both ends included). Twice: a 2-D grid.",
        show_default=False,
    ),
]
MetricOption = Annotated[str, typer.Option(help=f"Metric whose best point is marked ({METRIC_NAMES_HINT}).")]


def sweep_command(
    file: Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)],
    vary: VaryOption,
    metric: MetricOption = "profit",
    reps: RepsOption = None,
    seed: SeedOption = None,
    output_format: FormatOption = OutputFormat.table,
    out: Annotated[
        Path | None, typer.Option(help="Also write sweep.json and sweep.csv to this folder.")
    ] = None,
    force: ForceOption = False,
    quiet: QuietOption = False,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
) -> None:
    """Run a scenario over a grid of one or two levers, every point on the same seeds (paired).

    Marks the best point of --metric with its 95% CI and its paired difference to the runner-up.
    """
    with exit_on_siyu_error():
        choice = ExecutorChoice.from_options(workers, scheduler)
        check_metric(metric)
        scenario = load_with_warnings(file).scenario
        try:
            axes = parse_axes(scenario, vary)
        except LeverError as error:
            raise LeverError(f"{file}: {error}") from None
        folder = prepare_output_dir(out, force) if out is not None else None
        reps = DEFAULT_REPS if reps is None else reps
        seed = DEFAULT_SEED if seed is None else seed
        tasks = len(grid(axes)) * reps
        try:
            with (
                choice.open(tasks) as executor,
                progress_bar("sweep", tasks, 0, show_progress(quiet)) as update,
            ):
                result = sweep(scenario, axes, metric, reps, seed, executor, lambda done, _: update(done))
        except LeverError as error:  # a combination of two values that breaks a cross-field rule
            raise LeverError(f"{file}: {' '.join(f'--vary {text}' for text in vary)}: {error}") from None
        summary = sweep_summary(result)
        if folder is not None:
            write_text_atomic(folder / "sweep.json", dumps_json(summary) + "\n")
            write_text_atomic(folder / "sweep.csv", sweep_csv(result))
        if output_format is OutputFormat.json:
            typer.echo(dumps_json(summary))
            return
        print_sweep(result)
        if folder is not None:
            typer.echo(f"results written to {folder} (sweep.json, sweep.csv)")


def print_sweep(result: SweepResult) -> None:
    """The sweep as a table (a line, or a 2-D grid of means) and a sentence about its best point."""
    console = table_console()
    info = METRIC_INFO[result.metric]
    label = metric_label(info, result.scenario.meta.currency)
    title = (
        f"{result.scenario.meta.name} — {label}, {better(result.metric)} is better; "
        f"{result.reps} replications per point on seed {result.seed} (paired), 95% CI"
    )
    if len(result.axes) == 1:
        console.print(_line_table(result, title, info))
    else:
        console.print(_grid_table(result, title, info))
    console.print(_best_sentence(result, info))


def _line_table(result: SweepResult, title: str, info: MetricInfo) -> Table:
    best = result.best()
    table = Table(title=title, title_justify="left")
    table.add_column(result.axes[0].lever.path, justify="right", no_wrap=True)
    table.add_column("均值 mean", justify="right", no_wrap=True)
    table.add_column("95% 置信区间 CI", justify="right", no_wrap=True)
    table.add_column("与最优之差 vs best (paired, 95% CI)", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    for index, point in enumerate(result.points):
        summary = point.summary(result.metric)
        is_best = best is not None and index == best.index
        versus = "" if best is None or is_best else difference_text(result.versus(best.index, index), info)
        table.add_row(
            f"{point.values[0]:g}",
            format_value(summary.mean, info),
            ci_text(summary, info),
            versus,
            "★ best 最优" if is_best else "",
        )
    return table


def _grid_table(result: SweepResult, title: str, info: MetricInfo) -> Table:
    best = result.best()
    rows_axis, columns_axis = result.axes
    table = Table(title=title + f"; cells: mean; rows {rows_axis.lever.path}", title_justify="left")
    table.add_column(f"{rows_axis.lever.path} \\ {columns_axis.lever.path}", no_wrap=True)
    for value in columns_axis.values:
        table.add_column(f"{value:g}", justify="right", no_wrap=True)
    width = len(columns_axis.values)
    for row, value in enumerate(rows_axis.values):
        cells = []
        for column in range(width):
            index = row * width + column
            mean = result.points[index].summary(result.metric).mean
            star = " ★" if best is not None and index == best.index else ""
            cells.append(format_value(mean, info) + star)
        table.add_row(f"{value:g}", *cells)
    return table


def _best_sentence(result: SweepResult, info: MetricInfo) -> str:
    best = result.best()
    if best is None:
        return f"{result.metric} is undefined at every point: {info.missing or 'no value'}"
    where = ", ".join(
        f"{axis.lever.path} = {value:g}"
        for axis, value in zip(result.axes, result.points[best.index].values, strict=True)
    )
    mean = format_value(best.summary.mean, info)
    text = f"★ best 最优: {where}: {mean} (95% CI {ci_text(best.summary, info)})"
    if best.runner_up is not None and best.versus_runner_up is not None:
        runner = ", ".join(f"{value:g}" for value in result.points[best.runner_up].values)
        text += f"; vs runner-up 次优 ({runner}): {difference_text(best.versus_runner_up, info)}"
    return text
