"""Headless Chromium for the browser tests of the reports and the playground: Debian's ``chromium`` (the
system browser, no download) driven by Playwright, and where their screenshots go.

The tests fail (never skip) when the browser is missing: ``.ci/run`` installs it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
INSTALL = "apt-get install -y --no-install-recommends chromium fonts-noto-cjk (as .ci/run does)"


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium launched headless by Playwright, closed on leaving; fails when it is missing."""
    assert CHROMIUM.is_file(), f"{CHROMIUM} is missing: the browser tests need it ({INSTALL})"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            yield browser
        finally:
            browser.close()


def screenshot_folder(fallback: Path, what: str) -> Path:
    """``$SIYU_SCREENSHOTS`` if set (to keep the screenshots), else ``fallback``; created, and printed (with
    ``what`` the screenshots are of) so that ``pytest -s`` shows where they are."""
    kept = os.environ.get("SIYU_SCREENSHOTS")
    folder = Path(kept) if kept else fallback
    folder.mkdir(parents=True, exist_ok=True)
    print(f"{what} screenshots: {folder}")
    return folder
