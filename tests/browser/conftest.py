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


AXE = os.path.join(ROOT, "node_modules", "axe-core", "axe.min.js")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}


@pytest.fixture
def phone(browser):
    """A page 390 px wide, as a phone shows it."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.js_errors = errors
    yield page
    context.close()


def check_page(page, name: str) -> None:
    """Screenshot the page as `name`, then fail on sideways scroll or a serious or critical axe-core finding.

    The Docs editor's iframe comes from another origin (the emulator, or Docs itself): axe checks
    the page around it, not it.
    """
    shoot(page, name)
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{name}: the page scrolls sideways ({width[0]} px wide in a {width[1]} px window)"
    if not os.path.exists(AXE):
        pytest.fail("axe-core is not installed; `make test` runs `npm ci` (package.json)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # The app's Content-Security-Policy refuses inline scripts (what add_script_tag makes of a
        # file), so axe's source is evaluated through the driver, which the policy does not govern.
        with open(AXE, encoding="utf-8") as source:
            page.evaluate(source.read() + "\n;void 0")
    violations = page.evaluate(
        """async () => {
            const result = await axe.run(document, {iframes: false, resultTypes: ['violations']});
            return result.violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => ({id: v.id, impact: v.impact, help: v.help, count: v.nodes.length,
                            nodes: v.nodes.slice(0, 5).map(n => ({target: n.target.join(' '),
                                                                  summary: n.failureSummary}))}));
        }"""
    )
    if violations:
        lines = [f"{name}: {len(violations)} serious or critical accessibility violation(s) (axe-core):"]
        for violation in violations:
            lines.append(
                f"- [{violation['impact']}] {violation['id']}: {violation['help']} ({violation['count']} element(s))"
            )
            for node in violation["nodes"]:
                summary = " ".join(node["summary"].split())
                lines.append(f"    at {node['target']}: {summary}")
        pytest.fail("\n".join(lines), pytrace=False)


def keep_a_failed_job() -> None:
    """A job that failed for good, as the status page lists it (call it in an app context): a
    force-save whose retries ran out while Docs could not be reached."""
    from app.services import failed_jobs
    from app.services.exceptions import DocsUnreachableError

    error = DocsUnreachableError("ONLYOFFICE Docs could not be reached: connection refused")
    failed_jobs.record("coedit.forcesave", [7, "7-c2f1e0a9b8d7"], error, 9)
