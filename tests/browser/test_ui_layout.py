"""Long and unusual names at 1280 and 390 px: no page scrolls sideways, Restore and Revoke stay
reachable, names show as typed, times read in the reader's words."""

import io

import pytest

from tests.browser.conftest import shoot
from tests.browser.conftest import sign_in
from tests.helpers import docx_with

LONG = "Quarterly" + "X" * 170 + "Report"
NAMES = ["Q1/Q2 plan: 50% done?", "<b>Draft</b>", LONG]


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def reachable(page, locator) -> bool:
    if not locator.is_visible():
        return False
    box = locator.bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= page.evaluate("window.innerWidth")


@pytest.mark.parametrize("width", [1280, 390])
def test_long_names_wrap_and_buttons_stay_reachable(site, page, width):
    ids = [site.create_document("alice", name)["id"] for name in NAMES]
    long_id = ids[-1]
    site.client().post(
        f"/api/v1/files/{long_id}/versions",
        headers=site.api("alice"),
        data={"file": (io.BytesIO(docx_with("second")), "x.docx")},
    )
    for mode in ("view", "edit"):
        site.client().post(f"/api/v1/files/{long_id}/links", json={"mode": mode}, headers=site.api("alice"))
    page.set_viewport_size({"width": width, "height": 860})
    sign_in(page, site, "alice")

    page.goto(f"{site.url}/spaces/{site.space_id}")
    shoot(page, f"60-space-long-names-{width}")
    assert fits(page), page.evaluate("document.documentElement.scrollWidth")
    titles = page.locator("#files .file-title").all_inner_texts()
    assert "Q1-Q2 plan: 50% done?.docx" in titles and "<b>Draft<-b>.docx" in titles and f"{LONG}.docx" in titles
    assert page.locator("#files b").count() == 0  # shown as text, never as markup
    stamp = page.locator("#stream-list time.when").first
    # The browser's own relative words (Intl.RelativeTimeFormat, numeric "auto"), in the page's language.
    assert stamp.inner_text() in ("now", "in 1 minute") or "ago" in stamp.inner_text()
    assert stamp.get_attribute("title") != stamp.get_attribute("datetime")  # the exact time, in words

    page.goto(f"{site.url}/files/{long_id}")
    shoot(page, f"61-file-long-name-{width}")
    assert fits(page), page.evaluate("document.documentElement.scrollWidth")
    assert reachable(page, page.locator("#versions button", has_text="Restore").first)
    assert reachable(page, page.locator("#share-link-list button", has_text="Revoke").first)
    for path in (f"/files/{long_id}/thread", "/notifications", "/"):
        page.goto(site.url + path)
        assert fits(page), (path, page.evaluate("document.documentElement.scrollWidth"))
    shoot(page, f"62-spaces-{width}")
    assert page.js_errors == []


def test_the_create_dialog_is_titled_by_the_type_chosen(site, page):
    sign_in(page, site, "alice")
    page.goto(f"{site.url}/spaces/{site.space_id}")
    page.click("#create-document")
    page.click("[data-bs-target='#create-modal'][data-kind='pdf']")
    title = page.locator("#create-modal-title")
    title.wait_for()
    assert title.inner_text() == "New PDF form"
    page.select_option("#create-modal select[name=kind]", "xlsx")
    assert title.inner_text() == "New spreadsheet"
    shoot(page, "63-create-dialog")
    assert page.js_errors == []
