"""Outgoing webhooks: each event reaches a local receiver once, in both formats; signatures,
retries, redirects, refused addresses, rollbacks and who may manage the hooks.

The receiver listens on 127.0.0.1 (allowed here through the admin's allow-list and "allow http");
refused addresses are refused before any connection: a guard on urllib3's connect fails the test
for anything outside 127.0.0.0/8.
"""

import hashlib
import hmac
import io
import ipaddress
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

import pytest
import sqlalchemy as sa
import urllib3.util.connection

from app import jobs
from app import transaction
from app.extensions import db
from app.models import File
from app.models import Webhook
from app.models import WebhookDelivery
from app.services import outbound
from app.services import settings
from app.services import webhooks
from tests.helpers import docx_with
from tests.helpers import wait_for

PUBLIC = "https://coedit.example.test"
ALL_EVENTS = list(webhooks.EVENTS)


class Receiver:
    """A tiny HTTP server on 127.0.0.1 that records each request and answers as told."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: list[int] = []  # answered in order; then 200
        self.location = ""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", receiver.location or f"{receiver.url}/elsewhere")
                answer = f"answer {status} " + "x" * 500
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer.encode())

            def do_GET(self):  # noqa: N802
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": b""})
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def bodies(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.requests]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def only_loopback(monkeypatch):
    """Fail any connection outside 127.0.0.0/8: refused addresses must never be connected to."""
    real = urllib3.util.connection.create_connection
    tried = []

    def guarded(address, *args, **kwargs):
        tried.append(address[0])
        assert ipaddress.ip_address(address[0]) in ipaddress.ip_network("127.0.0.0/8"), address
        return real(address, *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", guarded)
    return tried


@pytest.fixture
def hooked(make_world, fake_docs):
    """A world whose admin allows http and 127.0.0.1 for webhooks; retries a few ms apart."""
    world = make_world(DOCS_URL=fake_docs.url, PUBLIC_URL=PUBLIC, WEBHOOK_RETRY_SECONDS=0.01, WEBHOOK_ATTEMPTS=3)
    admin_settings(world, allow_http=True, hosts="127.0.0.1")
    return world


def admin_settings(world, allow_http: bool, hosts: str) -> None:
    def save():
        settings.save({"webhooks_allow_http": allow_http, "webhook_allowed_hosts": hosts})
        transaction.commit()

    world.query(save)


def add_hook(world, url, fmt="slack", events=None, **extra) -> tuple[int, str | None]:
    """A hook made as the space's owner would (the URL is checked the same way)."""
    from app.models import Space
    from app.models import User

    def make():
        space = db.session.get(Space, world.space_id)
        alice = db.session.get(User, world.user_ids["alice"])
        hook, secret = webhooks.create(
            space, alice, name="Chat", url=url, format=fmt, events=events or ALL_EVENTS, **extra
        )
        transaction.commit()
        return hook.id, secret

    return world.query(make)


def deliveries(world, hook_id=None) -> list[WebhookDelivery]:
    def read():
        query = sa.select(WebhookDelivery).order_by(WebhookDelivery.id)
        if hook_id is not None:
            query = query.where(WebhookDelivery.hook_id == hook_id)
        rows = list(db.session.scalars(query))
        for row in rows:
            db.session.expunge(row)
        return rows

    return world.query(read)


def settled(world) -> bool:
    return all(d.status != "pending" for d in deliveries(world))


