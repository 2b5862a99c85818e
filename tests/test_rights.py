"""Who sees what: outsiders get 404 everywhere; the config never grants more than the level."""

import io

import jwt
import pytest

from tests.helpers import SECRET


@pytest.fixture
def file_id(world):
    return world.create_document("alice", "Secret plans")["id"]


def outsider_routes(world, file_id):
    return [
        f"/spaces/{world.space_id}",
        f"/files/{file_id}",
        f"/files/{file_id}/download",
        f"/files/{file_id}/open",
        f"/files/{file_id}/open?mode=view",
    ]


def test_outsider_gets_404_on_pages(world, file_id):
    client = world.client("carol")
    for path in outsider_routes(world, file_id):
        assert client.get(path).status_code == 404, path


def test_outsider_gets_404_on_the_api(world, file_id):
    client = world.client()
    for path in (
        f"/api/v1/files/{file_id}",
        f"/api/v1/files/{file_id}/content",
        f"/api/v1/files/{file_id}/versions",
        f"/api/v1/files/{file_id}/editor-config",
        f"/api/v1/files/{file_id}/editor-config?mode=view",
    ):
        response = client.get(path, headers=world.api("carol"))
        assert response.status_code == 404, path
        assert response.is_json
    response = client.post(
        f"/api/v1/spaces/{world.space_id}/documents", json={"title": "x", "type": "docx"}, headers=world.api("carol")
    )
    assert response.status_code == 404


def test_outsider_cannot_write_to_the_space(world, file_id):
    client = world.client("carol")
    assert client.post(f"/spaces/{world.space_id}/posts", data={"body": "hi"}).status_code == 404
    assert (
        client.post(f"/spaces/{world.space_id}/upload", data={"file": (io.BytesIO(b"x"), "a.txt")}).status_code == 404
    )
    assert client.post(f"/spaces/{world.space_id}/documents", data={"name": "x", "kind": "docx"}).status_code == 404
    assert client.post(f"/files/{file_id}/rename", data={"title": "mine"}).status_code == 404
    assert client.post(f"/files/{file_id}/delete").status_code == 404
    assert world.file(file_id).title == "Secret plans.docx"


def test_anonymous_is_sent_to_sign_in(world, file_id):
    response = world.client().get(f"/files/{file_id}/open")
    assert response.status_code == 302 and "/auth/login" in response.location
    assert world.client().get(f"/api/v1/files/{file_id}").status_code == 401


def _set_level(world, file_id, username, level):
    from app.extensions import db
    from app.models import FileRight

    def apply():
        db.session.add(FileRight(file_id=file_id, user_id=world.user_ids[username], level=level))
        db.session.commit()

    world.query(apply)


def test_reader_gets_the_view_config_even_when_asking_for_edit(world, file_id):
    _set_level(world, file_id, "bob", "read")
    config = world.client().get(f"/api/v1/files/{file_id}/editor-config?mode=edit", headers=world.api("bob")).get_json()
    assert config["editorConfig"]["mode"] == "view"
    perms = config["document"]["permissions"]
    assert perms["edit"] is False and perms["review"] is False and perms["comment"] is False
    assert perms["fillForms"] is False
    signed = jwt.decode(config["token"], SECRET, algorithms=["HS256"])
    assert signed["document"]["permissions"] == perms and signed["editorConfig"]["mode"] == "view"
    page = world.client("bob").get(f"/files/{file_id}").get_data(as_text=True)
    assert "View document" in page and "Edit document" not in page


def test_member_with_no_access_sees_nothing(world, file_id):
    _set_level(world, file_id, "bob", "none")
    assert world.client("bob").get(f"/files/{file_id}").status_code == 404
    page = world.client("bob").get(f"/spaces/{world.space_id}").get_data(as_text=True)
    assert "Secret plans" not in page


def test_view_only_format_never_opens_for_editing(world):
    response = world.client().post(
        f"/api/v1/spaces/{world.space_id}/files",
        headers=world.api("alice"),
        data={"file": (io.BytesIO(b"plain text\n"), "notes.txt")},
    )
    assert response.status_code == 201
    file_id = response.get_json()["id"]
    config = (
        world.client().get(f"/api/v1/files/{file_id}/editor-config?mode=edit", headers=world.api("alice")).get_json()
    )
    assert config["editorConfig"]["mode"] == "view" and config["document"]["permissions"]["edit"] is False
    assert config["documentType"] == "word"


def test_editor_gets_every_permission_explicitly(world, file_id):
    world.set_level(file_id, "bob", "edit")
    config = world.client().get(f"/api/v1/files/{file_id}/editor-config", headers=world.api("bob")).get_json()
    perms = config["document"]["permissions"]
    for name in ("edit", "download", "print", "copy", "comment", "review", "fillForms"):
        assert perms[name] is True, name
    assert config["editorConfig"]["mode"] == "edit"


def test_space_admin_manages_any_file_member_only_their_own(world, file_id):
    bob = world.client("bob")
    assert bob.post(f"/files/{file_id}/rename", data={"title": "hijacked"}).status_code == 403
    assert bob.post(f"/files/{file_id}/delete").status_code == 403
    assert world.file(file_id).title == "Secret plans.docx"
    own = world.create_document("bob", "Bob's notes")["id"]
    assert bob.post(f"/files/{own}/rename", data={"title": "Bob notes"}).status_code == 302
    assert world.file(own).title == "Bob notes.docx"


def test_only_space_managers_add_members(world):
    assert world.client("bob").post(f"/spaces/{world.space_id}/members", data={"username": "carol"}).status_code == 403
    response = world.client().post(
        f"/api/v1/spaces/{world.space_id}/members", json={"username": "carol"}, headers=world.api("bob")
    )
    assert response.status_code == 403
    response = world.client().post(
        f"/api/v1/spaces/{world.space_id}/members", json={"username": "carol"}, headers=world.api("alice")
    )
    assert response.status_code == 201
    assert world.client("carol").get(f"/spaces/{world.space_id}").status_code == 200


def test_levels_anywhere_gives_a_member_their_own_file_even_when_members_see_nothing(world):
    """The owner of a file edits it whatever its default level (the notifications list asks this way)."""
    from app.extensions import db
    from app.models import File
    from app.models import User
    from app.services import rights

    doc_id = world.create_document("bob", "Bob's own")["id"]
    with world.app.app_context():
        file = db.session.get(File, doc_id)
        file.default_level = "none"
        db.session.commit()
        bob = db.session.get(User, world.user_ids["bob"])
        outsider = db.session.get(User, world.user_ids["carol"])  # not a member at all
        assert rights.levels_anywhere([file], bob) == {doc_id: "edit"}
        assert rights.levels_anywhere([file], bob) == {doc_id: rights.file_level(file, bob)}
        assert rights.levels_anywhere([file], outsider) == {doc_id: "none"}
