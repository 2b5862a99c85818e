"""Jobs that failed for good, kept for an admin to run again or dismiss (app/services/failed_jobs.py)."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.models.base import Base
from app.models.base import utcnow


class FailedJob(Base):
    """A job that ended in an error: one that cannot pass by retrying, or one whose retries ran
    out. Its arguments are the job's own (ids and keys, as JSON), enough to run it again."""

    __tablename__ = "failed_job"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    task: so.Mapped[str] = so.mapped_column(sa.String(100))
    args_json: so.Mapped[str] = so.mapped_column(sa.Text)
    error: so.Mapped[str] = so.mapped_column(sa.String(500))
    attempts: so.Mapped[int] = so.mapped_column(default=1)
    failed_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)
