"""Spaces, their members, folders, and what a member sees on a space's page."""

from dataclasses import dataclass
from dataclasses import field

import sqlalchemy as sa

from app.extensions import db
from app.models import LEVELS
from app.models import File
from app.models import FileVersion
from app.models import Folder
from app.models import Membership
from app.models import Post
from app.models import Space
from app.models import User
from app.services import audit
from app.services import formats
from app.services import posts
from app.services import rights
from app.services import settings
from app.services.exceptions import BadRequestError
from app.services.exceptions import ForbiddenError
from app.services.exceptions import NotFoundError

STREAM_LENGTH = 50


def create_space(name: str, owner: User, description: str = "") -> Space:
    """Stage a new space owned by owner."""
    space = Space(name=name.strip(), description=description)
    db.session.add(space)
    db.session.add(Membership(space=space, user=owner, role="owner"))
    db.session.flush()
    return space


def set_default_level(space: Space, member: Membership, level: str) -> bool:
    """Stage the level members get on the space's new files; returns whether it changed.

    Files that exist keep their own default: changing it here grants nobody anything on them.
    :raise ForbiddenError: not a space admin. :raise BadRequestError: unknown level.
    """
    if not member.manages_space:
        raise ForbiddenError("Only the space's admins choose what members may do with new files.")
    if level not in LEVELS:
        raise BadRequestError(f"Unknown level {level!r}; use one of {', '.join(LEVELS)}.")
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
    posts.space_notice(space.id, f"{actor.display_name} added {user.display_name}", actor)
    return member, True


def spaces_of(user: User) -> list[Space]:
    """The spaces user belongs to, by name."""
    return list(
        db.session.scalars(
            sa.select(Space).join(Membership).where(Membership.user_id == user.id).order_by(Space.name, Space.id)
        )
    )


def folder_of(space: Space, folder_id) -> Folder | None:
    """The folder of this space named by a form or query value, or None for the top level.

    :raise NotFoundError: a folder of another space, or none at all.
    """
    if folder_id in (None, ""):
        return None
    folder = db.session.get(Folder, int(folder_id)) if str(folder_id).isdigit() else None
    if folder is None or folder.space_id != space.id:
        raise NotFoundError("No such folder.")
    return folder


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
    """What a member sees of a space in one folder."""

    trail: list[Folder]  # from the top level down to the folder
    folders: list[Folder]
    entries: list[FileEntry]
    posts: list[Post]
    members: list[Membership]


def page(space: Space, member: Membership, user: User, folder: Folder | None) -> SpacePage:
    """The folder's subfolders and the files the member may see, the stream without posts about
    files hidden from them, and the members."""
    folder_id = folder.id if folder else None
    folders = db.session.scalars(
        sa.select(Folder)
        .where(Folder.space_id == space.id, Folder.parent_id == folder_id)
        .order_by(Folder.name, Folder.id)
    ).all()
    files = db.session.scalars(
        sa.select(File).where(File.space_id == space.id, File.folder_id == folder_id).order_by(File.title, File.id)
    ).all()
    levels = rights.levels(files, user, member)
    heads = {
        file_id: (size, thumbnail_key)
        for file_id, size, thumbnail_key in db.session.execute(
            sa.select(FileVersion.file_id, FileVersion.size, FileVersion.thumbnail_key)
            .join(File, sa.and_(FileVersion.file_id == File.id, FileVersion.number == File.version))
            .where(File.space_id == space.id, File.folder_id == folder_id)
        )
    }
    sizes = {file_id: size for file_id, (size, _) in heads.items()}
    lossy = settings.lossy_formats()
    entries = [
        FileEntry(
            file=file,
            opens=formats.opens_in_editor(file.ext),
            can_edit=rights.at_least(levels[file.id], "edit") and formats.edit_mode_possible(file.ext, lossy),
            editors=file.editors,
            size=sizes.get(file.id, 0),
            convert_to=(formats.ooxml_target(file.ext) if rights.at_least(levels[file.id], "edit") else None),
            preview=bool(heads.get(file.id, (0, None))[1]) and rights.may_download(file, levels[file.id]),
        )
        for file in files
        if levels[file.id] != "none"
    ]
    names = _names_of({uid for entry in entries for uid in entry.editors})
    for entry in entries:
        entry.editor_names = [names.get(uid, "a guest") for uid in entry.editors]
    hidden = rights.hidden_file_ids(space.id, user, member)
    stream = db.session.scalars(
        sa.select(Post)
        .where(Post.space_id == space.id, Post.file_id.not_in(hidden) | Post.file_id.is_(None))
        .order_by(Post.created_at.desc(), Post.id.desc())
        .limit(STREAM_LENGTH)
    ).all()
    members = db.session.scalars(
        sa.select(Membership).where(Membership.space_id == space.id).join(User).order_by(User.display_name, User.id)
    ).all()
    return SpacePage(
        trail=_trail(folder), folders=list(folders), entries=entries, posts=list(stream), members=list(members)
    )


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
