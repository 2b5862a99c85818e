"""Who may do what with a space and its files, decided on the server only; and changing it.

One function per question, asked by every entry point (pages, the API, share links and the
routes Docs calls): ``file_level``/``require`` (may read, may act), ``may_download``,
``may_change``, ``may_use_editors``, ``can_manage_file``. Lists ask the same questions in SQL:
``not_hidden`` (may read) and ``downloadable`` (``may_download``), each agreeing with its
one-file form.
"""

from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import g
from flask import url_for
from flask_babel import gettext
from flask_babel import lazy_gettext
from werkzeug.local import LocalProxy

from app import jobs
from app import transaction
from app.extensions import db
from app.models import LEVELS
from app.models import File
from app.models import FileRight
from app.models import Membership
from app.models import Space
from app.models import User
from app.models.space import MANAGER_ROLES
from app.models.user import username_key
from app.services import accounts
from app.services import audit
from app.services.exceptions import BadRequestError
from app.services.exceptions import ForbiddenError
from app.services.exceptions import NotFoundError
from app.services.locales import translatable

# Translatable: each reader sees them in their own language (pages, notices).
LEVEL_LABELS = {
    "edit": translatable("Edit"),
    "review": translatable("Review (track changes)"),
    "comment": translatable("Comment"),
    "fill": translatable("Fill in forms"),
    "read": translatable("Read"),
    "none": translatable("No access"),
}
# The same in the middle of a sentence ("members comment, Bob Baker edit").
LEVEL_WORDS = {
    "edit": translatable("edit"),
    "review": translatable("review (track changes)"),
    "comment": translatable("comment"),
    "fill": translatable("fill in forms"),
    "read": translatable("read"),
    "none": translatable("no access"),
}


def membership(space_id: int, user: User | None) -> Membership | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(
        sa.select(Membership).where(Membership.space_id == space_id, Membership.user_id == user.id)
    )


def space_role(space_id: int, user: User | None) -> str | None:
    """The user's role in the space (None: not a member), looked up once per request."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    roles = g.setdefault("_coedit_roles", {})
    if (space_id, user.id) not in roles:
        roles[(space_id, user.id)] = db.session.scalar(
            sa.select(Membership.role).where(Membership.space_id == space_id, Membership.user_id == user.id)
        )
    return roles[(space_id, user.id)]


def get_space_or_404(space_id: int, user: User) -> tuple[Space, Membership]:
    """The space and the user's membership.

    :raise NotFoundError: no such space, or the user is not a member (no existence oracle).
    """
    member = membership(space_id, user)
    space = db.session.get(Space, space_id) if member else None
    if space is None or space.deleted_at is not None:  # a deleted space waits for the purge, unseen
        raise NotFoundError(gettext("No such space."))
    return space, member


def _level(file: File, user_id: int, role: str | None, override: str | None) -> str:
    if role is None:  # not a member of the space
        return "none"
    if file.owner_id == user_id or role in MANAGER_ROLES:
        return "edit"
    return override or file.default_level


def file_level(file: File, user: User | None, member: Membership | None = None) -> str:
    """The user's level on the file: one of LEVELS."""
    member = member if member is not None else membership(file.space_id, user)
    if member is None:
        return "none"
    override = db.session.scalar(
        sa.select(FileRight.level).where(FileRight.file_id == file.id, FileRight.user_id == user.id)
    )
    return _level(file, user.id, member.role, override)


def levels(files: list[File], user: User, member: Membership) -> dict[int, str]:
    """The user's level on each of these files of one space, with one query for the overrides."""
    overrides = (
        dict(
            db.session.execute(
                sa.select(FileRight.file_id, FileRight.level).where(
                    FileRight.user_id == user.id, FileRight.file_id.in_([f.id for f in files])
                )
            ).all()
        )
        if files
        else {}
    )
    return {f.id: _level(f, user.id, member.role, overrides.get(f.id)) for f in files}


