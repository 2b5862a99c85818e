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


def test_a_version_removed_while_its_download_starts_is_answered_404(world, monkeypatch):
    """Retention (or a purge) removes an old version between the download's look-up and the
    opening of its blob: no lock is taken for reading, so the download says the version is gone."""
    import threading

    import sqlalchemy as sa

    from app import downloads
    from app import transaction
    from app.extensions import db
    from app.models import FileVersion
    from app.services import retention

    doc = world.create_document("alice", "Raced")
    upload(world, doc["id"], "two")
    upload(world, doc["id"], "three")

    def remove_elsewhere(number: int) -> None:
        def work():
            with world.app.app_context():
                version = db.session.scalars(
                    sa.select(FileVersion).where(FileVersion.file_id == doc["id"], FileVersion.number == number)
                ).one()
                for _ in retention.purge_by_file([version]):
                    transaction.commit()

        thread = threading.Thread(target=work)
        thread.start()
        thread.join()

    real_send_blob = downloads.send_blob
    removed = []

    def send_blob_after_a_removal(*args, **kwargs):
        remove_elsewhere(removed.pop())
        return real_send_blob(*args, **kwargs)

    monkeypatch.setattr(downloads, "send_blob", send_blob_after_a_removal)
    removed.append(1)
    page = world.client("alice").get(f"/files/{doc['id']}/download?version=1")
    assert page.status_code == 404 and "This version was removed a moment ago." in page.get_data(as_text=True)
    removed.append(2)
    api = world.client().get(f"/api/v1/files/{doc['id']}/versions/2/content", headers=world.api("alice"))
    assert api.status_code == 404 and api.get_json()["error"] == "This version was removed a moment ago."
    monkeypatch.setattr(downloads, "send_blob", real_send_blob)
    assert docx_text(world.client("alice").get(f"/files/{doc['id']}/download").data) == ["three"]

    # A blob missing under a version that stands is storage's failure, not a version gone.
    with world.app.app_context():
        from app.services.storage import get_storage

        head = db.session.scalars(
            sa.select(FileVersion).where(FileVersion.file_id == doc["id"], FileVersion.number == 3)
        ).one()
        get_storage().delete(head.storage_key)
    broken = world.client("alice").get(f"/files/{doc['id']}/download")
    assert broken.status_code == 503 and "The storage failed" in broken.get_data(as_text=True)
