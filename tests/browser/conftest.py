"""Headless Chromium (Debian's `chromium`) driven by Playwright, for the HTML report tests.

No chromium: skip locally, fail when CI=true (FACTS.md). Never `playwright install`.
Set CHECKRUN_SCREENSHOT_DIR to keep the screenshots and PDFs for a human to look at.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The run fixtures live with the unit tests of the renderers.
sys.path.insert(0, str(Path(__file__).parents[1] / "unit" / "report"))


@pytest.fixture(scope="session")
def chromium_browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    executable = shutil.which("chromium")
    if executable is None:
        message = "Debian chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    xdg = tmp_path_factory.mktemp("xdg")
    env = {**os.environ, "XDG_CONFIG_HOME": str(xdg), "XDG_CACHE_HOME": str(xdg)}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-dev-shm-usage"],
            env=env,
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def artifact_dir(tmp_path: Path) -> Path:
    keep = os.environ.get("CHECKRUN_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        return Path(keep)
    return tmp_path
