"""Spaces, their members and their stream."""

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.models.base import Base
from app.models.base import utcnow
from app.models.user import User

ROLES = ("owner", "admin", "member")
MANAGER_ROLES = ("owner", "admin")


class Space(Base):
    __tablename__ = "space"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(128))
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    # Deleted (soft) since: hidden from its members; site admins may restore it until the
    # trash purge removes it for good, TRASH_DAYS later.
    deleted_at: so.Mapped[Optional[datetime]]
    deleted_by: so.Mapped[Optional[int]]
    # The level members get on files created here from now on (each file keeps its own default,
    # changed per file). Teams co-edit: members edit, as in HumHub and Nextcloud group folders.
    default_level: so.Mapped[str] = so.mapped_column(sa.String(16), default="edit", server_default="edit")

    memberships: so.Mapped[list["Membership"]] = so.relationship(back_populates="space", cascade="all, delete-orphan")


class Membership(Base):
    __tablename__ = "membership"
    __table_args__ = (sa.UniqueConstraint("space_id", "user_id", name="uq_membership_space_user"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    space_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("space.id", ondelete="CASCADE"), index=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: so.Mapped[str] = so.mapped_column(sa.String(16), default="member")
    joined_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    space: so.Mapped[Space] = so.relationship(back_populates="memberships")
    user: so.Mapped[User] = so.relationship()

    @property
    def manages_space(self) -> bool:
        return self.role in MANAGER_ROLES


class Post(Base):
    """An entry of a space's stream: a member's post or a system notice about a file."""

    __tablename__ = "post"
    __table_args__ = (
        # A space's stream newest first, and a file's thread oldest first.
        sa.Index("ix_post_space_created", "space_id", "created_at", "id"),
        sa.Index("ix_post_file_created", "file_id", "created_at", "id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    space_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("space.id", ondelete="CASCADE"), index=True)
    author_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    # A file's thread goes with the file: a post left behind would show its comments to everyone.
    file_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("file.id", ondelete="CASCADE"), index=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(16), default="post")  # post | notice | integration
    # Markdown for an integration's message (rendered without raw HTML), plain text otherwise.
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    # The name an incoming webhook's message is shown under (kind integration; no author).
    integration_name: so.Mapped[Optional[str]] = so.mapped_column(sa.String(64))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)

    author: so.Mapped[Optional[User]] = so.relationship(lazy="joined")  # always shown with the post
