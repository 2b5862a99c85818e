"""The editor's file picker: insert an image from another space into a document, by keyboard."""

from playwright.sync_api import expect

from tests.browser.conftest import check_page
from tests.browser.conftest import shoot
from tests.browser.conftest import sign_in
from tests.test_editor_picker import other_space
from tests.test_editor_picker import png_bytes
from tests.test_editor_picker import upload


def test_insert_an_image_from_another_space_with_the_picker(site, page):
    doc = site.create_document("alice", "Newsletter")
    site.set_level(doc["id"], "bob", "edit")
    gallery = other_space(site)
    upload(site, "team-photo.png", png_bytes(160, 100), gallery)
    upload(site, "chart.png", png_bytes(), gallery)
    sign_in(page, site, "bob")
    page.goto(f"{site.url}/files/{doc['id']}/open")
    frame = page.frame_locator("iframe[name=frameEditor]")
    frame.locator("#emu-insert-image").click()

    search = page.locator("#picker-search")
    search.wait_for()
    page.locator("#picker-list [role=option]").nth(1).wait_for()
    expect(search).to_be_focused()
    search.type("photo")
    page.locator("#picker-list [role=option]", has_text="chart.png").wait_for(state="detached")
    option = page.locator("#picker-list [role=option]")
    assert option.count() == 1 and "Other" in option.inner_text()
    assert option.get_attribute("aria-selected") == "true"
    check_page(page, "80-editor-picker")
    search.press("Enter")

    inserted = frame.locator("#emu-requested[data-ok=true]")
    inserted.wait_for()
    assert "insertImage (add): png" in inserted.inner_text()
    assert frame.locator("#emu-requested img.emu-inserted").count() == 1
    page.locator("#picker").wait_for(state="hidden")
    page.locator(".modal-backdrop").wait_for(state="detached")
    shoot(page, "81-editor-image-inserted")

    frame.locator("#emu-insert-image").click()
    expect(search).to_be_focused()
    page.keyboard.press("Escape")
    page.locator("#picker").wait_for(state="hidden")
    expect(page.locator("iframe[name=frameEditor]")).to_be_focused()  # back in the editor
    assert page.js_errors == []


def test_update_linked_data_of_a_spreadsheet(site, page):
    sheet = site.create_document("alice", "Budget", kind="xlsx")
    sign_in(page, site, "alice")
    page.goto(f"{site.url}/files/{sheet['id']}/open")
    frame = page.frame_locator("iframe[name=frameEditor]")
    frame.locator("#emu-update-links").click()
    answer = frame.locator("#emu-requested[data-ok=true]")
    answer.wait_for()
    assert "setReferenceData: xlsx" in answer.inner_text()
    assert page.js_errors == []


def test_change_the_source_of_linked_data_with_the_picker(site, page):
    sheet = site.create_document("alice", "Budget", kind="xlsx")
    site.create_document("alice", "Prices", kind="xlsx")
    sign_in(page, site, "alice")
    page.goto(f"{site.url}/files/{sheet['id']}/open")
    frame = page.frame_locator("iframe[name=frameEditor]")
    frame.locator("#emu-change-source").click()
    page.locator("#picker-list [role=option]").nth(1).wait_for()  # both spreadsheets, then narrowed
    expect(page.locator("#picker-search")).to_be_focused()
    page.locator("#picker-search").type("prices")
    page.locator("#picker-list [role=option]", has_text="Budget").wait_for(state="detached")
    page.locator("#picker-search").press("Enter")
    answer = frame.locator("#emu-requested[data-method=setReferenceSource][data-ok=true]")
    answer.wait_for()
    assert "setReferenceSource: xlsx" in answer.inner_text()
    page.locator("#picker").wait_for(state="hidden")
    assert page.js_errors == []
