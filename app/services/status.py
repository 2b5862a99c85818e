"""Editing sessions as an administrator sees them: who is editing what, and which saves Docs owes.

One definition for the health endpoint's figures, the ``onlyoffice_active_sessions`` gauge and the
status page. A session (a key whose session Docs opened and has not closed) is *active* while
people are in it: its file's current key, with editors. Once they have all left, its final save
is on its way (Docs sends it within seconds): it is *owed*, as the delete guard
(files.save_on_its_way) sees it, until PENDING_SAVE_SECONDS of silence.
"""

from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.models import DocKey
from app.models import File
from app.models import User
from app.models.base import utcnow
from app.services import share_links


@dataclass(frozen=True)
class EditingSession:
    file: File
    people: list[str]


@dataclass(frozen=True)
class OwedSave:
    file: File
    since: datetime


def _open_sessions(*columns):
    return (
        sa.select(*columns)
        .select_from(DocKey)
        .join(File, File.id == DocKey.file_id)
        .where(DocKey.session_opened_at.is_not(None), DocKey.session_closed_at.is_(None))
    )


_IN_USE = sa.and_(DocKey.key == File.doc_key, File.editing_since.is_not(None))


def _owed():
    cutoff = utcnow() - timedelta(seconds=current_app.config["PENDING_SAVE_SECONDS"])
    return sa.and_(sa.not_(_IN_USE), DocKey.session_seen_at >= cutoff)


def active_count() -> int:
    return db.session.scalar(_open_sessions(sa.func.count()).where(_IN_USE))


def owed_count() -> int:
    return db.session.scalar(_open_sessions(sa.func.count()).where(_owed()))


def editing_now() -> list[EditingSession]:
    """Documents people have open in the editors now, with their names (as status 1 last listed them)."""
    files = db.session.scalars(_open_sessions(File).where(_IN_USE).order_by(File.editing_since.desc())).all()
    user_ids = {int(p) for f in files for p in f.editors if p.isdigit()}
    names = dict(db.session.execute(sa.select(User.id, User.display_name).where(User.id.in_(user_ids))).all())
    return [EditingSession(f, [_name(p, names) for p in f.editors]) for f in files]


def _name(participant: str, names: dict[int, str]) -> str:
    if participant.isdigit():
        return names.get(int(participant), "a removed account")
    return f"{share_links.guest_name(participant) or 'a guest'} (share link)"


def saves_owed() -> list[OwedSave]:
    """Sessions everyone has left whose final save has not arrived yet, longest waiting first."""
    rows = db.session.execute(
        _open_sessions(File, DocKey.session_seen_at).where(_owed()).order_by(DocKey.session_seen_at)
    ).all()
    return [OwedSave(file, since) for file, since in rows]