def act_on_every_event(world) -> dict:
    """Cause each event once, as people do it; returns the document's id."""
    alice, bob = world.client("alice"), world.client("bob")
    doc = world.create_document("alice", "Plan")  # document.created
    file_id = doc["id"]
    upload = world.client().post(
        f"/api/v1/files/{file_id}/versions",
        data={"file": (io.BytesIO(docx_with("v2")), "Plan.docx")},
        headers=world.api("alice"),
    )
    assert upload.status_code == 201, upload.data  # document.updated, version 2
    assert alice.post(f"/files/{file_id}/rename", data={"title": "Plan B"}).status_code == 302
    assert alice.post(f"/files/{file_id}/links", data={"mode": "view"}).status_code == 302
    rights = world.client().put(
        f"/api/v1/files/{file_id}/rights", json={"default": "comment"}, headers=world.api("alice")
    )
    assert rights.status_code == 200
    assert bob.post(f"/files/{file_id}/thread", data={"body": "Looks good @alice"}).status_code == 302
    assert alice.post(f"/files/{file_id}/trash").status_code == 302
    return file_id


EXPECTED = [
    "document.created",
    "document.updated",
    "document.renamed",
    "document.shared",
    "document.rights_changed",
    "document.commented",
    "mention",
    "document.deleted",
]


def test_each_event_reaches_a_slack_hook_once_with_a_link(hooked, receiver):
    hook_id, secret = add_hook(hooked, receiver.url + "/hooks/abc", username="Coedit bot", icon_url=PUBLIC + "/i.png")
    assert secret is None  # the Slack format is not signed
    file_id = act_on_every_event(hooked)
    wait_for(lambda: len(receiver.requests) >= len(EXPECTED) and settled(hooked), 5, "the deliveries")
    assert len(receiver.requests) == len(EXPECTED)
    log = deliveries(hooked, hook_id)
    assert sorted(d.event for d in log) == sorted(EXPECTED)
    assert all(d.status == "delivered" and d.http_status == 200 and d.attempts == 1 for d in log)
    assert log[0].response_excerpt.startswith("answer 200 ") and len(log[0].response_excerpt) == 200
    link = f"{PUBLIC}/files/{file_id}"
    by_text = {}
    for request in receiver.requests:
        assert request["path"] == "/hooks/abc"
        assert request["headers"]["Content-Type"] == "application/json"
        assert "X-Coedit-Signature" not in request["headers"]
        body = json.loads(request["body"])
        assert set(body) == {"text", "username", "icon_url", "attachments"}
        assert body["username"] == "Coedit bot" and body["icon_url"] == PUBLIC + "/i.png"
        assert f"]({link})" in body["text"], body["text"]
        attachment = body["attachments"][0]
        assert attachment["title_link"] == link and attachment["fallback"] == body["text"]
        assert {"title": "Space", "value": "Team", "short": True} in attachment["fields"]
        by_text[body["text"]] = body
    texts = " | ".join(by_text)
    for expected in (
        f"Alice Archer created [Plan.docx]({link})",
        f"Alice Archer stored version 2 of [Plan.docx]({link})",
        f"Alice Archer renamed “Plan.docx” to [Plan B.docx]({link})",
        f"Alice Archer made a share link to [Plan B.docx]({link})",
        f"Alice Archer changed who may do what with [Plan B.docx]({link})",
        f"Bob Baker commented on [Plan B.docx]({link})",
        f"Bob Baker mentioned @alice in [Plan B.docx]({link})",
        f"Alice Archer moved [Plan B.docx]({link}) to the trash",
    ):
        assert expected in texts, texts
    # Never a share link's secret, a download URL or the comment's words.
    raw = b" ".join(r["body"] for r in receiver.requests).decode()
    assert "/s/" not in raw and "/download" not in raw and "/content" not in raw and "Looks good" not in raw


def verify(secret: str, headers: dict, body: bytes, now: float, max_age: int = 300) -> bool:
    """What a receiver does: check the signature over "<timestamp>.<body>" and refuse old ones."""
    timestamp = headers["X-Coedit-Timestamp"]
    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["X-Coedit-Signature"]) and abs(now - int(timestamp)) <= max_age


