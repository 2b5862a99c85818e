"""Server-to-server endpoints of the emulated Docs: health, command service, conversion service and
the signed /cache/files links (with the download faults)."""

from __future__ import annotations

import os
import time
from xml.sax.saxutils import escape

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import jsonify
from flask import request
from flask import send_file

from . import formats
from . import tokens
from .config import COMMAND_VERSION
from .config import SERVER_VERSION
from .faults import DOWNLOAD_FAULTS

bp = Blueprint("services", __name__)


def emulator():
    """The Emulator instance of the running app."""
    return current_app.extensions["docs_emulator"]


def inbound_params() -> tuple[dict | None, str | None]:
    """Request parameters after Docs' inbox token rules: ``(params, None)`` or ``(None, "invalid"|"expired")``.

    Body ``token`` first, else the configured header without its prefix. With a valid
    token only the token's data counts (tokenRequiredParams).
    """
    opts = emulator().options
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        body = request.args.to_dict() if request.method == "GET" else {}
    if not opts.jwt_enabled:
        return body, None
    token = body.get("token") or tokens.header_token(request.headers.get(opts.jwt_header), opts.jwt_prefix)
    try:
        decoded = tokens.verify(token, opts.jwt_secret)
    except tokens.TokenExpired:
        return None, "expired"
    except tokens.TokenInvalid:
        return None, "invalid"
    return tokens.request_params(decoded), None


@bp.get("/healthcheck")
def healthcheck():
    """Docs answers the text ``true`` when healthy."""
    return Response("true", mimetype="text/plain")


@bp.get("/index.html")
@bp.get("/")
def index():
    """The welcome text, marked as the emulator."""
    return Response(
        f"Server is functioning normally (Document Server emulator). Version: {SERVER_VERSION}", mimetype="text/plain"
    )


# --- command service ---------------------------------------------------------


@bp.route("/command", methods=["POST"])
@bp.route("/coauthoring/CommandService.ashx", methods=["GET", "POST"])
def command():
    """The command service; always HTTP 200 with ``{"key"?, "error": n, ...}``."""
    params, problem = inbound_params()
    if problem:
        return jsonify(error=7 if problem == "expired" else 6)
    return jsonify(run_command(params))


def run_command(params: dict) -> dict:
    """Execute one command (c = version, info, drop, forcesave, meta, license, *Forgotten*)."""
    emu = emulator()
    c = params.get("c")
    key = params.get("key")
    if c == "version":
        return {"error": 0, "version": COMMAND_VERSION}
    if c == "license":
        return license_info()
    if c == "getForgottenList":
        return {"error": 0, "keys": emu.forgotten.keys()}
    if c not in ("info", "drop", "forcesave", "meta", "getForgotten", "deleteForgotten"):
        return {"error": 5} if key is None else {"key": key, "error": 5}
    if not isinstance(key, str):
        return {"key": key, "error": 1}
    if c == "getForgotten":
        url = emu.forgotten.url(key)
        return {"key": key, "error": 0, "url": url} if url else {"key": key, "error": 1}
    if c == "deleteForgotten":
        return {"key": key, "error": 0 if emu.forgotten.delete(key) else 1}
    if c == "meta" and not isinstance(params.get("meta"), dict):
        return {"key": key, "error": 5}
    session = emu.sessions.active(key)
    if session is None:
        return {"key": key, "error": 1}
    if c == "info":
        callback = params.get("callback") if isinstance(params.get("callback"), str) else None
        users = emu.saver.info(session, params.get("userdata"), callback)
        return {"key": key, "error": 0, "users": users}
    if c == "drop":
        users = params.get("users")
        if users is not None and not isinstance(users, list):
            return {"key": key, "error": 5}
        emu.sessions.drop(session, users)
        return {"key": key, "error": 0}
    if c == "forcesave":
        started = emu.saver.forcesave(session, None, params.get("userdata"))
        return {"key": key, "error": 0 if started else 4}
    emu.sessions.set_meta(session, params["meta"])
    return {"key": key, "error": 0}


