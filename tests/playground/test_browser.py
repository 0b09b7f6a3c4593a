"""The playground in a real browser: Debian's headless Chromium driven by Playwright (the system browser, no
download). Fails on any console error and on any request to a host other than this machine; checks that
every figure is drawn, that moving a slider reruns and changes the numbers, that a bad value is explained
next to its slider, and saves screenshots (in ``SIYU_SCREENSHOTS`` if set, else a temporary folder)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.browser import chromium, screenshot_folder
from tests.playground.conftest import siyu_serve

LOCAL = {"127.0.0.1", "localhost"}
TIMEOUT_MS = 90_000
SPEND = '.lever[data-path="sources.ads.spend_per_day"]'
EXIT_RATE = '.lever[data-path="carriers.wecom.monthly_exit_rate"]'


@pytest.fixture(scope="module")
def served(scenario_folder: Path) -> Iterator[str]:
    """``siyu serve`` as a real process on a free port; yields the URL it prints."""
    with siyu_serve(scenario_folder, reps=3) as (_, line):
        assert "http://127.0.0.1:" in line, f"siyu serve did not start: {line!r}"
        yield line.split(": ", 1)[1].strip()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """``$SIYU_SCREENSHOTS`` if set (to keep them), else a temporary folder."""
    return screenshot_folder(tmp_path / "screenshots", "playground")


def _metric(page, name: str, side: str) -> str:  # type: ignore[no-untyped-def]
    return page.locator(f'tr[data-metric="{name}"] td.{side}').inner_text()


def _wait_for_run(page, runs: int) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        f"document.body.dataset.state === 'ready' && Number(document.body.dataset.runs) >= {runs}",
        timeout=TIMEOUT_MS,
    )


@pytest.mark.slow
def test_the_playground_in_headless_chromium(served: str, screenshots: Path) -> None:
    console_errors: list[str] = []
    allowed_errors: list[str] = []  # the one deliberate bad value answers 422, which Chromium logs
    outside: list[str] = []

    def on_console(message) -> None:  # type: ignore[no-untyped-def]
        if message.type == "error":
            console_errors.append(message.text)

    def on_request(request) -> None:  # type: ignore[no-untyped-def]
        url = urlparse(request.url)
        if url.scheme not in ("data", "blob", "about") and url.hostname not in LOCAL:
            outside.append(request.url)

    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1600, "height": 1100})
        page.on("console", on_console)
        page.on("pageerror", lambda error: console_errors.append(f"page error: {error}"))
        page.on("request", on_request)

        page.goto(f"{served}#tiny_shop")
        _wait_for_run(page, 1)
        assert page.locator("#title").inner_text() == "私域课堂演练"
        assert page.locator("#scenario option").count() == 2
        plots = page.locator(".figure .js-plotly-plot")
        assert plots.count() == 8  # four figures, baseline and variant side by side
        for index in range(plots.count()):
            drawn = plots.nth(index).locator("svg.main-svg path")
            assert drawn.count() > 0, f"figure {index} has no SVG content"
        before = _metric(page, "new_members", "variant")
        assert before == _metric(page, "new_members", "baseline")
        page.screenshot(path=str(screenshots / "playground-zh.png"), full_page=True)

        # Move the spend slider: the page reruns and the variant's numbers change, the baseline's do not.
        page.locator(f"{SPEND} input[type=range]").evaluate(
            "(range) => { range.value = '1500'; range.dispatchEvent(new Event('input', {bubbles: true}));"
            " range.dispatchEvent(new Event('change', {bubbles: true})); }"
        )
        _wait_for_run(page, 2)
        assert page.locator(f"{SPEND} input[type=number]").input_value() == "1500"
        after = _metric(page, "new_members", "variant")
        assert after != before
        assert _metric(page, "new_members", "baseline") == before
        assert "up" in (page.locator('tr[data-metric="new_members"] td.change').get_attribute("class") or "")
        page.screenshot(path=str(screenshots / "playground-zh-moved.png"), full_page=True)

        # A bad value typed next to a slider: the same clear message as the CLI, shown beside it.
        errors_so_far = len(console_errors)
        page.locator(f"{EXIT_RATE} input[type=number]").fill("1.5")
        page.locator(f"{EXIT_RATE} input[type=number]").press("Tab")
        page.wait_for_function("document.body.dataset.state === 'error'", timeout=TIMEOUT_MS)
        message = page.locator(f"{EXIT_RATE} .error").inner_text()
        assert "carriers.wecom.monthly_exit_rate = 1.5" in message and "must be < 1 (got 1.5)" in message
        allowed_errors += [e for e in console_errors[errors_so_far:] if "status of 422" in e]
        page.screenshot(path=str(screenshots / "playground-error.png"), full_page=True)

        # The same through the API.
        answer = page.request.post(
            f"{served}api/run",
            data={"scenario": "tiny_shop", "values": {"sources.ads.spend_per_day": -1}},
        )
        assert answer.status == 422
        assert "sources.ads.spend_per_day = -1" in answer.json()["error"]
        assert "must be ≥ 0 (got -1)" in answer.json()["error"]

        # English, and back to the baseline.
        page.locator("#lang").click()
        assert page.locator("#title").inner_text() == "Siyu classroom playground"
        assert page.locator('tr[data-metric="new_members"] td').first.inner_text() == "new members"
        page.locator("#reset").click()
        _wait_for_run(page, 3)
        assert _metric(page, "new_members", "variant") == _metric(page, "new_members", "baseline")
        page.screenshot(path=str(screenshots / "playground-en.png"), full_page=True)

    assert [e for e in console_errors if e not in allowed_errors] == []
    assert len(allowed_errors) == 1
    assert outside == []
    assert all(
        (screenshots / name).stat().st_size > 10_000 for name in ("playground-zh.png", "playground-en.png")
    )
