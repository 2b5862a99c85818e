"""What a person sees: create, edit in the (emulated) editor, close, and find version 2."""

from tests.browser.conftest import shoot
from tests.browser.conftest import sign_in
from tests.helpers import docx_text
from tests.helpers import wait_for


def test_create_edit_close_makes_version_two(site, page):
    sign_in(page, site, "alice")
    shoot(page, "01-spaces")
    page.click("text=Team")
    page.wait_for_selector("#files")
    shoot(page, "02-space")
    page.click("#create-document")
    page.click("button.dropdown-item[data-kind=docx]")
    page.wait_for_selector("#create-modal.show")
    page.fill("#create-modal input[name=name]", "Meeting notes")
    shoot(page, "03-create-dialog")
    page.click("#create-modal input[type=submit]")

    page.wait_for_url("**/files/*/open?mode=edit")
    frame = page.frame_locator("iframe[name=frameEditor]")
    frame.locator("#emu-content").wait_for()
    assert frame.locator("#emu-title").inner_text().strip() == "Meeting notes.docx"
    assert "Edit" in frame.locator("#emu-mode").inner_text()
    assert frame.locator("#emu-user").inner_text().strip() == "Alice Archer"
    shoot(page, "04-editor-blank")

    frame.locator("#emu-text").fill("Decisions: ship on Friday")
    frame.locator("#emu-append").click()
    frame.locator("#emu-content", has_text="Decisions: ship on Friday").wait_for()
    shoot(page, "05-editor-edited")
    frame.locator("#emu-close").click()
    page.wait_for_url(f"{site.url}/spaces/{site.space_id}")

    file_id = 1
    wait_for(lambda: site.file(file_id).version == 2, 15, "version 2")
    assert docx_text(site.head_bytes(file_id)) == ["Decisions: ship on Friday"]
    assert site.versions(file_id)[1].author_id == site.user_ids["alice"]
    page.reload()
    notice = page.locator("#stream-list", has_text="Meeting notes.docx was updated by Alice Archer: version 2")
    notice.wait_for()
    shoot(page, "06-stream-after-save")
    # The name opens the editor now; the file page with its versions is behind Details.
    page.locator(f"tr[data-file-id='{file_id}']").get_by_role("link", name="Details").click()
    page.wait_for_url(f"{site.url}/files/{file_id}")
    assert page.locator("#versions tbody tr").count() == 2
    shoot(page, "07-file-versions")
    assert page.js_errors == []


def test_reader_gets_view_document_and_a_read_only_editor(site, page):
    from app.extensions import db
    from app.models import FileRight

    doc = site.create_document("alice", "Policy")
    site.query(
        lambda: (
            db.session.add(FileRight(file_id=doc["id"], user_id=site.user_ids["bob"], level="read")),
            db.session.commit(),
        )
    )
    sign_in(page, site, "bob")
    page.goto(f"{site.url}/spaces/{site.space_id}")
    row = page.locator(f"tr[data-file-id='{doc['id']}']")
    assert row.locator("text=View document").count() == 1
    assert row.locator("text=Edit document").count() == 0
    shoot(page, "08-reader-space")
    row.locator("text=View document").click()
    frame = page.frame_locator("iframe[name=frameEditor]")
    frame.locator("#emu-content").wait_for()
    assert "View" in frame.locator("#emu-mode").inner_text()
    assert frame.locator("#emu-text").count() == 0
    shoot(page, "09-reader-viewer")
    assert page.js_errors == []


def test_unconfigured_docs_shows_a_clear_message(site, page):
    site.app.config["DOCS_URL"] = None
    doc = site.create_document("alice", "Lonely")
    sign_in(page, site, "bob")
    page.goto(f"{site.url}/files/{doc['id']}/open")
    message = page.locator("#docs-unavailable")
    assert "ONLYOFFICE Docs is not configured" in message.inner_text()
    assert page.locator("iframe").count() == 0
    shoot(page, "10-docs-not-configured")


def test_unreachable_docs_shows_a_clear_message(site, page):
    site.app.config["DOCS_URL"] = "http://127.0.0.1:9"  # nothing listens there
    doc = site.create_document("alice", "Offline")
    sign_in(page, site, "bob")
    page.goto(f"{site.url}/files/{doc['id']}/open")
    page.locator("#editor-message").wait_for(state="visible")
    assert "could not be loaded" in page.locator("#editor-message").inner_text()
    shoot(page, "11-docs-unreachable")
