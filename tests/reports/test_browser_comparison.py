"""The comparison report in a real browser (headless Chromium via Playwright, as ``test_browser``): opened
from a localhost server in Chinese and English, no console error, no request off localhost, every figure
drawn as SVG, the verdicts and tables there, and a screenshot saved (in ``$SIYU_SCREENSHOTS`` when set)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reports.comparison_page import COMPARISON_FIGURES
from tests.reports.browser import (
    VIEWPORT_WIDTH,
    PageVisit,
    assert_clean_and_local,
    assert_figures_drawn,
    served_in_both_languages,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(comparison_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The comparison's report in Chinese (/zh/, as `siyu compare --out` wrote it) and English (/en/, from
    `siyu report --lang en`), served on localhost."""
    with served_in_both_languages(comparison_folder, tmp_path_factory.mktemp("comparison_site")) as url:
        yield url


def test_no_console_error_and_no_request_outside_localhost(visit: PageVisit, site: str) -> None:
    assert_clean_and_local(visit, site)


def test_every_figure_rendered_with_its_plans(visit: PageVisit) -> None:
    assert_figures_drawn(visit, [spec.key for spec in COMPARISON_FIGURES], min_traces=2)
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
    scroll_width = visit.page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= VIEWPORT_WIDTH  # no sideways scrolling
    heading = visit.page.locator("#verdicts h2").inner_text()
    assert heading == ("结论（与基线相比）" if visit.lang == "zh" else "Verdicts (against the baseline)")


def test_screenshots(visit: PageVisit, screenshots: Path) -> None:
    page_file = screenshots / f"comparison-{visit.lang}.png"  # comparison-zh.png, comparison-en.png
    visit.page.screenshot(path=str(page_file), full_page=True)
    visit.page.locator("#differences").screenshot(path=str(screenshots / f"differences-{visit.lang}.png"))
    assert page_file.stat().st_size > 100_000
