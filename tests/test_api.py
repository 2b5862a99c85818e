"""The JSON API: the integration points other programs rely on."""

import io
from datetime import datetime
from datetime import timedelta
from datetime import timezone

from tests.helpers import docx_text
from tests.helpers import docx_with


def test_space_member_upload_create_and_read(world):
    client, alice = world.client(), world.api("alice")
    space = client.post("/api/v1/spaces", json={"name": "Projects"}, headers=alice)
    assert space.status_code == 201
    space_id = space.get_json()["id"]
    assert client.post(f"/api/v1/spaces/{space_id}/members", json={"username": "bob"}, headers=alice).status_code == 201
    assert client.post(f"/api/v1/spaces/{space_id}/members", json={"username": "bob"}, headers=alice).status_code == 200
    assert (
        client.post(f"/api/v1/spaces/{space_id}/members", json={"username": "nobody"}, headers=alice).status_code == 404
    )
    stream = world.client("bob").get(f"/spaces/{space_id}").get_data(as_text=True)
    assert stream.count("Alice Archer added Bob Baker") == 1  # the same notice as the page's form, once

    upload = client.post(
        f"/api/v1/spaces/{space_id}/files",
        headers=world.api("bob"),
        data={"file": (io.BytesIO(docx_with("hello")), "Hello.docx")},
    )
    assert upload.status_code == 201
    info = upload.get_json()
    assert set(info) >= {"id", "title", "space", "version", "size", "key", "editor_url"}
    assert info["title"] == "Hello.docx" and info["version"] == 1 and info["space"] == space_id
    assert info["editor_url"].endswith(f"/files/{info['id']}/open")

    content = client.get(f"/api/v1/files/{info['id']}/content", headers=alice)
    assert content.status_code == 200 and len(content.data) == info["size"]
    assert docx_text(content.data) == ["hello"]
    versions = client.get(f"/api/v1/files/{info['id']}/versions", headers=alice).get_json()["versions"]
    assert [(v["number"], v["author"], v["current"]) for v in versions] == [(1, "bob", True)]


def test_times_are_utc_with_their_offset_on_every_engine(world):
    before = datetime.now(timezone.utc)
    doc = world.create_document("alice", "Timed")
    world.client("alice").post(f"/files/{doc['id']}/mentions", json={"emails": ["bob@users.coedit"]})
    versions = world.client().get(f"/api/v1/files/{doc['id']}/versions", headers=world.api("alice")).get_json()
    notes = world.client().get("/api/v1/notifications", headers=world.api("bob")).get_json()["notifications"]
    for stamp in (versions["versions"][0]["created_at"], notes[0]["created_at"]):
        moment = datetime.fromisoformat(stamp)
        assert moment.utcoffset() == timedelta(0) and before <= moment <= datetime.now(timezone.utc), stamp


def test_create_document_types(world):
    for kind in ("docx", "xlsx", "pptx", "pdf"):
        doc = world.create_document("bob", f"New {kind}", kind)
        assert doc["title"] == f"New {kind}.{kind}" and doc["size"] > 0


def test_errors_are_json_with_status_codes(world):
    client, bob = world.client(), world.api("bob")
    bad = client.post(f"/api/v1/spaces/{world.space_id}/documents", json={"title": "x", "type": "exe"}, headers=bob)
    assert bad.status_code == 400 and "type" in bad.get_json()["error"]
    assert client.post("/api/v1/spaces", data="nope", headers=bob).status_code == 400
    missing = client.get("/api/v1/files/9999", headers=bob)
    assert missing.status_code == 404 and missing.is_json
    assert client.get("/api/v1/files/1", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_editor_config_for_view_and_edit(world):
    doc = world.create_document("alice", "Shared")
    world.set_level(doc["id"], "bob", "edit")
    edit = world.client().get(f"/api/v1/files/{doc['id']}/editor-config?mode=edit", headers=world.api("bob")).get_json()
    view = world.client().get(f"/api/v1/files/{doc['id']}/editor-config?mode=view", headers=world.api("bob")).get_json()
    assert edit["editorConfig"]["mode"] == "edit" and view["editorConfig"]["mode"] == "view"
    assert edit["document"]["key"] == view["document"]["key"] == doc["key"]
