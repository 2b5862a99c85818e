"""Status-1 callbacks that change nothing are answered before Flask's dispatch (backend/settled.py),
exactly as the app would answer them; every other callback still reaches the app's track route."""

import json

import pytest
import requests
from prometheus_client import REGISTRY

from app.services.docs import callbacks
from tests.helpers import post_signed_callback as post
from tests.helpers import signed_callback

SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options")


@pytest.fixture
def app_route(monkeypatch):
    """The callbacks the app's track route received (callbacks.receive), still handled by it."""
    received = []
    receive = callbacks.receive

    def counted(file_id, *args):
        received.append(file_id)
        return receive(file_id, *args)

    monkeypatch.setattr(callbacks, "receive", counted)
    return received


def sample(name, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_settled_status_1_is_answered_logged_and_counted_without_the_app(world, opened, app_route, lines):
    joins = sample("onlyoffice_session_events_total", event="join")
    timed = sample("coedit_request_duration_seconds_count", endpoint="backend.track", status="200")
    answer = post(opened["callback"], opened["joined"])  # a reconnect: the same editors again
    assert answer.status_code == 200 and answer.json() == {"error": 0} and app_route == []
    assert answer.headers["Content-Type"] == "application/json"
    assert all(answer.headers.get(name) for name in SECURITY_HEADERS)
    request_id = answer.headers["X-Request-ID"]
    assert len(request_id) == 32
    [line] = [line for line in lines if line.get("event") == "request"]
    assert line["endpoint"] == "backend.track" and line["status"] == 200 and line["method"] == "POST"
    assert line["path"] == f"/backend/files/{opened['id']}/track" and line["request_id"] == request_id
    assert "token" not in str(lines)
    # A reconnect is counted, not told: its session line is for debugging only.
    assert [line for line in lines if line.get("event") == "session_join"] == []
    assert sample("onlyoffice_session_events_total", event="join") == joins + 1
    assert sample("coedit_request_duration_seconds_count", endpoint="backend.track", status="200") == timed + 1
    assert world.file(opened["id"]).editors == [opened["bob"]]


def test_a_status_1_that_changes_something_reaches_the_app(world, opened, app_route):
    left = {**opened["joined"], "users": [], "actions": [{"type": 0, "userid": opened["bob"]}]}
    assert post(opened["callback"], left).json() == {"error": 0}
    assert app_route == [opened["id"]] and world.file(opened["id"]).editors == []


def test_someone_who_lost_the_right_to_edit_is_decided_by_the_app(world, opened, app_route):
    world.set_level(opened["id"], "bob", "read")
    assert post(opened["callback"], opened["joined"]).json() == {"error": 0}
    assert app_route == [opened["id"]]  # which drops him from the editor (tests/test_live_rights.py)


@pytest.mark.parametrize(
    "change",
    [
        {"status": True},  # True == 1 in Python, not in the protocol
        {"status": 4},
        {"key": "not-this-files-key"},
    ],
)
def test_anything_but_a_settled_status_1_reaches_the_app(world, opened, app_route, change):
    post(opened["callback"], {**opened["joined"], **change})
    assert app_route == [opened["id"]]


def test_forged_and_unsigned_callbacks_reach_the_app_and_are_refused(world, opened, app_route):
    forged, _ = signed_callback(opened["joined"], secret="another-secret-another-secret-00")
    assert requests.post(opened["callback"], json=forged, timeout=10).status_code == 403
    assert requests.post(opened["callback"], json=opened["joined"], timeout=10).status_code == 403
    wrong_link = opened["callback"].replace("token=", "token=x")
    assert post(wrong_link, opened["joined"]).status_code == 403
    assert app_route == [opened["id"]] * 3


def test_a_body_over_the_limit_is_refused_by_the_app(world, opened, app_route):
    signed, _ = signed_callback(opened["joined"])
    signed["padding"] = "x" * callbacks.MAX_BODY_BYTES
    answer = requests.post(opened["callback"], json=signed, timeout=10)
    assert answer.status_code == 400 and app_route == [opened["id"]]


def test_a_chunked_body_is_read_whole(world, opened, app_route):
    signed, _ = signed_callback(opened["joined"])
    body = json.dumps(signed).encode()
    answer = requests.post(
        opened["callback"],
        data=iter([body[:10], body[10:]]),  # a generator: requests sends it chunked
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 200 and answer.json() == {"error": 0} and app_route == []


def test_behind_a_proxy_the_line_names_the_client(make_world, fake_docs, app_route, lines):
    world = make_world(DOCS_URL=fake_docs.url, PROXY_HOPS=1)
    file = world.create_document("alice", "Proxied")
    config = world.client().get(f"/api/v1/files/{file['id']}/editor-config", headers=world.api("alice")).get_json()
    alice = str(world.user_ids["alice"])
    joined = {
        "key": config["document"]["key"],
        "status": 1,
        "users": [alice],
        "actions": [{"type": 1, "userid": alice}],
    }
    proxied = {"X-Forwarded-For": "203.0.113.7", "X-Request-ID": "nginx-77"}
    post(config["editorConfig"]["callbackUrl"], joined, headers=proxied)  # alice joins: the app stores it
    del lines[:]
    answer = post(config["editorConfig"]["callbackUrl"], joined, headers=proxied)
    assert app_route == [file["id"]]  # only the first
    [line] = [line for line in lines if line.get("event") == "request"]
    assert line["remote_addr"] == "203.0.113.7" and line["request_id"] == "nginx-77"
    assert answer.headers["X-Request-ID"] == "nginx-77"
