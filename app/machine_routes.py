"""Routes called by machines, not people: Docs' downloads and callbacks, probes and metrics.

They carry no session cookie, CSRF token or sign-in, and have no rate limits (Docs calls on every
join, leave and save of every session; a limit there would drop saves). Flask-Login, Flask-WTF's
CSRF check and Flask-Limiter still hook every request of the app, each costing more than a bare
Flask request; on these blueprints their hooks return at once. Anything these routes answer is
authenticated by the route itself (Docs' JWT and our signed links).
"""

import functools

from flask import Flask
from flask import request

MACHINE_BLUEPRINTS = frozenset({"backend", "ops"})

# The extensions whose per-request hooks serve people only.
PEOPLE_EXTENSIONS = ("flask_login", "flask_wtf", "flask_limiter")


def skip_people_hooks(app: Flask) -> None:
    """Make the app-wide hooks of PEOPLE_EXTENSIONS return at once on MACHINE_BLUEPRINTS."""
    for registry, gate in (
        (app.before_request_funcs, _before_unless_machine),
        (app.after_request_funcs, _after_unless_machine),
        (app.teardown_request_funcs, _teardown_unless_machine),
    ):
        hooks = registry.get(None, [])
        hooks[:] = [gate(hook) if _is_people_hook(hook) else hook for hook in hooks]


def _is_people_hook(hook) -> bool:
    target = hook.func if isinstance(hook, functools.partial) else hook
    return (getattr(target, "__module__", None) or "").split(".")[0] in PEOPLE_EXTENSIONS


def _before_unless_machine(hook):
    def gated():
        if request.blueprint not in MACHINE_BLUEPRINTS:
            return hook()
        return None

    return gated


def _after_unless_machine(hook):
    def gated(response):
        return response if request.blueprint in MACHINE_BLUEPRINTS else hook(response)

    return gated


def _teardown_unless_machine(hook):
    def gated(error):
        if request.blueprint not in MACHINE_BLUEPRINTS:
            hook(error)

    return gated
