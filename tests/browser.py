"""Debian's chromium driven by Playwright (never ``playwright install``): the browser of
the widget's and the dashboard's browser tests and of the screenshot scripts."""

import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ENSURE = Path(__file__).resolve().parents[1] / "scripts" / "ensure-chromium"


def chromium_problem() -> str | None:
    """Install chromium if it is missing and we may (root with apt); None when it is there."""
    if CHROMIUM.exists():
        return None
    if shutil.which("apt-get") is None:
        return "chromium is not installed and there is no apt-get to install it"
    result = subprocess.run([str(ENSURE)], capture_output=True, text=True, timeout=900, check=False)
    return None if CHROMIUM.exists() else f"chromium could not be installed: {result.stderr.strip()}"


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    """Headless chromium for a module's tests (skipped when it cannot be had)."""
    playwright_api = pytest.importorskip("playwright.async_api")
    problem = chromium_problem()
    if problem is not None:
        pytest.skip(problem)
    async with playwright_api.async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        await chromium.close()
