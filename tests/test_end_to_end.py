"""The whole loop against the Document Server emulator over real HTTP, JWT on.

Runs once with the default JWT header and once with a custom one.
"""

import time

import pytest

from docs_emulator.testing import start_emulator
from tests.helpers import SECRET
from tests.helpers import docx_text
from tests.helpers import wait_for

HEADERS = ["Authorization", "AuthorizationJwt"]


@pytest.fixture(scope="module", params=HEADERS)
def emulator(request):
    with start_emulator(jwt_secret=SECRET, jwt_header=request.param, save_delay=0.2, retry_base=0.05) as emu:
        emu.header_name = request.param
        yield emu


@pytest.fixture
def live(make_world, emulator):
    emulator.clear_faults()
    return make_world(DOCS_URL=emulator.url, DOCS_JWT_HEADER=emulator.header_name)


def config_for(world, file_id, user, mode="edit"):
    response = world.client().get(f"/api/v1/files/{file_id}/editor-config?mode={mode}", headers=world.api(user))
    assert response.status_code == 200
    return response.get_json()


def test_create_open_edit_close_stores_version_two(live, emulator):
    doc = live.create_document("alice", "Loop")
    live.set_level(doc["id"], "bob", "edit")
    config = config_for(live, doc["id"], "bob")
    key = config["document"]["key"]
    bob = str(live.user_ids["bob"])

    opened = emulator.open_session(config)
    assert opened["error"] == 0  # the emulator verified our token and downloaded the file with its JWT
    assert live.file(doc["id"]).editors == [bob]  # status 1 arrived

    emulator.append(key, bob, "Hello from the editor")
    emulator.leave(key, bob)
    emulator.wait_idle()

    final = emulator.callbacks(key=key, status=2)
    assert final and final[-1]["ok"]
    file = live.file(doc["id"])
    assert file.version == 2 and file.doc_key != key and file.editors == []
    versions = live.versions(doc["id"])
    assert versions[1].author_id == live.user_ids["bob"] and versions[1].history_json
    assert "Hello from the editor" in docx_text(live.head_bytes(doc["id"]))
    stream = live.client("alice").get(f"/spaces/{live.space_id}").get_data(as_text=True)
    assert "Loop.docx was updated by Bob Baker: version 2" in stream


def test_close_without_changes_stores_nothing(live, emulator):
    doc = live.create_document("alice", "Untouched")
    config = config_for(live, doc["id"], "alice")
    alice = str(live.user_ids["alice"])
    assert emulator.open_session(config)["error"] == 0
    emulator.leave(config["document"]["key"], alice)
    emulator.wait_idle()
    assert emulator.callbacks(key=config["document"]["key"], status=4)[-1]["ok"]
    file = live.file(doc["id"])
    assert file.version == 1 and file.doc_key == doc["key"] and file.editors == []


def test_co_editors_share_one_session_and_the_last_editor_authors(live, emulator):
    doc = live.create_document("alice", "Together")
    live.set_level(doc["id"], "bob", "edit")
    alice_config, bob_config = config_for(live, doc["id"], "alice"), config_for(live, doc["id"], "bob")
    assert alice_config["document"]["key"] == bob_config["document"]["key"]
    key = alice_config["document"]["key"]
    alice, bob = str(live.user_ids["alice"]), str(live.user_ids["bob"])
    emulator.open_session(alice_config)
    emulator.open_session(bob_config)
    assert sorted(live.file(doc["id"]).editors) == sorted([alice, bob])
    emulator.append(key, alice, "from alice")
    emulator.append(key, bob, "from bob")
    emulator.leave(key, alice)
    emulator.leave(key, bob)
    emulator.wait_idle()
    assert docx_text(live.head_bytes(doc["id"]))[-2:] == ["from alice", "from bob"]
    assert live.versions(doc["id"])[-1].author_id == live.user_ids["bob"]


