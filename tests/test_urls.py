"""Our URLs from per-route templates (app/urls.py) are exactly what url_for gives, in code and in
every page's templates, for every kind of value, host and root."""

import pytest
from flask import render_template_string
from flask import url_for

from app import urls

CASES = [
    ("backend.download", {"file_id": 7, "token": "eyJmIjo3fQ.aZ-x_1.Sig_nat-ure"}),
    ("backend.track", {"file_id": 123456, "token": "abc"}),
    ("backend.history_version", {"file_id": 3, "number": 12, "token": "t.k"}),
    ("spaces.show", {"space_id": 42}),
    ("static", {"filename": "css/app.css"}),  # a path converter keeps its slashes
    ("static", {"filename": "favicon.svg"}),
    ("bootstrap.static", {"filename": "js/bootstrap.bundle.min.js"}),
    ("api.get_editor_config", {"file_id": 5, "mode": "view"}),  # mode goes to the query string
    # Not filled into a template (quoted, dropped or converted by url_for): url_for's own answer.
    ("share.landing", {"secret": "a/b"}),  # a string converter quotes the slash
    ("spaces.search", {"q": "x/y"}),  # so does a query string
    ("static", {"filename": "a b/c%d"}),
    ("backend.download", {"file_id": 7, "token": "a b+c/d%e"}),
    ("backend.download", {"file_id": 7, "token": ""}),
    ("backend.download", {"file_id": "0012", "token": "x"}),
    ("backend.download", {"file_id": 7, "token": None}),
    ("backend.download", {"file_id": True, "token": "x"}),
]


@pytest.mark.parametrize("base_url", ["http://localhost/", "https://coedit.example:8443/under/a/prefix/"])
def test_route_templates_give_what_url_for_gives(world, base_url):
    with world.app.test_request_context(base_url=base_url):
        for _ in range(2):  # the first call makes the template, the second uses it
            for endpoint, values in CASES:
                for external in (False, True):
                    expected = url_for(endpoint, _external=external, **values)
                    assert urls.route_url(endpoint, external, values) == expected, (endpoint, values)
    with world.app.test_request_context(base_url="http://other.example/"):  # another host: its own templates
        assert urls.route_url("spaces.show", True, {"space_id": 42}) == "http://other.example/spaces/42"


def test_templates_build_their_urls_from_route_templates(world):
    source = (
        "{{ url_for('files.show', file_id=9) }}|{{ url_for('static', filename='js/app.js') }}|"
        "{{ url_for('editor.page', file_id=9, _external=True) }}|{{ url_for('files.show', file_id=9, _anchor='v2') }}|"
        "{{ url_for('share.landing', secret='a/b') }}"
    )
    with world.app.test_request_context(base_url="https://coedit.example/under/a/prefix/"):
        assert world.app.jinja_env.globals["url_for"] is urls.for_templates
        expected = "|".join(
            [
                url_for("files.show", file_id=9),
                url_for("static", filename="js/app.js"),
                url_for("editor.page", file_id=9, _external=True),
                url_for("files.show", file_id=9, _anchor="v2"),
                url_for("share.landing", secret="a/b"),
            ]
        )
        assert expected.split("|")[0] == "/under/a/prefix/files/9"
        assert render_template_string(source) == expected
        templates = world.app.extensions["coedit_route_templates"]
        assert ("files.show", False, ("file_id",), (int,)) in {key[:4] for key in templates}


def test_outside_a_request_and_with_url_defaults_url_for_decides(world):
    app = world.app
    app.config["SERVER_NAME"] = "coedit.example"
    try:
        with app.app_context():  # a job: no request, the configured server name
            assert urls.route_url("spaces.show", True, {"space_id": 3}) == "http://coedit.example/spaces/3"
            # In a template, url_for's default outside a request (absolute URLs) holds.
            assert render_template_string("{{ url_for('spaces.show', space_id=3) }}") == url_for(
                "spaces.show", space_id=3
            )
            assert url_for("spaces.show", space_id=3) == "http://coedit.example/spaces/3"
    finally:
        app.config["SERVER_NAME"] = None

    with app.test_request_context():
        assert urls.route_url("spaces.show", False, {"space_id": 3}) == "/spaces/3"  # a template now exists

    # A URL default (here: every URL gains ?lang=) comes from the request, not from a template.
    app.url_default_functions.setdefault(None, []).append(lambda endpoint, values: values.setdefault("lang", "de"))
    try:
        with app.test_request_context():
            assert urls.route_url("spaces.show", False, {"space_id": 3}) == "/spaces/3?lang=de"
    finally:
        app.url_default_functions[None].pop()
        if not app.url_default_functions[None]:
            del app.url_default_functions[None]


def test_the_templates_kept_are_bounded_whatever_hosts_requests_name(world, monkeypatch):
    monkeypatch.setattr(urls, "MAX_TEMPLATES", 5)
    for number in range(20):
        host = f"http://host{number}.example/"
        with world.app.test_request_context(base_url=host):
            assert urls.route_url("spaces.show", True, {"space_id": 1}) == f"{host}spaces/1"
        assert len(world.app.extensions["coedit_route_templates"]) <= 5
