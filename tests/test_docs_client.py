"""Requests to Docs: the connection test's time budget and the JWT header's prefix, against a small
Docs double whose answers each test chooses."""

import json
import time

import jwt
import pytest
import requests
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from tests.helpers import SECRET
from tests.helpers import LiveServer
from tests.helpers import docs_token
from tests.test_admin import form


class StuckDocs:
    """Healthy, answers signed commands, and never finishes a conversion ({"endConvert": false})."""

    def __init__(self):
        self.requests: list[tuple[str, dict]] = []
        self.server = LiveServer(self)
        self.url = self.server.url

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.requests.append((request.path, dict(request.headers)))
        if request.path == "/healthcheck":
            response = Response("true", mimetype="text/plain")
        elif request.path == "/command":
            response = Response(json.dumps({"error": 0, "version": "9.0.0"}), mimetype="application/json")
        elif request.path == "/converter":
            response = Response(json.dumps({"endConvert": False, "percent": 0}), mimetype="application/json")
        else:
            response = Response("not found", status=404)
        return response(environ, start_response)


@pytest.fixture
def stuck_docs():
    docs = StuckDocs()
    yield docs
    docs.server.stop()


def test_check_docs_returns_within_its_budget_when_conversion_never_ends(make_world, stuck_docs):
    world = make_world(DOCS_URL=stuck_docs.url)
    started = time.monotonic()
    result = world.app.test_cli_runner().invoke(args=["check-docs", "--budget", "2"])
    took = time.monotonic() - started
    assert result.exit_code == 1, result.output
    assert "[ok] Command service" in result.output
    assert "[FAILED] Conversion round trip: conversion did not finish within 2 s" in result.output
    assert took < 2 + 1.5, took
    polls = [path for path, _ in stuck_docs.requests if path == "/converter"]
    assert len(polls) >= 2  # asked again, as the asynchronous conversion API wants


def test_the_admin_page_reports_a_stuck_conversion_within_the_default_budget(make_world, stuck_docs, monkeypatch):
    from app.services.docs import client

    monkeypatch.setattr(client, "CHECK_BUDGET", 2.0)  # the page uses the default budget (15 s)
    world = make_world(DOCS_URL=stuck_docs.url)
    alice = world.client("alice")  # signing in (a password hash) is not the check's time
    started = time.monotonic()
    page = alice.post("/admin/settings", data=form(docs_url=stuck_docs.url)).get_data(as_text=True)
    assert time.monotonic() - started < 2 + 1.5
    assert "conversion did not finish within 2 s" in page


# --- the JWT header's prefix -----------------------------------------------------------


def test_a_custom_prefix_is_written_on_requests_to_docs(make_world, stuck_docs):
    world = make_world(DOCS_URL=stuck_docs.url, DOCS_JWT_PREFIX="Token ")
    with world.app.app_context():
        from app.services.docs import client

        client.command("version")
    header = [headers["Authorization"] for path, headers in stuck_docs.requests if path == "/command"][0]
    assert header.startswith("Token ")
    claims = jwt.decode(header.removeprefix("Token "), SECRET, algorithms=["HS256"])
    assert claims["payload"]["c"] == "version"


def test_a_custom_prefix_is_read_from_docs_callbacks(make_world, fake_docs):
    world = make_world(DOCS_URL=fake_docs.url, DOCS_JWT_PREFIX="Token ")
    file = world.create_document("alice", "Report")
    config = world.client().get(f"/api/v1/files/{file['id']}/editor-config", headers=world.api("alice")).get_json()
    url, key = config["editorConfig"]["callbackUrl"], config["document"]["key"]
    body = {"key": key, "status": 4}
    wrapper = docs_token({"payload": body})
    # The header alone carries the token (no token in the body): only the configured prefix is read.
    assert requests.post(url, json=body, headers={"Authorization": "Token " + wrapper}, timeout=10).json() == {
        "error": 0
    }
    refused = requests.post(url, json=body, headers={"Authorization": "Bearer " + wrapper}, timeout=10)
    assert refused.status_code == 403


def test_the_default_prefix_is_bearer(world):
    with world.app.app_context():
        from app.services.docs import tokens

        assert tokens.header_prefix() == "Bearer "
        assert next(iter(tokens.request_headers({"c": "version"}).values())).startswith("Bearer ")
