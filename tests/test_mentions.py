"""@mentions from the editor: who can be mentioned, who is told, and access offered, not given."""

import pytest

from tests.test_editor_page import page_config


@pytest.fixture
def doc(world):
    return world.create_document("alice", "Plan")


def test_mention_list_holds_readers_only_filtered_and_paged(world, doc):
    world.client().post(
        f"/api/v1/spaces/{world.space_id}/members", json={"username": "carol"}, headers=world.api("alice")
    )
    world.set_level(doc["id"], "carol", "none")
    alice = world.client("alice")
    everyone = alice.get(f"/files/{doc['id']}/mention-users?c=mention").get_json()
    assert everyone["c"] == "mention" and everyone["total"] == 1  # bob; not carol (no access), not alice herself
    assert everyone["users"] == [{"email": "bob@users.coedit", "id": str(world.user_ids["bob"]), "name": "Bob Baker"}]
    assert alice.get(f"/files/{doc['id']}/mention-users?search=zzz").get_json()["users"] == []
    assert alice.get(f"/files/{doc['id']}/mention-users?search=BAK").get_json()["total"] == 1
    assert alice.get(f"/files/{doc['id']}/mention-users?from=1&count=1").get_json()["users"] == []
    assert world.client("carol").get(f"/files/{doc['id']}/mention-users").status_code == 404


def test_mentioned_readers_are_notified_with_a_link_to_the_comment(world, doc):
    action = {"action": {"type": "comment", "data": "c-42"}}
    answer = (
        world.client("alice")
        .post(
            f"/files/{doc['id']}/mentions",
            json={"emails": ["bob@users.coedit"], "message": "@Bob please check", "actionLink": action},
        )
        .get_json()
    )
    assert answer["notified"] == ["Bob Baker"] and answer["no_access"] == []
    note = world.client().get("/api/v1/notifications", headers=world.api("bob")).get_json()["notifications"][0]
    assert note["kind"] == "mention" and "Alice Archer mentioned you in Plan.docx" in note["text"]
    assert note["link"].startswith(f"/files/{doc['id']}/open?action=")
    # Opening that link puts the anchor into the editor config.
    config = page_config(world.client("bob").get(note["link"]).get_data(as_text=True))
    assert config["editorConfig"]["actionLink"] == action


def test_a_mention_with_a_long_anchor_links_to_it(world, doc):
    """Its link grows past a thousand characters (each "é" is percent-encoded to eight), and is
    stored whole on every engine."""
    action = {"action": {"type": "comment", "data": "é" * 300}}
    answer = world.client("alice").post(
        f"/files/{doc['id']}/mentions",
        json={"emails": ["bob@users.coedit"], "message": "@Bob long thread", "actionLink": action},
    )
    assert answer.status_code == 200 and answer.get_json()["notified"] == ["Bob Baker"]
    note = world.client().get("/api/v1/notifications", headers=world.api("bob")).get_json()["notifications"][0]
    assert note["link"].startswith(f"/files/{doc['id']}/open?action=") and len(note["link"]) > 1000
    config = page_config(world.client("bob").get(note["link"]).get_data(as_text=True))
    assert config["editorConfig"]["actionLink"] == action


def test_someone_who_cannot_read_is_offered_not_granted(world, doc):
    world.client().post(
        f"/api/v1/spaces/{world.space_id}/members", json={"username": "carol"}, headers=world.api("alice")
    )
    world.set_level(doc["id"], "carol", "none")
    answer = (
        world.client("alice")
        .post(f"/files/{doc['id']}/mentions", json={"emails": ["carol@users.coedit"], "message": "hi"})
        .get_json()
    )
    assert answer["notified"] == [] and answer["no_access"] == [{"username": "carol", "name": "Carol Cook"}]
    assert answer["can_grant"] is True
    assert world.client().get("/api/v1/notifications", headers=world.api("carol")).get_json()["unread"] == 0
    assert world.client().get(f"/api/v1/files/{doc['id']}", headers=world.api("carol")).status_code == 404
    # Only when the mentioner confirms, and only if they manage the file.
    assert world.client("bob").post(f"/files/{doc['id']}/grant-read", json={"usernames": ["carol"]}).status_code == 403
    granted = world.client("alice").post(f"/files/{doc['id']}/grant-read", json={"usernames": ["carol"]}).get_json()
    assert granted == {"granted": ["carol"]}
    assert world.client().get(f"/api/v1/files/{doc['id']}", headers=world.api("carol")).status_code == 200


def test_malformed_action_links_are_ignored(world, doc):
    for raw in ("not json", '{"action": {"type": "script"}}', "[1]", "x" * 3000):
        page = (
            world.client("alice").get(f"/files/{doc['id']}/open", query_string={"action": raw}).get_data(as_text=True)
        )
        assert "actionLink" not in page
