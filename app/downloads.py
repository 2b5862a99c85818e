"""Send a stored version to a client, streamed, with honest headers."""

from flask import Response
from flask import send_file

from app.models import File
from app.models import FileVersion
from app.services import formats
from app.services.storage import get_storage


def send_blob(storage_key: str, mimetype: str, **options) -> Response:
    """Stream a stored blob (from disk without copying when the backend has a path); never cached."""
    storage = get_storage()
    source = storage.local_path(storage_key) or storage.open(storage_key)
    response = send_file(source, mimetype=mimetype, max_age=0, **options)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def send_version(file: File, version: FileVersion, as_attachment: bool = False) -> Response:
    """Stream the version's bytes; the file name is RFC 5987 encoded by send_file."""
    return send_blob(
        version.storage_key,
        formats.mime_type(file.ext),
        as_attachment=as_attachment,
        download_name=file.title,
        conditional=True,
        etag=version.sha256,
    )
