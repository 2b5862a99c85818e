"""Groups of people: the admin names them, adds whole groups to spaces and lets groups use the editors."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.models.base import Base
from app.models.base import utcnow
from app.models.user import User


class Group(Base):
    __tablename__ = "group"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    memberships: so.Mapped[list["GroupMember"]] = so.relationship(
        back_populates="group", cascade="all, delete-orphan", passive_deletes=True
    )


class GroupMember(Base):
    __tablename__ = "group_member"

    group_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("group.id", ondelete="CASCADE"), primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    group: so.Mapped[Group] = so.relationship(back_populates="memberships")
    user: so.Mapped[User] = so.relationship()
