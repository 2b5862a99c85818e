"""Spaces, their members, folders, and what a member sees on a space's page."""

import functools
import unicodedata
from dataclasses import dataclass
from dataclasses import field

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext

from app import pagination
from app.extensions import db
from app.models import LEVELS
from app.models import File
from app.models import FileVersion
from app.models import Folder
from app.models import Membership
from app.models import Post
from app.models import Space
from app.models import User
from app.models.base import utcnow
from app.models.space import ROLES
from app.pagination import Page
from app.services import audit
from app.services import formats
from app.services import posts
from app.services import rights
from app.services import settings
from app.services.exceptions import BadRequestError
from app.services.exceptions import ConflictError
from app.services.exceptions import ForbiddenError
from app.services.exceptions import NotFoundError
from app.services.locales import translatable

STREAM_LENGTH = 50
MEMBERS_SHOWN = 50  # on the space page; its settings list them all, a page at a time
SORTS = ("name", "date", "size", "type")


@functools.lru_cache(maxsize=65536)  # a folder's names are sorted on every view of it
def name_key(name: str) -> tuple[str, str]:
    """Sort key for names as people expect them, in every process alike: case-insensitive
    (casefold), accents second ("Äpfel" right beside "Apfel"), then the exact spelling to break ties.

    Not locale.strxfrm: it follows the process-wide locale, which threads cannot set apart, and
    servers often run under C. Not PyICU: a compiled dependency for a file list's order.
    """
    folded = unicodedata.normalize("NFKD", name.casefold())
    base = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return base, folded + "\0" + name


def clean_name(name: str) -> str:
    """A space's name as kept: trimmed, inner runs of white space made one space.

    :raise BadRequestError: nothing is left.
    """
    name = " ".join((name or "").split())
    if not name:
        raise BadRequestError(gettext("Give the space a name."))
    return name[:128]


def name_taken(name: str, ignore_id: int | None = None) -> bool:
    """Whether a live space has this name, case and surrounding spaces aside (folded here: the
    databases' lower() disagree beyond ASCII)."""
    query = sa.select(Space.name).where(Space.deleted_at.is_(None))
    if ignore_id:
        query = query.where(Space.id != ignore_id)
    wanted = clean_name(name).casefold()
    return any(" ".join(other.split()).casefold() == wanted for other in db.session.scalars(query))


def _refuse_taken(name: str, ignore_id: int | None = None) -> None:
    if name_taken(name, ignore_id):
        raise BadRequestError(gettext("A space named %(name)s already exists; choose another name.", name=name))


def create_space(name: str, owner: User, description: str = "") -> Space:
    """Stage a new space owned by owner.

    :raise BadRequestError: no name, or another space has it.
    """
    name = clean_name(name)
    _refuse_taken(name)
    space = Space(name=name, description=description)
    db.session.add(space)
    db.session.add(Membership(space=space, user=owner, role="owner"))
    db.session.flush()
    return space


def _space_audit(action: str, space: Space, actor: User, **details) -> None:
    audit.record(
        action,
        actor=actor,
        object_type="space",
        object_id=space.id,
        object_name=space.name,
        space_id=space.id,
        details=details,
    )


def update_space(space: Space, name: str, description: str, actor: User) -> None:
    """Stage a new name and description.

    :raise BadRequestError: no name, or another space has it.
    """
    name = clean_name(name)
    _refuse_taken(name, ignore_id=space.id)
    description = (description or "").strip()
    if name != space.name:
        _space_audit("space.renamed", space, actor, old=space.name, new=name)
        posts.space_notice(
            space.id,
            translatable("%(display_name)s renamed the space to %(name)s", display_name=actor.display_name, name=name),
            actor,
        )
        space.name = name
    if description != (space.description or ""):
        _space_audit("space.description_changed", space, actor)
        space.description = description


def owners(space: Space) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Membership.id)).where(Membership.space_id == space.id, Membership.role == "owner")
    )


def member_of(space: Space, membership_id) -> Membership:
    """:raise NotFoundError: no such membership in this space."""
    member = db.session.get(Membership, int(membership_id)) if str(membership_id).isdigit() else None
    if member is None or member.space_id != space.id:
        raise NotFoundError(gettext("No such member."))
    return member


