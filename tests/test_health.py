"""GET /api/v1/onlyoffice/health: components, figures, status codes and a bounded time."""

import time

import pytest
import requests
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from tests.helpers import LiveServer
from tests.helpers import redis_url
from tests.helpers import signed_callback

REDIS = redis_url(7)


class DocsHealth:
    """/healthcheck as Docs answers it (body true or false), optionally slow; counts the asks."""

    def __init__(self, body: bytes = b"true", delay: float = 0):
        self.body, self.delay, self.asked = body, delay, 0
        self.server = LiveServer(self)
        self.url = self.server.url

    def __call__(self, environ, start_response):
        if Request(environ).path == "/healthcheck":
            self.asked += 1
            time.sleep(self.delay)
            return Response(self.body, mimetype="text/plain")(environ, start_response)
        return Response("not found", status=404)(environ, start_response)


@pytest.fixture
def docs_health():
    made = []

    def make(**kwargs):
        made.append(DocsHealth(**kwargs))
        return made[-1]

    yield make
    for docs in made:
        docs.server.stop()


def health(world):
    response = requests.get(world.url + "/api/v1/onlyoffice/health", timeout=10)
    return response.status_code, response.json()


def test_all_healthy_without_redis(make_world, docs_health):
    docs = docs_health()
    world = make_world(DOCS_URL=docs.url)
    code, report = health(world)
    assert code == 200 and report["status"] == "healthy"
    assert set(report["components"]) == {"database", "storage", "onlyoffice", "queue"}  # no Redis configured
    assert all(c["status"] == "healthy" for c in report["components"].values())
    assert report["components"]["queue"]["mode"] == "in-process"
    assert report["metrics"] == {"active_editing_sessions": 0, "transition_locks_held": 0, "pending_callbacks": 0}


def test_redis_is_a_component_when_configured_and_docs_is_asked_once_for_all(make_world, docs_health, tmp_path):
    import redis

    from tests.conftest import build_app

    redis.Redis.from_url(REDIS).flushdb()
    docs = docs_health()
    world = make_world(DOCS_URL=docs.url, REDIS_URL=REDIS)
    # Another instance of the installation: its own app and instance folder, the same Redis.
    other = LiveServer(build_app(tmp_path / "other", DOCS_URL=docs.url, REDIS_URL=REDIS))
    try:
        assert health(world)[1]["components"]["redis"] == {"status": "healthy"}
        assert requests.get(other.url + "/api/v1/onlyoffice/health", timeout=10).json()["status"] == "healthy"
    finally:
        other.stop()
    assert docs.asked == 1  # the answer is shared for a few seconds


def test_docs_down_degrades_within_the_probe_timeout(make_world, docs_health):
    docs = docs_health(delay=6)  # hangs longer than any probe waits
    world = make_world(DOCS_URL=docs.url)
    started = time.monotonic()
    code, report = health(world)
    assert time.monotonic() - started < 4
    assert code == 200 and report["status"] == "degraded"
    reason = report["components"]["onlyoffice"]["reason"]
    assert report["components"]["onlyoffice"]["status"] == "unhealthy" and docs.url not in reason
    assert report["components"]["database"]["status"] == "healthy"


def test_docs_reporting_itself_unhealthy_degrades(make_world, docs_health):
    world = make_world(DOCS_URL=docs_health(body=b"false").url)
    code, report = health(world)
    assert code == 200 and report["status"] == "degraded"
    assert "unhealthy" in report["components"]["onlyoffice"]["reason"]


def test_a_failing_storage_makes_it_unhealthy(make_world, docs_health, monkeypatch):
    from app.services.storage import base

    world = make_world(DOCS_URL=docs_health().url)
    monkeypatch.setattr(base.Storage, "writable", lambda self: False)
    code, report = health(world)
    assert code == 503 and report["status"] == "unhealthy"
    assert report["components"]["storage"] == {"status": "unhealthy", "reason": "the storage cannot be written to"}


def test_an_unreachable_broker_degrades(make_world, docs_health):
    world = make_world(DOCS_URL=docs_health().url, BROKER_URL="redis://127.0.0.1:9/0")  # nothing listens there
    started = time.monotonic()
    code, report = health(world)
    assert time.monotonic() - started < 4
    assert code == 200 and report["status"] == "degraded"
    assert report["components"]["queue"]["status"] == "unhealthy"
    assert "127.0.0.1" not in report["components"]["queue"]["reason"]


def test_the_figures_follow_sessions_and_saves(make_world, docs_health):
    from app.services import locks

    world = make_world(DOCS_URL=docs_health().url)
    file = world.create_document("alice", "Report")
    config = world.client().get(f"/api/v1/files/{file['id']}/editor-config", headers=world.api("alice")).get_json()
    key, callback = config["document"]["key"], config["editorConfig"]["callbackUrl"]
    alice = str(world.user_ids["alice"])

    def tell(body):
        signed, headers = signed_callback(body)
        assert requests.post(callback, json=signed, headers=headers, timeout=10).json() == {"error": 0}

    tell({"key": key, "status": 1, "users": [alice], "actions": [{"type": 1, "userid": alice}]})
    assert health(world)[1]["metrics"] == {
        "active_editing_sessions": 1,
        "transition_locks_held": 0,
        "pending_callbacks": 0,
    }
    tell({"key": key, "status": 1, "users": [], "actions": [{"type": 0, "userid": alice}]})  # everyone left
    assert health(world)[1]["metrics"]["active_editing_sessions"] == 0
    assert health(world)[1]["metrics"]["pending_callbacks"] == 1  # its final save is owed
    with world.app.app_context():
        saving = locks.acquire(file["id"], "save")
        other = locks.acquire(file["id"] + 100, "rename")
        metrics = health(world)[1]["metrics"]
        saving.release()
        other.release()
    assert metrics == {"active_editing_sessions": 0, "transition_locks_held": 2, "pending_callbacks": 2}
    tell({"key": key, "status": 4})  # closed without changes: nothing owed
    assert health(world)[1]["metrics"]["pending_callbacks"] == 0


def test_liveness_and_readiness_stay(make_world, docs_health):
    world = make_world(DOCS_URL=docs_health().url)
    assert requests.get(world.url + "/healthz", timeout=5).json() == {"status": "ok"}
    assert requests.get(world.url + "/readyz", timeout=5).status_code == 200
