"""Browser tests: Debian's chromium driven by Playwright against a real ``peacewatch serve``.

Never a downloaded browser. Screenshots go to test-artifacts/screenshots (PEACEWATCH_SCREENSHOTS
overrides) for a person to open and look at.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(os.environ.get("PEACEWATCH_SCREENSHOTS", Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"))

if os.environ.get("PEACEWATCH_TEST_DATABASE_URL"):
    pytest.skip("the browser tests serve the embedded database; they run in the SQLite pass", allow_module_level=True)
if not CHROMIUM.exists():
    if os.environ.get("CI"):
        raise RuntimeError("CI needs Debian's chromium at /usr/bin/chromium (.ci/run installs it)")
    pytest.skip("Debian's chromium is not installed (apt install chromium)", allow_module_level=True)

from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright  # noqa: E402


@pytest.fixture(scope="session")
def driver() -> Iterator[Playwright]:
    """Playwright itself: a test that restarts the browser on a kept profile launches it from here."""
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(driver: Playwright) -> Iterator[Browser]:
    chromium = driver.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
    yield chromium
    chromium.close()


@pytest.fixture
def context(browser: Browser, server: LiveServer) -> Iterator[BrowserContext]:
    # the tests read the map's state with small expressions, which the pages' CSP (no eval) would refuse;
    # test_web.test_the_public_map_* runs under the real CSP
    ctx = browser.new_context(base_url=server.url, viewport={"width": 1366, "height": 768}, accept_downloads=True,
                              bypass_csp=True)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    assert not errors, f"JavaScript errors on the page: {errors}"


def sign_in(page: Page, username: str, next_path: str = "/map") -> None:
    page.goto(f"/login?next={next_path}")
    page.fill("#username", username)
    page.fill("#password", "demo")
    page.click("form.card button[type=submit]")
    page.wait_for_url(f"**{next_path}")


def wait_until(page: Page, expression: str, timeout_s: float = 30.0) -> None:
    """Wait until an asynchronous condition of the page holds (the service worker's caches, the outbox in IndexedDB).
    Playwright's wait_for_function takes a Promise for a true value at once: this asks again, awaiting each answer."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout_s:.0f} s: {expression}")
        page.wait_for_timeout(100)  # the interval between two questions, not a wait for the answer


def screenshot(page: Page, name: str) -> Path:
    (SCREENSHOTS / name).parent.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def api_token(server: LiveServer, username: str) -> dict[str, str]:
    response = httpx.post(f"{server.url}/api/v1/auth/token", data={"username": username, "password": "demo"})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