def test_each_event_reaches_a_generic_hook_signed(hooked, receiver):
    hook_id, secret = add_hook(hooked, receiver.url + "/generic", fmt="generic")
    assert secret and len(secret) >= 40
    file_id = act_on_every_event(hooked)
    wait_for(lambda: len(receiver.requests) >= len(EXPECTED) and settled(hooked), 5, "the deliveries")
    assert len(receiver.requests) == len(EXPECTED)
    now = time.time()
    seen_ids = set()
    events = {}
    for request in receiver.requests:
        headers, body = request["headers"], request["body"]
        assert verify(secret, headers, body, now)
        assert not verify(secret, headers, body.replace(b"Plan", b"Plam"), now)  # a changed body
        assert not verify(secret, headers, body, now + 3600)  # a replay an hour later
        assert not verify(secret, {**headers, "X-Coedit-Timestamp": str(int(now) + 1)}, body, now)
        payload = json.loads(body)
        assert headers["X-Coedit-Event"] == payload["event"] and headers["X-Coedit-Delivery"] == payload["id"]
        seen_ids.add(payload["id"])
        assert payload["space"] == {"id": hooked.space_id, "name": "Team"}
        assert payload["file"]["id"] == file_id and payload["file"]["url"] == f"{PUBLIC}/files/{file_id}"
        assert set(payload) <= {
            "event",
            "id",
            "timestamp",
            "actor",
            "space",
            "file",
            "version",
            "old_title",
            "mentioned",
        }
        events[payload["event"]] = payload
    assert len(seen_ids) == len(EXPECTED) and sorted(events) == sorted(EXPECTED)
    assert events["document.updated"]["version"] == 2
    assert events["document.created"]["actor"] == {
        "id": hooked.user_ids["alice"],
        "username": "alice",
        "display_name": "Alice Archer",
    }
    assert events["document.renamed"]["old_title"] == "Plan.docx"
    assert events["document.renamed"]["file"]["title"] == "Plan B.docx"
    assert events["mention"]["mentioned"] == ["alice"] and events["mention"]["actor"]["username"] == "bob"
    assert "version" not in events["document.created"]
    assert "secret" not in " ".join(r["body"].decode() for r in receiver.requests)


def test_only_chosen_events_and_enabled_hooks_are_told(hooked, receiver):
    add_hook(hooked, receiver.url + "/created", events=["document.created"])
    off_id, _ = add_hook(hooked, receiver.url + "/off", events=["document.created", "document.renamed"])
    alice = hooked.client("alice")
    assert alice.post(f"/spaces/{hooked.space_id}/webhooks/{off_id}/enabled", data={"enabled": "0"}).status_code == 302
    doc = hooked.create_document("alice", "One")
    alice.post(f"/files/{doc['id']}/rename", data={"title": "Two"})
    hooked.create_document("alice", "Three")
    wait_for(lambda: len(receiver.requests) >= 2 and settled(hooked), 5, "the deliveries")
    assert [r["path"] for r in receiver.requests] == ["/created", "/created"]


def test_a_file_hidden_from_some_members_is_not_announced(hooked, receiver):
    add_hook(hooked, receiver.url, events=["document.renamed", "document.created"])
    doc = hooked.create_document("alice", "Secret plan")
    wait_for(lambda: len(receiver.requests) == 1, 5, "the created event")
    hooked.set_level(doc["id"], "bob", "none")
    hooked.client("alice").post(f"/files/{doc['id']}/rename", data={"title": "Still secret"})
    hooked.create_document("alice", "Public")  # a sentinel: delivered after anything the rename caused
    wait_for(lambda: len(receiver.requests) == 2 and settled(hooked), 5, "the sentinel")
    assert "Still secret" not in b"".join(r["body"] for r in receiver.requests).decode()


def test_a_rolled_back_action_sends_nothing(hooked, receiver):
    from app.services import files as file_service

    add_hook(hooked, receiver.url, events=["document.renamed", "document.created"])
    doc = hooked.create_document("alice", "Kept")
    wait_for(lambda: len(receiver.requests) == 1, 5, "the created event")

    with hooked.app.test_request_context():
        file = db.session.get(File, doc["id"])
        file_service.rename(file, "Never")  # stages the rename and its audit entry
        db.session.rollback()
        transaction.commit()
    hooked.create_document("alice", "Sentinel")
    wait_for(lambda: len(receiver.requests) == 2 and settled(hooked), 5, "the sentinel")
    assert [d.event for d in deliveries(hooked)] == ["document.created", "document.created"]
    assert "Never" not in b"".join(r["body"] for r in receiver.requests).decode()


