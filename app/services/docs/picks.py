"""Other files the editor asks for: images to insert, documents to compare or combine, mail-merge
sources, and linked data between spreadsheets (its updates and a change of its source).

The editor's answers (insertImage, setRequestedDocument, setRequestedSpreadsheet,
setReferenceData, setReferenceSource) are signed with the Docs secret like the editor config, and
each names a short-lived "insert" link bound to the picked file, its version and the person: Docs
fetches it with its own JWT, and the person must still read and download the file at that moment.
Only files the person may read and download are ever listed or linked, and each answer is
audited (``file.picked_for_editor``: which file went into which).
"""

import re
from urllib.parse import urlsplit

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask import request
from flask_babel import gettext

from app.extensions import db
from app.models import File
from app.models import User
from app.services import audit
from app.services import formats
from app.services import rights
from app.services import search
from app.services import settings
from app.services.docs import editor_config
from app.services.docs import links
from app.services.docs import tokens
from app.services.docs.editor_config import docs_facing_url
from app.services.exceptions import BadRequestError
from app.services.exceptions import NotFoundError

# What each editor method accepts (api.onlyoffice.com, docEditor methods insertImage,
# setRequestedDocument, setRequestedSpreadsheet).
KINDS = {
    "image": ("bmp", "gif", "jpe", "jpeg", "jpg", "png", "tif", "tiff"),
    "document": ("doc", "docm", "docx", "dot", "dotm", "dotx", "epub", "fodt", "odt", "ott", "rtf", "wps"),
    "spreadsheet": ("csv", "fods", "ods", "ots", "xls", "xlsm", "xlsx", "xlt", "xltm", "xltx"),
}
# The ``c`` of each request event (onRequestInsertImage, onRequestSelectDocument, onRequestSelectSpreadsheet).
COMMANDS = {
    "image": ("add", "change", "fill", "watermark", "slide"),
    "document": ("compare", "combine", "insert-text"),
    "spreadsheet": ("mailmerge",),
}
LIMIT = 50
# The commands of the answers to linked data's requests (onRequestReferenceData, onRequestReferenceSource).
REFERENCE_DATA = "reference-data"
REFERENCE_SOURCE = "reference-source"


def choices(user: User, kind: str, query: str = "", limit: int = LIMIT) -> list[File]:
    """Files of this kind the person may read and download, newest first, matching every word of
    the query in their title: one query, so a list is short only when fewer files qualify.

    :raise BadRequestError: an unknown kind.
    """
    if kind not in KINDS:
        raise BadRequestError(gettext("Unknown kind of file."))
    condition = search.downloadable_files(user) & File.ext.in_(KINDS[kind])
    for word in search.terms(query):
        condition &= search.title_holds(word)
    return list(
        db.session.scalars(
            sa.select(File)
            .options(so.joinedload(File.space))
            .where(condition)
            .order_by(File.updated_at.desc(), File.id.desc())
            .limit(limit)
        ).all()
    )


def choice_json(file: File) -> dict:
    return {"id": file.id, "title": file.title, "fileType": file.ext, "space": file.space.name}


def _downloadable(file_id, user: User) -> File:
    """The file, when the person may read and download it.

    :raise NotFoundError: otherwise, as if it did not exist (no URL, no existence oracle).
    """
    if not isinstance(file_id, int) or isinstance(file_id, bool):
        raise NotFoundError(gettext("No such file."))
    file, level = rights.get_file_or_404(file_id, user)
    if not rights.may_download(file, level):
        raise NotFoundError(gettext("No such file."))
    return file


def source_url(file: File, who: str) -> str:
    """The link Docs fetches the picked file's current version with, for this person only."""
    token = links.sign("insert", f=file.id, s=file.key_salt, v=file.version, u=who)
    return docs_facing_url("backend.insert_source", file_id=file.id, token=token)


