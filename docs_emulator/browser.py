"""Browser side of the emulator: api.js, the editor page shown in the iframe, and the small JSON API
that page uses (open, poll, append, save, leave, history data)."""

from __future__ import annotations

from importlib import resources

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import jsonify
from flask import request

from . import documents
from . import formats
from . import requested
from . import tokens
from .errors import ConfigAlert
from .errors import ControlError
from .outbound import DownloadError

bp = Blueprint("browser", __name__)

STATIC = resources.files(__package__) / "static"
EDITOR_VARIANTS = {"main", "mobile", "embed", "forms"}

# The iframe page is ours: only our own scripts and styles, embeddable anywhere.
EDITOR_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors *; base-uri 'none'; form-action 'none'"
)

EDITOR_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Document Server emulator</title>
<link rel="stylesheet" href="../../emulator/editor.css">
</head>
<body data-app="{app}">
<header class="emu-banner">Document Server emulator &middot; {app} &middot; not a real editor</header>
<div id="emu-error" class="emu-error" role="alert" hidden></div>
<div id="emu-warning" class="emu-warning" role="status" hidden></div>
<div id="emu-message" class="emu-message" role="status" hidden></div>
<main id="emu-main" hidden>
  <h1 id="emu-title"></h1>
  <p class="emu-meta">Mode: <span id="emu-mode"></span> &middot; User: <span id="emu-user"></span></p>
  <p class="emu-meta">In this session:</p>
  <ul id="emu-users" class="emu-users"></ul>
  <div id="emu-toolbar" class="emu-toolbar"></div>
  <div id="emu-extra"></div>
  <div id="emu-content" class="emu-content"></div>
  <section id="emu-history-view" class="emu-history" hidden>
    <h2>Version history</h2>
    <div id="emu-history-error" class="emu-error" hidden></div>
    <ul id="emu-history-list"></ul>
    <div id="emu-history-info"></div>
    <div id="emu-history-content" class="emu-content"></div>
    <div id="emu-history-buttons"></div>
  </section>