def set_role(space: Space, member: Membership, role: str, actor: User, actor_member: Membership) -> None:
    """Stage a member's new role. Only owners make or unmake owners; a space keeps one owner.

    :raise BadRequestError: unknown role, or the last owner would go. :raise ForbiddenError: not an owner.
    """
    if role not in ROLES:
        raise BadRequestError(gettext("Choose owner, space admin or member."))
    if role == member.role:
        return
    if "owner" in (role, member.role) and actor_member.role != "owner":
        raise ForbiddenError(gettext("Only an owner of the space makes or unmakes owners."))
    if member.role == "owner" and owners(space) <= 1:
        raise BadRequestError(gettext("The space needs an owner: make someone else owner first."))
    _space_audit("space.role_changed", space, actor, user=member.user.username, old=member.role, new=role)
    member.role = role


def remove_member(space: Space, member: Membership, actor: User, actor_member: Membership) -> None:
    """Stage removing someone from the space (their files stay, owned by them).

    :raise BadRequestError: they are its last owner. :raise ForbiddenError: an admin removing an owner.
    """
    if member.role == "owner" and actor_member.role != "owner":
        raise ForbiddenError(gettext("Only an owner of the space removes an owner."))
    if member.role == "owner" and owners(space) <= 1:
        raise BadRequestError(gettext("The space needs an owner: make someone else owner first."))
    _space_audit("space.member_removed", space, actor, user=member.user.username, role=member.role)
    posts.space_notice(
        space.id,
        translatable(
            "%(display_name)s removed %(display_name2)s",
            display_name=actor.display_name,
            display_name2=member.user.display_name,
        ),
        actor,
    )
    db.session.delete(member)


def busy_file(space: Space) -> File | None:
    """A file of the space being edited or owed a save by Docs (it keeps the space from going)."""
    from app.services import files as file_service

    for file in db.session.scalars(sa.select(File).where(File.space_id == space.id, File.trashed_at.is_(None))):
        if file.editors or file_service.save_on_its_way(file):
            return file
    return None


def delete_space(space: Space, actor: User) -> None:
    """Stage a soft delete: the space and everything in it disappear for its members; site
    administrators may restore it until the trash purge removes it TRASH_DAYS later.

    :raise ConflictError: a file of it is being edited or its save is on its way.
    """
    busy = busy_file(space)
    if busy is not None:
        raise ConflictError(
            f"{busy.title} is being edited or its last changes are still on their way from the editor; "
            "try again when everyone has closed it."
        )
    space.deleted_at = utcnow()
    space.deleted_by = actor.id
    _space_audit("space.deleted", space, actor)


def restore_space(space: Space, actor: User) -> None:
    """Stage bringing a deleted space back as it was (renamed when its name was taken meanwhile)."""
    if space.deleted_at is None:
        return
    if name_taken(space.name, ignore_id=space.id):
        space.name = f"{space.name} (restored {space.deleted_at:%Y-%m-%d})"[:128]
    space.deleted_at = None
    space.deleted_by = None
    _space_audit("space.restored", space, actor)


def deleted_spaces() -> list[Space]:
    return list(db.session.scalars(sa.select(Space).where(Space.deleted_at.is_not(None)).order_by(Space.deleted_at)))


def manager_or_403(member: Membership) -> None:
    if not member.manages_space:
        raise ForbiddenError(gettext("Only the space's owners and admins may do this."))


def set_default_level(space: Space, member: Membership, level: str) -> bool:
    """Stage the level members get on the space's new files; returns whether it changed.

    Files that exist keep their own default: changing it here grants nobody anything on them.
    :raise ForbiddenError: not a space admin. :raise BadRequestError: unknown level.
    """
    if not member.manages_space:
        raise ForbiddenError(gettext("Only the space's admins choose what members may do with new files."))
    if level not in LEVELS:
        raise BadRequestError(
            gettext("Unknown level %(level)r; use one of %(levels)s.", level=level, levels=", ".join(LEVELS))
        )
    old = space.default_level
    space.default_level = level
    if old != level:  # who may do what is audited, this choice included
        audit.record(
            "space.default_level_changed",
            object_type="space",
            object_id=space.id,
            object_name=space.name,
            space_id=space.id,
            details={"old": old, "new": level},
        )
    return old != level


