"""Status-1 callbacks that change nothing, answered before Flask's dispatch.

Docs sends status 1 on every join, leave and reconnect of every co-editor, and most change
nothing. Going through Flask's request dispatch and the hooks of every extension costs more than
deciding them. This WSGI middleware answers exactly those: a POST to the track route whose
signed link and Docs' JWT (in the body) verify, for a file and key that are current, whose
people may still change the file and whose editors are the ones already recorded
(``callbacks.settled_editing``). It answers ``{"error": 0}`` with the request's log line,
metrics, request id and security headers, as the app would.

Everything else, and anything it cannot decide, goes on to the app with the body as read: the
app's track route decides it from the start and reports what fails.
"""

import io
import json
import logging
import time
from urllib.parse import parse_qs

from flask import Flask
from werkzeug.datastructures import EnvironHeaders

from app import security
from app.ops import logs
from app.ops import metrics
from app.services.docs import callbacks
from app.services.docs import links
from app.services.docs import tokens

log = logging.getLogger("coedit.callbacks")

ENDPOINT = "backend.track"
ANSWER = b'{"error":0}\n'


def install(app: Flask) -> None:
    app.wsgi_app = SettledCallbacks(app, app.wsgi_app)


class SettledCallbacks:
    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        # The track route's path around its file id, as the app's URL map has it.
        [rule] = [rule.rule for rule in app.url_map.iter_rules() if rule.endpoint == ENDPOINT]
        self.path_prefix, self.path_suffix = rule.split("<int:file_id>")

    def __call__(self, environ, start_response):
        file_id = self._track_file_id(environ)
        if file_id is None:
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        body = _read_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)  # for the app, should it decide instead
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        with self.app.app_context() as ctx:
            data = _settled(file_id, environ, body)
            if data is None:
                request_id = None
            else:
                request_id = ctx.g.request_id = logs.request_id(environ.get("HTTP_X_REQUEST_ID", ""))
                seconds = time.perf_counter() - started
                metrics.CALLBACK_DURATION.observe(seconds)
                log.debug("callback for file %s status 1: editing", file_id)
                metrics.callback_handled(file_id, data, "editing", repeated=True)
                logs.record_request("POST", environ["PATH_INFO"], ENDPOINT, 200, seconds, environ.get("REMOTE_ADDR"))
        if request_id is None:
            return self.wsgi_app(environ, start_response)
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(ANSWER)))]
        headers += [*security.DEFAULT_HEADERS, (logs.REQUEST_ID_HEADER, request_id)]
        start_response("200 OK", headers)
        return [ANSWER]

    def _track_file_id(self, environ) -> int | None:
        """The file id of a POST to the track route, else None."""
        path, prefix, suffix = environ.get("PATH_INFO", ""), self.path_prefix, self.path_suffix
        if environ.get("REQUEST_METHOD") != "POST" or not (path.startswith(prefix) and path.endswith(suffix)):
            return None
        digits = path[len(prefix) : len(path) - len(suffix)]
        return int(digits) if digits.isdigit() and digits.isascii() and len(digits) < 19 else None


def _read_body(environ) -> bytes:
    """At most one byte more than the app's limit: it refuses a body that long itself."""
    stream = environ["wsgi.input"]
    try:
        length = int(environ.get("CONTENT_LENGTH") or -1)
    except ValueError:
        length = -1
    limit = callbacks.MAX_BODY_BYTES + 1
    if length >= 0:
        return stream.read(min(length, limit))
    if environ.get("wsgi.input_terminated"):  # chunked, and the server ends the stream
        return stream.read(limit)
    return b""


def _settled(file_id: int, environ, body: bytes) -> dict | None:
    """The verified callback body when it is a settled status 1, else None (the app decides)."""
    try:
        token = parse_qs(environ.get("QUERY_STRING", "")).get("token", [""])[0]
        claims = links.verify_for_file("track", token, file_id)
        parsed = json.loads(body)
        if not isinstance(parsed, dict) or not isinstance(parsed.get("token"), str):
            return None
        data = tokens.verified_payload(EnvironHeaders(environ), parsed)
        return data if callbacks.settled_editing(file_id, claims.get("s", ""), data) else None
    except Exception:  # noqa: BLE001 - whatever fails here, the app decides it again and reports it
        return None
