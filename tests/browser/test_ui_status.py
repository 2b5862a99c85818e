"""What an administrator sees on the status page while Bob edits: every component healthy, Bob in
his document, the week's saves charted; on a phone-sized screen too, without sideways scrolling."""

from tests.browser.conftest import keep_a_failed_job
from tests.browser.conftest import shoot
from tests.browser.conftest import sign_in
from tests.test_status_page import backdate_entries


def test_status_page_at_a_glance(site, browser, page):
    doc = site.create_document("alice", "Quarterly figures")
    site.set_level(doc["id"], "bob", "edit")

    bob_context = browser.new_context(viewport={"width": 1280, "height": 860})
    bob = bob_context.new_page()
    sign_in(bob, site, "bob")
    bob.goto(f"{site.url}/files/{doc['id']}/open")
    bob.frame_locator("iframe[name=frameEditor]").locator("#emu-content").wait_for()

    backdate_entries(site, "file.saved", 3, 4)
    backdate_entries(site, "file.saved", 1, 2)
    backdate_entries(site, "file.save_failed", 1, 1)
    site.query(keep_a_failed_job)
    sign_in(page, site, "alice")
    page.click("text=Administration")
    page.click("#status-link")
    page.wait_for_selector("#sessions [data-file]")
    assert page.locator("h1 .badge").inner_text() == "healthy"
    for component in ("database", "storage", "onlyoffice", "queue"):
        assert page.locator(f"[data-component={component}] .badge").inner_text() == "healthy"
    session = page.locator(f"#sessions [data-file='{doc['id']}']")
    assert "Quarterly figures" in session.inner_text() and "Bob Baker" in session.inner_text()
    assert page.locator("#activity svg").count() == 3
    assert page.locator(".chart.saves rect.chart-bar").count() == 7
    assert page.locator(".chart.saves .chart-total").inner_text() == "6"
    failed = page.locator("#failed-jobs [data-job]")
    assert failed.count() == 1 and "coedit.forcesave" in failed.inner_text()
    assert "after 9 attempts" in failed.inner_text() and failed.locator("button").count() == 2
    shoot(page, "60-admin-status")

    phone = browser.new_context(viewport={"width": 390, "height": 844})
    small = phone.new_page()
    sign_in(small, site, "alice")
    small.goto(f"{site.url}/admin/status")
    assert small.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(small, "61-admin-status-phone")
    phone.close()
    bob_context.close()
