"""The playground's web application (Starlette): the page, its script and style, plotly.js, and a JSON API.

Routes:

- ``GET /`` — the page; ``GET /static/…`` its script and style; ``GET /plotly.min.js`` plotly.js from the
  installed plotly package. The page loads nothing from outside this server.
- ``GET /api/scenarios`` — the scenarios of the folder (key, name, description), the files that did not
  load, and the run settings (reps, seed).
- ``GET /api/levers?scenario=KEY`` — the scenario's sliders and select boxes (:mod:`playground.levers`).
- ``POST /api/run`` with ``{"scenario": KEY, "values": {PATH: NUMBER}, "choices": {PATH: ID}}`` — reruns
  the scenario with those values and returns the key metrics of baseline and variant with the paired
  differences, and the figures of both (:mod:`playground.results`). The simulation runs in a worker thread
  (and the simulator's worker processes), never on the event loop.

Bad input is answered with ``{"error": MESSAGE, "field": PATH or null}``: 400 for a request that is not
JSON of that shape, 404 for an unknown scenario, 422 for a value the scenario does not allow (the message
of :mod:`engine.levers`, as on the command line).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from functools import cache
from pathlib import Path
from typing import Any

from plotly.offline import get_plotlyjs
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from playground.catalogue import Catalogue, Entry
from playground.errors import PlaygroundError
from playground.levers import GROUP_NOTES, GROUPS, apply_changes, main_levers
from playground.results import FigureCache, figures, metric_rows
from playground.simulation import Simulator
from reports.labels import LANGS

STATIC = Path(__file__).parent / "static"
"""The page's HTML, CSS and JavaScript."""


@cache
def _plotly_js() -> str:
    return get_plotlyjs()


def _error(error: PlaygroundError, status: int = 422) -> JSONResponse:
    return JSONResponse({"error": str(error), "field": error.field}, status_code=status)


class Playground:
    """The application's state: the scenarios, the simulator and the figures already drawn."""

    def __init__(self, catalogue: Catalogue, simulator: Simulator) -> None:
        self.catalogue = catalogue
        self.simulator = simulator
        self.figures = FigureCache()

    def entry(self, key: Any) -> Entry:
        """The scenario called ``key`` (a :class:`PlaygroundError` for a missing or unknown key)."""
        if not isinstance(key, str) or not key:
            raise PlaygroundError("give the scenario's key (as listed by /api/scenarios)", "scenario")
        return self.catalogue.get(key)

    def scenarios(self) -> dict[str, Any]:
        """``GET /api/scenarios``: the scenarios, the files that did not load, the run settings."""
        return {
            "scenarios": [
                {
                    "key": entry.key,
                    "name": entry.scenario.meta.name,
                    "description": entry.scenario.meta.description,
                    "file": str(entry.path),
                }
                for entry in self.catalogue.entries
            ],
            "problems": list(self.catalogue.problems),
            "folder": str(self.catalogue.root),
            "reps": self.simulator.reps,
            "budget_s": self.simulator.budget_s,
            "seed": self.simulator.seed,
            "workers": self.simulator.description,
        }

    def levers(self, key: Any) -> dict[str, Any]:
        """``GET /api/levers``: the scenario's sliders and select boxes, in their groups."""
        entry = self.entry(key)
        levers = main_levers(entry.scenario)
        return {
            "key": entry.key,
            "name": entry.scenario.meta.name,
            "description": entry.scenario.meta.description,
            "currency": entry.scenario.meta.currency,
            "groups": [
                {
                    "id": group,
                    "zh": zh,
                    "en": en,
                    "note": dict(zip(LANGS, GROUP_NOTES.get(group, ("", "")), strict=True)),
                }
                for group, (zh, en) in GROUPS.items()
            ],
            "sliders": [asdict(slider) for slider in levers.sliders],
            "choices": [asdict(choice) for choice in levers.choices],
        }

    def rerun(self, key: Any, values: dict[str, Any], choices: dict[str, Any]) -> dict[str, Any]:
        """Baseline and variant of scenario ``key`` (blocking: call it from a worker thread)."""
        entry = self.entry(key)
        variant_scenario = apply_changes(entry.scenario, values, choices)
        baseline = self.simulator.baseline(entry.scenario)
        variant = self.simulator.variant(baseline.result, variant_scenario)
        return {
            "scenario": entry.key,
            "name": entry.scenario.meta.name,
            "currency": entry.scenario.meta.currency,
            "reps": baseline.result.reps,
            "seed": self.simulator.seed,
            "seconds": round(baseline.seconds + variant.seconds, 2),
            "cached": baseline.cached and variant.cached,
            "metrics": metric_rows(baseline.result, variant.result),
            "figures": figures(baseline.result, variant.result, entry.path, self.figures),
        }


def _object(body: Any, name: str) -> dict[str, Any]:
    """The mapping ``body[name]`` of the run request (empty when absent)."""
    value = body.get(name, {})
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
        raise PlaygroundError(
            f"'{name}' must be an object of lever path → value, e.g. {{\"sources.ads.spend_per_day\": 3000}}"
        )
    return value


def create_app(catalogue: Catalogue, simulator: Simulator) -> Starlette:
    """The playground's Starlette application over ``catalogue``, running scenarios with ``simulator``.

    The simulator's worker processes are stopped when the application shuts down.
    """
    playground = Playground(catalogue, simulator)

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def plotly_js(request: Request) -> Response:
        return Response(
            _plotly_js(), media_type="text/javascript", headers={"Cache-Control": "max-age=86400"}
        )

    async def scenarios(request: Request) -> Response:
        return JSONResponse(playground.scenarios())

    async def levers(request: Request) -> Response:
        try:
            return JSONResponse(playground.levers(request.query_params.get("scenario")))
        except PlaygroundError as error:
            return _error(error, 404)

    async def rerun(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except ValueError as error:
            return _error(PlaygroundError(f"the request is not JSON ({error})"), 400)
        try:
            if not isinstance(body, dict):
                raise PlaygroundError(
                    'expected a JSON object {"scenario": KEY, "values": {…}, "choices": {…}}'
                )
            values, choices = _object(body, "values"), _object(body, "choices")
        except PlaygroundError as error:
            return _error(error, 400)
        try:
            playground.entry(body.get("scenario"))
        except PlaygroundError as error:
            return _error(error, 404)
        try:
            answer = await run_in_threadpool(playground.rerun, body["scenario"], values, choices)
        except PlaygroundError as error:
            return _error(error, 422)
        return JSONResponse(answer)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await run_in_threadpool(simulator.close)

    return Starlette(
        routes=[
            Route("/", page),
            Route("/plotly.min.js", plotly_js),
            Route("/api/scenarios", scenarios),
            Route("/api/levers", levers),
            Route("/api/run", rerun, methods=["POST"]),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        lifespan=lifespan,
    )
