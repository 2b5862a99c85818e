"""Every route that changes something refuses a signed-in browser's request without the CSRF
token: forms and the JSON API alike. Only what a browser session cannot reach is exempt: Docs'
routes (signed by Docs' JWT), incoming webhooks (the secret in the URL) and the API's sign-in
(credentials in the body, no cookie used)."""

import re

import pytest

from tests.test_security_cases import csrf_login

CHANGES = ("POST", "PUT", "PATCH", "DELETE")
EXEMPT_BLUEPRINTS = ("backend", "hooks")
EXEMPT_ENDPOINTS = {"api.login"}


def _url(rule) -> str:
    # Any id will do: the token is checked before the view looks anything up.
    return re.sub(r"<(?:\w+:)?\w+>", "1", rule.rule)


@pytest.fixture
def signed_in(csrf_world):
    client, _ = csrf_login(csrf_world, "alice")  # admin and space owner: would be allowed everything
    return client


def test_every_state_changing_route_needs_the_token(csrf_world, signed_in):
    checked, accepted = 0, []
    for rule in csrf_world.app.url_map.iter_rules():
        blueprint = rule.endpoint.split(".")[0]
        if blueprint in EXEMPT_BLUEPRINTS or rule.endpoint in EXEMPT_ENDPOINTS:
            continue
        for method in CHANGES:
            if method not in rule.methods:
                continue
            kwargs = {"json": {}} if rule.rule.startswith("/api/") else {"data": {}}
            answer = getattr(signed_in, method.lower())(_url(rule), **kwargs)
            checked += 1
            if answer.status_code != 400 or "CSRF" not in answer.get_data(as_text=True).upper():
                accepted.append(f"{method} {rule.rule} -> {answer.status_code}")
    assert checked > 60  # the forms and the API's writes were all tried
    assert accepted == []


def test_the_exempt_routes_take_no_cookie_identity(csrf_world, signed_in):
    """What is exempt does not act as the signed-in person: the API's sign-in wants credentials."""
    answer = signed_in.post("/api/v1/users/login", json={})
    assert answer.status_code == 401