def add_member(space: Space, user: User, role: str, actor: User) -> tuple[Membership, bool]:
    """Stage making user a member (with a notice in the stream); returns the membership and whether it is new."""
    existing = rights.membership(space.id, user)
    if existing is not None:
        return existing, False
    member = Membership(space_id=space.id, user_id=user.id, role=role)
    db.session.add(member)
    posts.space_notice(
        space.id,
        translatable(
            "%(display_name)s added %(display_name2)s", display_name=actor.display_name, display_name2=user.display_name
        ),
        actor,
    )
    return member, True


def add_group(space: Space, group, role: str, actor: User) -> int:
    """Stage making every active member of a group a member of the space, in one notice; returns
    how many joined (those already members keep their role)."""
    from app.services import audit
    from app.services import groups

    present = set(db.session.scalars(sa.select(Membership.user_id).where(Membership.space_id == space.id)))
    joining = [user for user in groups.members(group) if user.is_active and user.id not in present]
    for user in joining:
        db.session.add(Membership(space_id=space.id, user_id=user.id, role=role))
    if joining:
        names = ", ".join(user.display_name for user in joining[:10])
        if len(joining) > 10:
            names += f" and {len(joining) - 10} more"
        posts.space_notice(
            space.id,
            translatable(
                "%(display_name)s added the group %(name)s: %(names)s",
                display_name=actor.display_name,
                name=group.name,
                names=names,
            ),
            actor,
        )
    audit.record(
        "space.group_added",
        object_type="group",
        object_id=group.id,
        object_name=group.name,
        space_id=space.id,
        details={"role": role, "added": [user.username for user in joining]},
    )
    return len(joining)


def spaces_of(user: User) -> list[Space]:
    """The spaces user belongs to, by name."""
    return list(
        db.session.scalars(
            sa.select(Space)
            .join(Membership)
            .where(Membership.user_id == user.id, Space.deleted_at.is_(None))
            .order_by(Space.name, Space.id)
        )
    )


def spaces_page(user: User, number: int = 1, per_page: int = pagination.PER_PAGE) -> Page:
    """One page of the spaces user belongs to, by name, as (space, role) rows."""
    return pagination.of_select(
        sa.select(Space, Membership.role)
        .join(Membership)
        .where(Membership.user_id == user.id, Space.deleted_at.is_(None))
        .order_by(Space.name, Space.id),
        number,
        per_page,
        scalars=False,
    )


def folder_of(space: Space, folder_id) -> Folder | None:
    """The folder of this space named by a form or query value, or None for the top level.

    :raise NotFoundError: a folder of another space, or none at all.
    """
    if folder_id in (None, ""):
        return None
    folder = db.session.get(Folder, int(folder_id)) if str(folder_id).isdigit() else None
    if folder is None or folder.space_id != space.id or folder.trashed_at is not None:
        raise NotFoundError(gettext("No such folder."))
    return folder


def live_folder_or_404(folder_id: int, user: User) -> tuple[Space, Membership, Folder]:
    """A live folder of a space user belongs to, with the space and user's membership.

    :raise NotFoundError: no such live folder, or not a member of its space (no existence oracle).
    """
    folder = db.session.get(Folder, folder_id)
    if folder is None:
        raise NotFoundError(gettext("No such folder."))
    space, member = rights.get_space_or_404(folder.space_id, user)
    return space, member, folder_of(space, folder_id)  # which refuses a trashed one


def folders_page(space: Space, number: int = 1, per_page: int = pagination.PER_PAGE) -> Page:
    """One page of the space's live folders (every level), by name."""
    return pagination.of_select(
        sa.select(Folder)
        .where(Folder.space_id == space.id, Folder.trashed_at.is_(None))
        .order_by(sa.func.lower(Folder.name), Folder.id),
        number,
        per_page,
    )


def add_folder(space: Space, parent: Folder | None, name: str) -> Folder:
    """Stage a folder (name already cleaned by files.safe_filename)."""
    folder = Folder(space_id=space.id, parent_id=parent.id if parent else None, name=name)
    db.session.add(folder)
    return folder


@dataclass
class FileEntry:
    """One file of a folder as its reader sees it."""

    file: File
    opens: bool  # Docs can open it
    can_edit: bool
    editors: list[str]  # Docs ids of the people editing it now
    editor_names: list[str] = field(default_factory=list)
    size: int = 0
    convert_to: str | None = None  # Convert to DOCX/XLSX/PPTX (PDF form): the target, for those who may
    preview: bool = False  # a PNG preview of the current version exists and they may see it

    @property
    def icon(self) -> str:
        return formats.icon(self.file.ext)

    @property
    def unopenable(self) -> str | None:
        """Why it opens in no editor (a plain file: download only), or None."""
        return formats.unopenable_reason(self.file.ext)