def levels_anywhere(files: list[File], user: User) -> dict[int, str]:
    """The user's level on files of any spaces: one query for their roles, one for the overrides.

    ``files`` need only id, space_id, owner_id and default_level (rows of those columns will do).
    """
    if not files:
        return {}
    if isinstance(user, LocalProxy):  # current_user: resolved once, not once per file
        user = user._get_current_object()
    roles = dict(
        db.session.execute(
            sa.select(Membership.space_id, Membership.role).where(
                Membership.user_id == user.id, Membership.space_id.in_({f.space_id for f in files})
            )
        ).all()
    )
    overrides = dict(
        db.session.execute(
            sa.select(FileRight.file_id, FileRight.level).where(
                FileRight.user_id == user.id, FileRight.file_id.in_([f.id for f in files])
            )
        ).all()
    )
    return {f.id: _level(f, user.id, roles.get(f.space_id), overrides.get(f.id)) for f in files}


def not_hidden(user: User, managed_space_ids) -> sa.ColumnElement[bool]:
    """The condition on File for files whose level for this member is not none, for one query
    over a whole list (what ``_level`` decides row by row). ``managed_space_ids``: the spaces
    (an iterable, or a SQL selection) where they are an owner or admin and see everything."""
    override = (
        sa.select(FileRight.level)
        .where(FileRight.file_id == File.id, FileRight.user_id == user.id)
        .correlate(File)
        .scalar_subquery()
    )
    return sa.or_(
        File.owner_id == user.id,
        File.space_id.in_(managed_space_ids),
        sa.func.coalesce(override, File.default_level) != "none",
    )


def downloadable(user: User, managed_space_ids) -> sa.ColumnElement[bool]:
    """The condition on File for files this member may download, for one query over a whole list:
    what ``may_download`` decides for one file, on the level ``_level`` gives (edit, or any level
    but none while the file allows downloads). Implies ``not_hidden``; ``managed_space_ids`` as
    there."""
    override = (
        sa.select(FileRight.level)
        .where(FileRight.file_id == File.id, FileRight.user_id == user.id)
        .correlate(File)
        .scalar_subquery()
    )
    level = sa.func.coalesce(override, File.default_level)
    return sa.or_(
        File.owner_id == user.id,
        File.space_id.in_(managed_space_ids),
        level == "edit",
        sa.and_(level != "none", File.allow_download),
    )


def visible_to_member(user: User, member: Membership) -> sa.ColumnElement[bool]:
    """``not_hidden`` for the files of one space the member is in."""
    return sa.true() if member.manages_space else not_hidden(user, [])


def at_least(level: str, needed: str) -> bool:
    return LEVELS.index(level) >= LEVELS.index(needed)


def _file_with_access(*file_columns) -> sa.Select:
    """The file (these columns of it), the user's role in its space and their own level on it.

    Role and level are scalar subqueries rather than outer joins (each is unique per space or
    file and user): the same answer, and PostgreSQL plans it in about half the time, which counts
    because every request plans it afresh.
    """
    user_id = sa.bindparam("user_id")
    role = sa.select(Membership.role).where(Membership.space_id == File.space_id, Membership.user_id == user_id)
    level = sa.select(FileRight.level).where(FileRight.file_id == File.id, FileRight.user_id == user_id)
    return (
        sa.select(*file_columns, role.scalar_subquery().label("role"), level.scalar_subquery().label("level"))
        .join(Space, Space.id == File.space_id)
        # Trashed files and the files of deleted spaces are nobody's: not found, for every entry point.
        .where(File.id == sa.bindparam("file_id"), File.trashed_at.is_(None), Space.deleted_at.is_(None))
    )


# Built once: the editor-config path runs them on every open, and building a statement costs
# more than running it.
_UNREAD_COLUMNS = ("created_at", "updated_at", "editing_since", "editors_json")
_FILE_WITH_ACCESS = _file_with_access(File).options(*(so.defer(getattr(File, key)) for key in _UNREAD_COLUMNS))
_FILE_ROW_WITH_ACCESS = _file_with_access(
    *(c for c in File.__table__.c if c.key not in _UNREAD_COLUMNS), Space.name.label("space_name")
)


