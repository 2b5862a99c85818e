"""Document templates: the site's (uploaded by administrators) and each space's (by its admins).

"Create document" offers Blank and the templates of the type chosen; a document made from one gets
a copy of the template's bytes as its version 1 (files.create_from_template), never a shared blob,
so removing or replacing a template leaves the documents made from it alone.

Each template gets a preview, the PNG of its first page, which Docs' conversion service makes in a
job as it does for versions (thumbnails.first_page); Docs fetches the template's blob from a signed
link of purpose "template". Until it exists, or when Docs cannot make one, the type's icon shows.

A template is checked as an upload is (files.check_content: the content must be what its name
says) and must be of a type the site creates (formats.CREATABLE). Office's own template formats
(.dotx, .xltx, .potx) are taken too and kept as the document they make (.docx, .xlsx, .pptx).
"""

import os
import shutil
import zipfile
from typing import BinaryIO

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext

from app import transaction
from app.extensions import db
from app.models import DocumentTemplate
from app.models import Space
from app.models import User
from app.services import audit
from app.services import files
from app.services import formats
from app.services import settings
from app.services import storage
from app.services.docs import links
from app.services.exceptions import BadRequestError
from app.services.exceptions import ForbiddenError
from app.services.exceptions import NotFoundError
from app.services.storage import get_storage
from app.services.storage import remove_leftovers
from app.services.storage.base import writing

MAX_NAME = 128
CREATABLE_TYPES = tuple(ext for _, ext in formats.CREATABLE)
# Office's template formats and the document each makes: only the main part's content type differs
# (ECMA-376 Part 2, [Content_Types].xml).
OFFICE_TEMPLATES = {
    "dotx": ("docx", "wordprocessingml.template.main+xml", "wordprocessingml.document.main+xml"),
    "xltx": ("xlsx", "spreadsheetml.template.main+xml", "spreadsheetml.sheet.main+xml"),
    "potx": ("pptx", "presentationml.template.main+xml", "presentationml.presentation.main+xml"),
}
ACCEPTED = CREATABLE_TYPES + tuple(OFFICE_TEMPLATES)


def site_templates() -> list[DocumentTemplate]:
    """The templates of the whole site, by type and name."""
    return list(
        db.session.scalars(
            sa.select(DocumentTemplate)
            .where(DocumentTemplate.space_id.is_(None))
            .order_by(DocumentTemplate.ext, DocumentTemplate.name, DocumentTemplate.id)
        )
    )


def space_templates(space: Space) -> list[DocumentTemplate]:
    """The space's own templates, by type and name."""
    return list(
        db.session.scalars(
            sa.select(DocumentTemplate)
            .where(DocumentTemplate.space_id == space.id)
            .order_by(DocumentTemplate.ext, DocumentTemplate.name, DocumentTemplate.id)
        )
    )


def available(space: Space) -> list[DocumentTemplate]:
    """What "Create document" offers in this space: the site's templates and the space's, by type
    and name (one query)."""
    return list(
        db.session.scalars(
            sa.select(DocumentTemplate)
            .where(sa.or_(DocumentTemplate.space_id.is_(None), DocumentTemplate.space_id == space.id))
            .order_by(DocumentTemplate.ext, DocumentTemplate.name, DocumentTemplate.id)
        )
    )


def usable_in(template_id, space: Space) -> DocumentTemplate:
    """The template a form or API call names, when this space may use it (the site's or its own).

    :raise NotFoundError: no such template here (another space's is not found either).
    """
    template = db.session.get(DocumentTemplate, int(template_id)) if str(template_id).isdigit() else None
    if template is None or template.space_id not in (None, space.id):
        raise NotFoundError(gettext("No such template."))
    return template


def of_space(template_id: int, space: Space | None) -> DocumentTemplate:
    """A template of this space (None: of the site), for removing it.

    :raise NotFoundError: no such template, or one of somewhere else.
    """
    template = db.session.get(DocumentTemplate, template_id)
    if template is None or template.space_id != (space.id if space else None):
        raise NotFoundError(gettext("No such template."))
    return template


def add(space: Space | None, name: str, filename: str, source: BinaryIO, actor: User) -> DocumentTemplate:
    """Stage a template for the space (None: the whole site) from an uploaded file; ``name`` is what
    the menu shows (empty: the file's name without its extension).

    :raise BadRequestError: a type the site does not create, too large, or content not matching its type.
    """
    title = files.safe_filename(filename or "")
    ext = formats.extension_of(title)
    if ext not in ACCEPTED:
        raise BadRequestError(
            gettext(
                "A template must be one of these types: %(types)s.",
                types=", ".join(f".{e}" for e in ACCEPTED),
            )
        )
    name = " ".join((name or "").split())[:MAX_NAME] or title[: -len(ext) - 1][:MAX_NAME] or title
    path = files.spool(source, settings.max_file_bytes())
    try:
        files.check_content(path, ext)
        if ext in OFFICE_TEMPLATES:
            ext = _as_document(path, ext)
        size, sha = files.digest(path)
        key = storage.store(path, "templates/site" if space is None else f"templates/{space.id}")
    finally:
        remove_leftovers(path)
    template = DocumentTemplate(
        space_id=space.id if space else None,
        name=name,
        ext=ext,
        storage_key=key,
        size=size,
        sha256=sha,
        created_by=actor.id,
    )
    db.session.add(template)
    db.session.flush()
    audit.record("template.added", actor=actor, space_id=space.id if space else None, **_object(template))
    _request_preview(template)
    return template


