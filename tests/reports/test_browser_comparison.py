"""The comparison report in a real browser (headless Chromium via Playwright, as ``test_browser``): opened
from a localhost server in Chinese and English, no console error, no request off localhost, every figure
drawn as SVG, the verdicts and tables there, and a screenshot saved (in ``$SIYU_SCREENSHOTS`` when set)."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright
from typer.testing import CliRunner

from engine.cli import app
from reports.comparison_page import COMPARISON_FIGURES
from tests.reports.test_browser import CHROMIUM, INSTALL, PageVisit, QuietHandler

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(comparison_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The comparison's report in Chinese (/zh/, as `siyu compare --out` wrote it) and English (/en/, from
    `siyu report --lang en`), served on localhost."""
    root = tmp_path_factory.mktemp("comparison_site")
    shutil.copytree(comparison_folder, root / "zh")
    shutil.copytree(comparison_folder, root / "en")
    result = CliRunner().invoke(app, ["report", str(root / "en"), "--lang", "en"])
    assert result.exit_code == 0, result.output
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: the browser tests need it ({INSTALL})"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


@pytest.fixture(scope="module", params=["zh", "en"])
def visit(request: pytest.FixtureRequest, browser: Browser, site: str) -> Iterator[PageVisit]:
    """The page opened once per language, with its console errors and requests recorded."""
    lang = request.param
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    seen = PageVisit(page, lang, f"{site}/{lang}/index.html")
    page.on("console", lambda message: seen.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    page.on("request", lambda req: seen.requests.append(req.url))
    page.goto(seen.url, wait_until="load")
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length > 0")
    yield seen
    page.close()


def test_no_console_error_and_no_request_outside_localhost(visit: PageVisit, site: str) -> None:
    assert visit.errors == []
    outside = [url for url in visit.requests if not url.startswith((site + "/", "data:", "blob:", "about:"))]
    assert outside == []
    assert visit.requests[0] == visit.url


def test_every_figure_rendered_with_its_plans(visit: PageVisit) -> None:
    drawn = visit.page.evaluate(
        """() => [...document.querySelectorAll('section.figure')].map(section => {
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
    )
    assert [figure["key"] for figure in drawn] == [spec.key for spec in COMPARISON_FIGURES]
    for figure in drawn:
        assert figure["svg"] and figure["traces"] >= 2, figure
        assert figure["width"] > 600 and figure["height"] > 200, figure
        assert figure["marks"] > 10, figure
    # the forest plot: two variants × six key metrics, each a point with its CI bar
    assert visit.page.locator("#differences .errorbar").count() == 12
    assert visit.page.locator("#verdicts li").count() == 12
    assert visit.page.locator("#verdicts li.better").count() >= 2
    assert visit.page.locator("#metrics tbody tr").count() >= 30
    assert visit.page.locator("#selection tbody tr").count() == 3
    details = visit.page.locator("#assumptions details")
    assert details.count() == 3 and not details.first.locator("pre").is_visible()
    details.first.locator("summary").click()
    assert details.first.locator("pre").is_visible()  # the assumptions open on a click
    assert visit.page.evaluate("document.documentElement.scrollWidth") <= 1400  # no sideways scrolling
    heading = visit.page.locator("#verdicts h2").inner_text()
    assert heading == ("结论（与基线相比）" if visit.lang == "zh" else "Verdicts (against the baseline)")


def test_screenshots(visit: PageVisit, tmp_path_factory: pytest.TempPathFactory) -> None:
    kept = os.environ.get("SIYU_SCREENSHOTS")
    folder = Path(kept) if kept else tmp_path_factory.mktemp("comparison_screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    page_file = folder / f"comparison-{visit.lang}.png"  # comparison-zh.png, comparison-en.png
    visit.page.screenshot(path=str(page_file), full_page=True)
    visit.page.locator("#differences").screenshot(path=str(folder / f"differences-{visit.lang}.png"))
    print(f"comparison screenshots: {folder}")
    assert page_file.stat().st_size > 100_000