def test_a_failing_receiver_gets_retries_then_a_failure_entry(hooked, receiver):
    hook_id, _ = add_hook(hooked, receiver.url, events=["document.created"])
    receiver.statuses = [500, 500, 500, 500]
    hooked.create_document("alice", "Retry me")
    wait_for(lambda: settled(hooked) and deliveries(hooked), 5, "the failure")
    (delivery,) = deliveries(hooked, hook_id)
    assert len(receiver.requests) == 3  # WEBHOOK_ATTEMPTS
    assert len({r["body"] for r in receiver.requests}) == 1  # every attempt sends the same body
    assert delivery.status == "failed" and delivery.attempts == 3 and delivery.http_status == 500
    assert "500" in delivery.error and delivery.response_excerpt.startswith("answer 500")
    page = hooked.client("alice").get(f"/spaces/{hooked.space_id}/settings").get_data(as_text=True)
    assert 'data-status="failed"' in page and "answer 500" in page


def test_a_receiver_that_recovers_gets_the_delivery(hooked, receiver):
    add_hook(hooked, receiver.url, events=["document.created"])
    receiver.statuses = [503]
    hooked.create_document("alice", "Second time")
    wait_for(lambda: len(receiver.requests) == 2 and settled(hooked), 5, "the retry")
    (delivery,) = deliveries(hooked)
    assert delivery.status == "delivered" and delivery.attempts == 2


def test_a_redirect_is_not_followed(hooked, receiver):
    add_hook(hooked, receiver.url + "/moved", events=["document.created"])
    receiver.statuses = [302]
    hooked.create_document("alice", "Redirected")
    wait_for(lambda: settled(hooked) and deliveries(hooked), 5, "the delivery")
    (delivery,) = deliveries(hooked)
    assert [r["path"] for r in receiver.requests] == ["/moved"]  # nothing asked of /elsewhere
    assert delivery.status == "failed" and delivery.http_status == 302 and delivery.attempts == 1


def test_a_delivered_delivery_is_never_sent_again(hooked, receiver):
    add_hook(hooked, receiver.url, events=["document.created"])
    hooked.create_document("alice", "Once")
    wait_for(lambda: settled(hooked) and len(receiver.requests) == 1, 5, "the delivery")
    (delivery,) = deliveries(hooked)
    hooked.query(lambda: jobs.deliver_webhook(delivery.id))  # the job runs a second time
    assert len(receiver.requests) == 1


REFUSED = [
    "https://127.0.0.1/hook",
    "https://10.1.2.3/hook",
    "https://169.254.169.254/latest/meta-data/",
    "https://[::1]/hook",
    "https://[::ffff:10.0.0.1]/hook",
    "https://[fe80::1]/hook",
    "https://[fd00:ec2::254]/hook",
    "https://100.100.100.200/hook",
    "https://0.0.0.0/hook",
    "https://224.0.0.1/hook",
    "https://localhost/hook",
]


def test_local_and_private_addresses_are_refused_at_save(make_world, only_loopback):
    world = make_world()
    for url in REFUSED:
        with pytest.raises(outbound.RefusedError):
            add_hook(world, url)
    assert world.query(lambda: db.session.scalar(sa.select(sa.func.count(Webhook.id)))) == 0
    assert only_loopback == []


