"""Download and callback endpoints for the Document Server."""

import json
import logging
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import abort
from flask import current_app
from flask import jsonify
from flask import request

from app.backend import bp
from app.extensions import db
from app.models import File
from app.ops.metrics import CALLBACKS
from app.ops.metrics import DOWNLOADS
from app.services import blanks
from app.services import callbacks
from app.services import docs_jwt
from app.services import files as file_service
from app.services import formats
from app.services import links
from app.services import rights
from app.services import settings
from app.services import sending
from app.services.exceptions import BadRequest
from app.services.exceptions import Forbidden
from app.services.exceptions import NotFound
from app.services.exceptions import SaveFailed
from app.services.exceptions import SaveRejected
from app.services.exceptions import StorageError

log = logging.getLogger("coedit.backend")
MAX_CALLBACK_BYTES = 1024 * 1024


def _linked_file(claims: dict, file_id: int) -> File | None:
    """The file a link names, or None when it is gone (or its id now belongs to another file)."""
    file = db.session.get(File, file_id)
    return file if file is not None and claims.get("s", "") == file.key_salt else None


def _same_request(signed_url: str) -> bool:
    """Whether the URL inside the Docs JWT is this very request (hosts may differ behind proxies)."""
    signed = urlsplit(signed_url)
    return signed.path == request.path and parse_qs(signed.query) == parse_qs(request.query_string.decode())


def _verify_download_jwt() -> None:
    """Docs signs every download with ``{"payload": {"url": <the URL>}}`` in its JWT header.

    :raise Forbidden: no valid Docs JWT naming this URL (a token we made for a browser never is one).
    """
    claims = docs_jwt.decode(docs_jwt.token_from_header(request.headers))
    payload = claims.get("payload")
    url = payload.get("url") if isinstance(payload, dict) else None
    if not isinstance(url, str) or not _same_request(url):
        raise Forbidden("token is for another URL")


def _linked_version(purpose: str, max_age: int, file_id: int, number: int | None = None,
                    signed_by_docs: bool = True):
    """The file, version and claims a signed link names; aborts 403 for a bad link or Docs JWT,
    404 when the file or version is gone. ``number`` is the version in the path, if any."""
    try:
        claims = links.verify(purpose, request.args.get("token", ""), max_age)
        wanted = claims.get("v") if number is None else number
        if claims.get("f") != file_id or claims.get("v") != wanted or not isinstance(wanted, int):
            raise Forbidden("link is for another file or version")
        if signed_by_docs:
            _verify_download_jwt()
    except Forbidden as exc:
        _refuse(purpose, file_id, exc.message)
    file = _linked_file(claims, file_id)
    version = file_service.get_version(file, wanted) if file else None
    if version is None:
        DOWNLOADS.labels(purpose, "missing").inc()
        abort(404)
    return file, version, claims


def _refuse(purpose: str, file_id: int, reason: str):
    log.warning("%s of file %s refused: %s", purpose, file_id, reason)
    DOWNLOADS.labels(purpose, "refused").inc()
    abort(403)


@bp.route("/files/<int:file_id>/download", methods=("GET",))
def download(file_id: int):
    """Docs fetches a version here: our link token and its JWT must both hold, and the person the
    link was made for must still be allowed to read the file (Docs shows it to them)."""
    file, version, claims = _linked_version("download", current_app.config["DOWNLOAD_LINK_SECONDS"], file_id)
    if not rights.at_least(rights.participant_level(file, claims.get("u")), "read"):
        _refuse("download", file_id, "its reader lost access")
    DOWNLOADS.labels("download", "served").inc()
    return sending.send_version(file, version)


@bp.route("/files/<int:file_id>/versions/<int:number>", methods=("GET",))
def history_version(file_id: int, number: int):
    """One version's content for the history viewer; Docs fetches it with its JWT, like a download,
    for a person who must still read the file."""
    file, version, claims = _linked_version("history", current_app.config["HISTORY_LINK_SECONDS"], file_id, number)
    if not rights.at_least(rights.participant_level(file, claims.get("u")), "read"):
        _refuse("history", file_id, "its reader lost access")
    DOWNLOADS.labels("history", "served").inc()
    return sending.send_version(file, version)