def test_reader_opens_the_viewer_and_sends_no_callbacks(live, emulator):
    from app.extensions import db
    from app.models import FileRight

    doc = live.create_document("alice", "Read me")
    live.query(
        lambda: (
            db.session.add(FileRight(file_id=doc["id"], user_id=live.user_ids["bob"], level="read")),
            db.session.commit(),
        )
    )
    config = config_for(live, doc["id"], "bob", "edit")
    assert config["editorConfig"]["mode"] == "view"
    emulator.clear_callbacks()
    assert emulator.open_session(config)["error"] == 0
    assert emulator.callbacks(key=config["document"]["key"]) == []
    assert live.file(doc["id"]).editors == []


def test_forcesave_stores_a_version_and_keeps_the_session(live, emulator):
    doc = live.create_document("alice", "Forced")
    config = config_for(live, doc["id"], "alice")
    key, alice = config["document"]["key"], str(live.user_ids["alice"])
    emulator.open_session(config)
    emulator.append(key, alice, "first")
    emulator.forcesave(key, alice)
    emulator.wait_idle()
    file = live.file(doc["id"])
    assert file.version == 2 and file.doc_key == key
    assert live.versions(doc["id"])[1].source == "forcesave"
    emulator.append(key, alice, "second")
    emulator.leave(key, alice)
    emulator.wait_idle()
    file = live.file(doc["id"])
    assert file.version == 3 and file.doc_key != key
    assert docx_text(live.head_bytes(doc["id"]))[-2:] == ["first", "second"]


def test_tampered_config_is_refused_by_docs(live, emulator):
    doc = live.create_document("alice", "Tamper")
    config = config_for(live, doc["id"], "bob", "edit")
    config["document"]["permissions"]["download"] = False  # not what was signed
    assert emulator.open_session(config)["error"] != 0


def test_failed_download_is_retried_and_stored_once(live, emulator):
    doc = live.create_document("alice", "Flaky")
    config = config_for(live, doc["id"], "alice")
    key, alice = config["document"]["key"], str(live.user_ids["alice"])
    emulator.open_session(config)
    emulator.append(key, alice, "survives a cut")
    emulator.fault("download_truncated")
    emulator.leave(key, alice)
    emulator.wait_idle()
    attempts = emulator.callbacks(key=key, status=2)
    assert [a["http_status"] for a in attempts][:2] == [503, 200]
    assert [v.number for v in live.versions(doc["id"])] == [1, 2]
    assert "survives a cut" in docx_text(live.head_bytes(doc["id"]))


def test_save_pointing_off_the_document_server_is_refused(live, emulator, fake_docs):
    doc = live.create_document("alice", "Hijack")
    config = config_for(live, doc["id"], "alice")
    key, alice = config["document"]["key"], str(live.user_ids["alice"])
    emulator.open_session(config)
    emulator.append(key, alice, "real edit")
    stolen = fake_docs.put("loot.docx", b"loot")
    emulator.fault("callback_url_override", url=stolen)
    emulator.leave(key, alice)
    emulator.wait_idle()
    assert emulator.callbacks(key=key, status=2)[-1]["http_status"] == 403
    assert fake_docs.requests == []
    assert live.file(doc["id"]).version == 1
    assert key in emulator.forgotten()["keys"]  # nothing lost: Docs keeps the edit


def test_connection_test_passes_against_docs(live, emulator):
    from app.services.docs.client import check_connection

    with live.app.test_request_context():
        steps = check_connection()
    assert [(s.name, s.ok) for s in steps] == [
        ("Mixed content", True),
        ("Health check", True),
        ("Command service", True),
        ("Conversion round trip", True),
    ]


def test_admin_page_and_cli_test_the_connection(live, emulator):
    html = (
        live.client("alice")
        .post(
            "/admin/settings", data={"jwt_header": emulator.header_name, "max_file_size_mb": "100", "verify_tls": "y"}
        )
        .get_data(as_text=True)
    )
    assert html.count("step-ok") == 4 and "step-failed" not in html
    result = live.app.test_cli_runner().invoke(args=["check-docs"])
    assert result.exit_code == 0 and result.output.count("[ok]") == 4