def _signed(data: dict) -> dict:
    # Docs checks the method's argument against its token, signed like the editor config.
    data["token"] = tokens.encode(data, current_app.config["INSERT_LINK_SECONDS"], tokens.BROWSER)
    return data


def _record(user: User, file: File, editing: File, kind: str, command: str) -> None:
    """Stage the audit entry of an answer: the file handed over, and the file it went into."""
    details = {"kind": kind, "command": command, "into": editing.id}
    audit.record("file.picked_for_editor", actor=user, file=file, details=details)


def picked(user: User, editing: File, kind: str, command: str, file_id) -> dict:
    """The argument of the editor method answering a request of this kind with this file, for the
    editor of ``editing``; stages its audit entry.

    :raise BadRequestError: an unknown kind or command. :raise NotFoundError: the person may not
      read and download the file, or it is not of the kind asked for.
    """
    if kind not in KINDS or command not in COMMANDS[kind]:
        raise BadRequestError(gettext("Unknown kind of file."))
    file = _downloadable(file_id, user)
    if file.ext not in KINDS[kind]:
        raise NotFoundError(gettext("No such file."))
    _record(user, file, editing, kind, command)
    url = source_url(file, user.docs_id)
    if kind == "image":
        return _signed({"c": command, "images": [{"fileType": file.ext, "url": url}]})
    return _signed({"c": command, "fileType": file.ext, "url": url})


_OUR_FILE_PATH = re.compile(r"/files/(\d{1,18})(?:/|$)")


def _referenced_id(editing: File, data: dict) -> int | None:
    """The file id an onRequestReferenceData event names: its referenceData when it is ours, else a
    link to one of our files (on the host the editor page came from), else a file of that title in
    the editing file's space."""
    reference = data.get("referenceData")
    if isinstance(reference, dict) and reference.get("instanceId") == settings.installation_id():
        key = reference.get("fileKey")
        if isinstance(key, str) and key.isdigit() and len(key) < 19:
            return int(key)
    link = data.get("link")
    if isinstance(link, str) and link:
        parts = urlsplit(link)
        match = _OUR_FILE_PATH.search(parts.path)
        # Another site's /files/5 is not our file 5.
        return int(match.group(1)) if match and parts.netloc == request.host else None
    path = data.get("path")
    if isinstance(path, str) and path:
        return db.session.scalar(
            sa.select(File.id).where(
                File.space_id == editing.space_id, File.title == path.rsplit("/", 1)[-1], File.trashed_at.is_(None)
            )
        )
    return None


def referenced(editing: File, user: User, data: dict) -> dict:
    """The argument of setReferenceData for the file an onRequestReferenceData event names, or
    ``{"error": ...}`` when there is none the person may read and download (the editor shows it)."""
    return _reference(editing, user, _referenced_id(editing, data), REFERENCE_DATA)


def reference_source(editing: File, user: User, file_id) -> dict:
    """The argument of setReferenceSource for the spreadsheet the person picked as the new source
    of linked data (onRequestReferenceSource: "Change source"), or ``{"error": ...}`` as
    ``referenced``. The same object as setReferenceData's [api.onlyoffice.com, docEditor methods]."""
    return _reference(editing, user, file_id, REFERENCE_SOURCE)


def _reference(editing: File, user: User, file_id, command: str) -> dict:
    """The signed reference to this spreadsheet, its audit entry staged; or ``{"error": ...}``."""
    try:
        file = _downloadable(file_id, user)
    except NotFoundError:
        return {"error": gettext("The linked file is not available to you.")}
    if formats.document_type(file.ext) != "cell":
        return {"error": gettext("The linked file is not a spreadsheet.")}
    _record(user, file, editing, "spreadsheet", command)
    return _signed(
        {
            "fileType": file.ext,
            "key": file.doc_key,
            "path": file.title,
            "referenceData": editor_config.reference_data(file),
            "url": source_url(file, user.docs_id),
        }
    )