def get_file_or_404(file_id: int, user: User, need: str = "read") -> tuple[File, str]:
    """The file and the user's level on it, in one query.

    :raise NotFoundError: no such file, or the user's level is below ``need``.
    """
    row = db.session.execute(_FILE_WITH_ACCESS, {"file_id": file_id, "user_id": user.id}).first()
    return _allowed(row[0] if row else None, row, user, need)


def file_row_or_404(file_id: int, user: User, need: str = "read") -> tuple[sa.Row, str]:
    """``get_file_or_404`` for a route that only reads the file: the same query and decision, the
    file a read-only row of its columns (``row.id``, ``row.ext`` ...) and of its space's name
    (``row.space_name``) rather than an ORM object, which costs a good part of the query again
    to make (and its space another query).

    :raise NotFoundError: no such file, or the user's level is below ``need``.
    """
    row = transaction.first_alone(_FILE_ROW_WITH_ACCESS, {"file_id": file_id, "user_id": user.id})
    return _allowed(row, row, user, need)


def _allowed(file, row, user: User, need: str) -> tuple:
    """The file and the level the row (file, role, own level) gives the user, if at least ``need``."""
    level = _level(file, user.id, row.role, row.level) if row else "none"
    if row is not None:  # later checks in this request (can_manage_file) need no query
        g.setdefault("_coedit_roles", {})[(file.space_id, user.id)] = row.role
    if row is None or not at_least(level, need):
        raise NotFoundError(gettext("No such file."))
    return file, level


def require(file_id: int, user: User, need: str = "read", message: str = "") -> tuple[File, str]:
    """The file and the user's level, when the user may do what ``need`` names.

    ``need`` is a level, "download" (take the file's bytes: ``may_download``) or "manage" (the
    owner and space admins: rename, delete, rights).
    :raise NotFoundError: the user may not even read the file. :raise ForbiddenError: they may read, not this.
    """
    file, level = get_file_or_404(file_id, user)
    if need == "manage":
        allowed = can_manage_file(file, user)
    elif need == "download":
        allowed = may_download(file, level)
        message = message or str(DOWNLOADS_OFF)
    else:
        allowed = at_least(level, need)
    if not allowed:
        raise ForbiddenError(message or gettext("You are not allowed to do this with this file."))
    return file, level


def may_use_editors(user: User | None) -> bool:
    """Whether the admin lets this account open the editors: a member of a chosen group, or named
    in the older username list (still read, so installations that set it keep their restriction).
    Neither set lets everyone.

    Every way into an editor asks this: the editor page and the API for a signed-in person, and a
    share link for its creator and for whoever is signed in while opening it (else a restricted
    person could open their own edit link).
    """
    from app.services import groups
    from app.services import settings

    group_ids = groups.editor_group_ids()
    allowed = {username_key(line) for line in (settings.get("editor_users") or "").splitlines() if line.strip()}
    if not group_ids and not allowed:
        return True
    if not isinstance(user, User):
        return False
    return user.username_key in allowed or groups.in_any(user, group_ids)


def may_change(level: str) -> bool:
    """Whether this level opens the editor for changes of some kind (fill, comment, review or edit)."""
    return at_least(level, "fill")


DOWNLOADS_OFF = lazy_gettext("Downloads of this file are turned off for readers.")


def may_download(file: File, level: str) -> bool:
    """Whether someone with this level may take the file's bytes: downloads, old versions, changes
    zips, copies, conversions. Editors always may; readers only while the file allows it.

    The one rule for every route that hands out content; the editor's download, print and copy
    permissions follow it too.
    """
    return at_least(level, "edit") or (at_least(level, "read") and file.allow_download)


