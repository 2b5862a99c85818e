"""Share links: a secret URL that opens one file, for viewing or editing, without an account."""

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.models.base import Base
from app.models.base import utcnow
from app.models.file import File
from app.models.user import User

SHARE_MODES = ("view", "edit")


class ShareLinkUse(Base):
    """One opening of a share link: who (the guest's id and the name they gave), from where, when."""

    __tablename__ = "share_link_use"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    link_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("share_link.id", ondelete="CASCADE"), index=True)
    guest_id: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)  # "guest:<random>"
    guest_name: so.Mapped[str] = so.mapped_column(sa.String(64))
    ip: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
    used_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class ShareLink(Base):
    """A view or edit link to a file; only the SHA-256 of its secret is stored."""

    __tablename__ = "share_link"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    file_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("file.id", ondelete="CASCADE"), index=True)
    mode: so.Mapped[str] = so.mapped_column(sa.String(8))  # view | edit
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_by: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    expires_at: so.Mapped[Optional[datetime]]
    password_hash: so.Mapped[Optional[str]] = so.mapped_column(sa.String(256))
    revoked_at: so.Mapped[Optional[datetime]]

    file: so.Mapped[File] = so.relationship()
    creator: so.Mapped[Optional[User]] = so.relationship()

    # How often the link was opened; loaded only where asked for (the list of links).
    use_count: so.Mapped[int] = so.column_property(
        sa.select(sa.func.count(ShareLinkUse.id))
        .where(ShareLinkUse.link_id == id)
        .correlate_except(ShareLinkUse)
        .scalar_subquery(),
        deferred=True,
    )

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None
