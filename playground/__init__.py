"""The classroom playground (``siyu serve``): a local web page where a trainer moves a shipped scenario's main
levers and sees its metrics and figures rerun beside the unchanged baseline.

Like the CLI, the playground is wiring: it runs the model (:mod:`engine.runner`) *and* draws figures
(:mod:`reports.figures`), so it lives outside both, in its own top-level package that only the CLI
(:mod:`engine.cli_serve`) imports. Dependencies point one way: ``playground`` → ``reports`` → ``engine``.

Modules, one concept each:

- :mod:`playground.catalogue` — the scenarios of a folder, each with its name and description;
- :mod:`playground.levers` — which sliders and select boxes a scenario gets, and applying their values;
- :mod:`playground.simulation` — running baseline and variant on the same seed, off the event loop, cached;
- :mod:`playground.results` — what the page shows: key metrics with CIs and paired differences, figures;
- :mod:`playground.app` — the Starlette routes (the page, its script, plotly.js, the JSON API);
- ``static/`` — the page (HTML, CSS, JS); no request leaves the machine.
"""
