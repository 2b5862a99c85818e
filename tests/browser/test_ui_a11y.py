"""Every page, at desktop and phone width, passes axe-core without serious or critical findings,
does not scroll sideways, and is screenshot for a person to look at (check_page)."""

from datetime import datetime
from datetime import timedelta
from datetime import timezone
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from tests.browser.conftest import DESKTOP
from tests.browser.conftest import PHONE
from tests.browser.conftest import check_page
from tests.browser.conftest import keep_a_failed_job
from tests.browser.conftest import sign_in
from tests.databases import ENGINE
from tests.helpers import wait_for

WIDTHS = {"desktop": DESKTOP, "phone": PHONE}

pytestmark = [
    pytest.mark.parametrize("width", WIDTHS),
    # What a page shows does not depend on the database: one pass of `make test` checks it (the
    # other browser tests, which drive the app, run on both).
    pytest.mark.skipif(ENGINE != "sqlite", reason="accessibility is checked in the SQLite pass"),
]


def share(site, file_id, mode="view", **extra) -> str:
    """A share link's URL on the live server (the API answers with the test client's host)."""
    response = site.client().post(
        f"/api/v1/files/{file_id}/links", json={"mode": mode, **extra}, headers=site.api("alice")
    )
    assert response.status_code == 201, response.data
    return site.url + urlsplit(response.get_json()["url"]).path, response.get_json()["id"]


def focused_in(page, expression: str) -> None:
    # Polled from here: the app's CSP forbids the eval that wait_for_function uses.
    wait_for(lambda: page.evaluate(expression), timeout=5, what=expression)


def wait_for_editor(page):
    page.frame_locator("iframe[name=frameEditor]").locator("#emu-content").wait_for()


def test_space_page(site, page, width):
    page.set_viewport_size(WIDTHS[width])
    site.create_document("alice", "Plan")
    sign_in(page, site, "alice")
    page.goto(f"{site.url}/spaces/{site.space_id}")
    check_page(page, f"a11y-space-{width}")
    # The dialogs: named by their title, and focus returns to the button that opened them.
    page.click("button[data-bs-target='#folder-modal']")
    page.wait_for_selector("#folder-modal.show")
    assert page.get_attribute("#folder-modal", "aria-labelledby") == "folder-modal-title"
    focused_in(page, "document.activeElement && !!document.activeElement.closest('#folder-modal')")
    check_page(page, f"a11y-space-folder-dialog-{width}")
    page.keyboard.press("Escape")
    page.wait_for_selector("#folder-modal", state="hidden")
    focused_in(page, "document.activeElement.dataset.bsTarget === '#folder-modal'")


def test_home_page_with_favourites_and_recent_files(site, page, width):
    from app.ops import audit_writer

    page.set_viewport_size(WIDTHS[width])
    doc = site.create_document("alice", "Quarterly plan with a rather long name for a narrow phone screen")
    site.create_document("alice", "Minutes")
    assert site.client().put(f"/api/v1/files/{doc['id']}/favourite", headers=site.api("alice")).status_code == 200
    sign_in(page, site, "alice")
    page.goto(f"{site.url}/files/{doc['id']}/open")
    wait_for_editor(page)
    audit_writer.flush(site.app)
    page.goto(f"{site.url}/")
    assert page.locator("#favourite-files li").count() == 1
    assert page.locator("#recent-files li").count() == 1
    check_page(page, f"a11y-home-lists-{width}")
    page.goto(f"{site.url}/spaces/{site.space_id}")
    page.click(f"tr[data-file-id='{doc['id']}'] .favourite-toggle")  # unstar from the file list
    page.wait_for_selector(f"tr[data-file-id='{doc['id']}'] .favourite-toggle:not(.starred)")
    check_page(page, f"a11y-space-stars-{width}")


