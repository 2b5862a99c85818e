"""Document templates: files that "Create document" copies as version 1 of a new file."""

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.models.base import Base
from app.models.base import utcnow


class DocumentTemplate(Base):
    """A template of the whole site (space_id None: an administrator's) or of one space (its
    admins'). Its blob is its own: a document made from it gets a copy, never a shared blob."""

    __tablename__ = "document_template"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    space_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("space.id", ondelete="CASCADE"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(128))  # what the menu shows; new documents' default name
    ext: so.Mapped[str] = so.mapped_column(sa.String(16))  # the type of the documents it makes
    storage_key: so.Mapped[str] = so.mapped_column(sa.String(255))
    size: so.Mapped[int]
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    # The PNG of its first page (Docs' conversion service); None: the type's icon is shown.
    thumbnail_key: so.Mapped[Optional[str]] = so.mapped_column(sa.String(255))
    created_by: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
