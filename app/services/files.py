"""Files and versions: create, upload, new versions, rename, delete.

Every content change becomes a new immutable version, written to storage before
the database row that names it is committed, so a crash leaves either the old
head or the new one, never a mix.
"""

import hashlib
import json
import os
import re
import unicodedata
from datetime import timedelta
from typing import BinaryIO

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext

from app import transaction
from app.extensions import db
from app.models import DeletedFile
from app.models import DocKey
from app.models import File
from app.models import FileVersion
from app.models import Folder
from app.models import Space
from app.models import User
from app.models.base import utcnow
from app.services import audit
from app.services import blanks
from app.services import formats
from app.services import locales
from app.services import locks
from app.services import posts
from app.services import rights
from app.services import settings
from app.services import storage
from app.services import validation
from app.services.docs import fetch
from app.services.docs import keys
from app.services.exceptions import BadRequestError
from app.services.exceptions import ConflictError
from app.services.exceptions import DocsError
from app.services.exceptions import NotFoundError
from app.services.exceptions import StorageError
from app.services.locales import translatable
from app.services.storage import get_storage
from app.services.storage import remove_leftovers
from app.services.storage.base import writing

CHUNK = 1024 * 1024
WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
# Types whose content we can check (validation.py); others are stored as they come.
VALIDATED = frozenset("docx docm dotx dotm xlsx xlsm xltx xltm pptx pptm potx potm ppsx ppsm odt ods odp pdf".split())


MAX_NAME = 200  # characters of a file name (the forms say so)