</main>
<script src="../../emulator/editor.js"></script>
</body>
</html>
"""


def emulator():
    """The Emulator instance of the running app."""
    return current_app.extensions["docs_emulator"]


def _static(name: str, mimetype: str) -> Response:
    resp = Response((STATIC / name).read_bytes(), mimetype=mimetype)
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.get("/web-apps/apps/api/documents/api.js")
def api_js():
    """The browser API script (defines window.DocsAPI)."""
    resp = _static("api.js", "application/javascript")
    # Scripts are loaded cross-origin by the integrator's page.
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


@bp.get("/web-apps/apps/emulator/<name>")
def editor_asset(name):
    """Script and stylesheet of the emulated editor page."""
    types = {"editor.js": "application/javascript", "editor.css": "text/css"}
    if name not in types:
        abort(404)
    return _static(name, types[name])


@bp.get("/web-apps/apps/<app>/<variant>/index.html")
def editor_page(app, variant):
    """The page api.js loads into the iframe."""
    if app not in formats.EDITOR_APPS.values() or variant not in EDITOR_VARIANTS:
        abort(404)
    resp = Response(EDITOR_HTML.format(app=app), mimetype="text/html")
    resp.headers["Content-Security-Policy"] = EDITOR_CSP
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _body() -> dict:
    # sendBeacon posts text/plain, so parse regardless of Content-Type.
    data = request.get_json(force=True, silent=True)
    return data if isinstance(data, dict) else {}


def _public(result: dict) -> dict:
    out = {k: v for k, v in result.items() if k != "threads"}
    config = out.get("config")
    if isinstance(config, dict):
        config = dict(config)
        config.pop("token", None)
        if isinstance(config.get("document"), dict):
            config["document"] = {k: v for k, v in config["document"].items() if k != "token"}
        out["config"] = config
    return out


@bp.post("/_emu/editor/open")
def editor_open():
    """Verify the config the page received by postMessage, download the file, join the session."""
    body = _body()
    sessions = emulator().sessions
    if body.get("replace"):
        sessions.leave(str(body["replace"]), {"reason": "refreshed"})
    try:
        result = sessions.open_editor(body.get("config"), browser=True)
    except ConfigAlert as exc:
        return jsonify(error=-1, alert=str(exc), errorDescription=str(exc))
    return jsonify(_public(result))


@bp.get("/_emu/editor/poll")
def editor_poll():
    """Current users, content and queued events for one editor."""
    return jsonify(emulator().sessions.poll(request.args.get("conn", "")))


@bp.post("/_emu/editor/append")
def editor_append():
    """The Append button."""
    body = _body()
    try:
        session = emulator().sessions.append(str(body.get("conn")), str(body.get("text", "")))
    except ControlError as exc:
        return jsonify(error=str(exc)), exc.http_status
    return jsonify(ok=True, lines=session.lines(), rev=session.rev)


@bp.post("/_emu/editor/forcesave")
def editor_forcesave():
    """The Save button (customization.forcesave)."""
    emu = emulator()
    try:
        session, p = emu.sessions.participant(str(_body().get("conn")))
    except ControlError as exc:
        return jsonify(error=str(exc)), exc.http_status
    started = emu.saver.forcesave(session, p)
    return jsonify(ok=True, sent=bool(started))


@bp.post("/_emu/editor/leave")
def editor_leave():
    """Close button, destroyEditor or page unload."""
    emulator().sessions.leave(str(_body().get("conn")), {"reason": "closed"})
    return jsonify(ok=True)


@bp.post("/_emu/editor/download-url")
def editor_download_url():
    """A signed link to the current content (onRequestSaveAs)."""
    emu = emulator()
    try:
        session, _ = emu.sessions.participant(str(_body().get("conn")))
    except ControlError as exc:
        return jsonify(error=str(exc)), exc.http_status
    url, file_type = emu.saver.content_url(session)
    return jsonify(url=url, fileType=file_type, title=session.title)


@bp.post("/_emu/editor/history-data")
def editor_history_data():
    """Check a setHistoryData object like Docs: verify its token, fetch its files."""
    emu = emulator()
    body = _body()
    try:
        emu.sessions.participant(str(body.get("conn")))
    except ControlError as exc:
        return jsonify(error=str(exc)), exc.http_status
    data = body.get("data") if isinstance(body.get("data"), dict) else {}
    if data.get("error"):
        return jsonify(error=str(data["error"]) if data["error"] is not True else "History loading failed")
    if emu.options.jwt_enabled:
        try:
            decoded = tokens.verify(data.get("token"), emu.options.jwt_secret)
        except tokens.TokenExpired:
            return jsonify(error="History loading failed: the history token has expired")
        except tokens.TokenInvalid as exc:
            return jsonify(error=f"History loading failed: invalid history token ({exc})")
        data = {**{k: v for k, v in data.items() if k != "token"}, **tokens.strip_claims(decoded)}
    if not data.get("url"):
        return jsonify(error="History loading failed: no url")
    file_type = str(data.get("fileType") or "").lower() or None
    result = {"version": data.get("version"), "key": data.get("key")}
    try:
        content = emu.downloader.fetch(data["url"], "history")
    except DownloadError as exc:
        return jsonify(error=f"History loading failed: download of url failed ({exc})")
    ext = file_type or str(data["url"]).split("?")[0].rsplit(".", 1)[-1].lower()
    try:
        result["lines"] = (
            documents.text_lines(content, ext)
            if ext in formats.RENDERED
            else [f"{ext.upper()} document, {len(content)} bytes"]
        )
    except documents.ContentError as exc:
        return jsonify(error=f"History loading failed: {exc}")
    extras = []
    for label, url in (
        ("changesUrl", data.get("changesUrl")),
        ("previous.url", (data.get("previous") or {}).get("url") if isinstance(data.get("previous"), dict) else None),
    ):
        if url:
            try:
                got = emu.downloader.fetch(url, "history")
                zip_note = " (zip)" if label == "changesUrl" and got[:2] == b"PK" else ""
                extras.append(f"{label}: {len(got)} bytes{zip_note}")
            except DownloadError as exc:
                extras.append(f"{label}: download failed ({exc})")
    result["info"] = extras
    return jsonify(result)


@bp.post("/_emu/editor/requested")
def editor_requested():
    """Check an object handed to insertImage, setRequestedDocument, setRequestedSpreadsheet,
    setReferenceData or setReferenceSource like Docs: verify its token, fetch its files."""
    emu = emulator()
    body = _body()
    try:
        emu.sessions.participant(str(body.get("conn")))
    except ControlError as exc:
        return jsonify(error=str(exc)), exc.http_status
    return jsonify(requested.check(emu, str(body.get("method")), body.get("data")))