def test_losing_edit_rights_drops_the_editor_from_the_session(live, emulator):
    doc = live.create_document("alice", "Revoked")
    live.set_level(doc["id"], "bob", "edit")
    config = config_for(live, doc["id"], "bob")
    key, bob = config["document"]["key"], str(live.user_ids["bob"])
    emulator.open_session(config)
    emulator.append(key, bob, "written before the change")
    assert live.file(doc["id"]).editors == [bob]
    response = live.client().put(
        f"/api/v1/files/{doc['id']}/rights", json={"users": {"bob": "read"}}, headers=live.api("alice")
    )
    assert response.status_code == 200

    def bob_left():
        return [
            c
            for c in emulator.callbacks(key=key, status=1)
            if {"type": 0, "userid": bob} in (c["body"].get("actions") or [])
        ]

    # Bob is dropped by a job that runs once the change is committed; then his session closes and saves.
    wait_for(bob_left, what="Docs to be told to drop bob")
    emulator.wait_idle()
    # What bob wrote before losing the right is not lost: the session closed and saved it, beside the
    # head, since the save names only bob, who may no longer change the file (the owner decides).
    saved = live.versions(doc["id"])[-1]
    assert saved.number == 2 and saved.is_conflict and live.file(doc["id"]).version == 1
    content = live.client().get(f"/api/v1/files/{doc['id']}/versions/2/content", headers=live.api("alice"))
    assert "written before the change" in docx_text(content.data)


def test_a_readers_config_with_edit_flipped_is_refused_by_docs(live, emulator):
    doc = live.create_document("alice", "Escalate")
    config = config_for(live, doc["id"], "bob", "edit")
    assert config["editorConfig"]["mode"] == "view"
    config["document"]["permissions"]["edit"] = True
    config["editorConfig"]["mode"] = "edit"
    assert emulator.open_session(config)["error"] != 0


def test_changes_of_a_final_save_are_kept_for_the_history(live, emulator):
    doc = live.create_document("alice", "Changes")
    config = config_for(live, doc["id"], "alice")
    key, alice = config["document"]["key"], str(live.user_ids["alice"])
    emulator.open_session(config)
    emulator.append(key, alice, "tracked")
    emulator.leave(key, alice)
    emulator.wait_idle()
    version = live.versions(doc["id"])[1]
    assert version.changes_storage_key and version.history_json
    import io
    import zipfile

    assert zipfile.is_zipfile(io.BytesIO(live.blob_bytes(version.changes_storage_key)))


def test_a_co_editor_leaving_while_others_stay_is_saved_at_once(live, emulator):
    doc = live.create_document("alice", "Leaver")
    live.set_level(doc["id"], "bob", "edit")
    alice_config, bob_config = config_for(live, doc["id"], "alice"), config_for(live, doc["id"], "bob")
    key, alice, bob = alice_config["document"]["key"], str(live.user_ids["alice"]), str(live.user_ids["bob"])
    emulator.open_session(alice_config)
    emulator.open_session(bob_config)
    emulator.append(key, bob, "bob's part")
    emulator.leave(key, bob)  # alice stays
    import time

    deadline = time.time() + 10
    while live.file(doc["id"]).version < 2 and time.time() < deadline:
        time.sleep(0.1)
    assert live.file(doc["id"]).version == 2 and live.file(doc["id"]).doc_key == key  # a force-save
    assert "bob's part" in docx_text(live.head_bytes(doc["id"]))
    forced = emulator.callbacks(key=key, status=6)
    assert forced and forced[-1]["body"].get("forcesavetype") == 0
    emulator.leave(key, alice)
    emulator.wait_idle()


