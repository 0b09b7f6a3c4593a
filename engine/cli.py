"""The ``siyu`` command line: wiring only (load → run → write); the work happens in :mod:`engine`."""

from __future__ import annotations

import json
import shlex
import signal
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from engine.cli_calibrate import calibrate_command
from engine.cli_common import (
    DEFAULT_REPS,
    DEFAULT_SEED,
    EXIT_INVALID,
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
from engine.cli_compare import compare as compare_command
from engine.cli_optimize import optimize_command
from engine.cli_progress import progress_bar
from engine.cli_report import DEFAULT_LANGUAGE, ReportLanguage, report_command, write_run_report
from engine.cli_sensitivity import sensitivity_command
from engine.cli_serve import serve_command
from engine.cli_sweep import sweep_command
from engine.errors import ExecutionError, OptionError, ScenarioError, SiyuError
from engine.execution import ExecutorChoice
from engine.output import dumps_json, run_summary, write_text_atomic
from engine.precision import DEFAULT_MAX_REPS, PrecisionGoal, describe, run_to_precision
from engine.presentation import breakdown_table, metrics_table
from engine.run_folder import MANIFEST, REPORT_FILES, RunFolder
from engine.runner import Replication, RunResult
from engine.runner import run as run_replications
from engine.scenario import Scenario, load_scenario

app = typer.Typer(
    name="siyu",
    help="Siyu 私域: simulate private-traffic strategies and compare CAC, retention and CLV.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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
            for warning in loaded.warnings:
                typer.echo(warning, err=True)
            typer.echo(f"ok {file} ({loaded.scenario.meta.name})")
    if failed:
        raise typer.Exit(EXIT_INVALID)


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editors and documentation)."""
    typer.echo(json.dumps(Scenario.model_json_schema(by_alias=True), indent=2, ensure_ascii=False))


@app.command()
def run(
    file: Annotated[
        Path | None, typer.Argument(help="Scenario YAML file (not with --resume).", show_default=False)
    ] = None,
    reps: RepsOption = None,
    seed: SeedOption = None,
    out: Annotated[
        Path | None, typer.Option(help="Write results to this folder (kept as replications finish).")
    ] = None,
    output_format: FormatOption = OutputFormat.table,
    force: ForceOption = False,
    transactions: Annotated[
        bool, typer.Option(help="With --out: also write transactions.parquet (every purchase).")
    ] = False,
    quiet: QuietOption = False,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    resume: Annotated[
        Path | None,
        typer.Option(
            help="Finish the interrupted run in this --out folder: run only its missing replications "
            "(its scenario, seed and reps).",
            show_default=False,
        ),
    ] = None,
    precision: Annotated[
        float | None,
        typer.Option(
            min=0.0001,
            max=0.9999,
            help="Add replications (--reps first) until every key metric's 95% CI half-width is within this "
            "fraction of its mean (0.05: ±5%), or --max-reps.",
            show_default=False,
        ),
    ] = None,
    max_reps: Annotated[
        int | None, max_reps_option("With --precision: the most replications to run.")
    ] = None,
    lang: Annotated[
        ReportLanguage,
        typer.Option(
            "--lang",
            help="With --out (or --resume): language of the report index.html, zh (中文) or en; the table "
            "printed here is labelled in both.",
            case_sensitive=False,
        ),
    ] = DEFAULT_LANGUAGE,
) -> None:
    """Run replications of a scenario; print CAC, retention, CLV and the rest with 95% CIs.

    Ctrl-C stops the run; with --out every finished replication is kept and `siyu run --resume DIR`
    finishes it, with the same result as an uninterrupted run.
    """
    request = RunRequest(file, reps, seed, out, output_format, force, transactions, quiet, resume, lang)
    with exit_on_siyu_error():
        goal = _precision_goal(request, precision, max_reps)
        _run(request, ExecutorChoice.from_options(workers, scheduler), goal)


@dataclass(frozen=True)
class RunRequest:
    """The options of ``siyu run`` that say what to run and where to write it."""

    file: Path | None
    reps: int | None
    seed: int | None
    out: Path | None
    output_format: OutputFormat
    force: bool
    transactions: bool
    quiet: bool
    resume: Path | None
    lang: ReportLanguage = DEFAULT_LANGUAGE
    """Language of the report written into --out."""


@dataclass(frozen=True)
class _Plan:
    scenario: Scenario
    reps: int
    seed: int
    purchases: bool
    folder: RunFolder | None


def _precision_goal(
    request: RunRequest, precision: float | None, max_reps: int | None
) -> PrecisionGoal | None:
    """The goal of ``--precision`` (None without it); its options checked against the others."""
    if precision is None:
        if max_reps is not None:
            raise OptionError("--max-reps: only with --precision REL (a fixed run takes --reps)")
        return None
    if request.resume is not None:
        raise OptionError(
            "--precision: not with --resume (a resumed run finishes the replications it started)"
        )
    first = DEFAULT_REPS if request.reps is None else request.reps
    most = max(DEFAULT_MAX_REPS, first) if max_reps is None else max_reps
    if most < first:
        raise OptionError(f"--max-reps: {most} is below --reps {first}, the first round of --precision")
    return PrecisionGoal(precision, most)


def _precision_round(
    plan: _Plan, choice: ExecutorChoice, show: bool, reps: int, finished: Mapping[int, Replication]
) -> RunResult:
    """One round of ``--precision``: replications ``0 … reps−1``; the --out folder's run.json says ``reps``,
    so an interrupted round can be finished with --resume."""
    if plan.folder is not None:
        plan.folder.manifest = replace(plan.folder.manifest, reps=reps)
        write_text_atomic(plan.folder.path / MANIFEST, dumps_json(asdict(plan.folder.manifest)) + "\n")
    return _run_replications(replace(plan, reps=reps), choice, show, finished)


def _run(request: RunRequest, choice: ExecutorChoice, goal: PrecisionGoal | None = None) -> None:
    """The work of ``siyu run``; Siyu's own errors propagate to :func:`run`."""
    plan = _resume_plan(request) if request.resume is not None else _new_plan(request)
    if plan is None:
        return
    show = show_progress(request.quiet)
    outcome = None
    if goal is None:
        result = _run_replications(plan, choice, show_progress=show)
    else:
        outcome = run_to_precision(plan.reps, goal, partial(_precision_round, plan, choice, show))
        result = outcome.result
    summary = run_summary(plan.scenario.meta.name, result)
    if outcome is not None:
        summary["precision"] = outcome.as_json()
        if not outcome.reached:
            typer.echo(f"warning: {describe(outcome)}", err=True)
    if plan.folder is not None:
        plan.folder.finish(result, summary)
        write_run_report(plan.folder.path, request.lang)
    if request.output_format is OutputFormat.json:
        typer.echo(dumps_json(summary))
    else:
        _print_tables(plan.scenario, result)
        if outcome is not None and outcome.reached:
            typer.echo(describe(outcome))
        if plan.folder is not None:
            typer.echo(f"results written to {plan.folder.path} (report: {plan.folder.path / 'index.html'})")


def _new_plan(request: RunRequest) -> _Plan:
    if request.file is None:
        raise typer.BadParameter("give a scenario FILE, or --resume DIR", param_hint="FILE")
    loaded = load_with_warnings(request.file)
    if request.transactions and request.out is None:
        raise typer.BadParameter("--transactions needs --out DIR", param_hint="--transactions")
    reps = DEFAULT_REPS if request.reps is None else request.reps
    seed = DEFAULT_SEED if request.seed is None else request.seed
    folder = None
    if request.out is not None:
        folder = RunFolder.create(request.out, loaded, reps, seed, request.transactions, request.force)
    return _Plan(loaded.scenario, reps, seed, request.transactions, folder)


def _resume_plan(request: RunRequest) -> _Plan | None:
    """The rest of the run in ``--resume DIR``; None when it is already complete."""
    assert request.resume is not None
    for option, present in (("FILE", request.file), ("--out", request.out), ("--force", request.force)):
        if present:
            raise ExecutionError(f"{option}: not with --resume (the run folder says what to run and where)")
    folder, scenario = RunFolder.resume(request.resume)
    manifest = folder.manifest
    for option, given, started in (
        ("--reps", request.reps, manifest.reps),
        ("--seed", request.seed, manifest.seed),
    ):
        if given is not None and given != started:
            raise ExecutionError(
                f"{option} {given}: the run in {folder.path} was started with {option} {started}; "
                "a resumed run keeps its settings"
            )
    if request.transactions and not manifest.transactions:
        raise ExecutionError(f"--transactions: the run in {folder.path} was started without it")
    if folder.complete:
        if not all((folder.path / name).is_file() for name in REPORT_FILES):  # killed while writing them
            write_run_report(folder.path, request.lang)
        if request.output_format is OutputFormat.json:
            typer.echo(folder.summary_text().rstrip("\n"))
        else:
            typer.echo(f"nothing to resume: the run in {folder.path} is complete (see its summary.json)")
        return None
    return _Plan(scenario, manifest.reps, manifest.seed, manifest.transactions, folder)


class _Terminated(KeyboardInterrupt):
    """SIGTERM (a batch scheduler ending the job): handled like Ctrl-C."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise _Terminated


def _run_replications(
    plan: _Plan,
    choice: ExecutorChoice,
    show_progress: bool,
    finished: Mapping[int, Replication] | None = None,
) -> RunResult:
    """Run what is missing; on Ctrl-C (or SIGTERM) say what was kept and how to resume, and exit 130 (143).

    ``finished``: replications already done (default: those kept in the --out folder, if any)."""
    if finished is None:
        finished = plan.folder.finished() if plan.folder is not None else {}
    done = len(finished)

    def saved(count: int, _total: int) -> None:
        nonlocal done
        done = count
        update(count)

    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_terminated) if in_main_thread else None
    try:
        with (
            choice.open(plan.reps - done) as executor,
            progress_bar(f"replications ({executor.description})", plan.reps, done, show_progress) as update,
        ):
            return run_replications(
                plan.scenario,
                plan.reps,
                plan.seed,
                saved,
                executor=executor,
                finished=finished,
                purchases=plan.purchases,
                series=plan.folder is not None,
                on_outcome=plan.folder.save if plan.folder is not None else None,
            )
    except KeyboardInterrupt as interruption:
        _report_interruption(plan, done)
        raise typer.Exit(143 if isinstance(interruption, _Terminated) else 130) from None
    except Exception:
        if plan.folder is not None and (kept := len(plan.folder.finished())):
            typer.echo(f"{kept} finished replications are kept; {_resume_hint(plan.folder)}", err=True)
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _report_interruption(plan: _Plan, done: int) -> None:
    if plan.folder is None:
        typer.echo(
            f"interrupted: {done} of {plan.reps} replications had finished; "
            "nothing is kept without --out DIR",
            err=True,
        )
    else:
        kept = len(plan.folder.finished())  # the files, not the count of reports: a signal may fall between
        typer.echo(
            f"interrupted: {kept} of {plan.reps} replications finished and are kept in "
            f"{plan.folder.checkpoints}\n{_resume_hint(plan.folder)}",
            err=True,
        )


def _resume_hint(folder: RunFolder) -> str:
    return f"resume with: siyu run --resume {shlex.quote(str(folder.path))}"


def _print_tables(scenario: Scenario, result: RunResult) -> None:
    console = table_console()
    currency = scenario.meta.currency
    plural = "" if result.reps == 1 else "s"
    title = f"{scenario.meta.name} — {result.reps} replication{plural}, seed {result.seed}, 95% CI"
    console.print(metrics_table(title, result.summary(), currency))
    for dimension, groups in result.breakdown_summary().items():
        if groups:
            console.print(breakdown_table(dimension, groups, currency))


# Commands defined in their own modules (engine/cli_*.py), in the order `siyu --help` lists them.
app.command("compare")(compare_command)
app.command("sweep")(sweep_command)
app.command("sensitivity")(sensitivity_command)
app.command("optimize")(optimize_command)
app.command("calibrate")(calibrate_command)
app.command("report")(report_command)
app.command("serve")(serve_command)


def main() -> None:
    """Entry point of the ``siyu`` script: Siyu's own errors become a message and exit code 2."""
    try:
        app()
    except SiyuError as error:
        typer.echo(str(error), err=True)
        raise SystemExit(EXIT_INVALID) from None
