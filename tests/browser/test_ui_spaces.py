"""The space settings page and the trash, as a space owner uses them, on a wide screen and a
phone-sized one, without sideways scrolling."""

from playwright.sync_api import expect

from tests.browser.conftest import shoot
from tests.browser.conftest import sign_in


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_space_settings_and_trash(site, browser, page):
    doc = site.create_document("alice", "Quarterly figures with a rather long name for narrow screens")
    site.create_document("alice", "Kept")
    mistake = site.create_document("alice", "Shared by mistake")
    sign_in(page, site, "alice")

    page.goto(f"{site.url}/spaces/{site.space_id}")
    page.click("#open-settings")
    page.fill("#space-name", "Team North")
    page.fill("#space-description", "Plans, budgets and minutes of the northern team.")
    page.click("#space-save")
    assert "Space settings saved." in page.inner_text("body")
    assert page.input_value("#space-name") == "Team North"
    assert page.locator(".member-row").count() == 2
    _fits(page)
    shoot(page, "70-space-settings")

    page.goto(f"{site.url}/spaces/{site.space_id}")
    page.click("text=New folder")
    page.fill("#folder-modal input[name=name]", "Minutes")
    page.click("#folder-modal button[type=submit], #folder-modal input[type=submit]")
    page.click("summary:has-text('Folder actions')")
    page.fill("input[id^=folder-name-]", "Minutes 2027")
    page.click("text=Rename")
    expect(page.locator("a", has_text="Minutes 2027")).to_have_count(1)  # once the form's page has loaded
    page.click("summary:has-text('Folder actions')")
    shoot(page, "75-space-folder-actions")
    _fits(page)

    page.goto(f"{site.url}/files/{doc['id']}")
    page.click("#trash-file")
    page.wait_for_url(f"{site.url}/spaces/{site.space_id}*")
    assert "moved to the trash" in page.inner_text("body")
    page.click("#open-trash")
    entry = page.locator(f".trash-entry[data-id='{doc['id']}']")
    assert "Quarterly figures" in entry.inner_text()
    _fits(page)
    shoot(page, "71-space-trash")

    page.goto(f"{site.url}/files/{mistake['id']}")
    page.click("#trash-file")
    page.click("#open-trash")
    gone = page.locator(f".trash-entry[data-id='{mistake['id']}']")
    gone.locator("button", has_text="Delete permanently").first.click()
    dialog = page.locator(f"#delete-file-{mistake['id']}")
    expect(dialog).to_be_visible()
    assert "cannot be undone" in dialog.inner_text()
    page.wait_for_function("el => getComputedStyle(el).opacity === '1'", arg=dialog.element_handle())  # faded in
    shoot(page, "76-space-trash-delete-permanently")
    dialog.locator("button[type=submit]").click()
    page.wait_for_url(f"{site.url}/spaces/{site.space_id}/trash")
    assert "Shared by mistake.docx deleted for good." in page.inner_text("body")
    expect(page.locator(f".trash-entry[data-id='{mistake['id']}']")).to_have_count(0)
    expect(page.locator(f".trash-entry[data-id='{doc['id']}']")).to_have_count(1)

    phone = browser.new_context(viewport={"width": 390, "height": 844})
    small = phone.new_page()
    sign_in(small, site, "alice")
    small.goto(f"{site.url}/spaces/{site.space_id}/settings")
    _fits(small)
    shoot(small, "72-space-settings-phone")
    small.goto(f"{site.url}/spaces/{site.space_id}")
    shoot(small, "74-space-page-phone")
    _fits(small)
    small.goto(f"{site.url}/spaces/{site.space_id}/trash")
    _fits(small)
    shoot(small, "73-space-trash-phone")
    small.locator(f".trash-entry[data-id='{doc['id']}'] button", has_text="Restore").click()
    small.wait_for_url(f"{site.url}/spaces/{site.space_id}*")
    assert "restored" in small.inner_text("body")
    assert small.locator("a.file-title", has_text="Quarterly figures").count() == 1
    phone.close()
    assert page.js_errors == []
