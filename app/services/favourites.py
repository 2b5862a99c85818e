"""Favourites and recently opened files: the home page's lists of files across spaces.

Both lists are read with the rights rechecked in the same query (``search.visible_files``: live
spaces the person belongs to, files not in the trash and not hidden from them), so a file the
person may no longer read is left out, and each list costs the same whatever its length.
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite

from app import pagination
from app.extensions import db
from app.models import AuditEvent
from app.models import Favourite
from app.models import File
from app.models import Space
from app.models import User
from app.pagination import Page
from app.services import formats
from app.services import search

FAVOURITES_PER_PAGE = 10
RECENT_SHOWN = 10
# Recently opened files are found among the person's latest openings only: reading back this many
# entries (newest first, through ix_audit_event_actor_action_at) costs the same however long the
# audit log; someone who reopened a few files this many times sees fewer older ones.
RECENT_WINDOW = 500
OPENED = "editor.opened"  # audit.record_opening's action


@dataclass
class HomeFile:
    """A file of the home page's lists, with its space's name and when it was starred or opened."""

    file: File
    space_name: str
    at: datetime

    @property
    def icon(self) -> str:
        return formats.icon(self.file.ext)


def star(file: File, user: User) -> None:
    """Stage starring the file (starring it again changes nothing). The caller checked that the
    person may read it."""
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    # One statement, whoever else stars it at the same moment (a double click's two requests).
    db.session.execute(
        insert(Favourite).values(user_id=user.id, file_id=file.id).on_conflict_do_nothing(),
    )


def unstar(file: File, user: User) -> None:
    """Stage unstarring the file (nothing if it was not starred)."""
    db.session.execute(sa.delete(Favourite).where(Favourite.user_id == user.id, Favourite.file_id == file.id))


def is_starred(file: File, user: User) -> bool:
    return file.id in starred_among([file.id], user)


def starred_among(file_ids: list[int], user: User) -> set[int]:
    """Which of these files the person starred, in one query (the rows of a folder's page)."""
    if not file_ids:
        return set()
    return set(
        db.session.scalars(
            sa.select(Favourite.file_id).where(Favourite.user_id == user.id, Favourite.file_id.in_(file_ids))
        )
    )


def favourites_page(user: User, number: int = 1, per_page: int = FAVOURITES_PER_PAGE, **named) -> Page:
    """One page of the person's favourites they may still read, most recently starred first, as
    HomeFile items: the count and the rows, two queries. ``named``: the Page's param and anchor."""
    listed = pagination.of_select(
        sa.select(File, Space.name, Favourite.created_at)
        .join(Favourite, sa.and_(Favourite.file_id == File.id, Favourite.user_id == user.id))
        .join(Space, Space.id == File.space_id)
        .where(search.visible_files(user))
        .order_by(Favourite.created_at.desc(), File.id.desc()),
        number,
        per_page,
        scalars=False,
        **named,
    )
    listed.items = [HomeFile(file, space_name, at) for file, space_name, at in listed.items]
    return listed


def recently_opened(user: User, limit: int = RECENT_SHOWN) -> list[HomeFile]:
    """The files the person opened in the editor most recently and may still read, newest first,
    each once, from the ``editor.opened`` audit entries: one query."""
    openings = (
        sa.select(AuditEvent.file_id, AuditEvent.at)
        .where(AuditEvent.actor_id == user.id, AuditEvent.action == OPENED)
        .order_by(AuditEvent.at.desc())
        .limit(RECENT_WINDOW)
        .subquery()
    )
    latest = (
        sa.select(openings.c.file_id, sa.func.max(openings.c.at).label("opened_at"))
        .where(openings.c.file_id.is_not(None))
        .group_by(openings.c.file_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(File, Space.name, latest.c.opened_at)
        .join(latest, latest.c.file_id == File.id)
        .join(Space, Space.id == File.space_id)
        .where(search.visible_files(user))
        .order_by(latest.c.opened_at.desc(), File.id.desc())
        .limit(limit)
    ).all()
    return [HomeFile(file, space_name, at) for file, space_name, at in rows]
