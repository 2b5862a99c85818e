"""Favourites: the files a person starred, listed on their home page."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.models.base import Base
from app.models.base import utcnow


class Favourite(Base):
    """One starred file of one person. Rights are not copied here: every list rechecks them, so a
    file the person may no longer read stays starred but unseen (and shows again if access returns)."""

    __tablename__ = "favourite"
    __table_args__ = (
        # A person's favourites, most recently starred first (the home page).
        sa.Index("ix_favourite_user_created", "user_id", "created_at"),
    )

    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    file_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("file.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
