"""Saves of files edited with possible loss that Docs returns in another format.

A lossy-edit format (formats table: odt, rtf, csv, ...) opened for editing may come back from
Docs assembled as OOXML: the callback's ``filetype`` (docx for an odt) differs from the file's
extension. Such a save is converted back to the file's own format through the conversion service
(POST /converter, asynchronous and polled within SAVE_CONVERSION_SECONDS) and the result, fetched
from the configured Docs only, becomes the new version. When that cannot be done, or the admin
chose to keep such saves in OOXML, the callback keeps the file Docs sent as a new file beside the
original (callbacks._kept_beside): an edit is never dropped.

A save in a format Coedit cannot check (rtf, epub, fb2, html) is converted to the OOXML of
its type and kept beside the file the same way: unchecked bytes never become a version.
"""

import hashlib
from urllib.parse import urlsplit

from flask import current_app

from app.models import File
from app.services import files
from app.services import formats
from app.services import settings
from app.services import validation
from app.services.docs import client
from app.services.docs import fetch
from app.services.exceptions import DocsError
from app.services.exceptions import SaveFailedError
from app.services.exceptions import SaveRejectedError
from app.services.storage import remove_leftovers


class NotConverted(Exception):
    """The save could not be brought back to the file's format; ``reason`` says why, in words."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def applies(file: File, filetype: str) -> bool:
    """Whether a save of this type is one to convert back: the file's format is edited with
    possible loss and the save's type converts to it. Anything else of another type is refused
    (natively edited formats always come back in their own format)."""
    fmt = formats.get(file.ext)
    return fmt is not None and "lossy-edit" in fmt.actions and formats.can_convert(filetype, file.ext)


def conversion_key(file: File, key: str, url: str) -> str:
    """One conversion per save: Docs caches results by key, so a retry of the same save reuses its
    result while another save never gets an older one."""
    digest = hashlib.sha256(f"{file.id}|{key}|{urlsplit(url).path}".encode()).hexdigest()[:40]
    return f"save_{file.id}_{digest}"


def converted(file: File, url: str, filetype: str, key: str) -> str:
    """The save at ``url`` converted to the file's format, checked; returns a temporary path.

    :raise NotConverted: the admin keeps such saves in OOXML, or the conversion, the fetch of its
      result or the check of the result failed.
    :raise SaveRejectedError: ``url`` is not a Document Server output link (never handed to it).
    """
    if settings.get("lossy_save") == "keep":
        raise NotConverted(f"an administrator chose to keep edited .{file.ext} files as new .{filetype} files")
    if not validation.checkable(file.ext):
        raise NotConverted(f"Coedit cannot check .{file.ext} files")
    return _convert(file, url, filetype, file.ext, key)


def unchecked_kept_as(file: File) -> str | None:
    """For a format whose documents Coedit cannot check (rtf, epub, fb2, html): the OOXML
    type a save in that format is kept in instead (Docs converts it), else None.

    Unchecked bytes never become a version; the edit is kept as a new OOXML file beside the file.
    """
    if validation.checkable(file.ext):
        return None
    fmt = formats.get(file.ext)
    target = {"word": "docx", "cell": "xlsx", "slide": "pptx"}.get(fmt.document_type if fmt else "")
    return target if target and formats.can_convert(file.ext, target) else None


def as_ooxml(file: File, url: str, target: str, key: str) -> str:
    """The save at ``url`` (in the file's own, unchecked format) converted to ``target``, checked.

    :raise NotConverted: the conversion, the fetch or the check failed.
    :raise SaveRejectedError: ``url`` is not a Document Server output link.
    """
    return _convert(file, url, file.ext, target, key)


def _convert(file: File, url: str, source: str, target: str, key: str) -> str:
    fetch.rebase(url)  # only Docs' own output links go to its converter
    try:
        result = client.convert(
            url,
            source,
            target,
            conversion_key(file, key, url),
            title=file.title,
            budget=current_app.config["SAVE_CONVERSION_SECONDS"],
        )
    except DocsError as exc:
        raise NotConverted(exc.message) from None
    try:
        path = fetch.download(result, settings.max_file_bytes())
    except (SaveFailedError, SaveRejectedError) as exc:
        raise NotConverted(f"the converted file could not be fetched ({exc.message})") from None
    try:
        files.sound_document(path, target)
    except validation.InvalidDocument as exc:
        remove_leftovers(path)
        raise NotConverted(f"the converted file is not a sound .{target} file ({exc.reason})") from None
    return path
