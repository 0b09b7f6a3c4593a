"""The reports in a real browser: headless Chromium (Debian's ``chromium``, driven by Playwright) opens each
generated page from a localhost server and checks that nothing went wrong and everything is there.

Fails (never skips) when the browser is missing: ``.ci/run`` installs it. Screenshots are saved under the
pytest temporary folder, or in ``$SIYU_SCREENSHOTS`` when set (the path is printed; ``pytest -s`` shows it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reports.figures.catalogue import FIGURES
from tests.reports.browser import (
    VIEWPORT_WIDTH,
    PageVisit,
    assert_clean_and_local,
    assert_figures_drawn,
    served_in_both_languages,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(run_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The run's report in Chinese (/zh/) and English (/en/), served on localhost."""
    with served_in_both_languages(run_folder, tmp_path_factory.mktemp("site")) as url:
        yield url


def test_no_console_error_and_no_request_outside_localhost(visit: PageVisit, site: str) -> None:
    assert_clean_and_local(visit, site)


def test_every_figure_rendered(visit: PageVisit) -> None:
    assert_figures_drawn(visit, [spec.key for spec in FIGURES], min_traces=1)
    nodes = visit.page.locator("#flow .sankey-node").count()
    links = visit.page.locator("#flow .sankey-link").count()
    assert nodes >= 6 and links >= 6
    assert visit.page.locator("table[data-dimension='source'] tbody tr").count() > 5
    assert visit.page.locator("#metrics tbody tr").count() >= 30
    scroll_width = visit.page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= VIEWPORT_WIDTH  # no sideways scrolling


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
