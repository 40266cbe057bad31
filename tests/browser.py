"""Headless Chromium for the browser tests: Debian's own `chromium` driven by Playwright (no browser
download), a fresh profile each time, and screenshots of every page at an office and a phone size.

`.ci/run` installs chromium and a CJK font when they are missing; if Chromium still cannot start,
the tests say so loudly and skip, rather than pass without a browser.
"""

import os
import shutil
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("GRIDBOT_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENS = Path(__file__).parent / "artifacts" / "screens"  # gitignored: looked at, not kept in git
SIZES = {"pc": (1366, 768), "phone": (390, 844)}
NO_BROWSER = "!!! headless Chromium cannot run here ({why}): the browser tests were NOT run; run .ci/run to install it !!!"


@asynccontextmanager
async def chromium(profile: Path):
    """A browser context on a fresh user-data-dir (`profile`), the office screen's size."""
    try:
        from playwright.async_api import async_playwright
    except ImportError as missing:
        pytest.skip(NO_BROWSER.format(why=f"Playwright is not installed: {missing}"))
    if not Path(CHROMIUM).exists():
        pytest.skip(NO_BROWSER.format(why=f"no {CHROMIUM}"))
    async with async_playwright() as playwright:
        try:
            context = await playwright.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=FLAGS,
                viewport={"width": SIZES["pc"][0], "height": SIZES["pc"][1]},
                locale="zh-CN",
                timezone_id="Asia/Shanghai",
            )
        except Exception as failed:  # Playwright raises its own Error with Chromium's stderr in it
            pytest.skip(NO_BROWSER.format(why=str(failed).splitlines()[0]))
        context.set_default_timeout(15_000)
        try:
            yield context
        finally:
            await context.close()


async def shoot(page, name: str) -> None:
    """Screenshots of the page as shown now, whole length, at each size. At neither size may the page
    be wider than the screen: on a phone, sideways scrolling hides the table's last columns."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    wider = {}
    for size, (width, height) in SIZES.items():
        await page.set_viewport_size({"width": width, "height": height})
        await page.screenshot(path=SCREENS / f"{name}-{size}-{width}x{height}.png", full_page=True)
        wider[size] = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    await page.set_viewport_size({"width": SIZES["pc"][0], "height": SIZES["pc"][1]})
    assert not any(wider.values()), f"{name}: wider than the screen by {wider} px"
