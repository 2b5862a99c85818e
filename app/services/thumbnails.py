"""Previews: a PNG of the first page of each version, made by Docs' conversion service in a job.

The conversion API's ``thumbnail`` parameter ({aspect, first: true, width, height}) with output
type png gives one image of the first page. It is kept per version (``thumbnail_key``), so a
preview never shows content of another version, and goes with its version (deletion, retention).
Until it exists, or when Docs cannot make one, pages show the type's icon.
"""

import logging

from flask import current_app

from app.extensions import db
from app.models import File
from app.models import FileVersion
from app.services import formats
from app.services import settings
from app.services import storage
from app.services.docs import client
from app.services.docs import fetch
from app.services.storage import remove_leftovers

log = logging.getLogger("coedit.thumbnails")

# aspect 1: keep the page's proportions within the box (the conversion API's thumbnail.aspect).
THUMBNAIL = {"aspect": 1, "first": True, "width": 240, "height": 320}
BUDGET = 120.0
MAX_BYTES = 5 * 1024 * 1024
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def wanted(file: File) -> bool:
    return bool(current_app.config.get("PREVIEWS")) and formats.can_convert(file.ext, "png")


def request(file: File, number: int) -> None:
    """Ask for the preview of a new version once it is committed (nothing without Docs)."""
    if not wanted(file) or not settings.docs_configured():
        return
    from app import jobs

    jobs.enqueue(jobs.make_thumbnail, file.id, number)


def pending(file_id: int, number: int) -> tuple[File, FileVersion] | None:
    """The file and version still without a preview, or None (gone, or it has one already)."""
    file = db.session.get(File, file_id)
    if file is None or not wanted(file) or not settings.docs_configured():
        return None
    version = db.session.scalar(file.versions_select().where(FileVersion.number == number))
    if version is None or version.thumbnail_key:
        return None
    return file, version


def make(file: File, version: FileVersion) -> str:
    """Convert the version's first page into a PNG and stage it as its preview; returns the key.

    :raise DocsError: Docs could not make one. :raise ValueError: what came back is no PNG.
    """
    from app.services import conversions

    version.thumbnail_key = first_page(
        conversions.source_url(file, version, ""),
        file.ext,
        conversions.conversion_key(version, "png", "thumb"),
        file.title,
        f"previews/{file.id}",
    )
    return version.thumbnail_key


def first_page(source_url: str, ext: str, key: str, title: str, prefix: str) -> str:
    """Have Docs convert the first page at ``source_url`` into a PNG and store it under ``prefix``;
    returns the stored key (the caller keeps it, or deletes it when it cannot).

    :raise DocsError: Docs could not make one. :raise ValueError: what came back is no PNG.
    """
    url = client.convert(source_url, ext, "png", key, title=title, budget=BUDGET, thumbnail=THUMBNAIL)
    path = fetch.download(url, MAX_BYTES)
    try:
        with open(path, "rb") as handle:
            if handle.read(8) != PNG_MAGIC:
                raise ValueError("the preview Docs made is not a PNG")
        return storage.store(path, prefix)
    finally:
        remove_leftovers(path)


def head_thumbnail_keys(files: list[File]) -> dict[int, str]:
    """The preview key of each file's current version, where one exists (one query)."""
    if not files:
        return {}
    import sqlalchemy as sa

    heads = {f.id: f.version for f in files}
    # The head versions only, by (file_id, number): not every version of a long history.
    rows = db.session.execute(
        sa.select(FileVersion.file_id, FileVersion.number, FileVersion.thumbnail_key).where(
            sa.tuple_(FileVersion.file_id, FileVersion.number).in_(list(heads.items())),
            FileVersion.thumbnail_key.is_not(None),
        )
    )
    return {file_id: key for file_id, number, key in rows if heads.get(file_id) == number}
