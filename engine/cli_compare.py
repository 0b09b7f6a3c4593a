"""``siyu compare``: scenarios on common random numbers, paired differences, verdicts, selection of the best.

Wiring only (load → run → write); the work is in :mod:`engine.compare`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from engine.cli_common import (
    DEFAULT_REPS,
    DEFAULT_SEED,
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
    max_reps_option,
    show_progress,
    table_console,
)
from engine.cli_progress import progress_bar
from engine.cli_report import write_comparison_report
from engine.compare.output import comparison_json, selection_json, write_comparison_folder
from engine.compare.paired import (
    Comparison,
    check_comparable,
    plan_names,
    run_plan_replications,
    run_plans,
)
from engine.compare.selection import Selection, select_best, worst_case_reps
from engine.compare.tables import (
    difference_table,
    selection_sentence,
    selection_table,
    verdict_lines,
)
from engine.compare.verdicts import (
    BETTER,
    DEFAULT_LANGUAGE,
    Adjustment,
    Language,
    Verdict,
    control_note,
    verdicts,
)
from engine.errors import OptionError
from engine.execution import Executor, ExecutorChoice, ProcessExecutor, SerialExecutor, default_workers
from engine.metrics import METRIC_INFO
from engine.output import dumps_json, prepare_output_dir
from engine.precision import DEFAULT_MAX_REPS, metric_names
from engine.runner import Replication
from engine.scenario import Scenario

DEFAULT_PCS = 0.95
MIN_SELECTION_PLANS = 3
"""--select-best ranks three or more plans (issue 7); two plans are settled by their paired difference."""
DEFAULT_INDIFFERENCE_SHARE = 0.01
"""Without --indifference: δ = 1% of |the baseline's mean| over the first stage."""
SEQUENTIAL_POOL_S = 0.3
"""KN adds one replication per contender at a time: worker processes are started for those stages only when a
stage would take longer than this in one process."""


@dataclass(frozen=True)
class CompareRequest:
    """The options of ``siyu compare``."""

    files: list[Path]
    reps: int
    seed: int
    output_format: OutputFormat
    out: Path | None
    force: bool
    quiet: bool
    metrics: tuple[str, ...]
    language: Language
    adjustment: Adjustment
    select_best: str | None
    indifference: float | None
    pcs: float
    max_reps: int


def compare(
    files: Annotated[
        list[Path],
        typer.Argument(help="Scenario YAML files; the first is the baseline.", show_default=False),
    ],
    reps: RepsOption = None,
    seed: SeedOption = None,
    output_format: FormatOption = OutputFormat.table,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write comparison.json, each plan's summary, figure data and replications, and the report "
            "index.html (in --lang) to this folder."
        ),
    ] = None,
    force: ForceOption = False,
    metric: Annotated[
        list[str] | None,
        typer.Option(
            "--metric",
            help="Key metric for verdicts (repeat, or comma-separated).",
            show_default="cac, clv, net_value, ltv_cac, retention_d90, profit",
        ),
    ] = None,
    lang: Annotated[
        Language,
        typer.Option(
            "--lang",
            help="Language of the verdicts and of the report index.html in --out: zh (中文) or en.",
            case_sensitive=False,
        ),
    ] = DEFAULT_LANGUAGE,
    adjust: Annotated[
        Adjustment,
        typer.Option(
            "--adjust",
            help="Multiple-comparison control of the verdicts: holm (family-wise error), bh (false discovery "
            "rate) or none.",
        ),
    ] = Adjustment.holm,
    select_best: Annotated[
        str | None,
        typer.Option(
            "--select-best",
            help="Name the best of three or more plans by this metric with Kim–Nelson's KN procedure (adds "
            "replications only to plans still in contention).",
            show_default=False,
        ),
    ] = None,
    indifference: Annotated[
        float | None,
        typer.Option(
            help="With --select-best: the indifference zone δ, the smallest difference worth finding, in the "
            "metric's units (a share as a fraction: 0.01 = 1 percentage point).",
            show_default="1% of the baseline's mean",
        ),
    ] = None,
    pcs: Annotated[
        float | None,
        typer.Option(
            min=0.5,
            max=0.999,
            help="With --select-best: the probability of correct selection.",
            show_default=str(DEFAULT_PCS),
        ),
    ] = None,
    max_reps: Annotated[
        int | None, max_reps_option("With --select-best: most replications of any plan.")
    ] = None,
    quiet: QuietOption = False,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
) -> None:
    """Compare scenarios on common random numbers: each metric's paired difference to the first (the
    baseline) with its 95% CI and p-value, plain verdicts on key metrics, and optionally the best plan."""
    with exit_on_siyu_error():
        if select_best is None:
            for option, given in (("--indifference", indifference), ("--pcs", pcs), ("--max-reps", max_reps)):
                if given is not None:
                    raise OptionError(f"{option}: only with --select-best METRIC")
        request = CompareRequest(
            files,
            DEFAULT_REPS if reps is None else reps,
            DEFAULT_SEED if seed is None else seed,
            output_format,
            out,
            force,
            quiet,
            metric_names(metric, "--metric"),
            lang,
            adjust,
            select_best,
            indifference,
            DEFAULT_PCS if pcs is None else pcs,
            DEFAULT_MAX_REPS if max_reps is None else max_reps,
        )
        choice = ExecutorChoice.from_options(workers, scheduler)
        try:
            _compare(request, choice)
        except KeyboardInterrupt:
            typer.echo(
                "interrupted: nothing is kept (a comparison is written only when it is complete)", err=True
            )
            raise typer.Exit(130) from None


