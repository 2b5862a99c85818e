"""What people see of rights: the owner gives Bob edit, Bob is told and edits, Carol only reads,
a mention reaches Bob."""

from tests.browser.conftest import shoot
from tests.browser.conftest import sign_in


def test_rights_notifications_and_mentions(site, browser):
    site.client().post(f"/api/v1/spaces/{site.space_id}/members", json={"username": "carol"}, headers=site.api("alice"))
    doc = site.create_document("alice", "Roadmap")

    def person(name):
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        sign_in(page, site, name)
        return context, page

    alice_ctx, alice = person("alice")
    alice.goto(f"{site.url}/files/{doc['id']}")
    alice.click("#change-rights")
    alice.wait_for_selector("#rights-modal.show")
    alice.select_option("#rights-modal tr[data-username=bob] select", "edit")
    alice.select_option("#rights-modal tr[data-username=carol] select", "read")
    alice.wait_for_timeout(300)  # let the dialog finish fading in for the screenshot
    shoot(alice, "20-rights-dialog")
    alice.click("#rights-modal input[type=submit]")
    alice.wait_for_selector("text=Access rights saved.")

    bob_ctx, bob = person("bob")
    assert bob.locator("#unread-count").inner_text() == "1"
    bob.click("#bell")  # the dropdown of the latest; its "See all" leads to the page
    bob.wait_for_selector("#bell-dropdown.show")
    assert "Roadmap.docx" in bob.locator("#bell-items .bell-item.unread").first.inner_text()
    bob.click("#bell-see-all")
    bob.wait_for_url("**/notifications")
    assert "Alice Archer changed your access to Roadmap.docx: Edit" in bob.locator("#notifications").inner_text()
    shoot(bob, "21-bob-notifications")
    bob.click("#notifications button:has-text('Open')")
    bob.wait_for_url(f"**/files/{doc['id']}")
    bob.click("text=Edit document")
    bob_frame = bob.frame_locator("iframe[name=frameEditor]")
    bob_frame.locator("#emu-content").wait_for()
    assert "Edit" in bob_frame.locator("#emu-mode").inner_text()

    carol_ctx, carol = person("carol")
    carol.goto(f"{site.url}/files/{doc['id']}")
    assert carol.locator("text=Edit document").count() == 0
    carol.click("text=View document")
    carol_frame = carol.frame_locator("iframe[name=frameEditor]")
    carol_frame.locator("#emu-content").wait_for()
    assert "View" in carol_frame.locator("#emu-mode").inner_text()
    assert carol_frame.locator("#emu-text").count() == 0
    shoot(carol, "22-carol-viewer")

    alice.goto(f"{site.url}/files/{doc['id']}/open")
    alice_frame = alice.frame_locator("iframe[name=frameEditor]")
    alice_frame.locator("#emu-content").wait_for()
    alice_frame.locator("#emu-mention").click()
    alice_frame.locator("#emu-users-list li", has_text="Bob Baker").wait_for()
    alice_frame.locator("#emu-comment").fill("@bob@users.coedit can you review the dates?")
    alice_frame.locator("#emu-notify").click()
    shoot(alice, "23-alice-mentions-bob")

    bob.goto(f"{site.url}/notifications")
    bob.wait_for_selector("#notifications >> text=Alice Archer mentioned you in Roadmap.docx")
    assert "can you review the dates?" in bob.locator("#notifications").inner_text()
    shoot(bob, "24-bob-mentioned")
    for context in (alice_ctx, bob_ctx, carol_ctx):
        context.close()
