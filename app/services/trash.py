"""The trash of each space: deleted files and folders wait there TRASH_DAYS, restorable, then the
job schedule purges them (and the spaces deleted that long ago) for good.

A trashed row keeps everything it had (versions, rights, links, thread) and is only marked; every
way to a file asks for untrashed ones (rights.get_file_or_404, share_links.resolve, the space
page), so restoring gives it back exactly as it was. Nothing Docs still owes a save goes to the
trash: the save would arrive for a file nobody can see.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext

from app import pagination
from app.extensions import db
from app.models import File
from app.models import Folder
from app.models import Membership
from app.models import Space
from app.models import User
from app.models.base import utcnow
from app.pagination import PER_PAGE
from app.pagination import Page
from app.services import audit
from app.services import files as file_service
from app.services import posts
from app.services import rights
from app.services import templates
from app.services.exceptions import BadRequestError
from app.services.exceptions import ForbiddenError
from app.services.exceptions import NotFoundError
from app.services.locales import translatable

log = logging.getLogger("coedit.trash")


def days() -> int:
    return max(1, int(current_app.config["TRASH_DAYS"]))


def purge_date(trashed_at: datetime) -> datetime:
    return trashed_at + timedelta(days=days())


def trash_file(file: File, actor: User) -> None:
    """Stage moving a file to its space's trash.

    :raise ConflictError: it is being edited or Docs owes it a save. :raise locks.Busy: it is moving.
    """
    file_service.hold(file, "trash")
    file_service.refuse_if_save_owed(file)
    file.trashed_at = utcnow()
    file.trashed_by = actor.id
    file.trashed_with = None
    audit.record("file.trashed", actor=actor, file=file)
    if rights.readable_by_every_member(file):
        posts.space_notice(
            file.space_id,
            translatable(
                "%(display_name)s moved %(title)s to the trash", display_name=actor.display_name, title=file.title
            ),
            actor,
        )


def _subfolders(folder: Folder) -> list[Folder]:
    """The folder and every live folder below it."""
    found, frontier = [folder], [folder.id]
    while frontier:
        children = list(
            db.session.scalars(sa.select(Folder).where(Folder.parent_id.in_(frontier), Folder.trashed_at.is_(None)))
        )
        found.extend(children)
        frontier = [child.id for child in children]
    return found


def _folder_audit(action: str, folder: Folder, actor: User | None, **details) -> None:
    audit.record(
        action,
        actor=actor,
        object_type="folder",
        object_id=folder.id,
        object_name=folder.name,
        space_id=folder.space_id,
        details=details,
    )


def trash_folder(folder: Folder, actor: User) -> int:
    """Stage moving a folder with everything in it to the trash; returns how many files went.

    :raise ConflictError: a file in it is being edited or owed a save (then nothing moves).
    """
    folders = _subfolders(folder)
    ids = [f.id for f in folders]
    files = list(db.session.scalars(sa.select(File).where(File.folder_id.in_(ids), File.trashed_at.is_(None))))
    for file in files:
        file_service.hold(file, "trash")
        file_service.refuse_if_save_owed(file)
    now = utcnow()
    for item in [*folders, *files]:
        item.trashed_at = now
        item.trashed_by = actor.id
        item.trashed_with = folder.id if item is not folder else None
    _folder_audit("folder.trashed", folder, actor, files=len(files), folders=len(folders) - 1)
    posts.space_notice(
        folder.space_id,
        translatable(
            "%(display_name)s moved the folder %(name)s to the trash", display_name=actor.display_name, name=folder.name
        ),
        actor,
    )
    return len(files)


def rename_folder(folder: Folder, name: str, actor: User) -> None:
    """Stage a folder's new name (already cleaned by files.safe_filename)."""
    if name == folder.name:
        return
    _folder_audit("folder.renamed", folder, actor, old=folder.name, new=name)
    folder.name = name


def _live_folder(folder_id: int | None, space_id: int) -> Folder | None:
    folder = db.session.get(Folder, folder_id) if folder_id else None
    if folder is None or folder.trashed_at is not None or folder.space_id != space_id:
        return None
    return folder


def _unique_folder_name(space_id: int, parent_id: int | None, name: str, ignore_id: int) -> str:
    taken = {
        other.casefold()
        for other in db.session.scalars(
            sa.select(Folder.name).where(
                Folder.space_id == space_id,
                Folder.parent_id == parent_id if parent_id else Folder.parent_id.is_(None),
                Folder.trashed_at.is_(None),
                Folder.id != ignore_id,
            )
        )
    }
    candidate, n = name, 2
    while candidate.casefold() in taken:
        candidate, n = f"{name} ({n})", n + 1
    return candidate


def _untrash(file: File) -> None:
    """Back where it was, or to the space's top level when that folder is gone; a unique name."""
    folder = _live_folder(file.folder_id, file.space_id)
    file.folder_id = folder.id if folder else None
    file.title = file_service.unique_title(file.space, folder, file.title)
    file.trashed_at = file.trashed_by = file.trashed_with = None


