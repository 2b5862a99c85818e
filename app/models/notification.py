"""In-app notifications: the bell and its page."""

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.models.base import Base
from app.models.base import utcnow


class Notification(Base):
    __tablename__ = "notification"
    __table_args__ = (
        # A person's notifications newest first (the page, the bell, the API), and their unread count.
        sa.Index("ix_notification_user_created", "user_id", "created_at", "id"),
        sa.Index("ix_notification_user_read", "user_id", "read_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    # rights | mention | save-failed | access-request
    kind: so.Mapped[str] = so.mapped_column(sa.String(32))
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    # A local path; a mention's carries the comment's anchor, and that may run to thousands of characters.
    link: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    file_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("file.id", ondelete="CASCADE"), index=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)
    read_at: so.Mapped[Optional[datetime]]