def remove(template: DocumentTemplate, actor: User) -> None:
    """Stage removing a template; its blob goes once that is committed. Documents made from it
    keep their own copies."""
    audit.record("template.removed", actor=actor, space_id=template.space_id, **_object(template))
    keys = (template.storage_key, template.thumbnail_key)
    db.session.delete(template)
    for key in keys:
        if key:
            transaction.delete_blob_after_commit(key)


def forget_space(space: Space) -> None:
    """The space is being removed for good: its templates' blobs go once that is committed (the
    rows go with the space)."""
    rows = db.session.execute(
        sa.select(DocumentTemplate.storage_key, DocumentTemplate.thumbnail_key).where(
            DocumentTemplate.space_id == space.id
        )
    )
    for keys in rows:
        for key in keys:
            if key:
                transaction.delete_blob_after_commit(key)


def _request_preview(template: DocumentTemplate) -> None:
    """Ask for the template's preview once it is committed (nothing without Docs or previews)."""
    if current_app.config.get("PREVIEWS") and settings.docs_configured() and formats.can_convert(template.ext, "png"):
        from app import jobs

        jobs.enqueue(jobs.make_template_thumbnail, template.id)


def source_url(template: DocumentTemplate) -> str:
    """The link Docs downloads the template from: purpose "template", bound to this template's id
    and content (an id handed out again never serves another template's bytes)."""
    from app.services.docs.editor_config import docs_facing_url

    token = links.sign("template", t=template.id, h=template.sha256)
    return docs_facing_url("backend.template_source", template_id=template.id, token=token)


def linked(token: str, template_id: int, max_age: int) -> DocumentTemplate | None:
    """The template a valid "template" link names; None when it is gone or replaced.

    :raise ForbiddenError: the link is not valid, for this purpose or for this template.
    """
    claims = links.verify("template", token, max_age)
    if claims.get("t") != template_id:
        raise ForbiddenError("link is for another template")
    template = db.session.get(DocumentTemplate, template_id)
    if template is None or template.sha256 != claims.get("h"):
        return None
    return template


def make_preview(template_id: int) -> None:
    """Have Docs make the preview of a template still without one, and keep it (the caller
    commits). A template removed meanwhile keeps none: the new preview's blob is deleted again.

    :raise DocsError: Docs could not make one. :raise ValueError: what came back is no PNG.
    """
    from app.services import thumbnails

    template = db.session.get(DocumentTemplate, template_id)
    if template is None or template.thumbnail_key:
        return
    key = thumbnails.first_page(
        source_url(template),
        template.ext,
        f"tmpl_{template.sha256[:32]}_png_thumb",  # Docs caches by key: one per content
        f"{template.name}.{template.ext}",
        "templates/previews",
    )
    kept = db.session.execute(
        sa.update(DocumentTemplate)
        .where(DocumentTemplate.id == template.id, DocumentTemplate.thumbnail_key.is_(None))
        .values(thumbnail_key=key)
    ).rowcount
    if not kept:
        get_storage().delete(key)


def copy_to_temp(template: DocumentTemplate) -> str:
    """A temporary file holding the template's bytes (the caller stores or removes it)."""
    handle, path = get_storage().temp_file()
    try:
        with handle, get_storage().open(template.storage_key) as source, writing():
            shutil.copyfileobj(source, handle, files.CHUNK)
    except BaseException:
        remove_leftovers(path)
        raise
    return path


def _object(template: DocumentTemplate) -> dict:
    return {"object_type": "template", "object_id": template.id, "object_name": f"{template.name} ({template.ext})"}


def _as_document(path: str, ext: str) -> str:
    """Rewrite an Office template (checked already) into the document it makes, in place; returns
    the document's extension."""
    document_ext, template_type, document_type = OFFICE_TEMPLATES[ext]
    rewritten = path + ".doc"
    try:
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as target:
            for item in source.infolist():
                data = source.read(item)
                if item.filename == "[Content_Types].xml":
                    data = data.replace(template_type.encode(), document_type.encode())
                target.writestr(item, data)
        os.replace(rewritten, path)
    finally:
        remove_leftovers(rewritten)
    return document_ext