def _check_options(request: CompareRequest, plans: int) -> None:
    """Refuse what cannot be run, before anything runs or is written."""
    if request.reps < 2:
        raise OptionError(f"--reps: {request.reps} is too few; a paired CI needs at least 2 replications")
    metric = request.select_best
    if metric is None:
        return
    if plans < MIN_SELECTION_PLANS:
        raise OptionError(
            f"--select-best: needs {MIN_SELECTION_PLANS} or more scenario files, got {plans}; with two plans "
            "the paired difference and its verdict already say which is better"
        )
    if metric not in METRIC_INFO:
        metric_names([metric], "--select-best")  # raises, listing the metrics
    if metric not in BETTER:
        raise OptionError(
            f"--select-best: {metric!r} has no agreed 'better' direction; allowed: {', '.join(BETTER)}"
        )
    if request.indifference is not None and not 0 < request.indifference < math.inf:
        raise OptionError(
            f"--indifference: {request.indifference} is not allowed; give a positive, finite difference in "
            "the metric's units"
        )
    if request.max_reps < request.reps:
        raise OptionError(f"--max-reps: {request.max_reps} is below --reps {request.reps}, the first stage")


def _compare(request: CompareRequest, choice: ExecutorChoice) -> None:
    """The work of ``siyu compare``; Siyu's own errors propagate to :func:`compare`."""
    loaded = [load_with_warnings(file) for file in request.files]
    scenarios = [item.scenario for item in loaded]
    check_comparable(scenarios)
    _check_options(request, len(scenarios))
    if request.out is not None:
        prepare_output_dir(request.out, request.force)  # refuse a non-empty folder before running anything
    progress = show_progress(request.quiet)
    total = len(scenarios) * request.reps
    with (
        choice.open(total) as executor,
        progress_bar(f"replications ({executor.description})", total, 0, progress) as update,
    ):
        results, seconds = run_plans(
            scenarios,
            request.reps,
            request.seed,
            executor,
            lambda done, _: update(done),
            series=request.out is not None,  # the report's figure data, for the folder's index.html
        )
    comparison = Comparison.of(results, plan_names(scenarios, request.files))
    judged = verdicts(
        comparison.names,
        comparison.vs_baseline,
        request.metrics,
        comparison.currency,
        request.adjustment,
        request.language,
    )
    selection = None
    selection_data = None
    if request.select_best is not None:
        selection = _select(request, choice, scenarios, comparison, seconds, progress)
        maximize = BETTER[request.select_best] == "higher"
        selection_data = selection_json(selection, comparison.names, request.select_best, maximize)
    data = comparison_json(
        comparison, request.files, request.metrics, request.adjustment, judged, selection_data
    )
    if request.out is not None:
        write_comparison_folder(request.out, True, loaded, comparison, data, selection)
        write_comparison_report(request.out, request.language.value)
    if request.output_format is OutputFormat.json:
        typer.echo(dumps_json(data))
        return
    _print(request, comparison, judged, selection)


