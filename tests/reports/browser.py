"""What the report browser tests share: a report folder served on localhost in Chinese and English, the
page as the browser saw it while loading, and the checks every report page passes."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page
from typer.testing import CliRunner

from engine.cli import app

VIEWPORT_WIDTH = 1400

DRAWN_FIGURES = """() => [...document.querySelectorAll('section.figure')].map(section => {
    const plot = section.querySelector('.js-plotly-plot');
    const box = plot ? plot.getBoundingClientRect() : {width: 0, height: 0};
    return {
        key: section.dataset.figure,
        svg: !!(plot && plot.querySelector('.main-svg')),
        traces: plot && plot._fullData ? plot._fullData.length : 0,
        width: box.width, height: box.height,
        marks: plot ? plot.querySelectorAll('path, rect').length : 0,
    };
})"""
"""Script listing each figure section's key, whether its plot is drawn as SVG, its traces, size and marks."""


@dataclass
class PageVisit:
    """A report opened in the browser, and what the browser saw while loading it."""

    page: Page
    lang: str
    url: str
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files without logging each request."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def served_in_both_languages(folder: Path, root: Path) -> Iterator[str]:
    """The report folder ``folder`` copied to ``root/zh`` (as written) and ``root/en`` (re-rendered by
    ``siyu report --lang en``), served on a free localhost port; yields the base URL."""
    shutil.copytree(folder, root / "zh")
    shutil.copytree(folder, root / "en")
    result = CliRunner().invoke(app, ["report", str(root / "en"), "--lang", "en"])
    assert result.exit_code == 0, result.output
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def visiting(browser: Browser, site: str, lang: str) -> Iterator[PageVisit]:
    """``site``'s report in ``lang`` opened in a new page until its first figure is drawn, with its console
    errors and requests recorded; the page is closed on leaving."""
    page = browser.new_page(viewport={"width": VIEWPORT_WIDTH, "height": 900})
    seen = PageVisit(page, lang, f"{site}/{lang}/index.html")
    page.on("console", lambda message: seen.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    page.on("request", lambda req: seen.requests.append(req.url))
    page.goto(seen.url, wait_until="load")
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length > 0")
    try:
        yield seen
    finally:
        page.close()


def assert_clean_and_local(visit: PageVisit, site: str) -> None:
    """No console error, and no request but to ``site`` (or data, blob, about), the page itself first."""
    assert visit.errors == []
    outside = [url for url in visit.requests if not url.startswith((site + "/", "data:", "blob:", "about:"))]
    assert outside == []
    assert visit.requests[0] == visit.url


def assert_figures_drawn(visit: PageVisit, keys: list[str], min_traces: int) -> None:
    """The page's figure sections are ``keys`` in order, each drawn as a large SVG plot with at least
    ``min_traces`` traces and some marks."""
    drawn = visit.page.evaluate(DRAWN_FIGURES)
    assert [figure["key"] for figure in drawn] == keys
    for figure in drawn:
        assert figure["svg"] and figure["traces"] >= min_traces, figure
        assert figure["width"] > 600 and figure["height"] > 200, figure
        assert figure["marks"] > 10, figure
