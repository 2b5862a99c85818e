"""What several processes of one installation share: a changed setting holds everywhere at once,
instances need one secret, and only trusted proxies are believed."""

import pytest
import redis as redis_library

from app import create_app
from tests.conftest import build_app
from tests.helpers import redis_url

REDIS = redis_url(14)


def _second_app(tmp_path, **overrides):
    """Another process of the same installation: same database, same instance folder."""
    return build_app(tmp_path, **overrides)


def _docs_url(app) -> str:
    from app.services import settings

    with app.app_context():
        return settings.get("docs_url")


def _save_docs_url(app, url: str) -> None:
    from app import transaction
    from app.services import settings

    with app.app_context():
        settings.save({"docs_url": url})
        transaction.commit()


@pytest.mark.parametrize("shared", ["instance-folder", "redis"])
def test_a_changed_setting_holds_in_every_process_at_once(open_world, tmp_path, shared):
    overrides = {"DOCS_JWT_SECRET": None}
    if shared == "redis":
        redis_library.Redis.from_url(REDIS).flushdb()
        overrides["REDIS_URL"] = REDIS
        open_world.app.config["REDIS_URL"] = REDIS
    other = _second_app(tmp_path, **overrides)
    _save_docs_url(open_world.app, "http://docs-one.example")
    assert _docs_url(other) == "http://docs-one.example"
    _save_docs_url(open_world.app, "http://docs-two.example")
    assert _docs_url(other) == "http://docs-two.example"  # no window: the cached copy was told
    _save_docs_url(other, "http://docs-three.example")
    assert _docs_url(open_world.app) == "http://docs-three.example"


def test_instances_on_a_shared_database_need_one_secret(tmp_path):
    with pytest.raises(RuntimeError, match="COEDIT_SECRET_KEY must be set"):
        create_app(
            {"DATABASE_URL": "postgresql+psycopg://coedit@127.0.0.1/coedit", "SECRET_KEY": None},
            instance_path=str(tmp_path / "instance"),
        )


def test_forwarded_headers_count_only_behind_a_trusted_proxy(make_world):
    world = make_world(
        PROXY_HOPS=0, RATELIMIT_SIGN_IN_PER_ADDRESS="2 per minute", RATELIMIT_SIGN_IN_PER_ACCOUNT="50 per minute"
    )
    client = world.app.test_client()
    # Without trusted proxies a forged X-Forwarded-For does not give a fresh address to guess from.
    for n in range(2):
        client.post(
            "/auth/login", data={"username": "bob", "password": "x"}, headers={"X-Forwarded-For": f"10.0.0.{n}"}
        )
    limited = client.post(
        "/auth/login", data={"username": "bob", "password": "x"}, headers={"X-Forwarded-For": "10.0.0.9"}
    )
    assert limited.status_code == 429


def test_behind_a_trusted_proxy_each_client_counts_on_its_own(make_world):
    world = make_world(
        PROXY_HOPS=1, RATELIMIT_SIGN_IN_PER_ADDRESS="2 per minute", RATELIMIT_SIGN_IN_PER_ACCOUNT="50 per minute"
    )
    client = world.app.test_client()
    for _ in range(2):
        client.post("/auth/login", data={"username": "bob", "password": "x"}, headers={"X-Forwarded-For": "10.0.0.1"})
    assert (
        client.post(
            "/auth/login", data={"username": "bob", "password": "x"}, headers={"X-Forwarded-For": "10.0.0.1"}
        ).status_code
        == 429
    )
    assert (
        client.post(
            "/auth/login", data={"username": "bob", "password": "x"}, headers={"X-Forwarded-For": "10.0.0.2"}
        ).status_code
        == 200
    )


@pytest.fixture
def redis_app(tmp_path):
    redis_library.Redis.from_url(REDIS).flushdb()
    return build_app(tmp_path, REDIS_URL=REDIS)


def _generation(app, name: str = "settings"):
    """The generation as one request reads it (each request reads it once)."""
    from app.services import state

    with app.app_context():
        return state.generation(name)


def _moved_elsewhere(name: str = "settings") -> bytes:
    """Another instance's bump, as state.bump makes it; returns the new value."""
    from app.services import state

    other = redis_library.Redis.from_url(REDIS)
    value = other.incr(f"coedit:generation:{name}")
    other.publish(state.CHANNEL, name)
    return str(value).encode()


def test_with_redis_a_generation_is_fetched_once_while_it_does_not_move(redis_app, monkeypatch):
    """Requests take it from what the process holds, not from a GET each."""
    from app.services import state

    with redis_app.app_context():
        client = state.redis()
    fetched = []
    original = client.get
    monkeypatch.setattr(client, "get", lambda key: fetched.append(key) or original(key))
    assert len({_generation(redis_app) for _ in range(20)}) == 1
    assert fetched == ["coedit:generation:settings"]


def test_a_move_anywhere_is_seen_by_the_next_request(redis_app):
    assert _generation(redis_app) == _generation(redis_app)
    for _ in range(3):
        moved = _moved_elsewhere()
        assert _generation(redis_app) == moved


def test_a_move_while_the_subscription_was_lost_is_not_missed(redis_app, monkeypatch):
    from app.services import state

    monkeypatch.setattr(state.Watch, "RESUBSCRIBE_SECONDS", 0)
    held = _generation(redis_app)
    assert _generation(redis_app) == held
    redis_library.Redis.from_url(REDIS).client_kill_filter(_type="pubsub")  # its message goes nowhere
    moved = _moved_elsewhere()
    assert _generation(redis_app) == moved
    assert _generation(redis_app) == moved  # subscribed again: held, and told of the next move
    moved = _moved_elsewhere()
    assert _generation(redis_app) == moved
    with redis_app.app_context():
        assert state._watch(redis_app, state.redis()).pubsub is not None


def test_without_redis_reachable_every_read_asks_redis_and_fails_as_before(tmp_path):
    """No subscription can be made: nothing is held, and the read's own error is what the caller sees."""
    from app.services import state

    app = build_app(tmp_path, REDIS_URL="redis://127.0.0.1:9/0")
    with app.app_context(), pytest.raises(redis_library.ConnectionError):
        state.generation("settings")


def test_a_child_forked_while_a_read_held_the_lock_keeps_its_own_subscription(redis_app):
    """gunicorn and Celery fork their workers; a fork may come while another thread of the parent
    reads. The child starts afresh: its own lock and subscription, and then one GET, not one a read."""
    import os

    from app.services import state

    _generation(redis_app)  # the parent reads, and subscribes
    with redis_app.app_context():
        watch = state._watch(redis_app, state.redis())
    watch.lock.acquire()  # another thread of the parent is reading right now
    child = os.fork()
    if child == 0:  # pragma: no cover - the child's verdict is its exit code
        code = 1
        try:
            with redis_app.app_context():
                client = state.redis()
                gets = []
                original = client.get
                client.get = lambda key: gets.append(key) or original(key)
                values = {_generation(redis_app) for _ in range(10)}
                moved = _moved_elsewhere()
                if len(values) == 1 and len(gets) == 1 and watch.pubsub is not None:
                    code = 0 if _generation(redis_app) == moved else 3
                else:
                    code = 2
        finally:
            os._exit(code)
    watch.lock.release()
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