def test_creating_a_document_from_a_template(site, page, width):
    import io

    from tests.helpers import docx_with

    page.set_viewport_size(WIDTHS[width])

    def add_template():
        from app import transaction
        from app.extensions import db
        from app.models import Space
        from app.models import User
        from app.services import templates

        space, alice = db.session.get(Space, site.space_id), db.session.get(User, site.user_ids["alice"])
        templates.add(space, "", "Meeting agenda.docx", io.BytesIO(docx_with("Agenda")), alice)
        transaction.commit()

    site.query(add_template)
    sign_in(page, site, "alice")
    page.goto(f"{site.url}/spaces/{site.space_id}/settings")
    assert page.locator(".template-row").count() == 1
    check_page(page, f"a11y-space-settings-templates-{width}")
    page.goto(f"{site.url}/spaces/{site.space_id}")
    page.click("#create-document")
    page.click(".template-choice")
    page.wait_for_selector("#create-modal.show")
    template_id = page.get_attribute(".template-choice", "data-template")
    assert page.input_value("#create-template") == template_id
    assert page.input_value("#create-kind") == "docx"
    check_page(page, f"a11y-create-from-template-{width}")
    page.click("#create-modal input[type=submit]")
    wait_for_editor(page)
    assert "/open" in page.url


def test_skip_link_goes_to_the_content(site, page, width):
    page.set_viewport_size(WIDTHS[width])
    sign_in(page, site, "alice")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to content"
    assert page.locator(".skip-link").is_visible()
    page.keyboard.press("Enter")
    focused_in(page, "document.activeElement.id === 'content'")


def test_file_page(site, page, width):
    page.set_viewport_size(WIDTHS[width])
    doc = site.create_document("alice", "Budget")
    share(site, doc["id"], "edit")
    sign_in(page, site, "alice")
    page.goto(f"{site.url}/files/{doc['id']}")
    check_page(page, f"a11y-file-{width}")
    for dialog, opener in (("rights-modal", "#change-rights"), ("delete-modal", "[data-bs-target='#delete-modal']")):
        page.click(opener)
        page.wait_for_selector(f"#{dialog}.show")
        assert page.get_attribute(f"#{dialog}", "aria-labelledby") == f"{dialog}-title"
        focused_in(page, f"!!document.activeElement.closest('#{dialog}')")  # focus moved into the dialog
        check_page(page, f"a11y-file-{dialog}-{width}")
        page.keyboard.press("Escape")
        page.wait_for_selector(f"#{dialog}", state="hidden")
        focused_in(page, f"document.activeElement.matches({opener!r})")  # ...and back to its opener


def test_editor_page_and_its_calm_close(site, page, width):
    page.set_viewport_size(WIDTHS[width])
    doc = site.create_document("alice", "Minutes")
    sign_in(page, site, "alice")
    page.goto(f"{site.url}/files/{doc['id']}/open?mode=edit")
    wait_for_editor(page)
    check_page(page, f"a11y-editor-{width}")
    page.frame_locator("iframe[name=frameEditor]").locator("#emu-close").click()
    page.wait_for_url(f"{site.url}/spaces/{site.space_id}")  # a member goes back where they came from
    assert page.js_errors == []


def test_admin_settings(site, page, width):
    page.set_viewport_size(WIDTHS[width])
    sign_in(page, site, "alice")
    page.goto(f"{site.url}/admin/settings")
    check_page(page, f"a11y-admin-settings-{width}")


def test_notifications(site, page, width):
    from app.services import notifications

    def tell():
        from app.extensions import db

        notifications.notify(site.user_ids["alice"], "mention", "Bob Baker mentioned you in Plan.docx", "/")
        db.session.commit()

    page.set_viewport_size(WIDTHS[width])
    site.query(tell)
    sign_in(page, site, "alice")
    page.goto(f"{site.url}/notifications")
    check_page(page, f"a11y-notifications-{width}")


def test_account_page(site, page, width):
    page.set_viewport_size(WIDTHS[width])
    sign_in(page, site, "bob")
    page.goto(f"{site.url}/auth/account")
    check_page(page, f"a11y-account-{width}")


