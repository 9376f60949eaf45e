"""Browser journeys: Playwright driving Debian's chromium against pytest-django's live server.

No downloaded browser: Chromium comes from the system (PARCOURS_CHROMIUM or
/usr/bin/chromium). If it is missing the tests FAIL with instructions; they never skip.
Every journey's log records are captured and checked for personal data.
"""

import logging
import os
import re
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the test body's ORM calls are
# still synchronous and safe (Django cannot tell, hence this documented switch).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str:
    path = os.environ.get("PARCOURS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail(
            f"No Chromium at {path}: browser tests cannot run. Install Debian's chromium "
            "(`sudo apt-get install chromium`, or `make test` as root does it) or set "
            "PARCOURS_CHROMIUM to a Chromium binary.",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


class CapturingHandler(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        try:
            self.lines.append(record.getMessage())
        except Exception:  # noqa: BLE001 - a broken log record must not break the journey
            self.lines.append(str(record.msg))


@pytest.fixture
def journey_logs(live_server):
    """Capture every log record of the journey (test thread and live server thread)."""
    handler = CapturingHandler()
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(previous_level)


@pytest.fixture
def page(browser, live_server, journey_logs, settings):
    """A fresh browser context per journey; console errors and CSP violations fail it."""
    settings.MAP_TILE_URL = ""  # tests never touch the network; maps must work without tiles
    settings.SITE_URL = live_server.url
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    expected = "the server responded with a status of 403"  # a refusal page is a journey's point

    def on_console(msg):
        if msg.type == "error" and expected not in msg.text:
            errors.append(msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"browser console errors: {errors}"
    assert_no_personal_data_in_logs(journey_logs.lines)


def assert_no_personal_data_in_logs(lines: list[str]) -> None:
    from parcours.accounts.models import User

    text = "\n".join(lines)
    for email, first, last in User.objects.values_list("email", "first_name", "last_name"):
        for value in (email, first, last):
            if value and len(value) > 2:
                assert not re.search(re.escape(value), text, re.IGNORECASE), (
                    f"personal data found in the logs of this journey: {value!r}"
                )
