"""Send a stored version to a client, streamed, with honest headers."""

from flask import Response
from flask import send_file

from app.models import File
from app.models import FileVersion
from app.services import formats
from app.services.storage import get_storage


def send_version(file: File, version: FileVersion, as_attachment: bool = False) -> Response:
    """Stream the version's bytes; the file name is RFC 5987 encoded by send_file."""
    storage = get_storage()
    source = storage.local_path(version.storage_key) or storage.open(version.storage_key)
    response = send_file(
        source,
        mimetype=formats.mime_type(file.ext),
        as_attachment=as_attachment,
        download_name=file.title,
        conditional=True,
        etag=version.sha256,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
