"""Rate limits on guessing: sign-in, share-link passwords, API tokens, mention look-ups, the connection test.

Each answers 429 with a Retry-After header and plain words; only failures count where success is
the normal case. With Redis configured, the counters hold across processes.
"""

import statistics
import time

import pytest
import requests

from tests.conftest import build_app
from tests.helpers import redis_url

SMALL_LIMITS = {
    "RATELIMIT_SIGN_IN_PER_ACCOUNT": "3 per minute",
    "RATELIMIT_SIGN_IN_PER_ADDRESS": "5 per minute",
    "RATELIMIT_SHARE_PASSWORD": "3 per minute",
    "RATELIMIT_API_TOKEN_FAILURES": "4 per minute",
    "RATELIMIT_MENTIONS": "5 per minute",
    "RATELIMIT_CONNECTION_TEST": "2 per minute",
}


@pytest.fixture
def limited(make_world, fake_docs):
    return make_world(DOCS_URL=fake_docs.url, **SMALL_LIMITS)


def sign_in(client, name, password):
    return client.post("/auth/login", data={"username": name, "password": password})


def assert_limited(response, json_body=False):
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    text = response.get_json()["error"] if json_body else response.get_data(as_text=True)
    assert "Too many attempts" in text


def test_failed_sign_ins_are_limited_per_account(limited):
    client = limited.app.test_client()
    for _ in range(3):
        assert sign_in(client, "bob", "wrong").status_code == 200
    assert_limited(sign_in(client, "bob", "pw-bob"))  # even the right password waits now
    assert_limited(sign_in(client, " BOB ", "wrong"))  # however the name is spelled
    assert sign_in(client, "alice", "pw-alice").status_code == 302  # other accounts are not locked


def test_the_sign_in_form_and_the_login_api_count_together(limited):
    """Failed sign-ins of one account are counted once, wherever they were tried."""
    client = limited.app.test_client()
    for _ in range(2):
        assert sign_in(client, "bob", "wrong").status_code == 200
    assert client.post("/api/v1/users/login", json={"login_id": "bob", "password": "wrong"}).status_code == 401
    assert_limited(sign_in(client, "bob", "pw-bob"))
    assert_limited(client.post("/api/v1/users/login", json={"login_id": "bob", "password": "pw-bob"}), json_body=True)


def test_failed_sign_ins_are_limited_per_address(limited):
    client = limited.app.test_client()
    for name in ("nobody-1", "nobody-2", "nobody-3", "nobody-4", "nobody-5"):
        assert sign_in(client, name, "guess").status_code == 200
    assert_limited(sign_in(client, "carol", "pw-carol"))


def test_successful_sign_ins_never_count(limited):
    for _ in range(8):
        assert sign_in(limited.app.test_client(), "bob", "pw-bob").status_code == 302


def test_share_link_passwords_are_limited_per_link_and_address(limited):
    doc = limited.create_document("alice", "Vault")
    links = [
        limited.client()
        .post(
            f"/api/v1/files/{doc['id']}/links",
            json={"mode": "view", "password": "right-one"},
            headers=limited.api("alice"),
        )
        .get_json()
        for _ in range(2)
    ]
    paths = ["/s/" + link["url"].rsplit("/s/", 1)[1] for link in links]
    guest = limited.app.test_client()
    for _ in range(3):
        assert guest.post(paths[0], data={"name": "Gus", "password": "nope"}).status_code == 403
    assert_limited(guest.post(paths[0], data={"name": "Gus", "password": "right-one"}))
    assert guest.post(paths[1], data={"name": "Gus", "password": "right-one"}).status_code == 302


def test_share_link_passwords_have_the_forms_minimum_length_in_the_api(limited):
    doc = limited.create_document("alice", "Short")
    answer = limited.client().post(
        f"/api/v1/files/{doc['id']}/links", json={"mode": "view", "password": "x"}, headers=limited.api("alice")
    )
    assert answer.status_code == 400 and "4 to 128 characters" in answer.get_json()["error"]


def test_wrong_api_tokens_are_limited_per_address(limited):
    client = limited.app.test_client()
    for _ in range(4):
        assert client.get("/api/v1/notifications", headers={"Authorization": "Bearer cot_guess"}).status_code == 401
    assert_limited(client.get("/api/v1/notifications", headers=limited.api("bob")), json_body=True)


