"""The reports in a real browser: headless Chromium (Debian's ``chromium``, driven by Playwright) opens each
generated page from a localhost server and checks that nothing went wrong and everything is there.

Fails (never skips) when the browser is missing: ``.ci/run`` installs it. Screenshots are saved under the
pytest temporary folder, or in ``$SIYU_SCREENSHOTS`` when set (the path is printed; ``pytest -s`` shows it).
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from typer.testing import CliRunner

from engine.cli import app
from reports.figures.catalogue import FIGURES

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
INSTALL = "apt-get install -y --no-install-recommends chromium fonts-noto-cjk (as .ci/run does)"


@dataclass
class PageVisit:
    """A report opened in the browser, and what the browser saw while loading it."""

    page: Page
    lang: str
    url: str
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def site(run_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The run's report in Chinese (/zh/) and English (/en/), served on localhost."""
    root = tmp_path_factory.mktemp("site")
    shutil.copytree(run_folder, root / "zh")
    shutil.copytree(run_folder, root / "en")
    result = CliRunner().invoke(app, ["report", str(root / "en"), "--lang", "en"])
    assert result.exit_code == 0, result.output
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: the browser tests need it ({INSTALL})"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``$SIYU_SCREENSHOTS`` if set (to keep them), else a pytest temporary folder."""
    kept = os.environ.get("SIYU_SCREENSHOTS")
    folder = Path(kept) if kept else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"report screenshots: {folder}")
    return folder


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


def test_every_figure_rendered(visit: PageVisit) -> None:
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
    assert [figure["key"] for figure in drawn] == [spec.key for spec in FIGURES]
    for figure in drawn:
        assert figure["svg"] and figure["traces"] >= 1, figure
        assert figure["width"] > 600 and figure["height"] > 200, figure
        assert figure["marks"] > 10, figure
    nodes = visit.page.locator("#flow .sankey-node").count()
    links = visit.page.locator("#flow .sankey-link").count()
    assert nodes >= 6 and links >= 6
    assert visit.page.locator("table[data-dimension='source'] tbody tr").count() > 5
    assert visit.page.locator("#metrics tbody tr").count() >= 30
    assert visit.page.evaluate("document.documentElement.scrollWidth") <= 1400  # no sideways scrolling


def test_chinese_renders_with_a_cjk_font_not_boxes(visit: PageVisit) -> None:
    """Two different Chinese characters in the page's font draw differently, and differently from a
    character no font has (the missing-glyph box): with no CJK font both would be that box."""
    font = visit.page.evaluate("getComputedStyle(document.body).fontFamily")
    pixels = visit.page.evaluate(
        """(font) => {
            const draw = (character) => {
                const canvas = document.createElement('canvas');
                canvas.width = canvas.height = 48;
                const context = canvas.getContext('2d');
                context.font = '40px ' + font;
                context.fillText(character, 2, 40);
                return Array.from(context.getImageData(0, 0, 48, 48).data).join(',');
            };
            return {si: draw('私'), yu: draw('域'), missing: draw('\\u{10FFFD}')};
        }""",
        font,
    )
    assert pixels["si"] != pixels["yu"]
    assert pixels["si"] != pixels["missing"] and pixels["yu"] != pixels["missing"]
    assert "Noto Sans CJK SC" in font
    if visit.lang == "zh":
        assert "顾客流向" in visit.page.locator("#flow h2").inner_text()


def test_the_pool_animation_plays(visit: PageVisit) -> None:
    """Pressing play moves the day slider on and redraws the bars with another day's members."""
    plot = "document.querySelector('#pool_animation .js-plotly-plot')"
    state = f"() => [Array.from({plot}._fullData[0].y), {plot}.layout.sliders[0].active]"
    bars, day = visit.page.evaluate(state)
    assert sum(bars) > 0
    button = visit.page.locator("#pool_animation .updatemenu-button").first
    assert ("播放" if visit.lang == "zh" else "play") in (button.text_content() or "")
    button.click()
    visit.page.wait_for_function(
        f"(day) => {plot}.layout.sliders[0].active > day + 2", arg=day, timeout=10_000
    )
    later_bars, later_day = visit.page.evaluate(state)
    assert later_day > day and later_bars != bars


def test_screenshots(visit: PageVisit, screenshots: Path) -> None:
    page_file = screenshots / f"report-{visit.lang}.png"  # report-zh.png, report-en.png
    visit.page.screenshot(path=str(page_file), full_page=True)
    visit.page.locator("#flow").screenshot(path=str(screenshots / f"flow-{visit.lang}.png"))
    assert page_file.stat().st_size > 100_000
