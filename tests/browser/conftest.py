"""Browser fixtures: Debian's Chromium driven by Playwright, the app and the Docs emulator live."""

import os

import pytest

from docs_emulator.testing import start_emulator
from tests.helpers import SECRET

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCREENSHOTS = os.path.join(ROOT, "test-output", "screenshots")


@pytest.fixture(scope="session")
def emulator():
    with start_emulator(jwt_secret=SECRET, save_delay=0.5, retry_base=0.05) as emu:
        yield emu


@pytest.fixture
def site(make_world, emulator):
    """The app with real forms (CSRF on), wired to the emulator."""
    return make_world(DOCS_URL=emulator.url, WTF_CSRF_ENABLED=True)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: (errors.append("dialog: " + dialog.message), dialog.dismiss()))
    page.js_errors = errors
    yield page
    context.close()


def shoot(page, name: str) -> None:
    os.makedirs(SCREENSHOTS, exist_ok=True)
    page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


def sign_in(page, site, username: str) -> None:
    page.goto(site.url + "/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-" + username)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(site.url + "/")
