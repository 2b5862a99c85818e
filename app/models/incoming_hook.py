"""Incoming webhooks: a secret URL through which another application posts into a space's stream."""

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.models.base import Base
from app.models.base import utcnow
from app.models.space import Space
from app.models.user import User


class IncomingHook(Base):
    """One incoming webhook of a space; only the SHA-256 of its secret is stored."""

    __tablename__ = "incoming_hook"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    space_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("space.id", ondelete="CASCADE"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(64))
    # Shown as the sender when a message names none (Slack's "username"); empty: the hook's name.
    default_username: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_by: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    last_used_at: so.Mapped[Optional[datetime]]
    revoked_at: so.Mapped[Optional[datetime]]

    space: so.Mapped[Space] = so.relationship()
    creator: so.Mapped[Optional[User]] = so.relationship()
