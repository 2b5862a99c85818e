"""Issue 4: levels per file, the rights dialog and API, notifications, the thread, who may use editors."""

import jwt
import pytest

from tests.helpers import SECRET


@pytest.fixture
def doc(world):
    return world.create_document("alice", "Report")


def config(world, file_id, user, mode="edit"):
    response = world.client().get(f"/api/v1/files/{file_id}/editor-config?mode={mode}", headers=world.api(user))
    assert response.status_code == 200, response.data
    return response.get_json()


def put_rights(world, file_id, actor, body):
    return world.client().put(f"/api/v1/files/{file_id}/rights", json=body, headers=world.api(actor))


def test_members_read_by_default_and_the_owner_edits(world, doc):
    assert config(world, doc["id"], "bob")["editorConfig"]["mode"] == "view"
    assert config(world, doc["id"], "alice")["editorConfig"]["mode"] == "edit"
    rights = world.client().get(f"/api/v1/files/{doc['id']}/rights", headers=world.api("bob")).get_json()
    assert rights == {"default": "read", "users": {}, "allow_download": True, "owner": "alice"}


@pytest.mark.parametrize(
    "level,mode,expected",
    [
        ("edit", "edit", dict(edit=True, review=True, comment=True, fillForms=True)),
        ("review", "edit", dict(edit=False, review=True, comment=True, fillForms=True)),
        ("comment", "edit", dict(edit=False, review=False, comment=True, fillForms=True)),
        ("fill", "edit", dict(edit=False, review=False, comment=False, fillForms=True)),
        ("read", "view", dict(edit=False, review=False, comment=False, fillForms=False)),
    ],
)
def test_the_config_follows_the_level_exactly(world, doc, level, mode, expected):
    assert put_rights(world, doc["id"], "alice", {"users": {"bob": level}}).status_code == 200
    cfg = config(world, doc["id"], "bob")
    perms = cfg["document"]["permissions"]
    assert cfg["editorConfig"]["mode"] == mode
    assert {k: perms[k] for k in expected} == expected
    signed = jwt.decode(cfg["token"], SECRET, algorithms=["HS256"])
    assert signed["document"]["permissions"] == perms


def test_readers_download_only_when_the_owner_allows(world, doc):
    put_rights(world, doc["id"], "alice", {"allow_download": False})
    perms = config(world, doc["id"], "bob")["document"]["permissions"]
    assert (perms["download"], perms["print"], perms["copy"]) == (False, False, False)
    assert world.client("bob").get(f"/files/{doc['id']}/download").status_code == 403
    assert world.client().get(f"/api/v1/files/{doc['id']}/content", headers=world.api("bob")).status_code == 403
    owner = config(world, doc["id"], "alice")["document"]["permissions"]
    assert (owner["download"], owner["print"], owner["copy"]) == (True, True, True)
    put_rights(world, doc["id"], "alice", {"allow_download": True})
    assert config(world, doc["id"], "bob")["document"]["permissions"]["download"] is True


def test_none_hides_the_file(world, doc):
    put_rights(world, doc["id"], "alice", {"users": {"bob": "none"}})
    assert world.client().get(f"/api/v1/files/{doc['id']}", headers=world.api("bob")).status_code == 404
    put_rights(world, doc["id"], "alice", {"users": {"bob": None}})  # back to the default
    assert world.client().get(f"/api/v1/files/{doc['id']}", headers=world.api("bob")).status_code == 200


def test_only_the_owner_and_space_admins_change_rights(world, doc):
    put_rights(world, doc["id"], "alice", {"users": {"bob": "edit"}})
    response = put_rights(world, doc["id"], "bob", {"default": "edit"})  # an editor, not a manager
    assert response.status_code == 403
    assert put_rights(world, doc["id"], "carol", {"default": "edit"}).status_code == 404
    assert world.client("bob").post(f"/files/{doc['id']}/rights", data={"default": "edit"}).status_code == 403
    assert world.client("carol").post(f"/files/{doc['id']}/rights", data={"default": "edit"}).status_code == 404
    assert (
        world.client().get(f"/api/v1/files/{doc['id']}/rights", headers=world.api("alice")).get_json()["default"]
        == "read"
    )


