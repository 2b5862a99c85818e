"""A guest with a share link, in a browser: give a name, land in the (emulated) editor under it."""

from urllib.parse import urlsplit

from tests.browser.conftest import shoot


def test_guest_opens_a_view_link_under_the_name_they_give(site, page):
    doc = site.create_document("alice", "Shared plan")
    response = site.client().post(
        f"/api/v1/files/{doc['id']}/links", json={"mode": "view", "password": "pw-share"}, headers=site.api("alice")
    )
    assert response.status_code == 201
    url = site.url + urlsplit(response.get_json()["url"]).path  # the test client's host is not the server's

    page.goto(url)
    page.wait_for_selector("#share-landing")
    assert "Alice Archer shared this document" in page.inner_text("#share-invitation")
    page.fill("input[name=name]", "Gina Guest")
    page.fill("input[name=password]", "wrong")
    page.click("input[type=submit]")
    page.locator(".invalid-feedback", has_text="Wrong password").wait_for()
    shoot(page, "share-01-wrong-password")
    page.fill("input[name=password]", "pw-share")
    page.click("input[type=submit]")

    page.wait_for_url(url + "/open")
    frame = page.frame_locator("iframe[name=frameEditor]")
    frame.locator("#emu-content").wait_for()
    assert frame.locator("#emu-title").inner_text().strip() == "Shared plan.docx"
    assert frame.locator("#emu-user").inner_text().strip() == "Gina Guest"
    assert "View" in frame.locator("#emu-mode").inner_text()
    assert page.inner_text("#editor-mode") == "Viewing"
    shoot(page, "share-02-guest-viewer")
    assert page.js_errors == []
