"""Forgotten files against the Document Server emulator over real HTTP, JWT on.

A final save that never reaches the app leaves a forgotten file in Docs; the admin page
lists it with its file, recovers it as a new version (or a new file) and deletes Docs'
copy, or discards it.
"""

import io
import re
import threading
import time

import pytest

from docs_emulator.testing import start_emulator
from tests.conftest import World
from tests.conftest import build_app
from tests.helpers import SECRET
from tests.helpers import LiveServer
from tests.helpers import docx_text


@pytest.fixture(scope="module")
def emulator():
    with start_emulator(jwt_secret=SECRET, save_delay=0.2, retry_base=0.05) as emu:
        yield emu


def _live(tmp_path, emulator, **overrides):
    emulator.reset()  # forgotten files of earlier tests must not show up in this one
    app = build_app(tmp_path, DOCS_URL=emulator.url, **overrides)
    server = LiveServer(app)
    app.config["APP_URL_FOR_DOCS"] = server.url
    return World(app, server)


@pytest.fixture
def live(tmp_path, emulator):
    world = _live(tmp_path, emulator)
    yield world
    world.server.stop()


def config_for(world, file_id, user, mode="edit"):
    response = world.client().get(f"/api/v1/files/{file_id}/editor-config?mode={mode}", headers=world.api(user))
    assert response.status_code == 200
    return response.get_json()


def forget_a_session(world, emulator, title="Lost", editor="bob", text="words that almost got lost"):
    """Edit a new document as editor and close it while the app cannot be reached: Docs forgets the save."""
    doc = world.create_document("alice", title)
    world.set_level(doc["id"], editor, "edit")
    config = config_for(world, doc["id"], editor)
    key, user = config["document"]["key"], str(world.user_ids[editor])
    assert emulator.open_session(config)["error"] == 0
    emulator.append(key, user, text)
    emulator.fault("callback_unreachable", status=2, attempts=10)  # all four attempts fail
    emulator.leave(key, user)
    emulator.wait_idle()
    attempts = emulator.callbacks(key=key, status=2)
    assert len(attempts) == 4 and not any(a["ok"] for a in attempts)
    assert key in emulator.forgotten()["keys"]
    file = world.file(doc["id"])
    assert file.version == 1 and file.doc_key == key  # nothing reached the app
    return doc, key


def page(client, response=None) -> str:
    """The forgotten-files page, or where a POST redirected to."""
    if response is not None:
        assert response.status_code == 302 and response.headers["Location"].endswith("/admin/forgotten")
    return client.get("/admin/forgotten").get_data(as_text=True)


def test_a_failed_final_save_is_listed_and_recovered_as_a_new_version(live, emulator):
    doc, key = forget_a_session(live, emulator)
    alice = live.client("alice")
    html = page(alice)
    row = re.search(rf'<tr data-key="{re.escape(key)}">(.*?)</tr>', html, re.S).group(1)
    assert "Lost.docx" in row and f"/files/{doc['id']}" in row and "Team" in row and "Latest session" in row

    html = page(alice, alice.post("/admin/forgotten/recover", data={"key": key}))
    assert "The unsaved changes are now version 2 of Lost.docx." in html

    file = live.file(doc["id"])
    assert file.version == 2 and file.doc_key != key and file.editors == [] and file.editing_since is None
    version = live.versions(doc["id"])[-1]
    assert version.source == "recovered" and version.author_id == live.user_ids["alice"]
    assert version.doc_key == file.doc_key
    assert "words that almost got lost" in docx_text(live.head_bytes(doc["id"]))
    stream = alice.get(f"/spaces/{live.space_id}").get_data(as_text=True)
    assert "Alice Archer recovered unsaved changes to Lost.docx as version 2" in stream
    assert emulator.forgotten()["keys"] == []
    assert "Docs keeps no forgotten files" in page(alice)
    assert "recovered after a failed save" in alice.get(f"/files/{doc['id']}").get_data(as_text=True)


def test_a_session_older_than_the_head_is_recovered_over_it(live, emulator):
    from tests.helpers import docx_with

    doc, key = forget_a_session(live, emulator, text="old session")
    response = live.client().post(
        f"/api/v1/files/{doc['id']}/versions",
        headers=live.api("alice"),
        data={"file": (io.BytesIO(docx_with("uploaded meanwhile")), "x.docx")},
    )
    assert response.status_code in (200, 201), response.data
    alice = live.client("alice")
    row = re.search(rf'<tr data-key="{re.escape(key)}">(.*?)</tr>', page(alice), re.S).group(1)
    assert "Older session" in row and "now version 2" in row
    assert "The unsaved changes are now version 3" in page(
        alice, alice.post("/admin/forgotten/recover", data={"key": key})
    )
    assert [v.number for v in live.versions(doc["id"])] == [1, 2, 3]
    assert "old session" in docx_text(live.head_bytes(doc["id"]))


