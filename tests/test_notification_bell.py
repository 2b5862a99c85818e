"""The bell's dropdown, @mentions in posts and threads, files no longer open, and e-mail."""

import socket
import time

import pytest
from aiosmtpd.controller import Controller

from tests.helpers import wait_for


def add_carol(world):
    answer = world.client().post(
        f"/api/v1/spaces/{world.space_id}/members", json={"username": "carol"}, headers=world.api("alice")
    )
    assert answer.status_code in (200, 201)


def notes(world, who: str, **query) -> dict:
    return world.client().get("/api/v1/notifications", query_string=query, headers=world.api(who)).get_json()


def test_the_dropdown_lists_the_latest_eight_with_the_unread_marked(world):
    for n in range(10):
        world.client("alice").post(f"/spaces/{world.space_id}/posts", data={"body": f"note {n} for @bob"})
    first = notes(world, "bob")["notifications"][-1]["id"]
    world.client("bob").post("/notifications/read", data={"id": first})
    html = world.client("bob").get("/").get_data(as_text=True)
    dropdown = html[html.index('id="bell-dropdown"') : html.index('id="bell-see-all"')]
    assert dropdown.count('class="px-3 py-2 border-bottom bell-item') == 8
    assert dropdown.count("bell-item unread") == 8  # the read one is the oldest, not among the latest 8
    assert "note 9 for @bob" in dropdown and "note 1 for @bob" not in dropdown
    assert 'id="bell-mark-all"' in dropdown and 'href="/notifications"' in html
    latest = notes(world, "bob", limit=8)
    assert len(latest["notifications"]) == 8 and latest["unread"] == 9
    world.client("bob").post("/notifications/read", data={})
    assert notes(world, "bob")["unread"] == 0
    assert "bell-item unread" not in world.client("bob").get("/").get_data(as_text=True)


def test_mentions_in_the_stream_notify_members_only(world):
    world.client("alice").post(f"/spaces/{world.space_id}/posts", data={"body": "@bob and @carol and @nobody, look"})
    bob = notes(world, "bob")["notifications"]
    assert len(bob) == 1 and bob[0]["kind"] == "mention" and "Alice Archer mentioned you in Team" in bob[0]["text"]
    assert bob[0]["link"].startswith(f"/spaces/{world.space_id}#post-")
    assert notes(world, "carol")["notifications"] == []  # not a member: never told
    world.client("bob").post(f"/spaces/{world.space_id}/posts", data={"body": "thanks @Bob @alice"})
    alice = notes(world, "alice")["notifications"]
    assert len(alice) == 1 and len(notes(world, "bob")["notifications"]) == 1  # nobody is told of their own mention


def test_mentions_in_a_thread_notify_only_those_who_may_read_the_file(world):
    add_carol(world)
    doc = world.create_document("alice", "Plan")
    world.set_level(doc["id"], "carol", "none")
    answer = world.client("alice").post(f"/files/{doc['id']}/thread", data={"body": "@bob @carol see this"})
    assert answer.status_code == 302
    bob = notes(world, "bob")["notifications"]
    assert [n["file"] for n in bob] == [doc["id"]] and bob[0]["link"].startswith(f"/files/{doc['id']}/thread#post-")
    assert all(n["kind"] != "mention" for n in notes(world, "carol")["notifications"])


def test_a_notification_about_a_file_no_longer_open_says_so(world):
    doc = world.create_document("alice", "Plan")
    world.client("alice").post(f"/files/{doc['id']}/thread", data={"body": "@bob look"})
    assert notes(world, "bob")["notifications"][0]["accessible"] is True
    world.set_level(doc["id"], "bob", "none")
    note = notes(world, "bob")["notifications"][0]
    assert note["accessible"] is False and note["link"] == ""
    for page in ("/", "/notifications"):
        html = world.client("bob").get(page).get_data(as_text=True)
        assert "You no longer have access to this file." in html
        assert f"/files/{doc['id']}/thread" not in html


def give_bob_an_address(world):
    def give():
        from app.extensions import db
        from app.models import User

        db.session.get(User, world.user_ids["bob"]).email = "bob@example.org"
        db.session.commit()

    world.query(give)


class Sink:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_sink():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()


def test_mail_goes_to_people_with_an_address_when_smtp_is_set(make_world, fake_docs, smtp_sink):
    sink, port = smtp_sink
    world = make_world(DOCS_URL=fake_docs.url, SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_TLS="none")
    give_bob_an_address(world)
    world.client("alice").post(f"/spaces/{world.space_id}/posts", data={"body": "@bob lunch?"})
    wait_for(lambda: sink.messages, what="the mail")
    envelope = sink.messages[0]
    assert envelope.rcpt_tos == ["bob@example.org"]
    body = envelope.content.decode()
    assert "Alice Archer mentioned you in Team" in body and f"/spaces/{world.space_id}#post-" in body
    world.client("bob").post(f"/spaces/{world.space_id}/posts", data={"body": "@alice yes"})  # alice has no address
    time.sleep(0.5)
    assert len(sink.messages) == 1


def test_no_mail_without_smtp_host(world, smtp_sink):
    sink, _ = smtp_sink
    give_bob_an_address(world)
    world.client("alice").post(f"/spaces/{world.space_id}/posts", data={"body": "@bob lunch?"})
    assert notes(world, "bob")["unread"] == 1
    time.sleep(0.5)
    assert sink.messages == []