def safe_filename(name: str) -> str:
    """A file name safe to show and store: no paths, control or bidi characters, sane length.

    :raise BadRequestError: nothing usable is left.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    # Drop control characters and format characters (bidi overrides and the like).
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co"))
    name = re.sub(r"\s+", " ", name).strip().lstrip(".").strip()
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem = stem.rstrip(" .")
    # Windows treats "CON.txt", "con .txt" and "NUL.tar.gz" all as devices: look at the first part.
    if stem.split(".", 1)[0].rstrip(" ").lower() in WINDOWS_RESERVED:
        stem = "_" + stem
    ext = ext[:16]
    stem = stem[: MAX_NAME - len(ext)].strip()
    if not stem:
        raise BadRequestError(gettext("Please give the file a name."))
    return f"{stem}.{ext}" if ext else stem


# What replaces a path separator in a name a person typed: "Q1/Q2 plan" stays readable as
# "Q1-Q2 plan" rather than losing "Q1/" as a folder would.
SEPARATOR_STAND_IN = "-"


def typed_name(name: str) -> str:
    """A name a person typed (a new document, a rename, a folder), kept as typed as far as a file
    system and a download can carry it: path separators become "-", control and bidi characters
    go, Windows device names get a "_" (safe_filename).

    Names that come from elsewhere (uploads, Docs' Save copy as) go through safe_filename alone,
    where a path keeps only its last part.
    :raise BadRequestError: nothing usable is left.
    """
    name = (name or "").replace("/", SEPARATOR_STAND_IN).replace("\\", SEPARATOR_STAND_IN)
    return safe_filename(name)


def name_note(typed: str, stored: str) -> str | None:
    """What to tell the person when the name stored is not the one they typed, else None."""
    typed = re.sub(r"\s+", " ", unicodedata.normalize("NFC", typed or "")).strip()
    if not typed or stored == typed or stored.rpartition(".")[0] == typed:
        return None  # as typed (perhaps with the type's extension added), or no name typed
    changed = []
    if "/" in typed or "\\" in typed:
        changed.append(
            gettext("a file name cannot hold / or \\, so they became %(stand_in)s", stand_in=SEPARATOR_STAND_IN)
        )
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") for ch in typed):
        changed.append(gettext("invisible control and direction characters were removed"))
    if len(typed) > MAX_NAME:
        changed.append(gettext("names are at most %(max)s characters", max=MAX_NAME))
    if not changed:
        changed.append(gettext("a file name cannot hold it exactly as typed (or the name is taken here)"))
    return gettext("Saved as “%(name)s”: %(changes)s.", name=stored, changes="; ".join(changed))


def titled(name: str, ext: str, typed: bool = False) -> str:
    """A safe file name that ends in .ext; ``typed``: a name a person typed (typed_name).

    :raise BadRequestError: nothing usable is left of the name.
    """
    name = typed_name(name) if typed else safe_filename(name)
    return name if formats.extension_of(name) == ext else f"{name}.{ext}"


def digest(path: str) -> tuple[int, str]:
    """The size and SHA-256 (hex) of a file."""
    sha = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            sha.update(chunk)
            size += len(chunk)
    return size, sha.hexdigest()


def spool(source: BinaryIO, limit: int) -> str:
    """Copy a stream into a temporary file, refusing more than limit bytes; returns its path.

    :raise BadRequestError: the stream is larger than the limit.
    """
    handle, path = get_storage().temp_file()
    written = 0
    try:
        with handle, writing():
            while chunk := source.read(CHUNK):
                written += len(chunk)
                if written > limit:
                    raise BadRequestError(
                        gettext(
                            "The file is larger than the limit of %(megabytes)s MB.", megabytes=limit // (1024 * 1024)
                        )
                    )
                handle.write(chunk)
    except BaseException:
        os.unlink(path)
        raise
    return path


def sound_document(path: str, ext: str) -> None:
    """Validate a document within the admin's size limit.

    :raise validation.InvalidDocument: with the reason.
    """
    validation.validate_document(path, ext, validation.Limits(max_bytes=settings.max_file_bytes()))


def check_content(path: str, ext: str) -> None:
    """Refuse a file whose content does not match its type (where we can check the type).

    :raise BadRequestError: with the reason.
    """
    if ext in VALIDATED:
        try:
            sound_document(path, ext)
        except validation.InvalidDocument as exc:
            raise BadRequestError(
                gettext("This is not a valid .%(ext)s file: %(reason)s", ext=ext, reason=exc.reason)
            ) from None


def lock(file: File) -> None:
    """Start a write transaction holding the file's row lock (nothing may be staged before).

    Concurrent saves of one file queue up instead of interleaving. PostgreSQL locks the row with
    SELECT ... FOR UPDATE. SQLite has no row locks: an UPDATE as the first statement of the
    transaction takes its database write lock instead (a read first would leave a snapshot that
    cannot become a write once another connection has written).
    """
    transaction.begin_write()
    if db.engine.dialect.name == "sqlite":
        db.session.execute(sa.update(File).where(File.id == file.id).values(save_seq=File.save_seq + 1))
        db.session.refresh(file)
    else:
        db.session.refresh(file, with_for_update=True)


def hold(file: File, action: str, wait: float | None = None) -> None:
    """Take the file's transition lock until the transaction ends, then read the file again: the
    action it waited for (a save, a restore) may have moved it meanwhile.

    :raise locks.Busy: still moving after the wait. :raise NotFoundError: deleted meanwhile.
    """
    locks.hold_until_commit(file.id, action, wait)
    try:
        db.session.refresh(file)
    except sa.exc.InvalidRequestError:
        raise NotFoundError(gettext("The file no longer exists.")) from None


def next_number(file: File) -> int:
    current = db.session.scalar(file.versions_select().with_only_columns(sa.func.max(FileVersion.number)))
    return (current or 0) + 1


def store_version(
    file: File,
    path: str,
    author: User | None,
    source: str,
    *,
    rotate_key: bool = True,
    session_key: str = "",
    history_json: str | None = None,
    becomes_head: bool = True,
    guest_name: str | None = None,
    coauthors: list[str] | None = None,
    restored_from: int | None = None,
) -> FileVersion:
    """Move the finished temporary file into storage and stage a version row for it.

    A head version normally gets a fresh document key (not so for force-saves, whose
    editing session goes on); the version records the key its content is opened under.
    The caller holds the file lock and commits (the blob goes again if that fails).
    """
    size, sha = digest(path)
    storage_key = storage.store(path, f"files/{file.id}")
    version = FileVersion(
        file_id=file.id,
        number=next_number(file),
        storage_key=storage_key,
        size=size,
        sha256=sha,
        author=author,
        guest_name=guest_name if author is None else None,
        source=source,
        history_json=history_json,
        is_conflict=not becomes_head,
        coauthors_json=json.dumps(coauthors) if coauthors else None,
        restored_from=restored_from,
    )
    db.session.add(version)
    if becomes_head:
        file.version = version.number
        file.updated_at = utcnow()
        if rotate_key:
            keys.rotate(file)
    version.doc_key = file.doc_key if becomes_head else session_key
    if becomes_head:
        from app.services import search
        from app.services import thumbnails

        thumbnails.request(file, version.number)
        search.request(file, version.number)
    return version


def _titles_taken(space: Space, folder: Folder | None, ignore_id: int | None = None) -> set[str]:
    """The case-folded titles of the folder's files.

    Folded here rather than by the database: SQLite's lower() folds ASCII only and PostgreSQL's
    follows the database's locale, and a title must be taken or free alike on both.
    """
    query = sa.select(File.title).where(
        File.space_id == space.id,
        File.folder_id == folder.id if folder else File.folder_id.is_(None),
        File.trashed_at.is_(None),  # a trashed file gets a name of its own again when restored
    )
    if ignore_id:
        query = query.where(File.id != ignore_id)
    return {title.casefold() for title in db.session.scalars(query)}


def title_in_use(space: Space, folder: Folder | None, title: str, ignore_id: int | None = None) -> bool:
    return title.casefold() in _titles_taken(space, folder, ignore_id)


def unique_title(space: Space, folder: Folder | None, title: str) -> str:
    """title, or 'name (2).ext', 'name (3).ext', … when it is taken in that folder."""
    taken = _titles_taken(space, folder)
    if title.casefold() not in taken:
        return title
    stem, dot, ext = title.rpartition(".")
    if not dot:
        stem, ext = title, ""
    for n in range(2, 1000):
        candidate = f"{stem} ({n}).{ext}" if ext else f"{stem} ({n})"
        if candidate.casefold() not in taken:
            return candidate
    raise BadRequestError(gettext("Too many files with this name."))


def is_member(file: File, user: User) -> bool:
    from app.models import Membership

    return (
        db.session.scalar(
            sa.select(Membership.id).where(Membership.space_id == file.space_id, Membership.user_id == user.id)
        )
        is not None
    )


def add_file(beside: File, owner: User | None, title: str, path: str) -> File:
    """Stage a new file next to another one, from a finished temporary file (the caller commits)."""
    title = unique_title(beside.space, beside.folder, safe_filename(title))
    file = File(
        space_id=beside.space_id,
        folder_id=beside.folder_id,
        title=title,
        ext=formats.extension_of(title),
        owner=owner,
        default_level=beside.space.default_level,
    )
    db.session.add(file)
    db.session.flush()
    store_version(file, path, owner, "upload")
    return file


def _new_file(space: Space, folder: Folder | None, owner: User, title: str, path: str, source: str) -> File:
    title = unique_title(space, folder, title)
    file = File(
        space_id=space.id,
        folder_id=folder.id if folder else None,
        title=title,
        ext=formats.extension_of(title),
        owner=owner,
        default_level=space.default_level,  # the space's choice for new files; changed per file later
    )
    db.session.add(file)
    db.session.flush()  # the id names the key and the storage prefix
    store_version(file, path, owner, source)
    audit.record("file.created", actor=owner, file=file, details={"source": source, "version": file.version})
    if source == "convert":
        text = translatable(
            "%(display_name)s converted a file into %(title)s", display_name=owner.display_name, title=title
        )
    elif source == "copy":
        text = translatable(
            "%(display_name)s copied a file here as %(title)s", display_name=owner.display_name, title=title
        )
    else:
        text = (
            translatable("%(display_name)s created %(title)s", display_name=owner.display_name, title=title)
            if source in ("create", "template")
            else translatable("%(display_name)s uploaded %(title)s", display_name=owner.display_name, title=title)
        )
    transaction.after_commit(lambda: posts.notice(file, text, owner))
    return file


def add_converted(beside: File, owner: User, title: str, path: str) -> File:
    """Stage a conversion's result as a new file beside the original, its name made unique there
    (the caller commits; the blob goes again if that fails)."""
    return _new_file(beside.space, beside.folder, owner, safe_filename(title), path, "convert")


def create_document(space: Space, folder: Folder | None, owner: User, name: str, ext: str) -> File:
    """Stage a new blank document as version 1.

    :raise BadRequestError: unknown type or unusable name.
    """
    if ext not in blanks.BLANK_TYPES:
        raise BadRequestError(gettext("Choose Document, Spreadsheet, Presentation or PDF form."))
    if not (name or "").strip():  # no name given: the type's name in the person's language
        name = str(locales.BLANK_NAMES[ext])
    name = titled(name, ext, typed=True)
    handle, path = get_storage().temp_file()
    try:
        with handle, writing():
            handle.write(blanks.make_blank(ext, name[: -len(ext) - 1], locales.document_tag(owner)))
        return _new_file(space, folder, owner, name, path, "create")
    finally:
        remove_leftovers(path)


def create_from_template(space: Space, folder: Folder | None, owner: User, name: str, template) -> File:
    """Stage a new document holding a copy of the template's bytes as version 1 (its own blob).
    An empty name takes the template's. The caller checked that the space may use the template
    (templates.usable_in)."""
    from app.services import templates

    name = titled(name if (name or "").strip() else template.name, template.ext, typed=True)
    path = templates.copy_to_temp(template)
    try:
        return _new_file(space, folder, owner, name, path, "template")
    finally:
        remove_leftovers(path)


def upload(space: Space, folder: Folder | None, owner: User, filename: str, source: BinaryIO) -> File:
    """Stage an uploaded file as version 1 of a new file.

    :raise BadRequestError: name unusable, too large, or content not matching its type.
    """
    title = safe_filename(filename)
    path = spool(source, settings.max_file_bytes())
    try:
        check_content(path, formats.extension_of(title))
        file = _new_file(space, folder, owner, title, path, "upload")
    finally:
        remove_leftovers(path)
    if settings.get("convert_on_upload") and formats.ooxml_target(file.ext) and settings.docs_configured():
        from app.services import conversions

        # The uploader owns the new file (edit); the conversion is theirs if they may add files here.
        if conversions.may_convert(file, "edit", owner):
            conversions.enqueue(conversions.start(file, "edit", owner))
    return file


def upload_version(file: File, author: User, source: BinaryIO) -> FileVersion:
    """Stage an uploaded file as the new head of an existing file; the key rotates."""
    path = spool(source, settings.max_file_bytes())
    try:
        check_content(path, file.ext)
        hold(file, "upload")  # taken once the upload is in, not while it streams
        lock(file)
        version = store_version(file, path, author, "upload")
        audit.record("file.version_uploaded", actor=author, file=file, details={"version": version.number})
        text = translatable(
            "%(title)s was updated by %(display_name)s: version %(number)s",
            title=file.title,
            display_name=author.display_name,
            number=version.number,
        )
        transaction.after_commit(lambda: posts.notice(file, text, author))
        return version
    finally:
        remove_leftovers(path)


def rename(file: File, new_title: str) -> None:
    """Rename within the folder; the extension stays what the content is.

    :raise BadRequestError: empty name or taken in this folder.
    """
    title = titled(new_title, file.ext, typed=True)
    hold(file, "rename")
    if title_in_use(file.space, file.folder, title, ignore_id=file.id):
        raise BadRequestError(gettext("A file named %(title)s already exists here.", title=title))
    if title != file.title:
        audit.record("file.renamed", file=file, object_name=title, details={"old": file.title, "new": title})
    file.title = title
    if file.editors:
        key = file.doc_key
        transaction.after_commit(lambda: _tell_editors_new_title(key, title))


def _tell_editors_new_title(key: str, title: str) -> None:
    """Open editors show the new name at once (command meta); else when reopened."""
    from app.services.docs import client

    try:
        client.command("meta", key=key, meta={"title": title})
    except DocsError:
        pass


def save_on_its_way(file: File) -> bool:
    """Whether Docs still owes us the final save of an editing session of this file.

    Open sessions whose last join or leave is older than PENDING_SAVE_SECONDS are taken as given
    up (Docs saves within seconds of the last editor leaving, and stops retrying within a minute).
    """
    since = utcnow() - timedelta(seconds=current_app.config["PENDING_SAVE_SECONDS"])
    return (
        db.session.scalar(
            sa.select(DocKey.key)
            .where(
                DocKey.file_id == file.id,
                DocKey.session_opened_at.is_not(None),
                DocKey.session_closed_at.is_(None),
                DocKey.session_seen_at >= since,
            )
            .limit(1)
        )
        is not None
    )


def refuse_if_save_owed(file: File) -> None:
    """Refuse to take a file away (delete, trash, move to another space) while Docs owes it a save.

    :raise ConflictError: someone is editing it, or a save from the editor has not arrived yet.
    """
    if file.editors:
        raise ConflictError(f"{file.title} is being edited; try again when everyone has closed it.")
    if save_on_its_way(file):
        raise ConflictError(
            gettext(
                "The last changes to %(title)s are still on their way from the editor; try again in a minute.",
                title=file.title,
            )
        )


def delete(file: File, actor: User | None, force: bool = False, action: str = "file.deleted") -> None:
    """Stage the deletion of the file with all its versions (their blobs go once it is committed).

    Not while someone edits it or its last session's save is still on its way: that save would
    find no file and only survive as a forgotten file in Docs. ``force`` (site administrators)
    deletes anyway; a save that still arrives is then reported to the owner (DeletedFile).
    The trash purge deletes with ``actor`` None (the system) and its own ``action``.
    :raise ConflictError: someone is editing it, or a save from the editor has not arrived yet.
    :raise locks.Busy: a save (or another action) is moving it right now.
    """
    hold(file, "delete")
    delete_held(file, actor, force, action)


def delete_held(file: File, actor: User | None, force: bool = False, action: str = "file.deleted") -> None:
    """``delete`` of a file whose lock this transaction took already (``hold``): deleting several
    files takes every lock before it stages anything (SQLite's lock store writes apart)."""
    if not force:
        refuse_if_save_owed(file)
    blobs = [
        key
        for row in db.session.execute(
            file.versions_select().with_only_columns(
                FileVersion.storage_key, FileVersion.changes_storage_key, FileVersion.thumbnail_key
            )
        )
        for key in row
        if key
    ]
    doc_keys = list(db.session.scalars(sa.select(DocKey.key).where(DocKey.file_id == file.id)))
    db.session.add(
        DeletedFile(
            file_id=file.id,
            key_salt=file.key_salt,
            title=file.title,
            space_id=file.space_id,
            owner_id=file.owner_id,
            deleted_by=actor.id if actor else None,
            keys_json=json.dumps(sorted(set(doc_keys) | {file.doc_key})),
        )
    )
    # Forced only if it overrode something: an administrator's delete of an idle file is a delete.
    forced = force and (bool(file.editors) or save_on_its_way(file))
    audit.record(
        "admin.file_force_deleted" if forced else action,
        actor=actor,
        file=file,
        details={"versions": file.version, "owner_id": file.owner_id},
    )
    # else the notice would name it to those it was hidden from; a trashed file was announced already
    if actor is not None and file.trashed_at is None and rights.readable_by_every_member(file):
        posts.space_notice(
            file.space_id,
            translatable("%(display_name)s deleted %(title)s", display_name=actor.display_name, title=file.title),
            actor,
        )
    # Its thread, notifications, rights, links and their use log go with it (ON DELETE CASCADE);
    # its text is no foreign key's child on SQLite, and SQLite may give its id to a new file.
    from app.services import search

    search.forget(file.id)
    db.session.delete(file)
    for key in blobs:
        transaction.delete_blob_after_commit(key)


def move(file: File, actor: User, space: Space, folder: Folder | None) -> None:
    """Stage moving the file, with its history, rights and thread, into another folder or space.

    Not to another space while it is being edited or Docs owes it a save: the editors' session
    and the save belong to the space they were opened in, and the save would land where its
    editors may have no access. Within a space the save follows the file, so that is allowed.
    :raise ConflictError: as said. :raise locks.Busy: a save is moving it right now.
    """
    hold(file, "move")
    if space.id != file.space_id:
        refuse_if_save_owed(file)
    if file.space_id == space.id and file.folder_id == (folder.id if folder else None):
        return
    title = unique_title(space, folder, file.title)
    audit.record(
        "file.moved",
        actor=actor,
        file=file,
        details={
            "from_space": file.space_id,
            "from_folder": file.folder_id,
            "to_space": space.id,
            "to_folder": folder.id if folder else None,
            "title": title,
        },
    )
    if space.id != file.space_id:
        from app.models import Post

        # Its thread goes with it: the comments are about the file, not the old space.
        db.session.execute(sa.update(Post).where(Post.file_id == file.id).values(space_id=space.id))
    file.space_id = space.id
    file.folder_id = folder.id if folder else None
    file.title = title
    db.session.flush()
    db.session.expire(file, ["space", "folder"])


def copy(file: File, actor: User, space: Space, folder: Folder | None, title: str | None = None) -> File:
    """Stage a new file, owned by actor, holding the head version's bytes (the caller checked that
    actor may download the source and add files where it goes); named ``title`` (typed, its
    extension the source's) or the source's title.

    :raise BadRequestError: nothing usable is left of ``title``.
    """
    title = titled(title, file.ext, typed=True) if title is not None else file.title
    head = head_version(file)
    handle, path = get_storage().temp_file()
    try:
        with handle, get_storage().open(head.storage_key) as source, writing():
            while chunk := source.read(CHUNK):
                handle.write(chunk)
        new = _new_file(space, folder, actor, title, path, "copy")
    finally:
        remove_leftovers(path)
    audit.record("file.copied", actor=actor, file=new, details={"from_file": file.id, "from_version": head.number})
    return new


def head_version(file: File) -> FileVersion:
    version = db.session.scalar(file.versions_select().where(FileVersion.number == file.version))
    if version is None:
        raise StorageError("the file has no stored version")
    return version


def version_authors(versions: list[FileVersion]) -> dict[int, list[str]]:
    """The names of everyone whose work each version holds, by version id: the author, then the
    co-editors a save from Docs named (members by their name, guests as "name (guest)")."""
    from app.services import share_links

    listed = {v.id: json.loads(v.coauthors_json or "[]") for v in versions}
    user_ids = {int(p) for people in listed.values() for p in people if isinstance(p, str) and p.isdigit()}
    names = (
        dict(db.session.execute(sa.select(User.id, User.display_name).where(User.id.in_(user_ids))).all())
        if user_ids
        else {}
    )
    result = {}
    for v in versions:
        if v.author:
            shown = [v.author.display_name]
        else:  # a guest's save keeps the name they gave then (guest_name)
            shown = [f"{v.guest_name} (guest)"] if v.guest_name else []
        for person in listed[v.id]:
            if not isinstance(person, str):
                continue
            if person.isdigit():
                name = names.get(int(person))
            else:
                guest = share_links.guest_name(person)
                name = f"{guest} (guest)" if guest else None
            if name and name not in shown:
                shown.append(name)
        result[v.id] = shown
    return result


def get_version(file: File, number: int) -> FileVersion | None:
    return db.session.scalar(file.versions_select().where(FileVersion.number == number))


def restore(file: File, number: int, actor: User) -> FileVersion:
    """Stage an old version's content as the new head (a new version; the key rotates).

    :raise BadRequestError: no such version, or it is already the current one.
    :raise locks.Busy: a save (or another action) is moving the file right now.
    """
    hold(file, "restore")
    old = get_version(file, number)
    if old is None:
        raise BadRequestError(gettext("There is no version %(number)s.", number=number))
    if old.number == file.version:
        raise BadRequestError(gettext("Version %(number)s is already the current version.", number=number))
    handle, path = get_storage().temp_file()
    try:
        with handle, get_storage().open(old.storage_key) as source, writing():
            while chunk := source.read(CHUNK):
                handle.write(chunk)
        lock(file)
        version = store_version(file, path, actor, "restore", restored_from=number)
        audit.record("file.restored", actor=actor, file=file, details={"from": number, "version": version.number})
        text = translatable(
            "%(display_name)s restored version %(number)s of %(title)s as version %(number2)s",
            display_name=actor.display_name,
            number=number,
            title=file.title,
            number2=version.number,
        )
        transaction.after_commit(lambda: posts.notice(file, text, actor))
        return version
    finally:
        remove_leftovers(path)


def save_copy(file: File, actor: User, url: str, title: str, ext: str) -> File:
    """Stage a copy Docs made (Save copy as…) as a new file in the same folder.

    :raise SaveRejected: the URL is not on the Document Server, or the file is not sound.
    :raise SaveFailed: the download failed. :raise BadRequestError: unusable name.
    """
    name = titled(title, ext)
    path = fetch.download(url, settings.max_file_bytes())
    try:
        check_content(path, ext)
        return _new_file(file.space, file.folder, actor, name, path, "upload")
    finally:
        remove_leftovers(path)