def participant_level(file: File, participant: str) -> str:
    """The level of someone as Docs names them (editorConfig.user.id): a user's id or a guest's id.

    Live, from the database: links handed to Docs and sessions in the editor outlast rights.
    """
    return participant_levels(file, [participant]).get(participant, "none")


# Status 1 asks for the levels of the people joining on every join, leave and reconnect of every
# co-editor. The users go in a fixed number of slots, not an expanding IN list, so that one
# compiled statement serves every call (transaction.reading_alone runs it straight on the driver);
# a short list repeats its last id, an empty one asks for id 0, which no user has.
PARTICIPANT_SLOTS = 8
_SLOTS = [sa.bindparam(f"participant{slot}") for slot in range(PARTICIPANT_SLOTS)]


def with_participants(file_select: sa.Select) -> sa.Select:
    """``file_select`` (columns of the one file it selects, File in its FROM), each row joined with
    one of the users in the participant slots found: ``participant_id``, their role in the file's
    space and their level override on the file. One row of the file with NULLs when none is found,
    none when the file is not."""
    participants = (
        sa.outerjoin(File, User, User.id.in_(_SLOTS))
        .outerjoin(Membership, sa.and_(Membership.user_id == User.id, Membership.space_id == File.space_id))
        .outerjoin(FileRight, sa.and_(FileRight.user_id == User.id, FileRight.file_id == File.id))
    )
    return file_select.add_columns(
        User.id.label("participant_id"),
        Membership.role.label("participant_role"),
        FileRight.level.label("participant_override"),
    ).select_from(participants)


_PARTICIPANTS = with_participants(
    sa.select(File.id, File.space_id, File.owner_id, File.default_level).where(File.id == sa.bindparam("file_id"))
)


def participant_levels(file: File, participants) -> dict[str, str]:
    """participant_level of each of these participants: the users' in one query per PARTICIPANT_SLOTS."""
    _, levels = read_with_participants(_PARTICIPANTS, {"file_id": file.id}, participants)
    return levels


def read_with_participants(statement, params: dict, participants, read=transaction.read) -> tuple:
    """The file's row of ``statement`` (made by with_participants; None when the file is gone) and
    the participant_level of each of these participants on it, in one query per PARTICIPANT_SLOTS."""
    from app.services import share_links

    user_ids = sorted({int(p) for p in participants if isinstance(p, str) and p.isdigit() and len(p) < 19})
    file, found = None, {}
    for start in range(0, max(len(user_ids), 1), PARTICIPANT_SLOTS):
        chunk = user_ids[start : start + PARTICIPANT_SLOTS] or [0]
        slots = {f"participant{slot}": chunk[min(slot, len(chunk) - 1)] for slot in range(PARTICIPANT_SLOTS)}
        rows = list(read(statement, {**params, **slots}))
        if not rows:
            return None, {}
        file = rows[0]
        for row in rows:
            if row.participant_id is not None:
                found[str(row.participant_id)] = _level(
                    file, row.participant_id, row.participant_role, row.participant_override
                )
    levels = {}
    for participant in participants:
        if not isinstance(participant, str):
            continue
        if participant.startswith(share_links.GUEST_PREFIX):
            levels[participant] = share_links.guest_level(participant, file)
        else:
            levels[participant] = found.get(participant, "none")
    return file, levels


def can_manage_file(file: File, user: User, member: Membership | None = None) -> bool:
    """Rename, delete, change rights: the owner and space admins."""
    role = member.role if member is not None else space_role(file.space_id, user)
    return role is not None and (file.owner_id == user.id or role in MANAGER_ROLES)


def hidden_file_ids(space_id: int, user: User, member: Membership) -> set[int]:
    """Files of the space this member may not even see (their level is none)."""
    if member.manages_space:
        return set()
    overrides = dict(
        db.session.execute(
            sa.select(FileRight.file_id, FileRight.level)
            .join(File, File.id == FileRight.file_id)
            .where(File.space_id == space_id, FileRight.user_id == user.id)
        ).all()
    )
    candidates = db.session.execute(
        sa.select(File.id, File.default_level, File.owner_id).where(
            File.space_id == space_id,
            sa.or_(File.default_level == "none", File.id.in_([fid for fid, lvl in overrides.items() if lvl == "none"])),
        )
    ).all()
    return {fid for fid, default, owner in candidates if owner != user.id and overrides.get(fid, default) == "none"}