def test_wrong_api_tokens_count_together_whichever_route_they_try(limited):
    """Guesses spread over the API's routes are the guesses of one address: one count for all."""
    client = limited.app.test_client()
    guess = {"Authorization": "Bearer cot_guess"}
    routes = ["/api/v1/notifications", "/api/v1/spaces", "/api/v1/search?q=a", "/api/v1/files/1/editor-config"]
    for route in routes:
        assert client.get(route, headers=guess).status_code == 401
    assert_limited(client.get("/api/v1/favourites", headers=guess), json_body=True)


def test_a_persons_api_calls_count_together_across_routes(make_world):
    """RATELIMIT_API is what one person may call of the whole API, not of each route."""
    world = make_world(RATELIMIT_API="4 per minute")
    client, bob = world.app.test_client(), world.api("bob")
    for route in ("/api/v1/notifications", "/api/v1/spaces", "/api/v1/favourites", "/api/v1/search?q=a"):
        assert client.get(route, headers=bob).status_code == 200, route
    assert_limited(client.get("/api/v1/notifications", headers=bob), json_body=True)
    assert client.get("/api/v1/notifications", headers=world.api("alice")).status_code == 200  # each their own


def test_mention_look_ups_are_limited_per_person(limited):
    doc = limited.create_document("alice", "Chatty")
    alice = limited.client("alice")
    for _ in range(5):
        assert alice.get(f"/files/{doc['id']}/mention-users?search=b").status_code == 200
    assert_limited(alice.post(f"/files/{doc['id']}/mentions", json={"emails": ["x@y.z"]}))
    assert limited.client("bob").get(f"/files/{doc['id']}/mention-users").status_code == 200


def test_the_connection_test_is_limited(make_world):
    world = make_world(DOCS_JWT_SECRET=None, **SMALL_LIMITS)
    admin = world.client("alice")
    form = {
        "docs_url": "http://127.0.0.1:9",
        "app_url_for_docs": world.url,
        "jwt_header": "Authorization",
        "max_file_size_mb": "100",
        "jwt_secret": "s" * 40,
    }
    for _ in range(2):
        assert admin.post("/admin/settings", data=form).status_code == 200
    assert_limited(admin.post("/admin/settings", data=form))


def test_limits_hold_across_processes_with_redis(make_world, tmp_path):
    import redis

    url = redis_url(15)  # a database of its own, emptied first: counters live a minute
    try:
        redis.Redis.from_url(url).flushdb()
    except redis.RedisError:
        pytest.fail("Redis is not running; `make test` starts it")
    shared = {**SMALL_LIMITS, "REDIS_URL": url}
    first = make_world(**shared)
    second = build_app(tmp_path, **shared)  # another app on the same database and Redis
    for _ in range(3):
        assert sign_in(first.app.test_client(), "bob", "wrong").status_code == 200
    assert_limited(sign_in(second.test_client(), "bob", "pw-bob"))


def test_sign_in_time_does_not_tell_whether_an_account_exists(make_world):
    # A costly hash, as in production: the difference would show if unknown names skipped hashing.
    world = make_world(
        PASSWORD_HASH_METHOD="pbkdf2:sha256:200000",
        RATELIMIT_SIGN_IN_PER_ACCOUNT="100 per minute",
        RATELIMIT_SIGN_IN_PER_ADDRESS="100 per minute",
    )

    def timed(name):
        started = time.perf_counter()
        response = requests.post(world.url + "/auth/login", data={"username": name, "password": "wrong"}, timeout=30)
        assert response.status_code == 200
        return time.perf_counter() - started

    from app.extensions import db
    from app.models import User

    def rehash():
        user = db.session.get(User, world.user_ids["bob"])
        user.set_password("pw-bob")
        db.session.commit()

    world.query(rehash)  # bob's stored hash is made with the costly method too
    # Taken in turns: on a loaded machine the speed drifts within seconds, and five of one kind
    # after five of the other would measure the drift.
    pairs = [(timed("bob"), timed(f"ghost-{n}")) for n in range(7)]
    known = statistics.median(pair[0] for pair in pairs)
    unknown = statistics.median(pair[1] for pair in pairs)
    assert known > 0.02  # the hash does cost something here
    assert 0.5 < unknown / known < 2, (known, unknown)
