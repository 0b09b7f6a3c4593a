"""``siyu optimize``: split a fixed budget across spend levers to make a metric best (Optuna, paired)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from engine.cli_common import (
    DEFAULT_SEED,
    METRIC_NAMES_HINT,
    FormatOption,
    OutputFormat,
    QuietOption,
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
from engine.metrics import METRIC_INFO
from engine.optimize import (
    DEFAULT_CONFIRM_REPS,
    DEFAULT_SEARCH_REPS,
    DEFAULT_TRIALS,
    OptimizeResult,
    optimize,
    optimize_summary,
    resolve_spend_levers,
)
from engine.output import dumps_json
from engine.presentation import ci_text, difference_text, format_value, metric_label
from engine.sweep import better, check_metric


def optimize_command(
    file: Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)],
    budget: Annotated[
        float,
        typer.Option(
            help="Total of the --over fields, in their unit (spend_per_day: a budget per day).",
            show_default=False,
        ),
    ],
    over: Annotated[
        list[str],
        typer.Option(
            "--over",
            help="A spend field to split the budget across (sources.douyin.spend_per_day); two or more.",
            show_default=False,
        ),
    ],
    metric: Annotated[
        str, typer.Option(help=f"Metric the split is to make best ({METRIC_NAMES_HINT}).")
    ] = "profit",
    trials: Annotated[int, typer.Option(min=2, max=10_000, help="Candidate splits scored.")] = DEFAULT_TRIALS,
    reps: Annotated[
        int, typer.Option(min=1, max=10_000, help="Replications per candidate (the same for every one).")
    ] = DEFAULT_SEARCH_REPS,
    confirm_reps: Annotated[
        int,
        typer.Option(
            min=2, max=100_000, help="Fresh replications of the best split and of the scenario as written."
        ),
    ] = DEFAULT_CONFIRM_REPS,
    seed: SeedOption = None,
    output_format: FormatOption = OutputFormat.table,
    quiet: QuietOption = False,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
) -> None:
    """Split a fixed budget across spend fields to make a metric best (Optuna, common random numbers).

    Reports the best split with its 95% CI and its paired difference to the scenario as written, both on
    fresh replications that took no part in the search.
    """
    with exit_on_siyu_error():
        choice = ExecutorChoice.from_options(workers, scheduler)
        check_metric(metric)
        scenario = load_with_warnings(file).scenario
        try:
            levers = resolve_spend_levers(scenario, over, budget)
        except LeverError as error:
            raise LeverError(f"{file}: {error}") from None
        seed = DEFAULT_SEED if seed is None else seed
        total = trials * reps + 2 * confirm_reps

        with (
            choice.open(total) as executor,
            progress_bar("optimize", total, 0, show_progress(quiet)) as update,
        ):
            result = optimize(
                scenario,
                levers,
                budget,
                metric,
                trials,
                reps,
                confirm_reps,
                seed,
                executor,
                lambda done, _total: update(done),
            )
        if output_format is OutputFormat.json:
            typer.echo(dumps_json(optimize_summary(result)))
            return
        print_optimum(result)


def print_optimum(result: OptimizeResult) -> None:
    """The best split beside the scenario as written, and the metric of both on fresh replications."""
    console = table_console()
    info = METRIC_INFO[result.metric]
    currency = result.scenario.meta.currency
    title = (
        f"{result.scenario.meta.name} — budget {result.budget:,.2f} split to make {info.zh} {result.metric} "
        f"{'as high' if better(result.metric) == 'higher' else 'as low'} as possible; {len(result.trials)} "
        f"candidates × {result.search_reps} replications on seed {result.seed}, then "
        f"{result.confirm_reps} fresh replications (paired); {result.evaluations} runs"
    )
    split = Table(title=title, title_justify="left")
    split.add_column("杠杆 lever", no_wrap=True)
    split.add_column("原方案 as written", justify="right", no_wrap=True)
    split.add_column("最优 best", justify="right", no_wrap=True)
    split.add_column("share of budget", justify="right", no_wrap=True)
    for lever, written, best in zip(result.levers, result.as_written, result.best, strict=True):
        split.add_row(lever.path, f"{written:,.2f}", f"{best:,.2f}", f"{100 * best / result.budget:.1f}%")
    split.add_row("total", f"{sum(result.as_written):,.2f}", f"{sum(result.best):,.2f}", "100.0%")
    console.print(split)
    outcome = Table(
        title=f"{metric_label(info, currency)} on {result.confirm_reps} fresh replications",
        title_justify="left",
    )
    outcome.add_column("", no_wrap=True)
    outcome.add_column("均值 mean", justify="right", no_wrap=True)
    outcome.add_column("95% 置信区间 CI", justify="right", no_wrap=True)
    for name, summary in (
        ("原方案 as written", result.as_written_summary),
        ("最优 best", result.best_summary),
    ):
        outcome.add_row(name, format_value(summary.mean, info), ci_text(summary, info))
    console.print(outcome)
    console.print(f"best − as written (paired): {difference_text(result.versus_as_written, info)}")
    if abs(sum(result.as_written) - result.budget) > 1e-9 * max(result.budget, 1.0):
        console.print(
            f"note: the scenario as written spends {sum(result.as_written):,.2f} on these fields, not the "
            f"budget {result.budget:,.2f}; the difference includes the change of total as well as of split"
        )
