"""Versions: download any, restore one (a new version; the key rotates), upload a new one."""

import io

from tests.helpers import docx_text
from tests.helpers import docx_with


def upload(world, file_id, text, user="alice"):
    return world.client().post(
        f"/api/v1/files/{file_id}/versions",
        headers=world.api(user),
        data={"file": (io.BytesIO(docx_with(text)), "x.docx")},
    )


def test_upload_restore_and_download_versions(world):
    doc = world.create_document("alice", "History")
    assert upload(world, doc["id"], "second").status_code == 201
    key_before = world.file(doc["id"]).doc_key
    restored = world.client().post(f"/api/v1/files/{doc['id']}/versions/1/restore", headers=world.api("alice"))
    assert restored.status_code == 201 and restored.get_json()["number"] == 3
    file = world.file(doc["id"])
    assert file.version == 3 and file.doc_key not in (key_before, doc["key"])
    assert docx_text(world.head_bytes(doc["id"])) == []
    second = world.client().get(f"/api/v1/files/{doc['id']}/versions/2/content", headers=world.api("alice"))
    assert docx_text(second.data) == ["second"]
    versions = (
        world.client().get(f"/api/v1/files/{doc['id']}/versions", headers=world.api("alice")).get_json()["versions"]
    )
    assert [(v["number"], v["source"], v["current"]) for v in versions] == [
        (1, "create", False),
        (2, "upload", False),
        (3, "restore", True),
    ]
    page = world.client("alice").get(f"/spaces/{world.space_id}").get_data(as_text=True)
    assert "Alice Archer restored version 1 of History.docx as version 3" in page


def test_restore_rules(world):
    doc = world.create_document("alice", "Rules")
    client = world.client()
    assert client.post(f"/api/v1/files/{doc['id']}/versions/1/restore", headers=world.api("alice")).status_code == 400
    assert client.post(f"/api/v1/files/{doc['id']}/versions/9/restore", headers=world.api("alice")).status_code == 400
    upload(world, doc["id"], "two")
    assert client.post(f"/api/v1/files/{doc['id']}/versions/1/restore", headers=world.api("bob")).status_code == 403
    assert client.post(f"/api/v1/files/{doc['id']}/versions/1/restore", headers=world.api("carol")).status_code == 404
    assert upload(world, doc["id"], "reader", "bob").status_code == 403
    assert client.get(f"/api/v1/files/{doc['id']}/versions/9/content", headers=world.api("alice")).status_code == 404


def test_restore_from_the_versions_panel(world):
    doc = world.create_document("alice", "Panel")
    upload(world, doc["id"], "two")
    alice = world.client("alice")
    assert "Restore</button>" in alice.get(f"/files/{doc['id']}").get_data(as_text=True)
    assert alice.post(f"/files/{doc['id']}/versions/1/restore").status_code == 302
    assert world.file(doc["id"]).version == 3
    assert "Restore</button>" not in world.client("bob").get(f"/files/{doc['id']}").get_data(as_text=True)
    assert world.client("bob").post(f"/files/{doc['id']}/versions/1/restore").status_code == 403