def test_the_form_refuses_with_a_reason_and_saves_nothing(csrf_world):
    from tests.test_accounts_admin import login

    alice = login(csrf_world, "alice")
    url = f"/spaces/{csrf_world.space_id}/webhooks"
    page = alice.get(f"/spaces/{csrf_world.space_id}/settings").get_data(as_text=True)
    form = page[page.index('id="webhook-form"') :]
    assert 'name="csrf_token"' in form[: form.index("</form>")]
    data = {"csrf_token": alice.csrf, "name": "Meta", "format": "slack", "events": "document.created"}
    answer = alice.post(url, data={**data, "url": "https://169.254.169.254/x"})
    assert answer.status_code == 302
    shown = alice.get(answer.location).get_data(as_text=True)
    assert "Not saved" in shown and "an administrator must allow it first" in shown
    plain = alice.post(url, data={**data, "url": "http://chat.example.test/hooks/x"})
    assert "Only https addresses are allowed" in alice.get(plain.location).get_data(as_text=True)
    no_events = alice.post(url, data={**data, "events": [], "url": "https://127.0.0.2/"})
    assert "Events" in alice.get(no_events.location).get_data(as_text=True)
    no_csrf = alice.post(url, data={**data, "csrf_token": "", "url": "https://127.0.0.2/"})
    assert no_csrf.status_code in (302, 400)
    assert csrf_world.query(lambda: db.session.scalar(sa.select(sa.func.count(Webhook.id)))) == 0


def test_http_needs_the_admin_setting_and_private_hosts_the_allow_list(make_world, receiver):
    world = make_world()
    with pytest.raises(outbound.RefusedError, match="Only https"):
        add_hook(world, receiver.url)
    admin_settings(world, allow_http=True, hosts="")
    with pytest.raises(outbound.RefusedError, match="administrator must allow"):
        add_hook(world, receiver.url)
    admin_settings(world, allow_http=True, hosts="127.0.0.0/8")
    add_hook(world, receiver.url)


def test_a_hook_that_became_refused_is_refused_at_delivery_before_connecting(hooked, receiver, only_loopback):
    hook_id, _ = add_hook(hooked, receiver.url, events=["document.created"])

    def retarget():
        db.session.get(Webhook, hook_id).url = "https://169.254.169.254/latest/meta-data/"
        db.session.commit()

    hooked.query(retarget)
    hooked.create_document("alice", "Nowhere")
    wait_for(lambda: settled(hooked) and deliveries(hooked), 5, "the delivery")
    (delivery,) = deliveries(hooked)
    assert delivery.status == "failed" and "allow it first" in delivery.error and delivery.http_status is None
    assert receiver.requests == [] and only_loopback == []
    # And the admin removing 127.0.0.1 from the allow-list stops deliveries there too.
    admin_settings(hooked, allow_http=True, hosts="")
    with hooked.app.app_context():
        db.session.get(Webhook, hook_id).url = receiver.url
        db.session.commit()
    hooked.create_document("alice", "Not here either")
    wait_for(lambda: len(deliveries(hooked)) == 2 and settled(hooked), 5, "the second delivery")
    assert deliveries(hooked)[-1].status == "failed" and receiver.requests == [] and only_loopback == []


def test_a_name_is_checked_by_what_it_resolves_to_and_connected_to_that_address(hooked, receiver, monkeypatch):
    """A host resolving to a private address is refused; an allow-listed one is reached at the
    address checked, with its own name in the Host header (no second look-up to rebind)."""
    answers = {"intranet.test": "10.9.8.7", "receiver.test": "127.0.0.1"}
    lookups = []

    real = outbound.socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        return [(2, 1, 6, "", (answers[host], port))]

    monkeypatch.setattr(outbound.socket, "getaddrinfo", resolve)
    port = receiver.server.server_port
    with pytest.raises(outbound.RefusedError):
        add_hook(hooked, "https://intranet.test/hook")
    admin_settings(hooked, allow_http=True, hosts="receiver.test")
    hook_id, _ = add_hook(hooked, f"http://receiver.test:{port}/named", events=["document.created"])
    lookups.clear()
    hooked.create_document("alice", "By name")
    wait_for(lambda: settled(hooked) and deliveries(hooked), 5, "the delivery")
    assert deliveries(hooked, hook_id)[0].status == "delivered"
    assert receiver.requests[0]["headers"]["Host"] == f"receiver.test:{port}"
    assert lookups == ["receiver.test"]  # one look-up: the connection went to the address checked