def test_bad_rights_requests_are_explained(world, doc):
    for body, words in (
        ({"default": "owner"}, "Unknown level"),
        ({"users": {"carol": "edit"}}, "not a member"),
        ({"users": {"alice": "read"}}, "always edits"),
        ({"users": ["bob"]}, "maps usernames"),
        ({"allow_download": "yes"}, "true or false"),
    ):
        response = put_rights(world, doc["id"], "alice", body)
        assert response.status_code == 400 and words in response.get_json()["error"], body


def test_the_dialog_sets_rights_and_everyone_concerned_is_told(world, doc):
    alice = world.client("alice")
    page = alice.get(f"/files/{doc['id']}").get_data(as_text=True)
    assert "Change access rights" in page and 'name="people-0-username" type="hidden" value="bob"' in page
    assert 'value="alice"' not in page  # the owner always edits: no level to choose
    bob_edits = {"default": "comment", "people-0-username": "bob", "people-0-level": "edit", "allow_download": "y"}
    response = alice.post(f"/files/{doc['id']}/rights", data=bob_edits)
    assert response.status_code == 302
    assert config(world, doc["id"], "bob")["document"]["permissions"]["edit"] is True
    notes = world.client().get("/api/v1/notifications", headers=world.api("bob")).get_json()
    assert (
        notes["unread"] == 1
        and "Alice Archer changed your access to Report.docx: Edit" in notes["notifications"][0]["text"]
    )
    thread = alice.get(f"/files/{doc['id']}/thread").get_data(as_text=True)
    assert "changed access rights of Report.docx: members comment, Bob Baker edit" in thread
    # Saving the dialog unchanged tells nobody anything new.
    alice.post(f"/files/{doc['id']}/rights", data=bob_edits)
    assert world.client().get("/api/v1/notifications", headers=world.api("bob")).get_json()["unread"] == 1


def test_the_bell_and_the_notifications_page(world, doc):
    put_rights(world, doc["id"], "alice", {"users": {"bob": "edit"}})
    bob = world.client("bob")
    page = bob.get(f"/spaces/{world.space_id}").get_data(as_text=True)
    assert 'id="unread-count">1<' in page
    listing = bob.get("/notifications").get_data(as_text=True)
    assert "changed your access to Report.docx" in listing and "unread" in listing
    note_id = world.client().get("/api/v1/notifications", headers=world.api("bob")).get_json()["notifications"][0]["id"]
    response = bob.post("/notifications/read", data={"id": note_id, "next": f"/files/{doc['id']}"})
    assert response.status_code == 302 and response.location == f"/files/{doc['id']}"
    assert 'id="unread-count"' not in bob.get(f"/spaces/{world.space_id}").get_data(as_text=True)
    # Someone else's notification cannot be touched, and the redirect stays local.
    response = world.client("carol").post("/notifications/read", data={"id": note_id, "next": "https://evil.test/"})
    assert response.location == "/notifications"


def test_the_thread_holds_notices_and_comments_newest_last(world, doc):
    bob = world.client("bob")
    bob.post(f"/files/{doc['id']}/thread", data={"body": "Looks good <b>to me</b>"})
    page = bob.get(f"/files/{doc['id']}/thread").get_data(as_text=True)
    created = page.index("Alice Archer created Report.docx")
    comment = page.index("Looks good &lt;b&gt;to me&lt;/b&gt;")
    assert created < comment
    assert world.client("carol").get(f"/files/{doc['id']}/thread").status_code == 404


def test_the_admin_may_restrict_who_uses_the_editors(world, doc):
    from app.extensions import db
    from app.services import settings

    def restrict():
        settings.save({"editor_users": "alice\n"})
        db.session.commit()

    world.query(restrict)
    response = world.client("bob").get(f"/files/{doc['id']}/open")
    assert response.status_code == 403 and "not allowed you to use the editors" in response.get_data(as_text=True)
    assert world.client().get(f"/api/v1/files/{doc['id']}/editor-config", headers=world.api("bob")).status_code == 403
    assert world.client("alice").get(f"/files/{doc['id']}/open").status_code == 200
    assert world.client("bob").get(f"/files/{doc['id']}/download").status_code == 200  # reading still works


def test_co_editing_mode_comes_from_the_admin(world, doc):
    from app.extensions import db
    from app.services import settings

    assert config(world, doc["id"], "alice")["editorConfig"]["coEditing"] == {"mode": "fast", "change": True}

    def strict():
        settings.save({"coediting_mode": "strict", "coediting_change": False})
        db.session.commit()

    world.query(strict)
    assert config(world, doc["id"], "alice")["editorConfig"]["coEditing"] == {"mode": "strict", "change": False}
