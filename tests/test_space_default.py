"""A space's default level for its members' new files: edit unless its admins choose otherwise."""

import re

from tests.test_security_cases import csrf_login


def level_of(world, file_id, username):
    from app.extensions import db
    from app.models import File
    from app.models import User
    from app.services import rights

    def ask():
        return rights.file_level(db.session.get(File, file_id), db.session.get(User, world.user_ids[username]))

    return world.query(ask)


def new_team(world):
    """A space made as people make them (the form), with bob as a plain member."""
    alice = world.client("alice")
    response = alice.post("/spaces", data={"name": "Co-editors"})
    space_id = int(response.location.rsplit("/", 1)[-1])
    alice.post(f"/spaces/{space_id}/members", data={"username": "bob", "role": "member"})
    return alice, space_id


def create(world, space_id, title, name="alice"):
    response = world.client().post(
        f"/api/v1/spaces/{space_id}/documents", json={"title": title, "type": "docx"}, headers=world.api(name)
    )
    assert response.status_code == 201, response.data
    return response.get_json()["id"]


def test_members_edit_new_files_of_a_new_space(world):
    alice, space_id = new_team(world)
    file_id = create(world, space_id, "Plan")
    assert level_of(world, file_id, "bob") == "edit"
    page = world.client("bob").get(f"/files/{file_id}/open")
    assert '"mode": "edit"' in page.get_data(as_text=True) or "&#34;mode&#34;: &#34;edit&#34;" in page.get_data(
        as_text=True
    )


def test_the_space_admin_changes_the_default_and_an_override_still_wins(world):
    alice, space_id = new_team(world)
    before = create(world, space_id, "Before")
    page = alice.get(f"/spaces/{space_id}").get_data(as_text=True)
    assert 'id="space-default-form"' in page and 'for="default_level"' in page
    response = alice.post(f"/spaces/{space_id}/default-level", data={"default_level": "read"}, follow_redirects=True)
    assert "Members now get “Read” on new files" in response.get_data(as_text=True)
    after = create(world, space_id, "After")
    assert level_of(world, after, "bob") == "read"
    assert level_of(world, before, "bob") == "edit"  # existing files keep their own default
    world.set_level(after, "bob", "comment")
    assert level_of(world, after, "bob") == "comment"
    world.set_level(before, "bob", "read")
    assert level_of(world, before, "bob") == "read"
    assert level_of(world, after, "alice") == "edit"  # the owner always edits

    def audited():
        import sqlalchemy as sa

        from app.extensions import db
        from app.models import AuditEvent

        entry = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "space.default_level_changed"))
        return entry.actor_name, entry.space_id, entry.details_json

    assert world.query(audited) == ("alice", space_id, '{"new": "read", "old": "edit"}')


def test_only_the_space_admins_change_the_default(world):
    _, space_id = new_team(world)
    bob = world.client("bob")
    assert 'id="space-default-form"' not in bob.get(f"/spaces/{space_id}").get_data(as_text=True)
    response = bob.post(f"/spaces/{space_id}/default-level", data={"default_level": "none"}, follow_redirects=True)
    assert "Only the space" in response.get_data(as_text=True)
    assert level_of(world, create(world, space_id, "Still open"), "bob") == "edit"
    assert (
        world.client("carol").post(f"/spaces/{space_id}/default-level", data={"default_level": "read"}).status_code
        == 404
    )
    bad = world.client("alice").post(f"/spaces/{space_id}/default-level", data={"default_level": "owner"})
    assert bad.status_code == 302
    assert level_of(world, create(world, space_id, "Unchanged"), "bob") == "edit"


def test_the_default_form_needs_the_csrf_token(csrf_world):
    client, token = csrf_login(csrf_world, "alice")
    space_id = csrf_world.space_id
    client.post(f"/spaces/{space_id}/default-level", data={"default_level": "none"})
    page = client.get(f"/spaces/{space_id}").get_data(as_text=True)
    assert re.search(r'<option selected value="read">|<option value="read" selected>', page)
    client.post(f"/spaces/{space_id}/default-level", data={"default_level": "none", "csrf_token": token})
    page = client.get(f"/spaces/{space_id}").get_data(as_text=True)
    assert re.search(r'<option selected value="none">|<option value="none" selected>', page)