def restore_file(file: File, actor: User) -> None:
    """Stage taking a file out of the trash, its rights, versions and links as they were."""
    file_service.hold(file, "restore")
    _untrash(file)
    db.session.flush()
    db.session.expire(file, ["folder"])
    audit.record("file.untrashed", actor=actor, file=file)


def restore_folder(folder: Folder, actor: User) -> None:
    """Stage taking a folder out of the trash with everything that went with it."""
    files = list(db.session.scalars(sa.select(File).where(File.trashed_with == folder.id)))
    for file in files:  # locks first: nothing may be staged before (SQLite's lock store writes apart)
        file_service.hold(file, "restore")
    parent = _live_folder(folder.parent_id, folder.space_id)
    folder.parent_id = parent.id if parent else None
    folder.name = _unique_folder_name(folder.space_id, folder.parent_id, folder.name, folder.id)
    folder.trashed_at = folder.trashed_by = None
    for sub in db.session.scalars(sa.select(Folder).where(Folder.trashed_with == folder.id)):
        sub.trashed_at = sub.trashed_by = sub.trashed_with = None
    db.session.flush()
    for file in files:
        _untrash(file)
    _folder_audit("folder.untrashed", folder, actor)


@dataclass
class TrashEntry:
    kind: str  # file | folder
    id: int
    name: str
    trashed_at: datetime
    trashed_by: str
    purge_on: datetime
    can_restore: bool
    files: int = 0  # in a folder


def listing(space: Space, member: Membership, user: User, number: int = 1, per_page: int = PER_PAGE) -> Page:
    """One page of what this member sees in the space's trash, newest first: the files they could
    see, and the folders (space admins restore folders; members see them with the count of files).

    One statement for the page (files and folders together), one for the names. Each side reads
    only the newest rows up to this page's end, along its (space, trashed_at) index, so a long
    trash costs no more than a short one; a row more than the page tells whether another follows
    (no count: it would read the whole trash).
    """
    upto = number * per_page + 1
    files = sa.select(
        sa.literal("file").label("kind"),
        File.id,
        File.title.label("name"),
        File.trashed_at,
        File.trashed_by,
        File.owner_id,
        sa.literal(0).label("files"),
    ).where(
        File.space_id == space.id,
        File.trashed_at.is_not(None),
        File.trashed_with.is_(None),
        rights.visible_to_member(user, member),
    )
    files = files.order_by(File.trashed_at.desc(), File.id.desc()).limit(upto)
    count = sa.select(sa.func.count(File.id)).where(File.trashed_with == Folder.id).correlate(Folder).scalar_subquery()
    folders = sa.select(
        sa.literal("folder").label("kind"),
        Folder.id,
        Folder.name,
        Folder.trashed_at,
        Folder.trashed_by,
        sa.cast(sa.null(), sa.Integer).label("owner_id"),  # typed: each side is a subquery of its own
        count.label("files"),
    ).where(Folder.space_id == space.id, Folder.trashed_at.is_not(None), Folder.trashed_with.is_(None))
    folders = folders.order_by(Folder.trashed_at.desc(), Folder.id.desc()).limit(upto)
    # Each limited side in a subquery of its own: SQLite takes LIMIT only after the whole UNION.
    both = sa.union_all(sa.select(files.subquery()), sa.select(folders.subquery())).subquery()
    listed = pagination.of_select(
        sa.select(both).order_by(both.c.trashed_at.desc(), both.c.id.desc()),
        number,
        per_page,
        scalars=False,
        count=False,
    )
    by_ids = {row.trashed_by for row in listed.items if row.trashed_by is not None}
    names = (
        dict(db.session.execute(sa.select(User.id, User.display_name).where(User.id.in_(by_ids))).all())
        if by_ids
        else {}
    )
    listed.items = [
        TrashEntry(
            row.kind,
            row.id,
            row.name,
            row.trashed_at,
            names.get(row.trashed_by, "someone"),
            purge_date(row.trashed_at),
            member.manages_space or (row.kind == "file" and row.owner_id == user.id),
            row.files or 0,
        )
        for row in listed.items
    ]
    return listed


def trashed_file(space: Space, file_id: int, user: User, member: Membership) -> File:
    """A file of this space's trash that user may restore (or delete for good).

    :raise NotFoundError: not in this trash, or hidden from them. :raise ForbiddenError: they may only see it.
    """
    file = db.session.get(File, file_id)
    if file is None or file.space_id != space.id or file.trashed_at is None or file.trashed_with is not None:
        raise NotFoundError(gettext("Not in the trash."))
    if rights.file_level(file, user, member) == "none":
        raise NotFoundError(gettext("Not in the trash."))
    if not rights.can_manage_file(file, user, member):
        raise ForbiddenError(gettext("Only its owner and the space's admins can restore or delete this file."))
    return file


