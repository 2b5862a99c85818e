"""Who may do what with a space and its files, decided on the server only."""

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.models import LEVELS
from app.models.space import MANAGER_ROLES
from app.models import File
from app.models import FileRight
from app.models import Membership
from app.models import Space
from app.models import User
from app.services.exceptions import NotFound


def membership(space_id: int, user: User | None) -> Membership | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(
        sa.select(Membership).where(Membership.space_id == space_id, Membership.user_id == user.id)
    )


def get_space_or_404(space_id: int, user: User) -> tuple[Space, Membership]:
    """The space and the user's membership.

    :raise NotFound: no such space, or the user is not a member (no existence oracle).
    """
    member = membership(space_id, user)
    space = db.session.get(Space, space_id) if member else None
    if space is None:
        raise NotFound("No such space.")
    return space, member


def _level(file: File, user: User, role: str | None, override: str | None) -> str:
    if role is None:  # not a member of the space
        return "none"
    if file.owner_id == user.id or role in MANAGER_ROLES:
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
    return _level(file, user, member.role, override)


def at_least(level: str, needed: str) -> bool:
    return LEVELS.index(level) >= LEVELS.index(needed)


# Built once: the editor-config path runs it on every open, and building a statement costs
# more than running it.
_FILE_WITH_ACCESS = (
    sa.select(File, Membership.role, FileRight.level)
    .options(so.defer(File.created_at), so.defer(File.updated_at), so.defer(File.editing_since),
             so.defer(File.editors_json))
    .outerjoin(Membership, sa.and_(Membership.space_id == File.space_id,
                                   Membership.user_id == sa.bindparam("user_id")))
    .outerjoin(FileRight, sa.and_(FileRight.file_id == File.id, FileRight.user_id == sa.bindparam("user_id")))
    .where(File.id == sa.bindparam("file_id"))
)


def get_file_or_404(file_id: int, user: User, need: str = "read") -> tuple[File, str]:
    """The file and the user's level on it, in one query.

    :raise NotFound: no such file, or the user's level is below ``need``.
    """
    row = db.session.execute(_FILE_WITH_ACCESS, {"file_id": file_id, "user_id": user.id}).first()
    level = _level(row[0], user, row[1], row[2]) if row else "none"
    if row is None or not at_least(level, need):
        raise NotFound("No such file.")
    return row[0], level


def can_manage_file(file: File, user: User, member: Membership | None = None) -> bool:
    """Rename, delete, change rights: the owner and space admins."""
    member = member if member is not None else membership(file.space_id, user)
    return member is not None and (file.owner_id == user.id or member.manages_space)


def hidden_file_ids(space_id: int, user: User, member: Membership) -> set[int]:
    """Files of the space this member may not even see (their level is none)."""
    if member.manages_space:
        return set()
    overrides = dict(db.session.execute(
        sa.select(FileRight.file_id, FileRight.level).join(File, File.id == FileRight.file_id)
        .where(File.space_id == space_id, FileRight.user_id == user.id)
    ).all())
    candidates = db.session.execute(
        sa.select(File.id, File.default_level, File.owner_id).where(
            File.space_id == space_id,
            sa.or_(File.default_level == "none", File.id.in_([fid for fid, lvl in overrides.items() if lvl == "none"])),
        )
    ).all()
    return {fid for fid, default, owner in candidates
            if owner != user.id and overrides.get(fid, default) == "none"}
