"""Who may read /metrics, and what the request log lines say (and never say)."""

import json

import pytest

from tests.conftest import build_app

TOKEN = "metrics-token-0123456789abcdef"
OUTSIDE = {"REMOTE_ADDR": "203.0.113.9"}


@pytest.fixture
def app(tmp_path):
    return build_app(tmp_path, METRICS_TOKEN=TOKEN)


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "::1"])
def test_metrics_are_open_from_loopback(app, address):
    answer = app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": address})
    assert answer.status_code == 200 and b"onlyoffice_active_sessions" in answer.data


def test_metrics_from_elsewhere_need_the_token(app):
    client = app.test_client()
    missing = client.get("/metrics", environ_base=OUTSIDE)
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("Bearer")
    basic = client.get("/metrics", environ_base=OUTSIDE, headers={"Authorization": f"Basic {TOKEN}"})
    assert basic.status_code == 401
    wrong = client.get("/metrics", environ_base=OUTSIDE, headers={"Authorization": f"Bearer {TOKEN}x"})
    assert wrong.status_code == 403 and b"onlyoffice" not in wrong.data
    right = client.get("/metrics", environ_base=OUTSIDE, headers={"Authorization": f"Bearer {TOKEN}"})
    assert right.status_code == 200 and b"coedit_build_info" in right.data


def test_without_a_token_metrics_are_loopback_only(tmp_path):
    client = build_app(tmp_path).test_client()
    assert client.get("/metrics", environ_base=OUTSIDE).status_code == 403
    assert client.get("/metrics", environ_base=OUTSIDE, headers={"Authorization": "Bearer "}).status_code == 403


def test_behind_a_proxy_the_clients_address_counts_not_the_proxys(tmp_path):
    client = build_app(tmp_path, PROXY_HOPS=1, METRICS_TOKEN=TOKEN).test_client()
    # The proxy connects from loopback on behalf of a client elsewhere.
    proxied = {"X-Forwarded-For": "203.0.113.9"}
    assert client.get("/metrics", headers=proxied).status_code == 401
    assert client.get("/metrics", headers={**proxied, "Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 200


def test_the_request_id_is_a_new_one_unless_a_trusted_proxy_set_it(tmp_path):
    direct = build_app(tmp_path).test_client()
    answer = direct.get("/healthz", headers={"X-Request-ID": "chosen-by-the-client"})
    assert answer.headers["X-Request-ID"] != "chosen-by-the-client" and len(answer.headers["X-Request-ID"]) == 32
    assert direct.get("/healthz").headers["X-Request-ID"] != answer.headers["X-Request-ID"]
    proxied = build_app(tmp_path, PROXY_HOPS=1).test_client()
    assert proxied.get("/healthz", headers={"X-Request-ID": "nginx-4f2a"}).headers["X-Request-ID"] == "nginx-4f2a"
    forged = proxied.get("/healthz", headers={"X-Request-ID": "two words\u2028"}).headers["X-Request-ID"]
    assert forged != "two words\u2028" and len(forged) == 32


def test_a_request_line_is_json_with_request_id_user_file_and_duration(world, lines):
    doc = world.create_document("alice", "Logged")
    client = world.client("alice")
    answer = client.get(f"/files/{doc['id']}?token=SignedTokenNeverLogged")
    line = [line for line in lines if line.get("event") == "request" and line["endpoint"] != "auth.login"][-1]
    assert line["request_id"] == answer.headers["X-Request-ID"]
    assert line["user_id"] == str(world.user_ids["alice"]) and line["file_id"] == doc["id"]
    assert line["method"] == "GET" and line["path"] == f"/files/{doc['id']}" and line["status"] == answer.status_code
    assert isinstance(line["duration_ms"], float) and line["level"] == "info" and line["logger"] == "coedit.request"
    assert {"time", "message", "pid"} <= set(line)
    assert "SignedTokenNeverLogged" not in json.dumps(lines)  # and user_id is the id, not get_id()'s token


def test_tokens_and_share_secrets_are_never_logged(world, lines):
    secret = "ShareSecretThatMustNotBeLogged0123"
    client = world.app.test_client()
    client.get(f"/s/{secret}/open?token=QueryTokenNeverLogged")
    client.get("/api/v1/notifications", headers={"Authorization": "Bearer cot_ApiTokenNeverLogged"})
    client.post("/backend/files/1/track?token=CallbackTokenNeverLogged", json={"status": 1})
    client.post("/hooks/HookSecretNeverLogged", json={"text": "hi"})
    text = json.dumps(lines)
    assert "/s/[secret]" in text and "/backend/files/1/track" in text and "/hooks/[secret]" in text
    for leak in (secret, "QueryTokenNeverLogged", "cot_ApiTokenNeverLogged", "CallbackTokenNeverLogged", "token="):
        assert leak not in text
    assert "HookSecretNeverLogged" not in text


def test_an_unhandled_error_is_still_timed_and_logged(tmp_path, lines):
    app = build_app(tmp_path)
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/boom")
    def boom():
        raise RuntimeError("boom")

    answer = app.test_client().get("/boom")
    assert answer.status_code == 500
    [line] = [line for line in lines if line.get("event") == "request"]
    assert line["status"] == 500 and line["endpoint"] == "boom"


def test_a_request_answered_early_by_another_hook_is_still_timed_and_logged(tmp_path, lines):
    from flask import request

    app = build_app(tmp_path)
    app.before_request(lambda: ("limited", 429) if request.path == "/healthz" else None)
    answer = app.test_client().get("/healthz")
    assert answer.status_code == 429 and len(answer.headers["X-Request-ID"]) == 32
    [line] = [line for line in lines if line.get("event") == "request"]
    assert line["status"] == 429 and line["request_id"] == answer.headers["X-Request-ID"]
