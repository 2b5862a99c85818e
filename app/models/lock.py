"""A transition lock, when the installation has no Redis (app/services/locks.py)."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.models.base import Base


class TransitionLock(Base):
    """One file moving between states (a save being stored, a restore, ...), held by ``owner``.

    No foreign key to the file: a deletion holds the lock while the file's row goes, and a lock
    may be taken before anything is read. A row whose ``expires_at`` has passed is free to take over.
    """

    __tablename__ = "transition_lock"

    file_id: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    action: so.Mapped[str] = so.mapped_column(sa.String(32))
    owner: so.Mapped[str] = so.mapped_column(sa.String(64))
    since: so.Mapped[datetime]
    expires_at: so.Mapped[datetime] = so.mapped_column(index=True)
