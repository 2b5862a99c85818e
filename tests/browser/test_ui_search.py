"""Search results, the bell's dropdown and uploads with progress, at desktop and phone widths."""

import io

import pytest

from app.services import search
from tests.browser.conftest import shoot
from tests.browser.conftest import sign_in
from tests.helpers import docx_with
from tests.helpers import wait_for

WIDTHS = {"desktop": (1280, 860), "phone": (390, 844)}


def fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"


def upload(site, name: str, body: bytes) -> dict:
    made = site.client().post(
        f"/api/v1/spaces/{site.space_id}/files", headers=site.api("alice"), data={"file": (io.BytesIO(body), name)}
    )
    assert made.status_code == 201, made.data
    return made.get_json()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_search_bell_and_upload(site, browser, width, tmp_path):
    made = upload(site, "Migration plan.docx", docx_with("We move the archive to the new storage in spring."))
    wait_for(lambda: site.query(lambda: search.indexed_version(made["id"])) is not None, what="indexing")

    def mention_bob():
        from app import transaction
        from app.extensions import db
        from app.models import User
        from app.services import posts

        alice = db.session.get(User, site.user_ids["alice"])
        for n in range(3):
            posts.notify_mentions(posts.post(site.space_id, alice, f"@bob archive question {n}"), alice)
        transaction.commit()

    with site.app.test_request_context():
        site.query(mention_bob)

    w, h = WIDTHS[width]
    context = browser.new_context(viewport={"width": w, "height": h})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, site, "bob")

    # Search from the navbar.
    if width == "phone":
        page.click("button.navbar-toggler")
        page.wait_for_selector("#nav.collapse.show")  # opened, its animation over
    page.fill("#navbar-search", "archive")
    page.press("#navbar-search", "Enter")
    page.wait_for_selector("#search-results")
    assert "Migration plan.docx" in page.locator("#search-results").inner_text()
    assert page.locator("#search-results mark").first.inner_text().lower() == "archive"
    fits(page)
    shoot(page, f"60-search-results-{width}")

    # The bell's dropdown: the latest, unread marked.
    if width == "phone":
        page.click("button.navbar-toggler")
        page.wait_for_selector("#nav.collapse.show")
    page.click("#bell")
    page.wait_for_selector("#bell-dropdown.show")
    page.wait_for_timeout(200)
    assert page.locator("#bell-items .bell-item.unread").count() == 3
    assert "archive question 2" in page.locator("#bell-items .bell-item").first.inner_text()
    fits(page)
    shoot(page, f"61-bell-dropdown-{width}")
    page.click("#bell-mark-all")
    page.wait_for_load_state()
    assert page.locator("#unread-count").count() == 0

    # Upload two files through the multi-file input; each shows its progress.
    page.goto(f"{site.url}/spaces/{site.space_id}")
    page.click("button[data-bs-target='#upload-modal']")
    page.wait_for_selector("#upload-modal.show")
    first, second = tmp_path / "First notes.docx", tmp_path / "Second notes.docx"
    first.write_bytes(docx_with("first"))
    second.write_bytes(docx_with("second"))
    page.set_input_files("#upload-file", [str(first), str(second)])
    with page.expect_navigation():  # the page reloads once both are stored
        page.click("#upload-modal input[type=submit]")
    titles = page.locator("#files .file-title").all_inner_texts()
    assert "First notes.docx" in titles and "Second notes.docx" in titles
    fits(page)

    # Two files dropped on the file list upload the same way.
    with page.expect_navigation():
        page.evaluate(
            """() => {
                const transfer = new DataTransfer();
                for (const name of ["Dropped one.txt", "Dropped two.txt"]) {
                    transfer.items.add(new File(["dropped words"], name, {type: "text/plain"}));
                }
                const list = document.getElementById("files");
                const options = {dataTransfer: transfer, bubbles: true, cancelable: true};
                list.dispatchEvent(new DragEvent("dragover", options));
                list.dispatchEvent(new DragEvent("drop", options));
            }"""
        )
    titles = page.locator("#files .file-title").all_inner_texts()
    assert "Dropped one.txt" in titles and "Dropped two.txt" in titles

    # A refused file says why, in plain words, beside the progress bar.
    page.click("button[data-bs-target='#upload-modal']")
    page.wait_for_selector("#upload-modal.show")
    broken = tmp_path / "Broken.docx"
    broken.write_bytes(b"this is no document")
    page.set_input_files("#upload-file", [str(broken)])
    page.click("#upload-modal input[type=submit]")
    page.wait_for_selector("#upload-progress .upload-failed")
    assert page.locator("#upload-progress .upload-status").inner_text().strip()
    page.wait_for_timeout(300)
    shoot(page, f"62-upload-error-{width}")
    fits(page)

    # Sorting links in the header.
    page.keyboard.press("Escape")
    page.goto(f"{site.url}/spaces/{site.space_id}?sort=name&order=desc")
    assert page.locator("#files th[aria-sort=descending]").count() == 1
    fits(page)
    shoot(page, f"63-file-list-{width}")
    assert errors == []
    context.close()
