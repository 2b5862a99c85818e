"""The audit log: one row per security-relevant action, kept apart from the rows it is about.

No foreign keys: a row outlives the user, file and space it names (and may not cascade away with
them), so it keeps their ids and a snapshot of their names as they were at the time.
"""

import json
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.models.base import Base
from app.models.base import utcnow


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __table_args__ = (
        # The daily counts for charts, and the action filter, read by action then time.
        sa.Index("ix_audit_event_action_at", "action", "at"),
        # A person's latest openings of the editor (the home page's recently opened files).
        sa.Index("ix_audit_event_actor_action_at", "actor_id", "action", "at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)
    action: so.Mapped[str] = so.mapped_column(sa.String(64))  # dotted: file.renamed, auth.sign_in_failed, ...
    actor_id: so.Mapped[Optional[int]] = so.mapped_column(index=True)  # a user's id; none for guests and the system
    actor_name: so.Mapped[str] = so.mapped_column(sa.String(128), default="")
    object_type: so.Mapped[str] = so.mapped_column(sa.String(32), default="")  # file | user | share_link | settings ...
    object_id: so.Mapped[str] = so.mapped_column(sa.String(128), default="")
    object_name: so.Mapped[str] = so.mapped_column(sa.String(255), default="")
    file_id: so.Mapped[Optional[int]] = so.mapped_column(index=True)
    space_id: so.Mapped[Optional[int]] = so.mapped_column(index=True)
    ip: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
    details_json: so.Mapped[str] = so.mapped_column(sa.Text, default="{}")

    @property
    def details(self) -> dict:
        try:
            value = json.loads(self.details_json or "{}")
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}
