"""Convert an .odt from the file list, watch the progress, open the new .docx; previews in the list."""

import pytest

from tests.browser.conftest import shoot
from tests.browser.conftest import sign_in
from tests.helpers import wait_for
from tests.test_conversions import SOFFICE
from tests.test_conversions import make_docx
from tests.test_conversions import soffice_convert
from tests.test_conversions import upload

pytestmark = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")


def test_convert_from_the_file_list_and_see_previews(make_world, emulator, page):
    site = make_world(DOCS_URL=emulator.url, WTF_CSRF_ENABLED=True, PREVIEWS=True)
    docx_bytes = make_docx()
    odt = upload(site, "Meeting notes.odt", soffice_convert(docx_bytes, "docx", "odt"))
    sheet = upload(site, "Plan.csv", b"Name,Amount\nWidgets,42\n")
    for file_id in (odt["id"], sheet["id"]):
        wait_for(lambda f=file_id: site.versions(f)[0].thumbnail_key, timeout=120, what="the previews")

    sign_in(page, site, "alice")
    page.goto(f"{site.url}/spaces/{site.space_id}")
    row = page.locator(f"tr[data-file-id='{odt['id']}']")
    row.locator("img.file-preview").wait_for()
    row.locator("button:has-text('More')").click()
    row.locator("button.convert-action").wait_for()
    assert row.locator("button.convert-action").inner_text() == "Convert to DOCX"
    shoot(page, "40-convert-menu")
    row.locator("button.convert-action").click()

    page.wait_for_url(f"**/files/{odt['id']}?job=*")
    page.locator("#conversion").wait_for()
    shoot(page, "41-conversion-progress")
    page.locator("#conversion-file").wait_for(timeout=120_000)
    assert page.locator("#conversion-status").inner_text() == "Done."
    assert page.locator("#conversion-progress").get_attribute("value") == "100"
    assert page.locator("#conversion-file").inner_text() == "Open Meeting notes.docx"
    shoot(page, "42-conversion-done")
    page.click("#conversion-file")
    page.wait_for_selector("#file-title:has-text('Meeting notes.docx')")
    assert page.locator("text=Edit document").count() == 1
    assert page.locator("#download-as").count() == 1

    new_id = int(page.url.rstrip("/").rsplit("/", 1)[-1])
    wait_for(lambda: site.versions(new_id)[0].thumbnail_key, timeout=120, what="the new file's preview")
    page.goto(f"{site.url}/spaces/{site.space_id}")
    previews = page.locator("#files img.file-preview")
    previews.first.wait_for()
    assert previews.count() == 3
    for index in range(3):  # each one loaded as an image
        assert previews.nth(index).evaluate("img => img.complete && img.naturalWidth > 0")
    shoot(page, "43-file-list-previews")
    page.goto(f"{site.url}/files/{new_id}")
    page.locator("#file-preview").wait_for()
    shoot(page, "44-file-page-preview")
    assert page.js_errors == []
