"""The people-facing extensions' hooks (sign-in, CSRF, rate limits) return at once on the routes
machines call (Docs' downloads and callbacks, probes, metrics), and run everywhere else."""

from flask import Blueprint
from flask import Flask
from flask import request

from app import machine_routes
from tests.conftest import build_app


def test_people_hooks_are_skipped_on_machine_blueprints_only():
    app = Flask(__name__)
    calls = []

    def people_before():
        calls.append(("before", request.path))

    def people_after(response):
        calls.append(("after", request.path))
        response.headers["X-People"] = "1"
        return response

    def people_teardown(error):
        calls.append(("teardown", request.path))

    def own_hook(response):
        response.headers["X-Own"] = "1"
        return response

    for hook in (people_before, people_after, people_teardown):
        hook.__module__ = "flask_login.login_manager"  # as if an extension registered it
    app.before_request(people_before)
    app.after_request(people_after)
    app.after_request(own_hook)
    app.teardown_request(people_teardown)
    for name in ("backend", "spaces"):
        blueprint = Blueprint(name, __name__, url_prefix=f"/{name}")
        blueprint.add_url_rule("/ping", "ping", lambda: "pong")
        app.register_blueprint(blueprint)
    machine_routes.skip_people_hooks(app)

    client = app.test_client()
    machine = client.get("/backend/ping")
    assert machine.data == b"pong" and "X-People" not in machine.headers and machine.headers["X-Own"] == "1"
    assert calls == []
    person = client.get("/spaces/ping")
    assert person.headers["X-People"] == "1" and person.headers["X-Own"] == "1"
    assert calls == [("before", "/spaces/ping"), ("after", "/spaces/ping"), ("teardown", "/spaces/ping")]


def test_every_hook_of_the_people_extensions_is_gated_in_the_app(tmp_path):
    app = build_app(tmp_path)
    registries = (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs)
    hooks = [hook for registry in registries for hook in registry.get(None, [])]
    assert not [hook for hook in hooks if machine_routes._is_people_hook(hook)]
    assert len([hook for hook in hooks if hook.__module__ == machine_routes.__name__]) >= 5


def test_a_machine_route_leaves_the_session_untouched(world):
    """A signed-in browser's cookie rides along to /healthz: no Vary: Cookie, no new cookie."""
    client = world.client("alice")
    probe = client.get("/healthz")
    assert probe.status_code == 200 and "Cookie" not in probe.headers.get("Vary", "")
    assert "Set-Cookie" not in probe.headers
    page = client.get("/")
    assert "Cookie" in page.headers.get("Vary", "")