def trashed_folder(space: Space, folder_id: int, member: Membership) -> Folder:
    """A folder of this space's trash that the member may restore (or delete for good): its admins."""
    folder = db.session.get(Folder, folder_id)
    if folder is None or folder.space_id != space.id or folder.trashed_at is None or folder.trashed_with is not None:
        raise NotFoundError(gettext("Not in the trash."))
    if not member.manages_space:
        raise ForbiddenError(gettext("Only the space's admins can restore or delete folders."))
    return folder


# A folder deleted for good at once takes every file's lock in one request: beyond this many files
# it is left to the purge, which deletes them one by one.
FOLDER_DELETE_MAX = 500


def delete_file_for_good(file: File, actor: User) -> None:
    """Stage removing a trashed file now rather than at the purge (for a file that must not wait,
    such as one shared by mistake): blobs after the commit, a DeletedFile tombstone stays.

    :raise locks.Busy: it is moving right now.
    """
    file_service.delete(file, actor)


def delete_folder_for_good(folder: Folder, actor: User) -> int:
    """Stage removing a trashed folder now with the folders and files that went with it; returns
    how many files go. Files trashed on their own before it stay in the trash (at the top level
    when restored), as after the purge.

    :raise BadRequestError: more files than FOLDER_DELETE_MAX. :raise locks.Busy: a file is moving.
    """
    files = list(db.session.scalars(sa.select(File).where(File.trashed_with == folder.id).order_by(File.id)))
    if len(files) > FOLDER_DELETE_MAX:
        raise BadRequestError(
            gettext(
                "%(name)s holds more than %(max)d files: the purge removes it on its day.",
                name=folder.name,
                max=FOLDER_DELETE_MAX,
            )
        )
    for file in files:  # locks first: nothing may be staged before (SQLite's lock store writes apart)
        file_service.hold(file, "delete")
    for file in files:
        file_service.delete_held(file, actor)
    folders = [folder, *db.session.scalars(sa.select(Folder).where(Folder.trashed_with == folder.id))]
    ids = [f.id for f in folders]
    # What stays, files and folders trashed on their own, must not go with them.
    _to_top_level(ids)
    _folder_audit("folder.deleted", folder, actor, files=len(files), folders=len(folders) - 1)
    for item in folders:
        db.session.delete(item)
    return len(files)


def _to_top_level(folder_ids: list[int]) -> None:
    """Stage moving what is left in these folders to the top level, before they are deleted: rows
    pointing into a folder go with it (ON DELETE CASCADE)."""
    db.session.execute(sa.update(File).where(File.folder_id.in_(folder_ids)).values(folder_id=None))
    db.session.execute(sa.update(Folder).where(Folder.parent_id.in_(folder_ids)).values(parent_id=None))


def _cutoff(now: datetime | None) -> datetime:
    return (now or utcnow()) - timedelta(days=days())


def expired_file_ids(now: datetime | None = None) -> list[int]:
    """Files in the trash longer than TRASH_DAYS, and every file of spaces deleted that long ago."""
    cutoff = _cutoff(now)
    gone_spaces = sa.select(Space.id).where(Space.deleted_at.is_not(None), Space.deleted_at < cutoff)
    return list(
        db.session.scalars(
            sa.select(File.id)
            .where(
                sa.or_(sa.and_(File.trashed_at.is_not(None), File.trashed_at < cutoff), File.space_id.in_(gone_spaces))
            )
            .order_by(File.id)
        )
    )


def purge_file(file: File) -> None:
    """Stage removing a file for good (blobs after the commit, a DeletedFile tombstone stays).

    The trash refused files Docs owed a save, so nothing is overridden; a save that still comes
    finds the tombstone and the owner is told, as after a delete.
    """
    file_service.delete(file, None, force=True, action="file.purged")


def purge_folders_and_spaces(now: datetime | None = None) -> None:
    """Stage removing the folders trashed, and the spaces deleted, longer than TRASH_DAYS ago (their
    files went first, one by one: purge_file)."""
    cutoff = _cutoff(now)
    for folder in list(
        db.session.scalars(sa.select(Folder).where(Folder.trashed_at.is_not(None), Folder.trashed_at < cutoff))
    ):
        _to_top_level([folder.id])  # what was restored out of it meanwhile lives on
        _folder_audit("folder.purged", folder, None)
        db.session.delete(folder)
    for space in list(
        db.session.scalars(sa.select(Space).where(Space.deleted_at.is_not(None), Space.deleted_at < cutoff))
    ):
        if db.session.scalar(sa.select(File.id).where(File.space_id == space.id).limit(1)) is not None:
            continue  # a file could not be purged this time (busy): the next run takes both
        audit.record(
            "space.purged",
            actor=None,
            object_type="space",
            object_id=space.id,
            object_name=space.name,
            space_id=space.id,
        )
        templates.forget_space(space)
        db.session.delete(space)