def test_guest_landing_viewer_and_closing(site, page, width):
    page.set_viewport_size(WIDTHS[width])
    doc = site.create_document("alice", "Shared plan")
    url, _ = share(site, doc["id"], "view", password="pw-share")
    page.goto(url)
    page.wait_for_selector("#share-landing")
    assert page.locator("a[href='/']").count() == 0  # no way into the intranet for a guest
    check_page(page, f"a11y-guest-landing-{width}")
    page.fill("input[name=name]", "Gina Guest")
    page.fill("input[name=password]", "wrong")
    page.click("input[type=submit]")
    page.locator(".invalid-feedback", has_text="Wrong password").wait_for()
    check_page(page, f"a11y-guest-wrong-password-{width}")
    page.fill("input[name=password]", "pw-share")
    page.click("input[type=submit]")
    page.wait_for_url(url + "/open")
    wait_for_editor(page)
    check_page(page, f"a11y-guest-viewer-{width}")

    page.frame_locator("iframe[name=frameEditor]").locator("#emu-close").click()
    page.wait_for_selector("#editor-closed", state="visible")
    assert "You can close this tab" in page.inner_text("#editor-closed")
    assert not page.locator("#editor-message").is_visible()  # no red error box
    assert page.locator("iframe[name=frameEditor]").count() == 0
    check_page(page, f"a11y-guest-closed-{width}")
    assert page.js_errors == []


def test_guest_revoked_link(site, page, width):
    page.set_viewport_size(WIDTHS[width])
    doc = site.create_document("alice", "Withdrawn")
    url, link_id = share(site, doc["id"], "edit")
    response = site.client().delete(f"/api/v1/files/{doc['id']}/links/{link_id}", headers=site.api("alice"))
    assert response.status_code == 204
    answer = page.goto(url)
    assert answer.status == 404
    text = page.inner_text("main")
    assert "This link no longer works" in text and "ask the person who sent you the link" in text
    assert "spaces" not in text.lower() and page.locator("main a, nav a").count() == 0
    check_page(page, f"a11y-guest-revoked-{width}")


def test_guest_expired_link_even_for_a_signed_in_member(site, page, width):
    from app.extensions import db
    from app.models import ShareLink

    page.set_viewport_size(WIDTHS[width])
    doc = site.create_document("alice", "Fleeting")
    soon = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    url, link_id = share(site, doc["id"], "view", expires_at=soon)

    def expire():
        past = datetime.now(timezone.utc) - timedelta(seconds=1)
        db.session.execute(sa.update(ShareLink).where(ShareLink.id == link_id).values(expires_at=past))
        db.session.commit()

    site.query(expire)
    sign_in(page, site, "bob")  # a member opening a guest link still gets the guest's page
    answer = page.goto(url)
    assert answer.status == 410
    text = page.inner_text("main")
    assert "This link has expired" in text and "ask the person who sent you the link" in text
    assert "Go to your spaces" not in text and page.locator("nav a, main a").count() == 0
    check_page(page, f"a11y-guest-expired-{width}")


@pytest.mark.parametrize(
    "name,path,user",
    [
        ("sign-in", "/auth/login", None),
        ("spaces", "/", "alice"),
        ("thread", "/files/{file}/thread", "alice"),
        ("not-found", "/files/999999", "alice"),
        ("admin-status", "/admin/status", "alice"),
        ("admin-audit", "/admin/audit", "alice"),
        ("admin-forgotten", "/admin/forgotten", "alice"),
        ("admin-users", "/admin/users", "alice"),
        ("profile", "/auth/account", "bob"),
        ("space-settings", "/spaces/{space}/settings", "alice"),
        ("trash", "/spaces/{space}/trash", "alice"),  # with Restore and Delete permanently
        ("deleted-spaces", "/spaces/deleted", "alice"),
        ("search", "/search?q=Talk", "bob"),
    ],
)
def test_other_pages(site, page, width, name, path, user):
    page.set_viewport_size(WIDTHS[width])
    doc = site.create_document("alice", "Talk")
    if user:
        sign_in(page, site, user)
    trashed = site.create_document("alice", "Old minutes")
    site.query(lambda: trash_as_alice(site, trashed["id"]))
    if name == "admin-status":
        site.query(keep_a_failed_job)  # its table, with Run again and Dismiss
    page.goto(site.url + path.format(file=doc["id"], space=site.space_id))
    check_page(page, f"a11y-{name}-{width}")