@dataclass
class SpacePage:
    """What a member sees of a space in one folder, a page of each list at a time."""

    trail: list[Folder]  # from the top level down to the folder
    listing: Page  # the folder's subfolders, then its files: a page of both
    folders: list  # the subfolders on this page (id, name)
    entries: list[FileEntry]  # the files on this page
    posts: Page
    members: Page


_SORT_KEYS = {
    "date": lambda row: row.updated_at,
    "size": lambda row: row.size or 0,
    "type": lambda row: name_key(row.ext),
}


def _sorted_rows(rows: list, by: str, descending: bool) -> list:
    """Rows with title, ext, updated_at and size in the order asked for; ties go by name, A to Z."""
    by_name = sorted(rows, key=lambda row: name_key(row.title))
    if by not in _SORT_KEYS:
        return list(reversed(by_name)) if descending else by_name
    return sorted(by_name, key=_SORT_KEYS[by], reverse=descending)  # stable, also reversed: ties stay by name


@dataclass
class FolderListing:
    """One page of a folder: its subfolders first, then the files the member may see."""

    listing: Page  # of ("folder", row) and ("file", row), in the order shown
    folders: list  # the subfolders on this page (id, name)
    entries: list[FileEntry]  # the files on this page


def folder_listing(
    space: Space,
    member: Membership,
    user: User,
    folder: Folder | None,
    sort: str = "name",
    descending: bool = False,
    number: int = 1,
    per_page: int = pagination.PER_PAGE,
) -> FolderListing:
    """One page of the folder's subfolders and the files the member may see, in the order asked for.

    A fixed number of queries whatever the folder holds: the names, types, dates and sizes of all
    its entries in two (the order is by name as people read it, name_key, done here), then the
    full rows of the page's files only.
    """
    folder_id = folder.id if folder else None
    folder_rows = db.session.execute(
        sa.select(Folder.id, Folder.name).where(
            Folder.space_id == space.id, Folder.parent_id == folder_id, Folder.trashed_at.is_(None)
        )
    ).all()
    statement = sa.select(File.id, File.title, File.ext, File.updated_at).where(
        File.space_id == space.id,
        File.folder_id == folder_id,
        File.trashed_at.is_(None),
        rights.visible_to_member(user, member),
    )
    if sort == "size":  # the head versions' sizes, joined only when they set the order
        statement = statement.add_columns(FileVersion.size).outerjoin(
            FileVersion, sa.and_(FileVersion.file_id == File.id, FileVersion.number == File.version)
        )
    file_rows = db.session.execute(statement).all()
    listing = pagination.of_list(
        [("folder", row) for row in sorted(folder_rows, key=lambda row: name_key(row.name))]
        + [("file", row) for row in _sorted_rows(file_rows, sort, descending)],
        number,
        per_page,
    )
    return FolderListing(
        listing=listing,
        folders=[row for kind, row in listing.items if kind == "folder"],
        entries=_entries([row.id for kind, row in listing.items if kind == "file"], user, member),
    )


def page(
    space: Space,
    member: Membership,
    user: User,
    folder: Folder | None,
    sort: str = "name",
    descending: bool = False,
    number: int = 1,
    per_page: int = pagination.PER_PAGE,
    stream_number: int = 1,
    members_number: int = 1,
) -> SpacePage:
    """One page of the folder (``folder_listing``), of the stream without posts about files
    hidden from the member, and of the members."""
    listed = folder_listing(space, member, user, folder, sort, descending, number, per_page)
    stream = pagination.of_select(
        sa.select(Post)
        .where(
            Post.space_id == space.id,
            # Posts about hidden files are not shown, nor those about trashed files until they come back.
            # Checked per post as the index hands them out newest first, not by listing the space's files.
            Post.file_id.is_(None)
            | sa.exists().where(
                File.id == Post.file_id, File.trashed_at.is_(None), rights.visible_to_member(user, member)
            ),
        )
        .order_by(Post.created_at.desc(), Post.id.desc()),
        stream_number,
        STREAM_LENGTH,
        count=False,
        param="stream_page",
        anchor="stream",
    )
    return SpacePage(
        trail=_trail(folder),
        listing=listed.listing,
        folders=listed.folders,
        entries=listed.entries,
        posts=stream,
        members=members_page(space, members_number, MEMBERS_SHOWN, param="members_page", anchor="members"),
    )