@bp.route("/files/<int:file_id>/versions/<int:number>/changes", methods=("GET",))
def history_changes(file_id: int, number: int):
    """The changes zip of a version, for highlighting in the history viewer.

    The editor frame may fetch it itself (without a Docs JWT), so the link is the credential: it is
    made only for people who may download the file, names them, is re-checked here, and only Docs'
    origin may read the answer from a browser.
    """
    file, version, claims = _linked_version("changes", current_app.config["HISTORY_LINK_SECONDS"], file_id,
                                            number, signed_by_docs=False)
    if not rights.may_download(file, rights.participant_level(file, claims.get("u"))):
        _refuse("changes", file_id, "its reader may not download the file")
    if not version.changes_storage_key:
        abort(404)
    response = sending.send_blob(version.changes_storage_key, "application/zip")
    origin = settings.http_origin(settings.get("docs_url"))
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
    return response


@bp.route("/check/blank.docx", methods=("GET",))
def blank():
    """A blank docx for the connection test's conversion round trip."""
    try:
        links.verify("check", request.args.get("token", ""), 600)
        _verify_download_jwt()
    except Forbidden:
        abort(403)
    return current_app.response_class(blanks.make_blank("docx"), mimetype=formats.mime_type("docx"))


def _answer(error: int, status: int = 200, callback_status="?"):
    CALLBACKS.labels(str(callback_status), str(status)).inc()
    return jsonify(error=error), status


@bp.route("/files/<int:file_id>/track", methods=("POST",))
def track(file_id: int):
    """A callback from Docs: verified, applied, and answered {"error": 0} only once durable.

    403 bad link or JWT, 400 malformed, 404 file gone, 422 refused document,
    503 transient failure (Docs retries and, failing that, keeps a forgotten copy).
    """
    data: dict = {}
    claims: dict = {}
    try:
        claims = links.verify("track", request.args.get("token", ""))
        file = db.session.get(File, file_id)
        if claims.get("f") != file_id or (file is not None and claims.get("s", "") != file.key_salt):
            raise Forbidden("link is for another file (or a deleted one whose id was reused)")
        # Read at most one byte past the limit, whatever Content-Length says (or if it is chunked).
        raw = request.stream.read(MAX_CALLBACK_BYTES + 1)
        if len(raw) > MAX_CALLBACK_BYTES or (request.content_length or 0) > MAX_CALLBACK_BYTES:
            raise BadRequest("body too large")
        try:
            body = json.loads(raw or b"null")
        except (ValueError, RecursionError):
            raise BadRequest("body is not JSON (or nested too deeply)") from None
        if not isinstance(body, dict):
            raise BadRequest("body is not a JSON object")
        token = body.get("token") if isinstance(body.get("token"), str) else docs_jwt.token_from_header(request.headers)
        decoded = docs_jwt.decode(token)
        # The header form wraps the body in "payload"; only signed content is used.
        data = decoded["payload"] if isinstance(decoded.get("payload"), dict) else decoded
        outcome = callbacks.process(file_id, data)
    except Forbidden as exc:
        log.warning("callback for file %s refused: %s", file_id, exc.message)
        return _answer(1, 403, data.get("status", "?"))
    except BadRequest as exc:
        log.warning("callback for file %s malformed: %s", file_id, exc.message)
        return _answer(1, 400, "?")
    except NotFound as exc:
        log.warning("callback for file %s: %s", file_id, exc.message)
        callbacks.report_arrival_after_delete(file_id, claims.get("s", ""), data)
        return _answer(1, 404, data.get("status", "?"))
    except SaveRejected as exc:
        db.session.rollback()
        log.warning("save for file %s refused: %s", file_id, exc.message)
        if exc.http_status == 422:  # a broken document, not a forged request: people should know
            callbacks.report_failure(file_id, data, "the edited file was damaged")
            callbacks.end_refused_session(file_id, data)
        return _answer(1, exc.http_status, data.get("status", "?"))
    except (SaveFailed, StorageError, OSError, sa.exc.SQLAlchemyError) as exc:
        db.session.rollback()
        log.error("save for file %s failed, Docs will retry: %s", file_id, getattr(exc, "message", "") or exc.__class__.__name__)
        callbacks.report_failure(file_id, data, "the server could not store it")
        return _answer(1, 503, data.get("status", "?"))
    log.info("callback for file %s status %s: %s", file_id, data.get("status"), outcome)
    return _answer(0, 200, data.get("status", "?"))
