"""Jobs that failed for good: kept so that an admin sees them and can run them again.

A job is recorded when it ends in an error that retrying cannot mend, or once its retries ran out:
on a worker through Celery's ``task_failure`` signal, in-process where it runs (app/jobs.py). The
record is committed in a transaction of its own after the job's work was rolled back, and only
the newest ``KEPT`` stay. Every job is idempotent (it looks its rows up again and skips what is no
longer to be done), so running one again is safe, however late.
"""

import json

import sqlalchemy as sa
from flask_babel import gettext

from app import transaction
from app.extensions import db
from app.models import FailedJob
from app.services.exceptions import BadRequestError
from app.services.exceptions import NotFoundError

KEPT = 1000
ERROR_LENGTH = 500


def record(task: str, args, error: BaseException, attempts: int = 1) -> None:
    """Commit the record of a job that failed, apart from its rolled-back work; never raises."""
    db.session.rollback()
    summary = f"{error.__class__.__name__}: {error}"[:ERROR_LENGTH]

    def write() -> None:
        db.session.add(
            FailedJob(task=task, args_json=json.dumps(list(args), default=str), error=summary, attempts=attempts)
        )
        db.session.flush()
        oldest_kept = db.session.scalar(sa.select(FailedJob.id).order_by(FailedJob.id.desc()).offset(KEPT - 1).limit(1))
        if oldest_kept is not None:
            db.session.execute(sa.delete(FailedJob).where(FailedJob.id < oldest_kept))

    transaction.apart(write)


def newest(limit: int) -> tuple[list[FailedJob], int]:
    """The latest failed jobs, newest first, and how many there are in all."""
    shown = db.session.scalars(sa.select(FailedJob).order_by(FailedJob.id.desc()).limit(limit)).all()
    return list(shown), count()


def count() -> int:
    return db.session.scalar(sa.select(sa.func.count(FailedJob.id)))


def run_again(job_id: int) -> str:
    """Stage running a failed job again (queued once the caller commits) and forgetting its record;
    returns the job's name.

    :raise NotFoundError: no such record (run again or dismissed meanwhile).
    :raise BadRequestError: this version of Coedit has no such job.
    """
    from app import jobs  # jobs records its failures here

    name, args_json = _take(job_id)
    task = jobs.TASKS.get(name)
    if task is None:
        raise BadRequestError(gettext("This version has no job called %(task)s; dismiss it.", task=name))
    jobs.enqueue(task, *json.loads(args_json))
    return name


def dismiss(job_id: int) -> str:
    """Stage forgetting a failed job without running it again; returns the job's name.

    :raise NotFoundError: no such record (run again or dismissed meanwhile).
    """
    return _take(job_id)[0]


def _take(job_id: int) -> tuple[str, str]:
    """The record's task and arguments, its deletion staged in the same statement: of two admins
    who click at once, one gets it."""
    taken = db.session.execute(
        sa.delete(FailedJob).where(FailedJob.id == job_id).returning(FailedJob.task, FailedJob.args_json)
    ).first()
    if taken is None:
        raise NotFoundError(gettext("That job is no longer in the list."))
    return taken.task, taken.args_json
