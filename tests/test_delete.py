"""Deleting a file: nothing of it stays visible, and no save on its way is lost."""

import sqlalchemy as sa

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


def test_deleting_a_restricted_file_leaves_nothing_of_it_in_the_space(world):
    from app.models import Notification
    from app.models import Post
    from app.models import ShareLink
    from app.models import ShareLinkUse

    doc = world.create_document("alice", "Layoffs 2027")
    alice = world.client("alice")
    assert world.client().put(f"/api/v1/files/{doc['id']}/rights", json={"default": "none"},
                              headers=world.api("alice")).status_code == 200
    alice.post(f"/files/{doc['id']}/thread", data={"body": "Private: the sales team goes first"})
    link = world.client().post(f"/api/v1/files/{doc['id']}/links", json={"mode": "view"},
                               headers=world.api("alice")).get_json()
    guest = world.app.test_client()
    assert guest.post("/s/" + link["url"].rsplit("/s/", 1)[1], data={"name": "Gus"}).status_code == 302
    mention = alice.post(f"/files/{doc['id']}/mentions", json={"emails": ["alice@users.coedit"],
                                                               "message": "look at this"})
    assert mention.status_code == 200
    bob_stream = world.client("bob").get(f"/spaces/{world.space_id}").get_data(as_text=True)
    assert "sales team" not in bob_stream and "Layoffs" not in bob_stream

    assert alice.post(f"/files/{doc['id']}/delete").status_code == 302

    bob_stream = world.client("bob").get(f"/spaces/{world.space_id}").get_data(as_text=True)
    assert "sales team" not in bob_stream  # the thread went with the file
    assert "Layoffs" not in bob_stream  # not even its name, which bob was never shown
    assert _count(world, Post, file_id=doc["id"]) == 0
    assert _count(world, Notification, file_id=doc["id"]) == 0
    assert _count(world, ShareLink, file_id=doc["id"]) == 0
    assert _count(world, ShareLinkUse) == 0
    orphans = world.query(lambda: __import__("app.extensions", fromlist=["db"]).db.session.scalars(
        sa.select(Post.body).where(Post.file_id.is_(None), Post.kind == "post")).all())
    assert orphans == []


def test_deleting_a_file_everyone_reads_is_announced(world):
    doc = world.create_document("alice", "Old minutes")
    assert world.client("alice").post(f"/files/{doc['id']}/delete").status_code == 302
    stream = world.client("bob").get(f"/spaces/{world.space_id}").get_data(as_text=True)
    assert "Alice Archer deleted Old minutes.docx" in stream


def test_a_save_for_a_file_deleted_meanwhile_is_refused_without_a_trace(world, fake_docs):
    doc = world.create_document("alice", "Gone")
    config = world.client().get(f"/api/v1/files/{doc['id']}/editor-config", headers=world.api("alice")).get_json()
    assert world.client("alice").post(f"/files/{doc['id']}/delete").status_code == 302
    body = save_body(world, fake_docs, {"id": doc["id"], "key": config["document"]["key"]}, user="alice")
    answer = send(config["editorConfig"]["callbackUrl"], body)
    assert answer.status_code == 404 and answer.json() == {"error": 1}