def test_three_sessions_give_the_right_versions_authors_and_keys(live, emulator):
    doc = live.create_document("alice", "Saga")
    live.set_level(doc["id"], "bob", "edit")
    alice, bob = str(live.user_ids["alice"]), str(live.user_ids["bob"])
    keys = []

    def session(*people):
        configs = {name: config_for(live, doc["id"], name) for name in people}
        key = next(iter(configs.values()))["document"]["key"]
        assert all(c["document"]["key"] == key for c in configs.values())
        for config in configs.values():
            assert emulator.open_session(config)["error"] == 0
        keys.append(key)
        return key

    key = session("alice")
    emulator.append(key, alice, "one")
    emulator.forcesave(key, alice)
    emulator.append(key, alice, "two")
    emulator.leave(key, alice)
    emulator.wait_idle()

    key = session("bob")
    emulator.append(key, bob, "three")
    emulator.leave(key, bob)
    emulator.wait_idle()

    key = session("alice", "bob")
    emulator.append(key, bob, "four")
    emulator.forcesave(key, bob)
    emulator.append(key, alice, "five")
    emulator.leave(key, bob)
    deadline = time.monotonic() + 20
    while len(emulator.callbacks(key=key, status=6)) < 2:  # the force-save asked for when bob left
        assert time.monotonic() < deadline
        time.sleep(0.05)
    emulator.wait_idle()
    emulator.leave(key, alice)
    emulator.wait_idle()

    versions = live.versions(doc["id"])
    ids = live.user_ids
    summary = [(v.number, v.source, v.author_id) for v in versions]
    # Bob leaving while alice stays makes the app ask for a force-save, which stores alice's line;
    # her final close then has nothing new (notmodified): no sixth-and-a-half version, a new key.
    assert summary == [
        (1, "create", ids["alice"]),
        (2, "forcesave", ids["alice"]),
        (3, "save", ids["alice"]),
        (4, "save", ids["bob"]),
        (5, "forcesave", ids["bob"]),
        (6, "forcesave", ids["alice"]),
    ]
    assert docx_text(live.head_bytes(doc["id"])) == ["one", "two", "three", "four", "five"]
    file = live.file(doc["id"])
    assert len(set(keys)) == 3 and file.doc_key not in keys
    assert versions[1].doc_key == keys[0] and versions[2].doc_key == keys[1] and versions[3].doc_key == keys[2]
    history = live.client("bob").get(f"/files/{doc['id']}/history").get_json()
    assert history["currentVersion"] == file.version
    assert len({h["key"] for h in history["history"]}) == len(history["history"])
    saved = [h for h in history["history"] if h["version"] in (3, 4)]
    assert all(h.get("changes") and h.get("serverVersion") for h in saved)


def test_a_lossy_odt_edited_in_the_editor_comes_back_as_an_odt_with_the_edit(live, emulator):
    """Docs edits an .odt as OOXML and saves docx; the app has it converted back by Docs."""
    from tests.test_lossy_edit import choose_lossy
    from tests.test_lossy_edit import odt_text
    from tests.test_lossy_edit import odt_with
    from tests.test_lossy_edit import upload

    choose_lossy(live, "odt")
    doc = upload(live, "Minutes.odt", odt_with("Agreed: ship on Friday"))
    live.set_level(doc["id"], "bob", "edit")
    config = config_for(live, doc["id"], "bob")
    assert config["document"]["fileType"] == "odt" and config["editorConfig"]["mode"] == "edit"
    key, bob = config["document"]["key"], str(live.user_ids["bob"])

    assert emulator.open_session(config)["error"] == 0
    emulator.append(key, bob, "Added in the editor")
    converted_before = sum(d["purpose"] == "convert" for d in emulator.downloads())
    emulator.leave(key, bob)
    emulator.wait_idle(60)
    # The save came as docx and Docs converted it back: it fetched its own result to convert it.
    assert sum(d["purpose"] == "convert" for d in emulator.downloads()) == converted_before + 1

    [final] = [c for c in emulator.callbacks(key=key, status=2) if c["ok"]]
    file = live.file(doc["id"])
    assert file.version == 2 and file.title == "Minutes.odt"
    stored = live.head_bytes(doc["id"])
    assert stored.startswith(b"PK") and b"application/vnd.oasis.opendocument.text" in stored[:100]
    text = odt_text(stored)
    assert "Agreed: ship on Friday" in text and "Added in the editor" in text