def readable_by_every_member(file: File) -> bool:
    """Whether no member of the file's space is kept from seeing it."""
    if file.default_level == "none":
        return False
    hidden = db.session.scalar(sa.select(FileRight.id).where(FileRight.file_id == file.id, FileRight.level == "none"))
    return hidden is None


@dataclass
class RightsChange:
    """What a rights update changed: who now has which level, for notices and notifications."""

    changed: dict[int, tuple[str, str]]  # user id -> (old level, new level)
    default: tuple[str, str] | None
    allow_download: tuple[bool, bool] | None


def describe(file: File) -> dict:
    """The file's rights in the API's shape."""
    overrides = db.session.execute(
        sa.select(User.username, FileRight.level)
        .join(FileRight, FileRight.user_id == User.id)
        .where(FileRight.file_id == file.id)
        .order_by(User.username)
    ).all()
    return {
        "default": file.default_level,
        "users": dict(overrides),
        "allow_download": file.allow_download,
        "owner": file.owner.username if file.owner else None,
    }


def members_with_levels(file: File, *conditions) -> list[tuple[User, Membership, str, str | None]]:
    """Every member of the file's space (or those meeting ``conditions`` on User, Membership and
    FileRight): (user, membership, effective level, override or None)."""
    rows = db.session.execute(
        sa.select(User, Membership, FileRight.level)
        .join(Membership, Membership.user_id == User.id)
        .outerjoin(FileRight, sa.and_(FileRight.file_id == file.id, FileRight.user_id == User.id))
        .where(Membership.space_id == file.space_id, *conditions)
        .order_by(User.display_name, User.id)
    ).all()
    return [(user, member, _level(file, user.id, member.role, override), override) for user, member, override in rows]


def members_for_dialog(file: File, limit: int) -> tuple[list[tuple[User, Membership, str, str | None]], bool]:
    """The members the rights dialog lists, and whether that is fewer than all: every member in a
    space of at most ``limit``; in a larger one only the owner, the space's admins and those with a
    level of their own (anyone else is named by username), so the file page stays as quick as in a
    small space."""
    count = db.session.scalar(sa.select(sa.func.count(Membership.id)).where(Membership.space_id == file.space_id))
    if count <= limit:
        return members_with_levels(file), False
    notable = sa.or_(User.id == file.owner_id, Membership.role.in_(MANAGER_ROLES), FileRight.level.is_not(None))
    return members_with_levels(file, notable), True


def set_rights(
    file: File,
    default: str | None = None,
    users: dict[str, str | None] | None = None,
    allow_download: bool | None = None,
) -> RightsChange:
    """Apply a rights update; ``users`` maps usernames to a level, or None to drop the override.

    Stages the changes; the caller notifies and commits.
    :raise BadRequestError: unknown level, unknown user, someone outside the space, or the owner.
    """
    levels = set(LEVELS)
    if default is not None and default not in levels:
        raise BadRequestError(
            gettext("Unknown level %(level)r; use one of %(levels)s.", level=default, levels=", ".join(LEVELS))
        )
    before = {user.id: level for user, _, level, _ in members_with_levels(file)}
    old_default, old_download = file.default_level, file.allow_download
    if default is not None:
        file.default_level = default
    if allow_download is not None:
        file.allow_download = bool(allow_download)
    for username, level in (users or {}).items():
        if level is not None and level not in levels:
            raise BadRequestError(gettext("Unknown level %(level)r for %(username)s.", level=level, username=username))
        user = accounts.find(username)
        if user is None or membership(file.space_id, user) is None:
            raise BadRequestError(f"{username} is not a member of this space.")
        if user.id == file.owner_id:
            raise BadRequestError(f"{username} owns the file and always edits it.")
        right = db.session.scalar(
            sa.select(FileRight).where(FileRight.file_id == file.id, FileRight.user_id == user.id)
        )
        if level is None:
            if right is not None:
                db.session.delete(right)
        elif right is None:
            db.session.add(FileRight(file_id=file.id, user_id=user.id, level=level))
        else:
            right.level = level
    db.session.flush()
    after = {user.id: level for user, _, level, _ in members_with_levels(file)}
    return RightsChange(
        changed={uid: (before.get(uid, "none"), lvl) for uid, lvl in after.items() if before.get(uid) != lvl},
        default=(old_default, file.default_level) if old_default != file.default_level else None,
        allow_download=(old_download, file.allow_download) if old_download != file.allow_download else None,
    )


