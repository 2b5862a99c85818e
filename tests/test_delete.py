"""Deleting a file: nothing of it stays visible, and no save on its way is lost."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from docs_emulator.testing import start_emulator
from tests.helpers import SECRET
from tests.helpers import docx_text
from tests.test_callbacks import save_body
from tests.test_callbacks import send


def _count(world, model, **where) -> int:
    from app.extensions import db

    def count():
        query = sa.select(sa.func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return db.session.scalar(query)

    return world.query(count)


def space_page(world, who: str) -> str:
    """The space's page below the navigation bar (whose bell lists the person's own notifications,
    such as being told their access to a file changed)."""
    html = world.client(who).get(f"/spaces/{world.space_id}").get_data(as_text=True)
    return html[html.index("<main") :]


def test_deleting_a_restricted_file_leaves_nothing_of_it_in_the_space(world):
    from app.models import Notification
    from app.models import Post
    from app.models import ShareLink
    from app.models import ShareLinkUse

    doc = world.create_document("alice", "Layoffs 2027")
    alice = world.client("alice")
    assert (
        world.client()
        .put(f"/api/v1/files/{doc['id']}/rights", json={"default": "none"}, headers=world.api("alice"))
        .status_code
        == 200
    )
    alice.post(f"/files/{doc['id']}/thread", data={"body": "Private: the sales team goes first"})
    link = (
        world.client()
        .post(f"/api/v1/files/{doc['id']}/links", json={"mode": "view"}, headers=world.api("alice"))
        .get_json()
    )
    guest = world.app.test_client()
    assert guest.post("/s/" + link["url"].rsplit("/s/", 1)[1], data={"name": "Gus"}).status_code == 302
    mention = alice.post(
        f"/files/{doc['id']}/mentions", json={"emails": ["alice@users.coedit"], "message": "look at this"}
    )
    assert mention.status_code == 200
    bob_stream = space_page(world, "bob")
    assert "sales team" not in bob_stream and "Layoffs" not in bob_stream

    assert alice.post(f"/files/{doc['id']}/delete").status_code == 302

    bob_stream = space_page(world, "bob")
    assert "sales team" not in bob_stream  # the thread went with the file
    assert "Layoffs" not in bob_stream  # not even its name, which bob was never shown
    assert _count(world, Post, file_id=doc["id"]) == 0
    assert _count(world, Notification, file_id=doc["id"]) == 0
    assert _count(world, ShareLink, file_id=doc["id"]) == 0
    assert _count(world, ShareLinkUse) == 0
    orphans = world.query(
        lambda: (
            __import__("app.extensions", fromlist=["db"])
            .db.session.scalars(sa.select(Post.body).where(Post.file_id.is_(None), Post.kind == "post"))
            .all()
        )
    )
    assert orphans == []


def test_deleting_a_file_everyone_reads_is_announced(world):
    doc = world.create_document("alice", "Old minutes")
    assert world.client("alice").post(f"/files/{doc['id']}/delete").status_code == 302
    stream = world.client("bob").get(f"/spaces/{world.space_id}").get_data(as_text=True)
    assert "Alice Archer deleted Old minutes.docx" in stream


def test_a_save_for_a_file_deleted_meanwhile_is_left_with_docs_and_the_owner_told(world, fake_docs):
    doc = world.create_document("alice", "Gone")
    config = world.client().get(f"/api/v1/files/{doc['id']}/editor-config", headers=world.api("alice")).get_json()
    assert world.client("alice").post(f"/files/{doc['id']}/delete").status_code == 302
    body = save_body(world, fake_docs, {"id": doc["id"], "key": config["document"]["key"]}, user="alice")
    answer = send(config["editorConfig"]["callbackUrl"], body)
    assert answer.status_code == 404 and answer.json() == {"error": 1}  # Docs keeps it as a forgotten file
    notes = world.client().get("/api/v1/notifications", headers=world.api("alice")).get_json()["notifications"]
    assert any("Gone.docx arrived from the editor after it was deleted" in n["text"] for n in notes)


@pytest.fixture(scope="module")
def slow_saver():
    """Docs with a save delay long enough to try a delete between the last leave and the save."""
    with start_emulator(jwt_secret=SECRET, save_delay=1.5, retry_base=0.05) as emu:
        yield emu


@pytest.fixture
def live(make_world, slow_saver):
    return make_world(DOCS_URL=slow_saver.url)


def editor_config(world, file_id, user):
    return world.client().get(f"/api/v1/files/{file_id}/editor-config", headers=world.api(user)).get_json()


def test_no_delete_while_the_last_save_is_on_its_way(live, slow_saver):
    doc = live.create_document("alice", "In flight")
    config = editor_config(live, doc["id"], "alice")
    key, alice = config["document"]["key"], str(live.user_ids["alice"])
    assert slow_saver.open_session(config)["error"] == 0
    slow_saver.append(key, alice, "the last words")
    signed_in = live.client("alice")  # before the save's delay starts: signing in takes time
    slow_saver.leave(key, alice)  # everyone has left; Docs saves after its delay
    assert live.file(doc["id"]).editors == []

    refused = signed_in.post(f"/files/{doc['id']}/delete", follow_redirects=True)
    assert "still on their way from the editor" in refused.get_data(as_text=True)
    assert live.file(doc["id"]) is not None

    slow_saver.wait_idle()
    assert "the last words" in docx_text(live.head_bytes(doc["id"]))
    assert live.client("alice").post(f"/files/{doc['id']}/delete").status_code == 302
    assert live.file(doc["id"]) is None


def test_an_admin_may_delete_anyway_and_the_late_save_is_reported(live, slow_saver):
    created = live.client().post(
        f"/api/v1/spaces/{live.space_id}/documents", json={"title": "Bobs", "type": "docx"}, headers=live.api("bob")
    )
    doc = created.get_json()
    config = editor_config(live, doc["id"], "bob")
    key, bob = config["document"]["key"], str(live.user_ids["bob"])
    assert slow_saver.open_session(config)["error"] == 0
    slow_saver.append(key, bob, "bob's unsaved words")
    # Signed in before the save's delay starts: signing in (a password hash) took longer than the
    # delay on a loaded machine, and the save then came first.
    alice = live.client("alice")
    slow_saver.leave(key, bob)
    page = alice.get(f"/files/{doc['id']}").get_data(as_text=True)
    assert 'name="force"' in page  # the administrator is offered the choice
    assert alice.post(f"/files/{doc['id']}/delete", data={"force": "1"}).status_code == 302
    assert live.file(doc["id"]) is None
    slow_saver.wait_idle()
    assert key in slow_saver.forgotten()["keys"]  # nothing lost: Docs keeps the changes
    notes = live.client().get("/api/v1/notifications", headers=live.api("bob")).get_json()["notifications"]
    assert any("Bobs.docx arrived from the editor after it was deleted" in n["text"] for n in notes)
    listed = live.client("alice").get("/admin/forgotten").get_data(as_text=True)
    assert "Bobs.docx" in listed and "deleted" in listed  # the administrator sees which file it was


def test_a_member_cannot_force_a_delete(live, slow_saver):
    created = live.client().post(
        f"/api/v1/spaces/{live.space_id}/documents", json={"title": "Mine", "type": "docx"}, headers=live.api("bob")
    )
    doc = created.get_json()
    config = editor_config(live, doc["id"], "bob")
    assert slow_saver.open_session(config)["error"] == 0
    bob = live.client("bob")  # before the save's delay starts: signing in takes time
    slow_saver.leave(config["document"]["key"], str(live.user_ids["bob"]))
    bob.post(f"/files/{doc['id']}/delete", data={"force": "1"})
    assert live.file(doc["id"]) is not None
    slow_saver.wait_idle()


def test_a_session_docs_gave_up_on_no_longer_holds_the_file(world):
    from app.extensions import db
    from app.models import DocKey

    doc = world.create_document("alice", "Abandoned")
    config = world.client().get(f"/api/v1/files/{doc['id']}/editor-config", headers=world.api("alice")).get_json()
    key, alice = config["document"]["key"], str(world.user_ids["alice"])
    callback = config["editorConfig"]["callbackUrl"]
    assert send(
        callback, {"key": key, "status": 1, "users": [alice], "actions": [{"type": 1, "userid": alice}]}
    ).json() == {"error": 0}
    assert send(callback, {"key": key, "status": 1, "users": [], "actions": [{"type": 0, "userid": alice}]}).json() == {
        "error": 0
    }
    assert world.client("alice").post(f"/files/{doc['id']}/delete").status_code == 302
    assert world.file(doc["id"]) is not None  # the save is owed

    def long_ago():
        row = db.session.get(DocKey, key)
        row.session_seen_at = row.session_seen_at - timedelta(hours=1)
        db.session.commit()

    world.query(long_ago)  # Docs saves within seconds, retries within a minute: it gave up (or a forgotten file)
    world.client("alice").post(f"/files/{doc['id']}/delete")
    assert world.file(doc["id"]) is None


def test_deleting_a_file_removes_every_blob_it_had(world, fake_docs):
    import os

    from tests.test_download_switch import changes_zip

    doc = world.create_document("alice", "Blobs")
    config = world.client().get(f"/api/v1/files/{doc['id']}/editor-config", headers=world.api("alice")).get_json()
    target = {"id": doc["id"], "key": config["document"]["key"]}
    fake_docs.put("changes.zip", changes_zip())
    body = save_body(
        world,
        fake_docs,
        target,
        user="alice",
        changesurl=f"{fake_docs.url}/cache/files/changes.zip?md5=x&expires=9999999999",
    )
    assert send(config["editorConfig"]["callbackUrl"], body).json() == {"error": 0}
    storage = world.app.config["STORAGE_DIR"]

    def blobs():
        return [
            name
            for sub in ("files", "changes")
            for _, _, names in os.walk(os.path.join(storage, sub))
            for name in names
        ]

    assert len(blobs()) == 3  # two versions and the changes of the second
    assert world.client("alice").post(f"/files/{doc['id']}/delete").status_code == 302
    assert blobs() == []