def test_discard_deletes_without_recovering(live, emulator):
    doc, key = forget_a_session(live, emulator)
    alice = live.client("alice")
    assert 'id="discard-modal-1"' in page(alice)  # the button asks first
    html = page(alice, alice.post("/admin/forgotten/delete", data={"key": key}))
    assert "The forgotten file was deleted from Docs." in html
    assert emulator.forgotten()["keys"] == []
    assert live.file(doc["id"]).version == 1


def test_only_admins_may_see_or_act(live, emulator):
    _, key = forget_a_session(live, emulator)
    bob, anonymous = live.client("bob"), live.client()
    calls = [
        ("get", "/admin/forgotten", None),
        ("post", "/admin/forgotten/recover", {"key": key}),
        ("post", "/admin/forgotten/delete", {"key": key}),
        ("get", f"/admin/forgotten/download?key={key}", None),
    ]
    for method, path, data in calls:
        assert getattr(bob, method)(path, data=data).status_code == 403, path
        response = getattr(anonymous, method)(path, data=data)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"], path
    assert key in emulator.forgotten()["keys"]


def test_recover_needs_the_csrf_token(tmp_path, emulator):
    world = _live(tmp_path, emulator, WTF_CSRF_ENABLED=True)
    try:
        doc, key = forget_a_session(world, emulator)
        alice = world.client()
        login = alice.get("/auth/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
        assert (
            alice.post(
                "/auth/login", data={"username": "alice", "password": "pw-alice", "csrf_token": token}
            ).status_code
            == 302
        )
        assert alice.post("/admin/forgotten/recover", data={"key": key}).status_code == 400
        assert alice.post("/admin/forgotten/delete", data={"key": key}).status_code == 400
        assert world.file(doc["id"]).version == 1 and key in emulator.forgotten()["keys"]
        html = page(alice)
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        response = alice.post("/admin/forgotten/recover", data={"key": key, "csrf_token": token})
        assert response.status_code == 302
        assert world.file(doc["id"]).version == 2
    finally:
        world.server.stop()


def test_an_unknown_or_malformed_key_gives_a_clear_error(live, emulator):
    alice = live.client("alice")
    html = page(alice, alice.post("/admin/forgotten/recover", data={"key": "no-such-key"}))
    assert "Docs keeps no forgotten file under the key no-such-key" in html
    html = page(alice, alice.post("/admin/forgotten/delete", data={"key": "no-such-key"}))
    assert "Docs could not delete the forgotten file" in html and "missing or unknown" in html
    html = page(alice, alice.post("/admin/forgotten/recover", data={"key": "not a key!"}))
    assert "The request was not valid" in html
    response = alice.get("/admin/forgotten/download?key=no-such-key")
    assert "Docs keeps no forgotten file under the key no-such-key" in page(alice, response)


def test_a_deleted_files_changes_are_refused_without_a_space_and_downloadable(live, emulator):
    from app.extensions import db
    from app.models import File
    from app.models import Membership
    from app.models import Space

    doc, key = forget_a_session(live, emulator)

    def delete_file():
        db.session.delete(db.session.get(File, doc["id"]))
        archive = Space(name="Archive")
        db.session.add(Membership(space=archive, user_id=live.user_ids["alice"], role="owner"))
        db.session.commit()

    live.query(delete_file)
    alice = live.client("alice")
    row = re.search(rf'<tr data-key="{re.escape(key)}">(.*?)</tr>', page(alice), re.S).group(1)
    assert "No file in Coedit" in row and "Recover as a new file" in row and "Download" in row

    html = page(alice, alice.post("/admin/forgotten/recover", data={"key": key}))
    assert "Coedit has no file with this key" in html and "download it" in html
    assert key in emulator.forgotten()["keys"]

    download = alice.get(f"/admin/forgotten/download?key={key}")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    assert "words that almost got lost" in docx_text(download.data)

    archive = live.query(lambda: db.session.scalar(db.select(Space.id).where(Space.name == "Archive")))
    html = page(alice, alice.post("/admin/forgotten/recover", data={"key": key, "space_id": str(archive)}))
    assert "now a new file, Lost (recovered).docx, in Archive" in html
    recovered = live.query(lambda: db.session.scalar(db.select(File.id).where(File.space_id == archive)))
    assert live.file(recovered).title == "Lost (recovered).docx"
    assert live.versions(recovered)[0].source == "recovered"
    assert "words that almost got lost" in docx_text(live.head_bytes(recovered))
    assert emulator.forgotten()["keys"] == []


def test_a_failed_delete_after_recovery_is_reported_not_fatal(live, emulator, monkeypatch):
    from app.services.docs import client as docs_client
    from app.services.exceptions import DocsError

    doc, key = forget_a_session(live, emulator)
    real = docs_client.command

    def failing(c, **params):
        if c == "deleteForgotten":
            raise DocsError("command deleteForgotten: internal server error")
        return real(c, **params)

    monkeypatch.setattr(docs_client, "command", failing)
    alice = live.client("alice")
    html = page(alice, alice.post("/admin/forgotten/recover", data={"key": key}))
    assert "now version 2 of Lost.docx" in html and "Docs did not delete its copy" in html
    assert live.file(doc["id"]).version == 2 and key in emulator.forgotten()["keys"]
    row = re.search(rf'<tr data-key="{re.escape(key)}">(.*?)</tr>', page(alice), re.S).group(1)
    assert "Already recovered" in row and "As version 2" in row and "Recover" not in row.replace("recovered", "")
    # Recovering twice (a double click, a second admin) stores nothing more.
    monkeypatch.setattr(docs_client, "command", real)
    html = page(alice, alice.post("/admin/forgotten/recover", data={"key": key}))
    assert "already recovered as version 2 of Lost.docx" in html
    assert [v.number for v in live.versions(doc["id"])] == [1, 2]
    page(alice, alice.post("/admin/forgotten/delete", data={"key": key}))
    assert emulator.forgotten()["keys"] == []


def test_the_page_says_when_docs_is_not_configured_or_unreachable(tmp_path, live, emulator):
    alice = live.client("alice")
    live.app.config["DOCS_INTERNAL_URL"] = "http://127.0.0.1:9"  # nothing listens there
    html = page(alice)
    assert "Docs could not list its forgotten files: could not reach the Document Server" in html

    bare = build_app(tmp_path / "bare")  # no Docs address
    server = LiveServer(bare)
    try:
        html = page(World(bare, server).client("alice"))
        assert 'id="not-configured"' in html and "not configured" in html
    finally:
        server.stop()


def test_the_settings_page_links_here(live):
    html = live.client("alice").get("/admin/settings").get_data(as_text=True)
    assert 'href="/admin/forgotten"' in html


def test_a_recovery_waits_for_another_action_on_the_file_and_is_refused_if_it_goes_on(live, emulator):
    """The transition lock: a rename (or any action) moving the file holds the recovery back; after
    the wait the administrator is told why and nothing is stored, nor deleted from Docs."""
    from app.extensions import db
    from app.models import SaveReceipt
    from app.services import locks

    doc, key = forget_a_session(live, emulator)
    live.app.config["TRANSITION_LOCK_WAIT"] = 0.5
    alice = live.client("alice")
    with live.app.app_context():
        renaming = locks.acquire(doc["id"], "rename")
        html = page(alice, alice.post("/admin/forgotten/recover", data={"key": key}))
        assert locks.held() == 1  # the rename's own, nothing left over from the refused recovery
        renaming.release()
    assert "The document is being renamed, try again in a moment." in html
    assert [v.number for v in live.versions(doc["id"])] == [1] and live.file(doc["id"]).doc_key == key
    assert live.query(lambda: db.session.scalars(db.select(SaveReceipt).where(SaveReceipt.doc_key == key)).all()) == []
    assert key in emulator.forgotten()["keys"]

    # An action that ends within the wait: the recovery goes after it, and holds the file meanwhile.
    live.app.config["TRANSITION_LOCK_WAIT"] = 10
    with live.app.app_context():
        renaming = locks.acquire(doc["id"], "rename")
        threading.Timer(0.5, renaming.release).start()
        started = time.monotonic()
        html = page(alice, alice.post("/admin/forgotten/recover", data={"key": key}))
        assert time.monotonic() - started > 0.4
        assert locks.held() == 0
    assert "The unsaved changes are now version 2 of Lost.docx." in html
    assert emulator.forgotten()["keys"] == []


def test_a_file_deleted_while_its_recovery_waits_is_not_recovered_into(live, emulator):
    from app.extensions import db
    from app.models import File
    from app.models import SaveReceipt
    from app.services import locks

    doc, key = forget_a_session(live, emulator)
    alice = live.client("alice")
    with live.app.app_context():
        deleting = locks.acquire(doc["id"], "delete")

    def delete_and_let_go():
        with live.app.app_context():
            db.session.delete(db.session.get(File, doc["id"]))
            db.session.commit()
            deleting.release()

    threading.Timer(0.5, delete_and_let_go).start()
    html = page(alice, alice.post("/admin/forgotten/recover", data={"key": key}))
    assert "Coedit has no file with this key" in html
    assert live.query(lambda: db.session.scalars(db.select(SaveReceipt).where(SaveReceipt.doc_key == key)).all()) == []
    assert live.query(lambda: db.session.scalar(db.select(db.func.count(File.id)))) == 0
    assert key in emulator.forgotten()["keys"]
    assert live.query(locks.held) == 0
