"""Tell people what happened: in-app notifications (the bell)."""

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext

from app import pagination
from app.extensions import db
from app.models import File
from app.models import Notification
from app.models import User
from app.models.base import utcnow
from app.pagination import Page
from app.services import locales
from app.services.locales import Translatable


def notify(
    user: User | int, kind: str, text: str | Translatable, link: str = "", file: File | None = None
) -> Notification:
    """Stage a notification for one person, in their language; the caller commits."""
    if isinstance(user, int):
        user = db.session.get(User, user)  # usually in the session already: no query
    user_id = user.id
    text = locales.rendered_for(user, text)
    entry = Notification(user_id=user_id, kind=kind, text=text, link=link, file_id=file.id if file else None)
    db.session.add(entry)
    from app.services import mail

    mail.request_notification(user_id, text, link)
    return entry


def unread_count(user: User) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count(Notification.id)).where(
                Notification.user_id == user.id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def latest(user: User, limit: int = 50) -> list[Notification]:
    return list(
        db.session.scalars(
            sa.select(Notification)
            .where(Notification.user_id == user.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def mark_read(user: User, notification_id: int | None = None) -> int:
    """Stage marking one (or every) notification of this user as read; returns how many change."""
    query = sa.update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    return db.session.execute(query.values(read_at=utcnow())).rowcount


NO_ACCESS = lazy_gettext("You no longer have access to this file.")


@dataclass
class Entry:
    """A notification as its person sees it: a file they can no longer open gets no link."""

    item: Notification
    accessible: bool

    @property
    def link(self) -> str:
        return self.item.link if self.accessible else ""


def _entries(user: User, items: list[Notification]) -> list[Entry]:
    """Each notification told whether its file can still be opened by this person (two queries
    for the lot: the files, then their levels)."""
    from app.services import rights

    file_ids = {n.file_id for n in items if n.file_id}
    files = (
        db.session.execute(
            sa.select(File.id, File.space_id, File.owner_id, File.default_level).where(File.id.in_(file_ids))
        ).all()
        if file_ids
        else []
    )
    levels = rights.levels_anywhere(files, user)
    open_ = {fid: level != "none" for fid, level in levels.items()}
    return [Entry(n, open_.get(n.file_id, False) if n.file_id else True) for n in items]


def entries(user: User, limit: int = 50) -> list[Entry]:
    """The latest notifications (the bell's dropdown)."""
    return _entries(user, latest(user, limit))


def page(user: User, number: int, per_page: int) -> Page:
    """One page of the person's notifications, newest first, as entries."""
    listed = pagination.of_select(
        sa.select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc()),
        number,
        per_page,
    )
    listed.items = _entries(user, listed.items)
    return listed
