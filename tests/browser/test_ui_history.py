"""History in the (emulated) editor: pick version 1, restore it, and see it as the newest version."""

import io

from tests.browser.conftest import shoot
from tests.browser.conftest import sign_in
from tests.helpers import docx_text
from tests.helpers import docx_with


def test_open_history_pick_version_one_and_restore(site, page):
    doc = site.create_document("alice", "Chronicle")
    site.client().post(
        f"/api/v1/files/{doc['id']}/versions",
        headers=site.api("alice"),
        data={"file": (io.BytesIO(docx_with("second version text")), "x.docx")},
    )
    sign_in(page, site, "alice")
    page.goto(f"{site.url}/files/{doc['id']}/open")
    frame = page.frame_locator("iframe[name=frameEditor]")
    frame.locator("#emu-content", has_text="second version text").wait_for()
    frame.locator("#emu-history").click()
    frame.locator("#emu-history-list li[data-version='1']").wait_for()
    assert frame.locator("#emu-history-list li").count() == 2
    shoot(page, "30-history-list")
    frame.locator("#emu-history-list li[data-version='1']").click()
    frame.locator("#emu-history-info").wait_for()
    shoot(page, "31-history-version-1")
    frame.locator("#emu-restore").click()
    frame.locator("#emu-history-list li[data-version='3']").wait_for()
    shoot(page, "32-history-restored")

    page.goto(f"{site.url}/files/{doc['id']}")
    newest = page.locator("#versions tbody tr").first
    assert newest.get_attribute("data-version") == "3"
    assert "current" in newest.inner_text() and "restored" in newest.inner_text()
    shoot(page, "33-file-after-restore")
    assert docx_text(site.head_bytes(doc["id"])) == []
