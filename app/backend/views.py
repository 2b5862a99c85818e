"""The routes the Document Server calls: downloads of versions and changes, and callbacks.

Thin: the link and Docs' JWT are checked by ``links.linked_file`` and ``tokens.verified_payload``,
rights by ``rights``, and callbacks are received and answered by ``callbacks.receive``.
"""

import logging
from urllib.parse import parse_qs
from urllib.parse import urlsplit

from flask import abort
from flask import current_app
from flask import jsonify
from flask import request

from app import downloads
from app.backend import bp
from app.ops import metrics
from app.ops.metrics import DOWNLOADS
from app.services import blanks
from app.services import files as file_service
from app.services import formats
from app.services import rights
from app.services import settings
from app.services import templates
from app.services.docs import callbacks
from app.services.docs import links
from app.services.docs import tokens
from app.services.exceptions import ForbiddenError

log = logging.getLogger("coedit.backend")


def _signed_for_this_url() -> None:
    """Docs signs every download with ``{"payload": {"url": <the URL>}}`` in its JWT header.

    :raise ForbiddenError: no valid Docs JWT naming this URL (a token we made for a browser never is one).
    """
    url = tokens.verified_payload(request.headers).get("url")
    signed = urlsplit(url) if isinstance(url, str) else None
    # Hosts may differ behind proxies; the path and query must be this very request's.
    if (
        signed is None
        or signed.path != request.path
        or parse_qs(signed.query) != parse_qs(request.query_string.decode())
    ):
        raise ForbiddenError("token is for another URL")


def _linked_version(purpose: str, max_age: int, file_id: int, number: int | None = None, signed_by_docs: bool = True):
    """The file, version and claims a signed link names; aborts 403 for a bad link or Docs JWT,
    404 when the file or version is gone. ``number`` is the version in the path, if any."""
    try:
        claims, file = links.linked_file(purpose, request.args.get("token", ""), file_id, max_age)
        wanted = claims.get("v") if number is None else number
        if claims.get("v") != wanted or not isinstance(wanted, int):
            raise ForbiddenError("link is for another version")
        if signed_by_docs:
            _signed_for_this_url()
    except ForbiddenError as exc:
        _refuse(purpose, file_id, exc.message)
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
    return downloads.send_version(file, version)


@bp.route("/files/<int:file_id>/versions/<int:number>", methods=("GET",))
def history_version(file_id: int, number: int):
    """One version's content for the history viewer; Docs fetches it with its JWT, like a download,
    for a person who must still read the file."""
    file, version, claims = _linked_version("history", current_app.config["HISTORY_LINK_SECONDS"], file_id, number)
    if not rights.at_least(rights.participant_level(file, claims.get("u")), "read"):
        _refuse("history", file_id, "its reader lost access")
    DOWNLOADS.labels("history", "served").inc()
    return downloads.send_version(file, version)


@bp.route("/files/<int:file_id>/versions/<int:number>/changes", methods=("GET",))
def history_changes(file_id: int, number: int):
    """The changes zip of a version, for highlighting in the history viewer.

    The editor frame may fetch it itself (without a Docs JWT), so the link is the credential: it is
    made only for people who may download the file, names them, is re-checked here, and only Docs'
    origin may read the answer from a browser.
    """
    file, version, claims = _linked_version(
        "changes", current_app.config["HISTORY_LINK_SECONDS"], file_id, number, signed_by_docs=False
    )
    if not rights.may_download(file, rights.participant_level(file, claims.get("u"))):
        _refuse("changes", file_id, "its reader may not download the file")
    if not version.changes_storage_key:
        abort(404)
    response = downloads.send_blob(version.changes_storage_key, "application/zip")
    origin = settings.http_origin(settings.get("docs_url"))
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
    return response


@bp.route("/files/<int:file_id>/convert-source", methods=("GET",))
def convert_source(file_id: int):
    """A version for the conversion service (conversions, Download as, previews), with our link
    token (purpose "convert") and Docs' JWT. A person's conversion must still be theirs to take:
    they may download the file; a preview (no person) is only ever shown to its readers."""
    file, version, claims = _linked_version("convert", current_app.config["DOWNLOAD_LINK_SECONDS"], file_id)
    who = claims.get("u")
    if who != "" and not rights.may_download(file, rights.participant_level(file, who)):
        _refuse("convert", file_id, "its reader may not download the file")
    DOWNLOADS.labels("convert", "served").inc()
    return downloads.send_version(file, version)


@bp.route("/files/<int:file_id>/insert-source", methods=("GET",))
def insert_source(file_id: int):
    """A file the editor asked for (an image, a document to compare, a mail-merge or linked-data
    source), fetched by Docs with its JWT for the person who picked it, who must still be allowed
    to read and download it."""
    file, version, claims = _linked_version("insert", current_app.config["INSERT_LINK_SECONDS"], file_id)
    if not rights.may_download(file, rights.participant_level(file, claims.get("u"))):
        _refuse("insert", file_id, "its reader may not download the file")
    DOWNLOADS.labels("insert", "served").inc()
    return downloads.send_version(file, version)


@bp.route("/templates/<int:template_id>/source", methods=("GET",))
def template_source(template_id: int):
    """A document template for the conversion service (its preview), with our link token (purpose
    "template") and Docs' JWT, as a version's convert-source."""
    try:
        template = templates.linked(
            request.args.get("token", ""), template_id, current_app.config["DOWNLOAD_LINK_SECONDS"]
        )
        _signed_for_this_url()
    except ForbiddenError as exc:
        log.warning("template %s refused: %s", template_id, exc.message)
        DOWNLOADS.labels("template", "refused").inc()
        abort(403)
    if template is None:
        DOWNLOADS.labels("template", "missing").inc()
        abort(404)
    DOWNLOADS.labels("template", "served").inc()
    return downloads.send_blob(template.storage_key, formats.mime_type(template.ext))


@bp.route("/check/blank.docx", methods=("GET",))
def blank():
    """A blank docx for the connection test's conversion round trip."""
    try:
        claims = links.verify("check", request.args.get("token", ""), 600)
        # A test of unsaved settings: Docs signs with the secret being tried, unknown here; the
        # link itself is ours and short-lived, and a blank document is all it gives.
        if not claims.get("trial"):
            _signed_for_this_url()
    except ForbiddenError:
        abort(403)
    return current_app.response_class(blanks.make_blank("docx"), mimetype=formats.mime_type("docx"))


@bp.route("/files/<int:file_id>/track", methods=("POST",))
def track(file_id: int):
    """A callback from Docs, answered {"error": 0} only once what it reports is durable.

    Anything else is {"error": 1} with the status callbacks.ANSWERS gives: 403 bad link or JWT,
    400 malformed, 404 file gone, 422 refused document, 503 transient (Docs retries, then keeps
    a forgotten copy).
    """
    with metrics.timed(metrics.CALLBACK_DURATION):
        status, _ = callbacks.receive(
            file_id, request.args.get("token", ""), request.stream, request.content_length, request.headers
        )
    return jsonify(error=0 if status == 200 else 1), status
