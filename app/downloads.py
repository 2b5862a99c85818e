"""Send a stored version to a client, streamed, with honest headers."""

import os

import sqlalchemy as sa
from flask import Response
from flask import request
from flask import send_file
from flask_babel import gettext
from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.wsgi import FileWrapper

from app import transaction
from app.extensions import db
from app.models import File
from app.models import FileVersion
from app.services import audit
from app.services import formats
from app.services.exceptions import NotFoundError
from app.services.exceptions import StorageError
from app.services.storage import get_storage

PIECE = 256 * 1024  # what a remote blob is sent in


def send_blob(storage_key: str, mimetype: str, conditional: bool = True, **options) -> Response:
    """Stream a stored blob; never cached.

    From disk without copying when the backend has a path; otherwise the remote stream is sent in
    pieces as it arrives (never read whole), with its Content-Length, and conditional and Range
    requests (RFC 9110, sections 13 and 14) answered as for a file on disk: a Range reopens the
    blob at its offset instead of reading everything before it.
    """
    storage = get_storage()
    path = storage.local_path(storage_key)
    if path is not None:
        try:
            response = send_file(path, mimetype=mimetype, max_age=0, conditional=conditional, **options)
        except FileNotFoundError:
            raise StorageError("blob missing") from None  # as every backend's open() says it
    else:
        stream = storage.open(storage_key)
        response = send_file(stream, mimetype=mimetype, max_age=0, conditional=False, **options)
        # Werkzeug's own wrapper, not the server's (gunicorn's cannot seek): a Range seeks the stream.
        response.response = FileWrapper(stream, PIECE)
        response.content_length = stream.size
        if conditional:
            try:
                response = response.make_conditional(request.environ, accept_ranges=True, complete_length=stream.size)
            except RequestedRangeNotSatisfiable:
                stream.close()
                raise
    response.headers["Cache-Control"] = "private, no-store"
    return response


def record(file: File, version: FileVersion, purpose: str) -> None:
    """Commit the audit entry of a person's download before its bytes go out.

    Not for Docs' own fetches (backend/): those are not a person's download, and the person
    they serve is recorded when the editor opens. A conditional request answered 304 (the
    browser has the bytes) is not a download either.
    """
    if request.if_none_match.contains(version.sha256) and not request.range:
        return
    audit.record("file.downloaded", file=file, details={"version": version.number, "purpose": purpose})
    transaction.commit()


def send_download(file: File, version: FileVersion, level: str, user, target: str, purpose: str) -> Response:
    """A person's download of a version, as it is or converted by Docs into ``target`` (Download
    as), recorded before the bytes go out. Rights are the caller's: may download."""
    from app.services import conversions

    if target and target != file.ext:
        path = conversions.download_as(file, version, level, user, target)
        conversions.record_download_as(file, version, target, purpose)
        transaction.commit()
        return send_converted(file, path, target)
    record(file, version, purpose)
    return send_version(file, version, as_attachment=True)


def send_version(file: File, version: FileVersion, as_attachment: bool = False) -> Response:
    """Stream the version's bytes; the file name is RFC 5987 encoded by send_file.

    :raise NotFoundError: the version was removed (retention, a restore's fold, a purge) after it
        was looked up and before its blob was opened; nothing is read without a lock, and a
        version that is gone is gone, so it is answered as one that never was.
    """
    version_id = version.id
    try:
        return send_blob(
            version.storage_key,
            formats.mime_type(file.ext),
            as_attachment=as_attachment,
            download_name=file.title,
            conditional=True,
            etag=version.sha256,
        )
    except StorageError:
        # Read afresh: this request's transaction may see the database as it was before the
        # removal (SQLite's snapshot). A download stages nothing, so nothing is lost.
        db.session.rollback()
        if db.session.scalar(sa.select(FileVersion.id).where(FileVersion.id == version_id)) is None:
            raise NotFoundError(gettext("This version was removed a moment ago.")) from None
        raise  # the version stands: storage's own failure (a blob missing is damage, not a race)


def send_converted(file: File, path: str, target: str) -> Response:
    """Stream a conversion's result (a temporary file, removed once sent), named with its new
    extension."""
    stem = file.title[: -(len(file.ext) + 1)] if file.title.endswith("." + file.ext) else file.title
    response = send_file(
        path,
        mimetype=formats.mime_type(target),
        as_attachment=True,
        download_name=f"{stem}.{target}",
        max_age=0,
        conditional=False,
    )
    response.call_on_close(lambda: os.path.exists(path) and os.unlink(path))
    response.headers["Cache-Control"] = "private, no-store"
    return response
