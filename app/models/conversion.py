"""Conversions through the Document Server's conversion service, run as jobs."""

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.models.base import Base
from app.models.base import utcnow

JOB_STATES = ("queued", "running", "done", "failed")


class ConversionJob(Base):
    """One person's request to convert one version of a file into a new file beside it.

    No foreign key to the files: the job's status (and its error) stays readable after the
    original or the result has been deleted.
    """

    __tablename__ = "conversion_job"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    owner_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    file_id: so.Mapped[int] = so.mapped_column(index=True)
    version: so.Mapped[int]
    target: so.Mapped[str] = so.mapped_column(sa.String(16))
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="queued")
    percent: so.Mapped[int] = so.mapped_column(default=0)
    result_file_id: so.Mapped[Optional[int]]
    error: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    # Whether the failure was a missing or wrong password (-5): the page then asks for it.
    needs_password: so.Mapped[bool] = so.mapped_column(default=False)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
