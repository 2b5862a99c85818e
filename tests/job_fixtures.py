"""A task for the job-queue tests, declared like the app's own (a worker loads it with
``--include tests.job_fixtures``): it notes each start, waits until the test lets it go, then
records its effect once, idempotently, as every task must."""

import os
import time

import sqlalchemy as sa

from app import jobs
from app import transaction
from app.extensions import db
from app.models import Notification
from app.services import notifications


@jobs.task
def record_when_released(folder: str, user_id: int, text: str) -> None:
    """Append this process's id to ``folder/started``, wait for ``folder/release``, then notify
    user_id with text unless that is done already, and append to ``folder/finished``."""
    with open(os.path.join(folder, "started"), "a") as started:
        started.write(f"{os.getpid()}\n")
    while not os.path.exists(os.path.join(folder, "release")):
        time.sleep(0.05)
    done = db.session.scalar(
        sa.select(Notification.id).where(Notification.user_id == user_id, Notification.text == text)
    )
    if done is None:
        notifications.notify(user_id, "job", text)
        transaction.commit()
    with open(os.path.join(folder, "finished"), "a") as finished:
        finished.write(f"{os.getpid()}\n")


@jobs.task
def fail_until_mended(folder: str) -> None:
    """Append to ``folder/tried`` and fail, as a job does whose cause is outside the app (an error
    retrying cannot mend), until ``folder/mended`` exists; then append to ``folder/done``."""
    with open(os.path.join(folder, "tried"), "a") as tried:
        tried.write(f"{os.getpid()}\n")
    if not os.path.exists(os.path.join(folder, "mended")):
        raise ValueError(f"not mended yet in {os.path.basename(folder)}")
    with open(os.path.join(folder, "done"), "a") as done:
        done.write(f"{os.getpid()}\n")