def license_info() -> dict:
    """A plausible open-source license answer."""
    now = int(time.time())
    return {
        "error": 0,
        "license": {
            "end_date": None,
            "trial": False,
            "customization": False,
            "connections": 20,
            "users_count": 0,
            "users_expire": 0,
        },
        "server": {
            "resultType": 3,
            "packageType": 0,
            "buildDate": "2025-01-01T00:00:00.000Z",
            "buildVersion": SERVER_VERSION,
            "buildNumber": 1,
        },
        "quota": {
            "edit": {"connectionsCount": 0, "usersCount": {"unique": 0, "anonymous": 0}},
            "view": {"connectionsCount": 0, "usersCount": {"unique": 0, "anonymous": 0}},
            "byMonth": [],
            "checked": now,
        },
    }


# --- conversion service --------------------------------------------------------


def _accepts_xml(default_xml: bool) -> bool:
    # Only explicitly named types count; "*/*" keeps the endpoint's default.
    named = {value: quality for value, quality in request.accept_mimetypes}
    q_json = named.get("application/json", 0)
    q_xml = max(named.get("application/xml", 0), named.get("text/xml", 0))
    if default_xml:
        return not (q_json and q_json >= q_xml)
    return bool(q_xml and q_xml > q_json)


def _xml_answer(result: dict) -> Response:
    head = '<?xml version="1.0" encoding="utf-8"?>'
    if "error" in result:
        body = f"<FileResult><Error>{result['error']}</Error></FileResult>"
    elif result.get("endConvert"):
        body = (
            f"<FileResult><FileUrl>{escape(result['fileUrl'])}</FileUrl>"
            f"<FileType>{escape(result['fileType'])}</FileType><Percent>100</Percent>"
            f"<EndConvert>True</EndConvert></FileResult>"
        )
    else:
        percent = int(result.get("percent", 0))
        body = (
            f"<FileResult><FileUrl/><FileType/><Percent>{percent}</Percent><EndConvert>False</EndConvert></FileResult>"
        )
    return Response(head + body, mimetype="application/xml")


def _convert(default_xml: bool):
    params, problem = inbound_params()
    result = {"error": -8} if problem else emulator().converter.handle(params)
    if _accepts_xml(default_xml):
        return _xml_answer(result)
    return jsonify(result)


@bp.route("/converter", methods=["POST"])
def converter():
    """Conversion service; JSON unless the client prefers XML."""
    return _convert(default_xml=False)


@bp.route("/ConvertService.ashx", methods=["GET", "POST"])
def convert_service_legacy():
    """Legacy conversion address; XML unless ``Accept: application/json``."""
    return _convert(default_xml=True)


# --- signed file links -----------------------------------------------------------


@bp.get("/cache/files/<fid>/<fname>")
def cache_file(fid, fname):
    """Serve a produced file: 403 bad signature, 410 expired; download faults apply here."""
    emu = emulator()
    status = emu.store.check(fid, fname, request.args)
    if status != 200:
        abort(status)
    path = emu.store.path(fid, fname)
    if path is None:
        abort(404)
    ext = fname.rsplit(".", 1)[-1].lower()
    faults = {f["fault"]: f for f in emu.faults.take(DOWNLOAD_FAULTS)}
    if "download_slow" in faults:
        emu.jobs.sleep(float(faults["download_slow"].get("seconds", 2.0)))
    if "download_404" in faults:
        abort(404)
    if "download_redirect" in faults:
        return Response("", status=302, headers={"Location": faults["download_redirect"]["location"]})
    if "download_garbage" in faults:
        junk = os.urandom(max(256, path.stat().st_size))
        junk = b"XX" + junk[2:]  # never a zip ("PK") or PDF header
        return Response(junk, mimetype=formats.mime_type(ext))
    if "download_truncated" in faults:
        return _truncated(path.read_bytes(), ext, faults["download_truncated"].get("mode", "short"))
    return send_file(
        path,
        mimetype=formats.mime_type(ext),
        as_attachment=True,
        download_name=request.args.get("filename") or fname,
        max_age=0,
    )


def _truncated(data: bytes, ext: str, mode: str) -> Response:
    half = data[: len(data) // 2]

    def body():
        yield half

    # "short": promise every byte, send half, then drop the connection (an interrupted transfer).
    # "half": a consistent but cut file (Content-Length = the half actually sent).
    length = len(half) if mode == "half" else len(data)
    resp = Response(body(), mimetype=formats.mime_type(ext), direct_passthrough=True)
    resp.headers["Content-Length"] = str(length)
    resp.headers["Connection"] = "close"
    return resp