def _entries(file_ids: list[int], user: User, member: Membership) -> list[FileEntry]:
    """The files of one page of a folder as their reader sees them, in the order of ``file_ids``."""
    if not file_ids:
        return []
    files = {f.id: f for f in db.session.scalars(sa.select(File).where(File.id.in_(file_ids)))}
    files = [files[fid] for fid in file_ids if fid in files]
    levels = rights.levels(files, user, member)
    heads = {
        file_id: (size, thumbnail_key)
        for file_id, size, thumbnail_key in db.session.execute(
            sa.select(FileVersion.file_id, FileVersion.size, FileVersion.thumbnail_key)
            .join(File, sa.and_(FileVersion.file_id == File.id, FileVersion.number == File.version))
            .where(File.id.in_(file_ids))
        )
    }
    lossy = settings.lossy_formats()
    entries = [
        FileEntry(
            file=file,
            opens=formats.opens_in_editor(file.ext),
            can_edit=rights.at_least(levels[file.id], "edit") and formats.edit_mode_possible(file.ext, lossy),
            editors=file.editors,
            size=heads.get(file.id, (0, None))[0],
            convert_to=(formats.ooxml_target(file.ext) if rights.at_least(levels[file.id], "edit") else None),
            preview=bool(heads.get(file.id, (0, None))[1]) and rights.may_download(file, levels[file.id]),
        )
        for file in files
        if levels[file.id] != "none"
    ]
    names = _names_of({uid for entry in entries for uid in entry.editors})
    for entry in entries:
        entry.editor_names = [names.get(uid, "a guest") for uid in entry.editors]
    return entries


def _trail(folder: Folder | None) -> list[Folder]:
    trail = []
    while folder is not None:
        trail.append(folder)
        folder = folder.parent
    return list(reversed(trail))


def _names_of(ids: set[str]) -> dict[str, str]:
    numeric = [int(i) for i in ids if i.isdigit()]
    if not numeric:
        return {}
    rows = db.session.execute(sa.select(User.id, User.display_name).where(User.id.in_(numeric))).all()
    return {str(uid): name for uid, name in rows}


def folder_path(folder: Folder) -> str:
    return " / ".join(f.name for f in _trail(folder))


def destinations(user: User) -> list[tuple[str, str]]:
    """Where user may put files, as (value, label): each of their spaces and its live folders."""
    places = []
    for space in spaces_of(user):
        places.append((str(space.id), space.name))
        folders = db.session.scalars(
            sa.select(Folder).where(Folder.space_id == space.id, Folder.trashed_at.is_(None))
        ).all()
        labelled = sorted(((folder_path(f), f) for f in folders), key=lambda pair: pair[0].casefold())
        places.extend((f"{space.id}:{f.id}", f"{space.name} / {path}") for path, f in labelled)
    return places


def place(value: str, user: User) -> tuple[Space, Folder | None]:
    """The space and folder a destination value names, where user may add files (any member may).

    :raise NotFoundError: not a member there, or no such live space or folder.
    """
    space_id, _, folder_id = (value or "").partition(":")
    if not space_id.isdigit():
        raise NotFoundError(gettext("Choose where the file goes."))
    return place_in(int(space_id), folder_id or None, user)


def place_in(space_id: int, folder_id, user: User) -> tuple[Space, Folder | None]:
    """The space and folder (None: the top level) where user may add files, by their ids.

    :raise NotFoundError: not a member there, or no such live space or folder.
    """
    space, _ = rights.get_space_or_404(space_id, user)
    return space, folder_of(space, folder_id)


def members_page(space: Space, number: int = 1, per_page: int = pagination.PER_PAGE, **named) -> Page:
    """One page of the space's members by name, each with their user (one query, not one per row)."""
    return pagination.of_select(
        sa.select(Membership)
        .join(User, User.id == Membership.user_id)
        .options(so.contains_eager(Membership.user))
        .where(Membership.space_id == space.id)
        .order_by(User.display_name, User.id),
        number,
        per_page,
        **named,
    )
