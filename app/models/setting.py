"""Admin-editable runtime settings, one row per key."""

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.models.base import Base


class Setting(Base):
    __tablename__ = "setting"

    key: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    value: so.Mapped[str] = so.mapped_column(sa.Text)
