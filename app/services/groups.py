"""Groups: named sets of people an administrator keeps, to add to spaces at once and to choose
who may use the editors. Every change is staged with its audit entry; the caller commits."""

import unicodedata

import sqlalchemy as sa
from flask_babel import gettext

from app.extensions import db
from app.models import Group
from app.models import GroupMember
from app.models import User
from app.services import audit
from app.services.exceptions import BadRequestError

NAME_MAX = 64


def _object(group: Group) -> dict:
    return {"object_type": "group", "object_id": group.id, "object_name": group.name}


def clean_name(name: str | None) -> str:
    """:raise BadRequestError: empty or too long."""
    name = unicodedata.normalize("NFKC", name or "").strip()
    if not name:
        raise BadRequestError(gettext("Enter a group name."))
    if len(name) > NAME_MAX:
        raise BadRequestError(gettext("A group name has at most %(NAME_MAX)s characters.", NAME_MAX=NAME_MAX))
    return name


def _taken(name: str, but: int | None = None) -> bool:
    query = sa.select(Group.id).where(sa.func.lower(Group.name) == name.lower())
    if but is not None:
        query = query.where(Group.id != but)
    return db.session.scalar(query) is not None


def all_groups() -> list[Group]:
    return list(db.session.scalars(sa.select(Group).order_by(sa.func.lower(Group.name), Group.id)))


def get(group_id) -> Group | None:
    try:
        return db.session.get(Group, int(group_id))
    except (TypeError, ValueError):
        return None


def members_of_all(groups: list[Group]) -> dict[int, list[User]]:
    """Each group's members by username, all in one query (the admin page lists every group)."""
    by_group: dict[int, list[User]] = {group.id: [] for group in groups}
    if groups:
        rows = db.session.execute(
            sa.select(GroupMember.group_id, User)
            .join(User, GroupMember.user_id == User.id)
            .where(GroupMember.group_id.in_(list(by_group)))
            .order_by(User.username_key)
        )
        for group_id, user in rows:
            by_group[group_id].append(user)
    return by_group


def members(group: Group) -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .join(GroupMember, GroupMember.user_id == User.id)
            .where(GroupMember.group_id == group.id)
            .order_by(User.username_key)
        )
    )


def create(name: str | None) -> Group:
    """:raise BadRequestError: the name is empty, too long or taken."""
    name = clean_name(name)
    if _taken(name):
        raise BadRequestError(gettext("There is a group named %(name)s already.", name=name))
    group = Group(name=name)
    db.session.add(group)
    db.session.flush()  # its id, for the audit entry
    audit.record("admin.group_created", **_object(group))
    return group


def rename(group: Group, name: str | None) -> None:
    """:raise BadRequestError: the name is empty, too long or taken."""
    name = clean_name(name)
    if _taken(name, but=group.id):
        raise BadRequestError(gettext("There is a group named %(name)s already.", name=name))
    if name != group.name:
        audit.record("admin.group_renamed", **_object(group), details={"from": group.name, "to": name})
        group.name = name


def editor_group_ids() -> set[int]:
    """The groups chosen on the settings page for using the editors."""
    from app.services import settings

    return {int(part) for part in (settings.get("editor_groups") or "").split() if part.isdigit()}


def delete(group: Group) -> None:
    """:raise BadRequestError: the group is chosen for the editors (deleting it would lock its
    members out, or, were it the only one, open the editors to everyone)."""
    if group.id in editor_group_ids():
        raise BadRequestError(f"{group.name} is chosen for using the editors; take it off on the settings page first.")
    audit.record("admin.group_deleted", **_object(group))
    db.session.execute(sa.delete(GroupMember).where(GroupMember.group_id == group.id))
    db.session.delete(group)


def add_member(group: Group, user: User) -> bool:
    """Stage adding user to group; False if they were in it already."""
    if db.session.get(GroupMember, (group.id, user.id)) is not None:
        return False
    db.session.add(GroupMember(group_id=group.id, user_id=user.id))
    audit.record("admin.group_member_added", **_object(group), details={"user": user.username})
    return True


def remove_member(group: Group, user: User) -> bool:
    """Stage taking user out of group; False if they were not in it."""
    row = db.session.get(GroupMember, (group.id, user.id))
    if row is None:
        return False
    db.session.delete(row)
    audit.record("admin.group_member_removed", **_object(group), details={"user": user.username})
    return True


def in_any(user: User, group_ids: set[int]) -> bool:
    """Whether user belongs to one of these groups."""
    if not group_ids:
        return False
    query = sa.select(GroupMember.group_id).where(
        GroupMember.user_id == user.id, GroupMember.group_id.in_(sorted(group_ids))
    )
    return db.session.scalar(query.limit(1)) is not None


def member_counts() -> dict[int, int]:
    rows = db.session.execute(sa.select(GroupMember.group_id, sa.func.count()).group_by(GroupMember.group_id))
    return dict(rows.all())
