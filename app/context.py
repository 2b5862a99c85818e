"""The current app context in one look-up, for the functions every request runs.

``flask.g`` and ``current_app`` are proxies: each use finds the context again, which costs about
as much as twenty dict look-ups. The functions on the hot paths (settings, generations, the
request line, signed links) find it once here and use its ``app`` and ``g``. It is the context
variable Flask's own ``has_app_context`` reads (``request`` likewise for the request context).
"""

from flask.ctx import AppContext
from flask.ctx import RequestContext
from flask.globals import _cv_app
from flask.globals import _cv_request


def current() -> AppContext | None:
    """The app context (its ``app`` and ``g``), or None outside one."""
    return _cv_app.get(None)


def required() -> AppContext:
    """The app context; RuntimeError outside one, as ``g`` and ``current_app`` raise."""
    ctx = _cv_app.get(None)
    if ctx is None:
        raise RuntimeError("Working outside of application context.")
    return ctx


def request() -> RequestContext | None:
    """The request context (its ``app``, ``request`` and ``url_adapter``), or None outside one."""
    return _cv_request.get(None)