def trash_as_alice(site, file_id: int) -> None:
    from app.extensions import db
    from app.models import File
    from app.models import User
    from app.services import trash

    trash.trash_file(db.session.get(File, file_id), db.session.get(User, site.user_ids["alice"]))
    db.session.commit()


def test_a_guest_whose_link_is_revoked_meanwhile_sees_a_calm_end(site, page, width):
    page.set_viewport_size(WIDTHS[width])
    doc = site.create_document("alice", "Joint draft")
    url, link_id = share(site, doc["id"], "edit")
    page.goto(url)
    page.fill("input[name=name]", "Gina Guest")
    page.click("input[type=submit]")
    page.wait_for_url(url + "/open")
    wait_for_editor(page)
    response = site.client().delete(f"/api/v1/files/{doc['id']}/links/{link_id}", headers=site.api("alice"))
    assert response.status_code == 204

    page.wait_for_selector("#editor-closed", state="visible")  # the Docs drop ends the session
    text = page.inner_text("#editor-closed")
    assert "ended the editing session" in text and "You can close this tab" in text
    assert not page.locator("#editor-message").is_visible()  # not a red error
    check_page(page, f"a11y-guest-dropped-{width}")
    assert page.js_errors == []


def test_long_lists_with_their_pages(site, page, width, monkeypatch):
    """A space past a page of everything: the pagers, and the rights dialog of a large space."""
    import app.files.views
    from tests.test_scale import LARGE
    from tests.test_scale import Seeded

    monkeypatch.setattr(app.files.views, "RIGHTS_LISTED", 10)
    seeded = Seeded(site)
    seeded.grow(LARGE)
    page.set_viewport_size(WIDTHS[width])
    sign_in(page, site, "alice")
    page.goto(f"{site.url}/spaces/{site.space_id}?folder={seeded.folder_id}&sort=date")
    assert page.locator("nav.pager").count() == 3  # the files, the stream and the members
    check_page(page, f"a11y-space-pages-{width}")
    page.click("nav[aria-label='Pages of files'] a[rel=next]")
    page.wait_for_url("**page=2**")
    assert "sort=date" in page.url
    page.goto(f"{site.url}/files/{seeded.history_file_id}")
    page.click("#change-rights")
    page.wait_for_selector("#rights-modal.show")
    assert page.locator("#rights-someone-else").count() == 1
    check_page(page, f"a11y-file-long-{width}")
    page.goto(f"{site.url}/notifications?page=2")
    check_page(page, f"a11y-notifications-pages-{width}")


def test_incoming_hooks_and_bots(site, page, width):
    """The pages where an incoming webhook's address and a bot's token are shown once, the stream
    with an integration's message, and a bot among the members."""
    page.set_viewport_size(WIDTHS[width])
    sign_in(page, site, "alice")
    page.goto(f"{site.url}/spaces/{site.space_id}/settings")
    page.fill("#hook-name", "Build server")
    page.click("#hook-create")
    check_page(page, f"a11y-incoming-hook-created-{width}")
    hook_url = page.locator("#new-hook-url").inner_text()
    message = {"text": "Build **passed**: [details](https://ci.example.org/1)", "username": "CI"}
    assert site.client().post(urlsplit(hook_url).path, json=message).status_code == 200
    page.goto(f"{site.url}/admin/users")
    page.fill("#bot-username", "ci-bot")
    page.click("#create-bot")
    page.locator("details.bot-tokens summary").click()
    page.fill("details.bot-tokens input[name=name]", "deploys")
    page.locator("details.bot-tokens button[type=submit]").last.click()
    page.locator("#new-bot-token-value").wait_for()
    check_page(page, f"a11y-bot-token-{width}")
    site.client().post(
        f"/api/v1/spaces/{site.space_id}/members", json={"username": "ci-bot"}, headers=site.api("alice")
    )
    page.goto(f"{site.url}/spaces/{site.space_id}")
    assert page.locator(".integration-body strong").inner_text() == "passed"
    check_page(page, f"a11y-space-with-integration-{width}")
