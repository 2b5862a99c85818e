"""Logs: one line per request and per notable event, as text or JSON lines (LOG_FORMAT).

Every record made while a request is handled carries its request id: the X-Request-ID a trusted
proxy set (only when PROXY_HOPS says one stands in front; a client could set it otherwise), else
a new one, echoed back in the response. Paths are logged without their query strings (signed
tokens) and with share-link secrets masked, as the access log does.
"""

import json
import logging
import os
import re
import time
from datetime import datetime
from datetime import timezone

import sqlalchemy as sa
from flask import Flask
from flask import request

from app import context
from app.models import User
from app.ops import metrics
from app.ops.access_log import redact

log = logging.getLogger("coedit.request")

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Attributes every LogRecord has; anything else was passed with extra= and goes into the line.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the request id and the extras."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,  # which gunicorn worker
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_"):
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class RequestContextFilter(logging.Filter):
    """Put the current request's id (and signed-in user) on every record made while handling it."""

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = context.current()  # g is the app context's: the id is set before Flask's dispatch too
        if ctx is not None and "request_id" in ctx.g and not hasattr(record, "request_id"):
            record.request_id = ctx.g.request_id
        return True


def configure(app: Flask) -> None:
    """Handlers for the chosen LOG_FORMAT (not in tests or debug, whose runners own logging)."""
    if app.testing or app.debug:
        return
    # Every request writes a line, so a record gathers only what the formats below (and
    # gunicorn's, which shows the pid) print: not the calling file and line, which costs a walk up
    # the stack, nor the thread's or multiprocessing's names (Python's logging HOWTO, "Optimization").
    logging._srcfile = None
    logging.logThreads = False
    logging.logMultiprocessing = False
    root = logging.getLogger()
    if app.config.get("LOG_FORMAT") == "json":
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        handler.addFilter(RequestContextFilter())
        root.handlers[:] = [handler]
        root.setLevel(logging.INFO)
    else:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def init_app(app: Flask) -> None:
    """Request id, duration metric and request line: stamped before, observed after, and on
    teardown for a request that ended in an unhandled error (after_request never ran)."""
    # First of all before_request functions: one that answers early (a rate limit's 429, a
    # redirect to sign in) skips those after it, and its request must still be timed and logged.
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)
    app.teardown_request(_teardown)


def request_id(given: str) -> str:
    """The request's id: the one a trusted proxy gave (``given``), else a new one."""
    if context.required().app.config.get("PROXY_HOPS") and _SAFE_REQUEST_ID.match(given):
        return given
    return os.urandom(16).hex()  # as random as uuid4, without building a UUID


# The hooks below run on every request: each finds the context and the request once, not at every
# use of ``g`` and ``request``.
def _start() -> None:
    ctx_g = context.required().g
    ctx_g.request_started = time.perf_counter()
    ctx_g.request_id = request_id(request._get_current_object().headers.get(REQUEST_ID_HEADER, ""))


def _finish(response):
    ctx_g = context.required().g
    if "request_id" in ctx_g:
        response.headers.add(REQUEST_ID_HEADER, ctx_g.request_id)  # no view sets it
    _record(ctx_g, response.status_code)
    return response


def _teardown(error) -> None:
    if error is not None:
        _record(context.required().g, 500)


def _record(ctx_g, status: int) -> None:
    started = ctx_g.pop("request_started", None)
    if started is None:  # recorded already (after_request, then teardown)
        return
    req = request._get_current_object()
    record_request(
        req.method,
        req.path,
        req.endpoint or "unmatched",
        status,
        time.perf_counter() - started,
        req.remote_addr,
        _user_id(ctx_g),
        (req.view_args or {}).get("file_id"),
    )


def record_request(method, path, endpoint, status, seconds, remote_addr, user_id=None, file_id=None) -> None:
    """The request's duration metric and its line."""
    metrics.observe_request(endpoint, status, seconds)
    fields = {
        "event": "request",
        "method": method,
        "path": redact(path),
        "endpoint": endpoint,
        "status": status,
        "duration_ms": round(seconds * 1000, 1),
        "remote_addr": remote_addr,
        "user_id": user_id,
    }
    if file_id is not None:
        fields["file_id"] = file_id
    log.info("%s %s %s", method, fields["path"], status, extra=fields)


def _user_id(ctx_g) -> str | None:
    # The id of the user this request identified, never get_id() (the session token, a
    # credential). Read from what Flask-Login loaded, without loading anyone for the log's sake
    # and without touching the user's attributes: after a commit they would be read again.
    user = ctx_g.get("_login_user")
    if not isinstance(user, User):
        return None
    identity = sa.inspect(user).identity  # the primary key as loaded; no query even when expired
    return str(identity[0]) if identity else None