@pytest.mark.parametrize(
    "address,public",
    [
        ("8.8.8.8", True),
        ("2606:4700::1111", True),
        ("::ffff:8.8.8.8", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("255.255.255.255", False),
        ("240.0.0.1", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:169.254.169.254", False),
        ("64:ff9b::a00:1", False),
        ("2002:a00:1::", False),
    ],
)
def test_public_addresses(address, public):
    assert outbound.is_public(ipaddress.ip_address(address)) is public


def test_send_test_delivers_through_the_same_path_and_the_log_shows_it(hooked, receiver):
    hook_id, secret = add_hook(hooked, receiver.url + "/t", fmt="generic")
    alice = hooked.client("alice")
    assert alice.post(f"/spaces/{hooked.space_id}/webhooks/{hook_id}/test").status_code == 302
    wait_for(lambda: len(receiver.requests) == 1 and settled(hooked), 5, "the test delivery")
    request = receiver.requests[0]
    assert request["headers"]["X-Coedit-Event"] == "test"
    assert verify(secret, request["headers"], request["body"], time.time())
    page = alice.get(f"/spaces/{hooked.space_id}/settings").get_data(as_text=True)
    assert 'data-status="delivered"' in page and "answer 200" in page
    assert secret not in page  # shown once, at creation only


def test_owners_add_turn_off_and_delete_hooks_through_the_page(hooked, receiver):
    alice = hooked.client("alice")
    answer = alice.post(
        f"/spaces/{hooked.space_id}/webhooks",
        data={
            "name": "Ops",
            "url": receiver.url + "/ops",
            "format": "generic",
            "events": ["document.created", "mention"],
        },
    )
    assert answer.status_code == 302
    page = alice.get(answer.location).get_data(as_text=True)
    (hook,) = hooked.query(lambda: [(h.id, h.secret, h.events) for h in db.session.scalars(sa.select(Webhook))])
    hook_id, secret, events = hook
    assert events == "document.created mention"
    assert secret in page and "shown only this once" in page
    assert secret not in alice.get(f"/spaces/{hooked.space_id}/settings").get_data(as_text=True)
    assert alice.post(f"/spaces/{hooked.space_id}/webhooks/{hook_id}/enabled", data={"enabled": "0"}).status_code == 302
    assert hooked.query(lambda: db.session.get(Webhook, hook_id).enabled) is False
    assert alice.post(f"/spaces/{hooked.space_id}/webhooks/{hook_id}/delete").status_code == 302
    assert hooked.query(lambda: db.session.get(Webhook, hook_id)) is None
    actions = hooked.query(
        lambda: list(
            db.session.scalars(sa.text("select action from audit_event where object_type = 'webhook' order by id"))
        )
    )
    assert actions == ["space.webhook_created", "space.webhook_disabled", "space.webhook_deleted"]
    details = hooked.query(
        lambda: db.session.scalar(
            sa.text("select details_json from audit_event where action = 'space.webhook_created'")
        )
    )
    assert secret not in details and "/ops" not in details


def test_members_and_outsiders_cannot_see_or_manage_hooks(hooked, receiver):
    hook_id, _ = add_hook(hooked, receiver.url + "/private-path")
    base = f"/spaces/{hooked.space_id}"
    for person, status in (("bob", 403), ("carol", 404)):
        client = hooked.client(person)
        page = client.get(f"{base}/settings")
        assert page.status_code == status
        assert "private-path" not in page.get_data(as_text=True)
        assert (
            client.post(
                f"{base}/webhooks", data={"name": "x", "url": receiver.url, "format": "slack", "events": "mention"}
            ).status_code
            == status
        )
        for action in ("enabled", "delete", "test"):
            assert client.post(f"{base}/webhooks/{hook_id}/{action}", data={"enabled": "0"}).status_code == status
    assert hooked.query(lambda: db.session.scalar(sa.select(sa.func.count(Webhook.id)))) == 1
    assert hooked.query(lambda: db.session.get(Webhook, hook_id).enabled) is True
    assert deliveries(hooked) == []
    # A hook of another space is not found through this one.
    from app.models import Membership
    from app.models import Space

    def other_space():
        space = Space(name="Other")
        db.session.add(space)
        db.session.add(Membership(space=space, user_id=hooked.user_ids["alice"], role="owner"))
        db.session.commit()
        return space.id

    other_id = hooked.query(other_space)
    alice = hooked.client("alice")
    assert alice.post(f"/spaces/{other_id}/webhooks/{hook_id}/delete").status_code == 404


def test_the_log_keeps_the_latest_deliveries(hooked, receiver, monkeypatch):
    monkeypatch.setattr(webhooks, "KEEP_DELIVERIES", 3)
    hook_id, _ = add_hook(hooked, receiver.url, events=["document.created"])
    for n in range(5):
        hooked.create_document("alice", f"Doc {n}")
        wait_for(lambda n=n: len(receiver.requests) == n + 1 and settled(hooked), 5, "the delivery")
    assert len(deliveries(hooked, hook_id)) == 3


def test_send_test_is_rate_limited(make_world, fake_docs, receiver):
    world = make_world(DOCS_URL=fake_docs.url, RATELIMIT_WEBHOOK_TEST="2 per minute")
    admin_settings(world, allow_http=True, hosts="127.0.0.1")
    hook_id, _ = add_hook(world, receiver.url)
    alice = world.client("alice")
    answers = [alice.post(f"/spaces/{world.space_id}/webhooks/{hook_id}/test").status_code for _ in range(3)]
    assert answers == [302, 302, 429]
    wait_for(lambda: len(receiver.requests) == 2 and settled(world), 5, "the two tests")


def test_with_a_broker_a_retry_is_a_job_of_its_own_scheduled_later(hooked, receiver, monkeypatch):
    from app import jobs
    from app.models import User

    hook_id, _ = add_hook(hooked, receiver.url, events=["document.created"])
    receiver.statuses = [500]
    published = []

    def send_task(name, args, countdown=None, **_):
        published.append((name, tuple(args), countdown))

    monkeypatch.setattr(jobs, "broker_url", lambda config: "redis://127.0.0.1:9/0")
    monkeypatch.setattr(hooked.app.extensions["celery"], "send_task", send_task)
    with hooked.app.test_request_context():
        delivery_id = webhooks.send_test(
            db.session.get(Webhook, hook_id), db.session.get(User, hooked.user_ids["alice"])
        ).id
        transaction.commit()
        assert published == [("coedit.deliver_webhook", (delivery_id,), None)]
        jobs.deliver_webhook(delivery_id)  # a worker runs it: 500
        assert len(receiver.requests) == 1
        assert published[-1] == ("coedit.deliver_webhook", (delivery_id,), pytest.approx(0.01))
        jobs.deliver_webhook(delivery_id)  # the retry: 200
        jobs.deliver_webhook(delivery_id)  # delivered twice by the broker: not sent again
    assert len(receiver.requests) == 2 and len(published) == 2
    (delivery,) = deliveries(hooked)
    assert delivery.status == "delivered" and delivery.attempts == 2


def test_a_mention_in_the_stream_links_to_the_space(hooked, receiver):
    add_hook(hooked, receiver.url, events=["mention"])
    assert (
        hooked.client("bob").post(f"/spaces/{hooked.space_id}/posts", data={"body": "@alice lunch?"}).status_code == 302
    )
    assert (
        hooked.client("bob").post(f"/spaces/{hooked.space_id}/posts", data={"body": "nobody named"}).status_code == 302
    )
    hooked.create_document("alice", "Sentinel")  # not chosen: nothing
    wait_for(lambda: len(receiver.requests) == 1 and settled(hooked), 5, "the mention")
    body = receiver.bodies()[0]
    assert body["text"] == f"Bob Baker mentioned @alice in [Team]({PUBLIC}/spaces/{hooked.space_id})"
    assert "lunch" not in receiver.requests[0]["body"].decode()


def _tls_files(tmp_path, name: str):
    """A certificate authority and a server certificate for name signed by it (PEM files)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def certificate(subject, issuer, public_key, signing_key, ca: bool, san=None):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
        return builder.sign(signing_key, hashes.SHA256())

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = certificate("Test CA", "Test CA", ca_key.public_key(), ca_key, True)
    server = certificate(name, "Test CA", server_key.public_key(), ca_key, False, san=name)
    paths = {"ca": tmp_path / "ca.pem", "cert": tmp_path / "server.pem", "key": tmp_path / "server.key"}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


def test_https_goes_to_the_checked_address_with_the_hosts_name_for_sni_and_the_certificate(
    hooked, receiver, monkeypatch, tmp_path
):
    import ssl

    paths = _tls_files(tmp_path, "secure.test")
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(paths["cert"], paths["key"])
    receiver.server.socket = server_side.wrap_socket(receiver.server.socket, server_side=True)
    client_side = ssl.create_default_context(cafile=str(paths["ca"]))
    monkeypatch.setattr(outbound, "tls_context", lambda: client_side)
    real = outbound.socket.getaddrinfo
    names = {"secure.test", "impostor.test"}

    def resolve(host, port, *args, **kwargs):
        return [(2, 1, 6, "", ("127.0.0.1", port))] if host in names else real(host, port, *args, **kwargs)

    monkeypatch.setattr(outbound.socket, "getaddrinfo", resolve)
    admin_settings(hooked, allow_http=False, hosts="secure.test\nimpostor.test")
    port = receiver.server.server_port
    good, _ = add_hook(hooked, f"https://secure.test:{port}/tls", events=["document.created"])
    bad, _ = add_hook(hooked, f"https://impostor.test:{port}/tls", events=["document.created"])
    hooked.create_document("alice", "Over TLS")
    wait_for(lambda: len(deliveries(hooked)) == 2 and settled(hooked), 5, "the deliveries")
    assert deliveries(hooked, good)[0].status == "delivered"
    assert receiver.requests[0]["headers"]["Host"] == f"secure.test:{port}"
    (refused,) = deliveries(hooked, bad)  # the certificate names another host
    assert refused.status == "failed" and refused.attempts == 3 and len(receiver.requests) == 1  # retried, never sent
    assert "certificate" in refused.error


def test_the_admin_settings_page_sets_http_and_the_allow_list(world):
    from tests.test_admin import form

    alice = world.client("alice")
    answer = alice.post(
        "/admin/settings", data=form(webhooks_allow_http="y", webhook_allowed_hosts="chat.intranet.test\n10.0.0.0/24")
    )
    assert answer.status_code == 200
    page = alice.get("/admin/settings").get_data(as_text=True)
    assert re.search(r'<input checked[^>]*id="webhooks_allow_http"', page)
    assert "chat.intranet.test\n10.0.0.0/24" in page
    with world.app.app_context():
        assert settings.get("webhooks_allow_http") is True
        names, networks = outbound.allowed_hosts()
        assert names == {"chat.intranet.test"} and networks == [ipaddress.ip_network("10.0.0.0/24")]
        target = outbound.check_url("http://10.0.0.7:8065/hooks/x")  # allowed: nothing is sent
        assert (target.address, target.port, target.path) == ("10.0.0.7", 8065, "/hooks/x")
        with pytest.raises(outbound.RefusedError):
            outbound.check_url("http://10.0.1.7/hooks/x")
    assert world.client("bob").post("/admin/settings", data=form(webhooks_allow_http="y")).status_code == 403
