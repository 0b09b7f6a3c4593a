"""``siyu serve``: the classroom playground, a local web page to move a scenario's levers and rerun it.

Wiring only: load the folder's scenarios, open a listening socket, hand both to :mod:`playground` and run
uvicorn. The playground package (and the web server) is imported when the command runs, so the rest of the
CLI does not load them.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import Annotated

import typer

from engine.cli_common import DEFAULT_SEED, SeedOption, exit_on_siyu_error
from engine.errors import SiyuError

DEFAULT_PORT = 8000
DEFAULT_HOST = "127.0.0.1"
DEFAULT_SERVE_REPS = 5
DEFAULT_BUDGET_S = 6.0
"""Seconds a rerun should take (the same as :data:`playground.simulation.DEFAULT_BUDGET_S`)."""
SHIPPED_SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
"""The scenarios shipped with Siyu (next to the ``engine`` package in a source checkout)."""
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


class ServeError(SiyuError):
    """``siyu serve`` cannot start as asked (no scenario folder, a port in use, an unknown host)."""


def scenario_folder(given: Path | None) -> Path:
    """The folder to serve: the one given, or the shipped ``scenarios/`` folder."""
    if given is not None:
        return given
    if not SHIPPED_SCENARIOS.is_dir():
        raise ServeError(
            f"the shipped scenarios folder {SHIPPED_SCENARIOS} is not there (Siyu was installed without "
            "it); give a folder of scenario files: siyu serve SCENARIO_DIR"
        )
    return SHIPPED_SCENARIOS


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on ``host:port`` (port 0: any free port); a :class:`ServeError` says why not."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise ServeError(f"--host {host}: not an address of this machine ({error.strerror})") from None
    family, kind, protocol, _, address = infos[0]
    sock = socket.socket(family, kind, protocol)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as error:
        sock.close()
        raise ServeError(
            f"--port {port}: cannot listen on {host}:{port} ({error.strerror}); choose another --port, "
            "or --port 0 for any free one"
        ) from None
    return sock


def serve_command(
    scenario_dir: Annotated[
        Path | None,
        typer.Argument(
            help="Folder of scenario YAML files (subfolders included).",
            show_default="the shipped scenarios/ folder",
        ),
    ] = None,
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port to listen on; 0 picks a free one.")
    ] = DEFAULT_PORT,
    host: Annotated[
        str,
        typer.Option(
            help="Address to listen on. The default keeps the page on this machine; another address "
            "(0.0.0.0: every network) lets anyone who can reach it run simulations here."
        ),
    ] = DEFAULT_HOST,
    reps: Annotated[
        int,
        typer.Option(min=2, max=1000, help="Most replications per rerun (baseline and variant alike)."),
    ] = DEFAULT_SERVE_REPS,
    budget: Annotated[
        float,
        typer.Option(
            min=0.1,
            max=3600,
            help="Seconds a rerun should take: a scenario whose replications are slow gets fewer than --reps "
            "(at least 3), chosen once per scenario when its baseline runs.",
        ),
    ] = DEFAULT_BUDGET_S,
    seed: SeedOption = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=4096,
            help="Local worker processes, kept while the page is served; 1 runs in this process.",
            show_default="every core",
        ),
    ] = None,
) -> None:
    """Start the classroom playground: a local web page where you pick a scenario, move its main levers
    (spend, lure, path, carrier, campaign frequency, staff) and see metrics and figures rerun beside the
    unchanged baseline. Ctrl-C stops it."""
    with exit_on_siyu_error():
        import uvicorn

        from engine.execution import default_workers
        from playground.app import create_app
        from playground.catalogue import load_catalogue
        from playground.simulation import Simulator

        folder = scenario_folder(scenario_dir)
        catalogue = load_catalogue(folder)
        for problem in catalogue.problems:
            typer.echo(f"skipped: {problem}", err=True)
        sock = listen(host, port)
        if host not in LOCAL_HOSTS:
            typer.echo(
                f"warning: --host {host} exposes the playground beyond this machine: anyone who can reach "
                "it can run simulations here. Use it only on a network you trust.",
                err=True,
            )
        simulator = Simulator(
            reps, DEFAULT_SEED if seed is None else seed, workers or default_workers(), budget
        )
        bound_port = sock.getsockname()[1]
        shown_host = f"[{host}]" if ":" in host else host
        typer.echo(
            f"Siyu playground 私域课堂演练: http://{shown_host}:{bound_port}/\n"
            f"{len(catalogue.entries)} scenarios from {folder}; up to {reps} replications per rerun "
            f"(fewer when slower than {budget:g} s), seed {simulator.seed}, on {simulator.description}. "
            "Ctrl-C to stop."
        )
        sys.stdout.flush()
        config = uvicorn.Config(create_app(catalogue, simulator), log_level="warning", lifespan="on")
        try:
            uvicorn.Server(config).run(sockets=[sock])
        except KeyboardInterrupt:  # uvicorn shuts down cleanly, then passes Ctrl-C on: the normal way to stop
            typer.echo("playground stopped", err=True)
        finally:
            simulator.close()
            sock.close()