def change_rights(
    file: File, actor: User, default: str | None = None, users: dict | None = None, allow_download: bool | None = None
) -> RightsChange:
    """Stage a rights change made by actor, with its notifications and notice.

    Once it is committed, people whose level went down while they are in the editor are dropped
    from the session (what they did before stays and is saved; they may reopen with their new
    rights).
    :raise ForbiddenError: actor is neither the owner nor a space admin. :raise BadRequestError: bad input.
    """
    from app.services import notifications
    from app.services import posts

    if not can_manage_file(file, actor):
        raise ForbiddenError(gettext("Only the file's owner and space admins change its access rights."))
    change = set_rights(file, default, users, allow_download)
    _audit(file, actor, change)
    link = url_for("files.show", file_id=file.id)
    for user_id, (_, new) in change.changed.items():
        if user_id != actor.id:
            notifications.notify(
                user_id,
                "rights",
                translatable(
                    "%(name)s changed your access to %(title)s: %(level)s",
                    name=actor.display_name,
                    title=file.title,
                    level=LEVEL_LABELS[new],
                ),
                link,
                file,
            )
    parts = []
    if change.default:
        parts.append(translatable("members %(level)s", level=LEVEL_WORDS[change.default[1]]))
    named = _named(users or {})
    for user_id, (_, new) in sorted(change.changed.items()):
        if user_id in named:  # people given their own level, not those following the default
            parts.append(translatable("%(name)s %(level)s", name=named[user_id], level=LEVEL_WORDS[new]))
    if change.allow_download:
        parts.append(
            translatable("readers may download")
            if change.allow_download[1]
            else translatable("readers may not download")
        )
    if parts:
        posts.notice(
            file,
            translatable(
                "%(name)s changed access rights of %(title)s: %(changes)s",
                name=actor.display_name,
                title=file.title,
                changes=parts,
            ),
            actor,
        )
    lowered = [
        str(uid)
        for uid, (old, new) in change.changed.items()
        if LEVELS.index(new) < LEVELS.index(old) and str(uid) in file.editors
    ]
    if lowered:
        jobs.enqueue(jobs.drop_from_editor, file.id, file.doc_key, lowered)
    return change


def _audit(file: File, actor: User, change: RightsChange) -> None:
    """The audit entry of a rights change: every level that moved, old → new (nothing if none did)."""
    if not (change.changed or change.default or change.allow_download):
        return
    names = dict(db.session.execute(sa.select(User.id, User.username).where(User.id.in_(list(change.changed)))).all())
    details: dict = {"users": {names.get(uid, str(uid)): list(levels) for uid, levels in change.changed.items()}}
    if change.default:
        details["default"] = list(change.default)
    if change.allow_download:
        details["allow_download"] = list(change.allow_download)
    audit.record("file.rights_changed", actor=actor, file=file, details=details)


def _named(users: dict) -> dict[int, str]:
    """Ids and display names of the usernames a change names."""
    keys = [username_key(name) for name in users]
    rows = db.session.execute(sa.select(User.id, User.display_name).where(User.username_key.in_(keys))).all()
    return dict(rows)
