"""One rule for transactions: services stage, the request commits once; what follows a commit
cannot undo it or turn it into an error."""

import os
import re

import sqlalchemy as sa

from tests.test_callbacks import save_body
from tests.test_callbacks import send

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def editor(world, doc_id, user="alice"):
    config = world.client().get(f"/api/v1/files/{doc_id}/editor-config", headers=world.api(user)).get_json()
    return {"id": doc_id, "key": config["document"]["key"], "callback": config["editorConfig"]["callbackUrl"]}


def test_a_failing_notice_after_a_save_answers_success_and_stores_it_once(world, fake_docs, monkeypatch):
    from app.services import posts

    doc = editor(world, world.create_document("alice", "Noticed")["id"])

    def broken(*args, **kwargs):
        raise RuntimeError("the stream is broken")

    monkeypatch.setattr(posts, "notice", broken)
    body = save_body(world, fake_docs, doc, user="alice")
    assert send(doc["callback"], body).json() == {"error": 0}  # stored: the notice is not the save
    assert send(doc["callback"], body).json() == {"error": 0}  # Docs' retry: a duplicate
    assert [v.number for v in world.versions(doc["id"])] == [1, 2]
    assert world.file(doc["id"]).version == 2


def test_a_failing_fold_after_a_final_save_answers_success_and_loses_nothing(world, fake_docs, monkeypatch):
    from app.extensions import db
    from app.services import retention
    from app.services import settings

    def keep_no_intermediate():
        settings.save({"keep_intermediate_versions": False})
        db.session.commit()

    world.query(keep_no_intermediate)
    doc = editor(world, world.create_document("alice", "Folded")["id"])
    forced = save_body(world, fake_docs, doc, status=6, user="alice", forcesavetype=1, name="forced.docx")
    assert send(doc["callback"], forced).json() == {"error": 0}

    def broken(*args, **kwargs):
        raise sa.exc.OperationalError("DELETE", {}, Exception("database is locked"))

    monkeypatch.setattr(retention, "remove_held", broken)
    final = save_body(world, fake_docs, doc, user="alice", name="final.docx", lastsave="2026-11-22T11:00:00.000Z")
    assert send(doc["callback"], final).json() == {"error": 0}
    assert send(doc["callback"], final).json() == {"error": 0}
    assert [v.number for v in world.versions(doc["id"])] == [1, 2, 3]  # the fold failed: nothing was lost
    assert world.file(doc["id"]).version == 3
    monkeypatch.undo()
    notes = world.client().get("/api/v1/notifications", headers=world.api("alice")).get_json()["notifications"]
    assert not any("could not be saved" in n["text"] for n in notes)  # no false alarm


def test_a_failed_commit_leaves_no_blob_behind_anywhere(world, monkeypatch):
    """An upload whose commit fails: the blob written for it goes again (transaction events)."""
    import io

    from app.extensions import db
    from tests.helpers import docx_with

    def fail(session):
        if session.info.get("coedit_new_blobs"):  # the commit that would make a new blob visible
            raise sa.exc.OperationalError("COMMIT", {}, Exception("disk I/O error"))

    sa.event.listen(db.session, "before_commit", fail)
    try:
        answer = world.client().post(
            f"/api/v1/spaces/{world.space_id}/files",
            headers=world.api("alice"),
            data={"file": (io.BytesIO(docx_with("lost")), "lost.docx")},
        )
    finally:
        sa.event.remove(db.session, "before_commit", fail)
    assert answer.status_code == 500
    files_dir = os.path.join(world.app.config["STORAGE_DIR"], "files")
    assert not os.path.exists(files_dir) or all(not names for _, _, names in os.walk(files_dir))


def test_only_views_commands_and_the_named_services_commit():
    """Services stage; commits go through transaction.commit in views, commands, jobs, and the services
    the protocol makes commit early (callbacks, forgotten-file recovery, the session touch)."""
    allowed_services = {"app/services/docs/callbacks.py", "app/services/docs/forgotten.py", "app/services/accounts.py"}
    offenders = []
    for folder, _, names in os.walk(os.path.join(ROOT, "app")):
        for name in names:
            if not name.endswith(".py"):
                continue
            path = os.path.relpath(os.path.join(folder, name), ROOT)
            text = open(os.path.join(ROOT, path), encoding="utf-8").read()
            if path != "app/transaction.py" and re.search(r"session\.commit\(", text):
                offenders.append(f"{path}: db.session.commit() outside transaction.commit()")
            if path.startswith("app/services/") and "transaction.commit()" in text and path not in allowed_services:
                offenders.append(f"{path}: a service commits")
    assert offenders == []


def test_rows_read_alone_are_typed_as_core_types_them(world):
    """Reads outside the session give the values Core gives (SQLite keeps datetimes as text and
    booleans as integers): a decision made on a row read alone is the one made on a session's."""
    from datetime import datetime

    from app import transaction
    from app.extensions import db
    from app.models import User
    from app.models.base import utcnow

    def compare():
        user = db.session.get(User, world.user_ids["carol"])
        user.disabled_at = utcnow()
        user.is_admin = True
        db.session.commit()
        query = sa.select(User.id, User.is_admin, User.disabled_at, User.display_name).where(
            User.id == sa.bindparam("user_id")
        )
        alone = transaction.first_alone(query, {"user_id": user.id})
        in_session = db.session.execute(query, {"user_id": user.id}).first()
        return alone, in_session

    alone, in_session = world.query(compare)
    assert tuple(alone) == tuple(in_session)
    assert isinstance(alone.disabled_at, datetime) and alone.is_admin is True
