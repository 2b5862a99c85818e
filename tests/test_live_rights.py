"""Rights are live: a config held in a browser grants nothing its holder has lost since.

Someone downgraded (or whose share link is revoked) is dropped from the open session, dropped
again if they rejoin with the config they still hold, and a save naming only people who may no
longer change the file is kept beside the head as a conflict copy, never made the head.
"""

import pytest

from docs_emulator.testing import EmulatorError
from docs_emulator.testing import start_emulator
from tests.helpers import SECRET
from tests.helpers import docx_text
from tests.helpers import docx_with
from tests.helpers import wait_for
from tests.test_callbacks import save_body
from tests.test_callbacks import send


@pytest.fixture(scope="module")
def emulator():
    with start_emulator(jwt_secret=SECRET, save_delay=0.2, retry_base=0.05) as emu:
        yield emu


@pytest.fixture
def live(make_world, emulator):
    emulator.clear_faults()
    return make_world(DOCS_URL=emulator.url)


def config_for(world, file_id, user):
    response = world.client().get(f"/api/v1/files/{file_id}/editor-config?mode=edit", headers=world.api(user))
    assert response.status_code == 200
    return response.get_json()


def test_a_downgraded_editor_who_rejoins_with_the_old_config_authors_no_head(live, emulator):
    doc = live.create_document("alice", "Budget notes")
    live.set_level(doc["id"], "bob", "edit")
    alice_config, bob_config = config_for(live, doc["id"], "alice"), config_for(live, doc["id"], "bob")
    key = alice_config["document"]["key"]
    alice, bob = str(live.user_ids["alice"]), str(live.user_ids["bob"])
    assert emulator.open_session(alice_config)["error"] == 0
    assert emulator.open_session(bob_config)["error"] == 0
    emulator.append(key, bob, "bob before the downgrade")

    changed = live.client().put(
        f"/api/v1/files/{doc['id']}/rights", json={"users": {"bob": "read"}}, headers=live.api("alice")
    )
    assert changed.status_code == 200
    wait_for(lambda: bob not in emulator.session(key)["users"])  # dropped at once

    # The config bob still holds is signed and unexpired: Docs lets him in, and Coedit drops him again.
    assert emulator.open_session(bob_config)["error"] == 0
    wait_for(lambda: bob not in emulator.session(key)["users"])
    with pytest.raises(EmulatorError):
        emulator.append(key, bob, "bob after the downgrade")

    emulator.append(key, alice, "alice carries on")
    emulator.leave(key, alice)
    emulator.wait_idle()

    file = live.file(doc["id"])
    versions = live.versions(doc["id"])
    head = next(v for v in versions if v.number == file.version)
    assert head.author_id == live.user_ids["alice"]
    assert all(v.is_conflict for v in versions if v.author_id == live.user_ids["bob"])
    text = docx_text(live.head_bytes(doc["id"]))
    assert "alice carries on" in text and "bob after the downgrade" not in text


def test_a_save_whose_only_author_lost_the_right_becomes_a_conflict_copy(world, fake_docs):
    from app.extensions import db
    from app.models import Notification

    doc = world.create_document("alice", "Roadmap")
    world.set_level(doc["id"], "bob", "edit")
    config = world.client().get(f"/api/v1/files/{doc['id']}/editor-config", headers=world.api("bob")).get_json()
    key = config["document"]["key"]
    before = world.head_bytes(doc["id"])
    world.set_level(doc["id"], "bob", "read")

    body = save_body(world, fake_docs, {"id": doc["id"], "key": key}, user="bob")
    assert send(config["editorConfig"]["callbackUrl"], body).json() == {"error": 0}

    file = world.file(doc["id"])
    assert file.version == 1 and world.head_bytes(doc["id"]) == before  # the head stays
    copy = world.versions(doc["id"])[-1]
    assert copy.number == 2 and copy.is_conflict and copy.author_id == world.user_ids["bob"]
    assert file.doc_key != key  # the session is over; the next opener gets a fresh key
    told = world.query(
        lambda: db.session.scalars(
            db.select(Notification.text).where(
                Notification.user_id == world.user_ids["alice"], Notification.kind == "conflict"
            )
        ).all()
    )
    assert told and "may no longer change it" in told[0]
    # A replay changes nothing; a save by someone who still edits becomes the head as usual.
    assert send(config["editorConfig"]["callbackUrl"], body).json() == {"error": 0}
    assert len(world.versions(doc["id"])) == 2


def test_a_guest_whose_link_was_revoked_authors_no_head(world, fake_docs):
    doc = world.create_document("alice", "Guest book")
    link = (
        world.client()
        .post(f"/api/v1/files/{doc['id']}/links", json={"mode": "edit"}, headers=world.api("alice"))
        .get_json()
    )
    guest = world.app.test_client()
    path = "/s/" + link["url"].rsplit("/s/", 1)[1]
    assert guest.post(path, data={"name": "Gus"}).status_code == 302
    from tests.test_editor_page import page_config

    config = page_config(guest.get(path + "/open").get_data(as_text=True))
    guest_id = config["editorConfig"]["user"]["id"]
    assert (
        world.client().delete(f"/api/v1/files/{doc['id']}/links/{link['id']}", headers=world.api("alice")).status_code
        == 204
    )
    body = save_body(
        world, fake_docs, {"id": doc["id"], "key": config["document"]["key"]}, user="alice", users=[guest_id]
    )
    body["users"] = [guest_id]
    assert send(config["editorConfig"]["callbackUrl"], body).json() == {"error": 0}
    assert world.file(doc["id"]).version == 1
    assert world.versions(doc["id"])[-1].is_conflict


def test_a_final_save_after_a_force_save_we_could_not_store_is_stored(world, fake_docs):
    """Docs does not retry a force-save; its final save then says "not modified" - but we never got it."""
    doc = world.create_document("alice", "Lost force-save")
    config = world.client().get(f"/api/v1/files/{doc['id']}/editor-config", headers=world.api("alice")).get_json()
    target = {"id": doc["id"], "key": config["document"]["key"]}
    callback = config["editorConfig"]["callbackUrl"]
    fake_docs.put("forced.docx", b"", status=500)  # the force-save's file cannot be fetched: 503
    forced = save_body(world, fake_docs, target, status=6, name="forced.docx", user="alice", forcesavetype=1)
    assert send(callback, forced).status_code == 503
    final = save_body(
        world, fake_docs, target, user="alice", notmodified=True, content=docx_with("kept by the final save")
    )
    assert send(callback, final).json() == {"error": 0}
    assert world.file(doc["id"]).version == 2
    assert docx_text(world.head_bytes(doc["id"])) == ["kept by the final save"]