def _metric_value(replication: Replication, metric: str, name: str) -> float:
    value = replication.metrics[metric]
    if value is None:
        info = METRIC_INFO[metric]
        raise OptionError(
            f"--select-best {metric}: undefined in replication {replication.index} of {name!r} "
            f"({info.missing}); choose a metric defined in every replication"
        )
    return value


def _sequential_executor(choice: ExecutorChoice, contenders: int, seconds: float) -> Executor:
    """Where KN's stages run (one replication per contender each): a Dask cluster if chosen; local processes
    if --workers asks for them, or by default when a stage would take more than :data:`SEQUENTIAL_POOL_S`."""
    if choice.scheduler is not None:
        return choice.open(contenders)
    workers = min(choice.workers or default_workers(), contenders)
    if workers <= 1 or (choice.workers is None and seconds * contenders < SEQUENTIAL_POOL_S):
        return SerialExecutor()
    return ProcessExecutor(workers)


def _select(
    request: CompareRequest,
    choice: ExecutorChoice,
    scenarios: list[Scenario],
    comparison: Comparison,
    seconds: float,
    progress: bool,
) -> Selection:
    """KN on the comparison's replications as its first stage, adding replications to contenders."""
    metric = request.select_best
    assert metric is not None
    names = comparison.names
    first = np.array(
        [
            [_metric_value(r, metric, names[plan]) for r in result.replications]
            for plan, result in enumerate(comparison.results)
        ]
    )
    delta = request.indifference
    if delta is None:
        delta = DEFAULT_INDIFFERENCE_SHARE * abs(float(first[0].mean()))
        if delta == 0:
            raise OptionError(
                f"--indifference: the baseline's mean {metric} is 0, so the default (1% of it) is 0; "
                "give the smallest difference worth finding, in the metric's units"
            )
    bound = worst_case_reps(first, delta, request.pcs, request.max_reps)
    n0 = request.reps

    def sample(systems: list[int] | tuple[int, ...], index: int) -> list[float]:
        done = run_plan_replications(scenarios, request.seed, [(p, index) for p in systems], executor)
        return [_metric_value(done[(p, index)].replication, metric, names[p]) for p in systems]

    with (
        _sequential_executor(choice, len(scenarios), seconds) as executor,
        progress_bar(f"selection stages (up to {bound - n0})", max(bound - n0, 1), 0, progress) as update,
    ):
        return select_best(
            first,
            sample,  # type: ignore[arg-type]
            delta,
            request.pcs,
            BETTER[metric] == "higher",
            request.max_reps,
            on_stage=lambda r: update(r - n0),
        )


def _print(
    request: CompareRequest,
    comparison: Comparison,
    judged: tuple[tuple[Verdict, ...], ...],
    selection: Selection | None,
) -> None:
    console = table_console()
    for plan in range(1, len(comparison.names)):
        console.print(difference_table(comparison, plan, judged[plan]))
    for line in verdict_lines(comparison, judged, request.language):
        console.print(line, highlight=False, markup=False)
    family = sum(1 for row in judged for v in row if v.p_adjusted is not None)
    note = control_note(
        family, len(comparison.names) - 1, len(request.metrics), request.adjustment, request.language
    )
    console.print(note, highlight=False, markup=False)
    if selection is not None and request.select_best is not None:
        info = METRIC_INFO[request.select_best]
        console.print(selection_table(selection, comparison.names, info, comparison.currency))
        maximize = BETTER[request.select_best] == "higher"
        sentence = selection_sentence(
            selection, comparison.names, info, comparison.currency, maximize, request.language
        )
        console.print(sentence, highlight=False, markup=False)
    if request.out is not None:
        console.print(
            f"results and report written to {request.out} (open {request.out / 'index.html'})",
            highlight=False,
            markup=False,
        )
