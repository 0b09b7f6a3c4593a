"""``siyu sensitivity``: which assumptions move a metric — a tornado at ±20% and SALib's Morris or Sobol."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
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
from engine.execution import ExecutorChoice, ProgressCallback
from engine.levers import LeverError, enumerate_levers
from engine.metrics import METRIC_INFO, MetricInfo
from engine.output import dumps_json
from engine.presentation import format_value, metric_label
from engine.sensitivity import (
    DEFAULT_CHANGE,
    DEFAULT_REPS,
    DEFAULT_SOBOL_SAMPLES,
    DEFAULT_TOP,
    DEFAULT_TRAJECTORIES,
    GlobalResult,
    Move,
    Tornado,
    global_sensitivity,
    sensitivity_summary,
    tornado,
)
from engine.sweep import check_metric


class GlobalMethod(StrEnum):
    """The global method run after the tornado."""

    morris = "morris"
    sobol = "sobol"
    none = "none"


def sensitivity_command(
    file: Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)],
    metric: Annotated[
        str, typer.Option(help=f"Metric whose sensitivity to each lever is measured ({METRIC_NAMES_HINT}).")
    ] = "profit",
    reps: Annotated[
        int, typer.Option(min=2, max=10_000, help="Replications per point (paired with the base).")
    ] = DEFAULT_REPS,
    seed: SeedOption = None,
    change: Annotated[
        float, typer.Option(min=0.01, max=0.9, help="Relative move of each lever: 0.2 is ±20%.")
    ] = DEFAULT_CHANGE,
    method: Annotated[
        GlobalMethod, typer.Option(help="Global method over the top levers (SALib), or none.")
    ] = GlobalMethod.morris,
    top: Annotated[
        int, typer.Option(min=2, max=50, help="Levers of the tornado the global method varies together.")
    ] = DEFAULT_TOP,
    trajectories: Annotated[
        int, typer.Option(min=2, max=1000, help="Morris: trajectories (points = trajectories × (top+1)).")
    ] = DEFAULT_TRAJECTORIES,
    samples: Annotated[
        int,
        typer.Option(
            min=2, max=65536, help="Sobol: base samples, a power of two (points = samples × (top+2))."
        ),
    ] = DEFAULT_SOBOL_SAMPLES,
    output_format: FormatOption = OutputFormat.table,
    quiet: QuietOption = False,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
) -> None:
    """Which assumptions move a metric: a ±20% tornado of every lever, then Morris or Sobol (SALib).

    Every numeric field of the scenario is moved to ×0.8 and ×1.2 one at a time and ranked by its paired
    effect (95% CI); the top levers are then varied together (SALib) to show interactions.
    """
    with exit_on_siyu_error():
        choice = ExecutorChoice.from_options(workers, scheduler)
        check_metric(metric)
        if method is GlobalMethod.sobol and samples & (samples - 1):
            raise LeverError(f"--samples {samples}: Sobol needs a power of two (8, 16, 32, 64, …)")
        scenario = load_with_warnings(file).scenario
        seed = DEFAULT_SEED if seed is None else seed
        shown = show_progress(quiet)

        levers = len(enumerate_levers(scenario)[0])
        varied = min(top, levers)
        global_points = {
            GlobalMethod.morris: trajectories * (varied + 1),
            GlobalMethod.sobol: samples * (varied + 2),
            GlobalMethod.none: 0,
        }[method]
        expected = (1 + 2 * levers + global_points) * reps  # at most: where the default executor decides
        global_result = None
        with choice.open(expected) as executor:
            with progress_bar("tornado %", 100, 0, shown) as update:
                result = tornado(scenario, metric, reps, seed, change, executor, _percent(update))
            if method is not GlobalMethod.none:
                with progress_bar(f"{method.value} %", 100, 0, shown) as update:
                    global_result = global_sensitivity(
                        scenario, result, method.value, top, trajectories, samples, executor, _percent(update)
                    )
        if output_format is OutputFormat.json:
            typer.echo(dumps_json(sensitivity_summary(scenario, result, global_result)))
            return
        console = table_console()
        info = METRIC_INFO[metric]
        console.print(_tornado_table(scenario.meta.name, result, info, scenario.meta.currency))
        for line in _tornado_notes(result):
            console.print(line)
        if global_result is not None:
            console.print(_global_table(global_result, info, result))
            for path, other in global_result.left_out:
                console.print(
                    f"left out of {method.value}: {path} — together with {other} it can break a rule of the "
                    "scenario (both at an end of their ranges)"
                )
        elif method is not GlobalMethod.none:
            console.print(
                f"{method.value}: no indices — fewer than two levers moved {metric} in the tornado, "
                "or none moved it over the design"
            )


def _percent(update: Callable[[int], None]) -> ProgressCallback:
    """A progress callback that drives a 0–100 bar (the number of runs is known only once planned)."""
    return lambda done, total: update(100 * done // max(total, 1))


def _tornado_table(name: str, result: Tornado, info: MetricInfo, currency: str) -> Table:
    base = result.base
    title = (
        f"{name} — tornado 龙卷风图: {metric_label(info, currency)}, base {format_value(base.mean, info)}; "
        f"each lever ×{1 - result.change:g} and ×{1 + result.change:g} one at a time; paired effect "
        f"(95% CI) over {result.reps} replications on seed {result.seed}; {result.runs} runs"
    )
    table = Table(title=title, title_justify="left")
    # an effect breaks before its CI and a note wraps: the table fits 140 columns (stdout not a terminal)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("杠杆 lever", no_wrap=True)
    table.add_column("值 value", justify="right", no_wrap=True)
    table.add_column(f"×{1 - result.change:g}: effect", justify="right")
    table.add_column(f"×{1 + result.change:g}: effect", justify="right")
    table.add_column("说明 note", max_width=22)
    rank = 0
    for bar in result.bars:
        if bar.swing == 0:
            continue
        rank += 1
        notes = "; ".join(m.note for m in (bar.low, bar.high) if m.note)
        table.add_row(
            str(rank),
            bar.lever.path,
            f"{bar.lever.value:g}",
            _move(bar.low, info),
            _move(bar.high, info),
            notes,
        )
    return table


def _move(move: Move, info: MetricInfo) -> str:
    difference = move.difference
    if move.value is None:
        return "not run"
    if difference is None or difference.diff_mean is None:
        return f"{move.value:g} → undefined"
    sign = "+" if difference.diff_mean >= 0 else ""
    text = f"{move.value:g} → {sign}{format_value(difference.diff_mean, info)}"
    if difference.ci_low is not None and difference.ci_high is not None:
        text += f" ({format_value(difference.ci_low, info)} – {format_value(difference.ci_high, info)})"
    return text


def _tornado_notes(result: Tornado) -> list[str]:
    lines = []
    still = [bar.lever.path for bar in result.bars if bar.swing == 0 and not bar.undefined]
    if still:
        lines.append(f"did not move {result.metric} at all ({len(still)}): {', '.join(still)}")
    undefined = [bar.lever.path for bar in result.bars if bar.undefined]
    if undefined:
        lines.append(f"moved, left {result.metric} undefined ({len(undefined)}): {', '.join(undefined)}")
    by_reason: dict[str, list[str]] = {}
    for skipped in result.skipped:
        by_reason.setdefault(skipped.reason, []).append(skipped.path)
    for reason, paths in by_reason.items():
        lines.append(f"not varied — {reason} ({len(paths)}): {', '.join(paths)}")
    return lines


def _global_table(found: GlobalResult, info: MetricInfo, result: Tornado) -> Table:
    if found.method == "morris":
        title = (
            f"Morris (SALib): top {len(found.levers)} levers together over the tornado's ranges; "
            f"{found.points} points × {result.reps} replications = {found.runs} runs. μ*: mean |elementary "
            "effect| (metric change over a lever's whole range), ±95% bootstrap; σ large: interactions "
            "or curvature"
        )
        columns = ("μ*", "± conf", "μ", "σ")
        keys = ("mu_star", "mu_star_conf", "mu", "sigma")
    else:
        title = (
            f"Sobol (SALib): top {len(found.levers)} levers together over the tornado's ranges; "
            f"{found.points} points × {result.reps} replications = {found.runs} runs. S1: share of the "
            "variance from the lever alone; ST: with its interactions; ±95% bootstrap"
        )
        columns = ("S1", "± conf", "ST", "± conf")
        keys = ("S1", "S1_conf", "ST", "ST_conf")
    table = Table(title=title, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("杠杆 lever", no_wrap=True)
    table.add_column("range", justify="right", no_wrap=True)
    for column in columns:
        table.add_column(column, justify="right", no_wrap=True)
    for rank, (lever, bounds, indices) in enumerate(found.ranked(), start=1):
        cells = [_index_text(indices[key], info, found.method) for key in keys]
        table.add_row(str(rank), lever.path, f"{bounds[0]:g} – {bounds[1]:g}", *cells)
    return table


def _index_text(value: float | None, info: MetricInfo, method: str) -> str:
    if value is None:
        return "—"
    return format_value(value, info) if method == "morris" else f"{value:.3f}"
