"""Jobs: the work that runs outside a request, on a Celery worker or, without a broker, in-process.

What runs as a job (the task functions below): the Docs commands that follow a callback (the
force-save asked for when a co-editor leaves, the drop of someone who rejoined without the right
to change the file), the drop that follows a rights change or a revoked share link, conversions
into new files and version previews (Docs' conversion service), the deliveries of outgoing
webhooks, and, on a schedule, the version retention chosen on the admin page.

``enqueue(task, *args)`` hands a job over once the current transaction commits (never if it does
not), so a job never looks for rows that are not there yet:

- with a broker (``BROKER_URL``, else ``REDIS_URL``) Celery queues it and any worker runs it
  (``celery -A wsgi:celery worker``; ``celery -A wsgi:celery beat`` runs the schedule). A job is
  acknowledged only when it has finished, so one whose worker died (killed, its machine gone)
  is delivered again: by RabbitMQ as soon as the connection drops, by Redis after
  ``JOB_VISIBILITY_TIMEOUT``. A failure that may pass (Docs unreachable, a busy database) is
  retried with growing pauses.
- without one, the same task function runs in this process after the commit, in a thread with
  its own app context, so the request (a callback Docs waits for) is answered first. Such a job
  is tried once and is lost if the process stops first.

A job that fails for good (an error retrying cannot mend, or once its retries ran out) is kept
on the admin's status page (services/failed_jobs.py), to be run again or dismissed.

So every job may run twice, and each is idempotent: it takes ids, looks its rows up again, skips
what is no longer to be done, and commits its own work with ``transaction.commit()``. Arguments
are JSON (ids, keys, lists of them), in both modes.
"""

import json
import logging
import os
import smtplib
import threading
import time
from typing import Callable

import sqlalchemy as sa
from celery import Celery
from celery import Task
from celery import shared_task
from celery import signals
from flask import Flask
from flask import current_app

from app import transaction
from app.extensions import db
from app.models import File
from app.models import ShareLink
from app.models import ShareLinkUse
from app.ops import metrics
from app.services import audit
from app.services import failed_jobs
from app.services import locks
from app.services import retention
from app.services import settings
from app.services import trash
from app.services.docs import client
from app.services.exceptions import DocsError
from app.services.exceptions import DocsUnreachableError

log = logging.getLogger("coedit.jobs")

# Failures that may pass: a worker tries the job again after 1, 2, 4 ... seconds (at most five
# minutes apart, which JOB_VISIBILITY_TIMEOUT must exceed); anything else ends the job, logged.
RETRY = {
    "autoretry_for": (DocsUnreachableError, sa.exc.OperationalError),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
}


# Every task function by its job name: what a failed job that is run again runs.
TASKS: dict[str, Callable] = {}


def task(function: Callable) -> Callable:
    """Declare a task function: a job a worker runs by the name ``coedit.<function name>``.

    The function itself is returned unchanged, so it is also what runs in-process.
    """
    shared_task(name=job_name(function), **RETRY)(function)
    TASKS[job_name(function)] = function
    return function


def job_name(function: Callable) -> str:
    return f"coedit.{function.__name__}"


def broker_url(config) -> str | None:
    """The broker jobs go through: BROKER_URL, else REDIS_URL, else none (in-process)."""
    return config.get("BROKER_URL") or config.get("REDIS_URL") or None


def enqueue(task_function: Callable, *args) -> None:
    """Run ``task_function(*args)`` as a job once the current transaction commits (never if it does not)."""
    app = current_app._get_current_object()
    args = tuple(json.loads(json.dumps(args)))  # what a broker would carry, also in-process
    transaction.after_commit(lambda: metrics.job_queued(job_name(task_function)))
    if broker_url(app.config) is None:
        transaction.after_commit(lambda: run_in_process(app, task_function, args))
    else:
        transaction.after_commit(lambda: _publish(app, task_function, args))


def _publish(app: Flask, task_function: Callable, args: tuple) -> None:
    try:
        app.extensions["celery"].send_task(job_name(task_function), args=args)
    except Exception:  # the broker is down: doing the work here beats losing it
        metrics.job_unpublished(job_name(task_function))
        log.exception("could not queue job %s; running it in this process", job_name(task_function))
        run_in_process(app, task_function, args)


def run_in_process(app: Flask, task_function: Callable, args: tuple) -> threading.Thread:
    """Run the job in a thread of this process with an app context (and a session) of its own."""

    def run() -> None:
        with app.app_context():
            try:
                task_function(*args)
            except Exception as exc:
                metrics.job_failed(job_name(task_function))
                log.exception("job %s%r failed", job_name(task_function), args)
                failed_jobs.record(job_name(task_function), args, exc)

    thread = threading.Thread(target=run, name=job_name(task_function), daemon=True)
    thread.start()
    return thread


# Measuring the queue at scrape time must answer quickly also while the broker is down.
BROKER_TIMEOUT = 1.0
WAITING_DEADLINE = 3.0


def waiting() -> int | None:
    """Jobs waiting in the broker's queue (JOB_QUEUE) for a worker now, not those a worker holds;
    None without a broker (jobs run in-process). Raises when the broker does not answer within
    WAITING_DEADLINE seconds.

    kombu's passive queue declaration asks the broker without creating anything: RabbitMQ answers
    the queue's message count (AMQP 0-9-1 queue.declare-ok); on Redis kombu adds up the lengths
    of the queue's list and of its priority lists (LLEN of each)."""
    if broker_url(current_app.config) is None:
        return None
    celery = current_app.extensions["celery"]
    queue = current_app.config["JOB_QUEUE"]

    def count() -> int:
        connection = celery.connection_for_read(
            connect_timeout=BROKER_TIMEOUT,
            transport_options={
                "socket_timeout": BROKER_TIMEOUT,  # Redis
                "socket_connect_timeout": BROKER_TIMEOUT,
                "read_timeout": BROKER_TIMEOUT,  # AMQP
                "write_timeout": BROKER_TIMEOUT,
            },
        )
        with connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, interval_max=0)
            channel = connection.channel()
            try:
                return int(channel.queue_declare(queue=queue, passive=True).message_count)
            except connection.channel_errors:  # no such queue yet: nothing was ever queued
                return 0

    outcome: dict = {}

    def run() -> None:
        try:
            outcome["count"] = count()
        except Exception as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="coedit-jobs-waiting", daemon=True)
    thread.start()
    thread.join(WAITING_DEADLINE)
    if "count" in outcome:
        return outcome["count"]
    raise outcome.get("error") or TimeoutError(f"the broker did not answer within {WAITING_DEADLINE} s")


def init_app(app: Flask) -> None:
    """Build the app's Celery app (``app.extensions["celery"]``); it is used only with a broker."""
    app.extensions["celery"] = make_celery(app)


def make_celery(app: Flask) -> Celery:
    """A Celery app whose tasks run in an app context of ``app``, configured from its settings."""

    class AppContextTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return super().__call__(*args, **kwargs)

    celery = Celery(app.import_name, task_cls=AppContextTask, set_as_current=False)
    celery.flask_app = app  # for the signals, which run outside a task's app context
    broker = broker_url(app.config)
    options = {}
    if broker and broker.startswith(("redis://", "rediss://", "unix://")):
        # Redis has no acknowledgements of its own: a job a worker took stays aside until it is
        # acknowledged, and goes back to the queue when it has been aside this long (its worker
        # died). Workers look for such jobs a tenth of that often (at least once a minute), and a
        # worker that died while looking holds the others back no longer than that timeout.
        timeout = int(app.config["JOB_VISIBILITY_TIMEOUT"])
        options = {
            "visibility_timeout": timeout,
            "unacked_restore_interval": max(1, min(60, timeout // 10)),
            "unacked_restore_throttle": 1,
            "unacked_mutex_expire": max(1, min(300, timeout)),
        }
    every = int(app.config["RETENTION_SCHEDULE_SECONDS"] or 0)
    celery.conf.update(
        broker_url=broker,
        broker_transport_options=options,
        broker_connection_retry_on_startup=True,
        task_default_queue=app.config["JOB_QUEUE"],
        task_serializer="json",
        accept_content=["json"],  # never pickle: a message must not be able to run code
        task_ignore_result=True,
        # Acknowledge a job when it has finished, not when it starts; a job whose worker process
        # died (killed, out of memory) goes back to the queue; each worker process holds one job
        # at a time, so no others wait behind a long one.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # The broker hands a job out again when a worker loses its connection: stop running it.
        worker_cancel_long_running_tasks_on_connection_loss=True,
        # A request that enqueues a job must not hang on a broker that is down (it then runs here).
        broker_connection_timeout=2,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1},
        beat_schedule=(
            {
                "apply-retention": {"task": job_name(apply_retention), "schedule": float(every)},
                "purge-trash": {"task": job_name(purge_trash), "schedule": float(every)},
                "abort-stale-uploads": {"task": job_name(abort_stale_uploads), "schedule": float(every)},
            }
            if every > 0
            else {}
        ),
        beat_schedule_filename=os.path.join(app.instance_path, "celerybeat-schedule"),
        timezone="UTC",
    )
    return celery


@signals.worker_init.connect
@signals.beat_init.connect
def _refuse_to_start_without_broker(sender=None, **_) -> None:
    if sender is not None and not sender.app.conf.broker_url:
        raise SystemExit(
            "No broker: set COEDIT_BROKER_URL or COEDIT_REDIS_URL. Without one, jobs run in the "
            "process that asks for them and no worker is needed."
        )


@signals.task_failure.connect
def _keep_failed_job(sender=None, args=None, exception=None, **_) -> None:
    """A job on a worker failed for good (retries that might mend it ran out): keep it for the admin."""
    app = getattr(getattr(sender, "app", None), "flask_app", None)
    if app is None or not sender.name.startswith("coedit."):
        return
    with app.app_context():
        failed_jobs.record(sender.name, args or (), exception, attempts=(sender.request.retries or 0) + 1)


# --- the task functions -----------------------------------------------------------------------


@task
def forcesave(file_id: int, key: str) -> None:
    """Ask Docs to store the session under key now: a co-editor left while others stay, and their
    work should not wait for the last one to close. Nothing to do once the session is over."""
    file = db.session.get(File, file_id)
    if file is None or file.doc_key != key:
        return  # the file is gone, or its final save came and moved it to a new key
    _command(file, "forcesave", key)


@task
def drop_from_editor(file_id: int, key: str, users: list[str]) -> None:
    """Disconnect these people from the session under key: they lost the right to change the file,
    or joined without it. What they did before stays and is saved; they may reopen with their rights."""
    file = db.session.get(File, file_id)
    if file is None or file.doc_key != key or not settings.docs_configured():
        return
    _command(file, "drop", key, users=users)


@task
def drop_link_guests(link_id: int) -> None:
    """Disconnect the guests of a revoked share link who are in the editor.

    Every guest the link ever let in is named, not only those our file records as editing: a
    guest whose join (status 1) was still on its way when the link was revoked is not recorded
    yet, but Docs knows them. Docs drops those of the listed users who are connected.
    """
    link = db.session.get(ShareLink, link_id)
    if link is None or link.revoked_at is None or not settings.docs_configured():
        return
    file = link.file
    guests = sorted(set(db.session.scalars(sa.select(ShareLinkUse.guest_id).where(ShareLinkUse.link_id == link.id))))
    if guests:
        _command(file, "drop", file.doc_key, users=guests)


@task
def apply_retention() -> None:
    """Remove old versions as the retention setting says, as ``flask purge-versions --apply`` does
    (never a file's current version; nothing while retention keeps every version; file by file, a
    file busy right now left for the next run), and audit log entries older than AUDIT_RETENTION_DAYS."""
    removed = 0
    for count in retention.purge_by_file(retention.plan()):
        transaction.commit()  # one file at a time: a long run holds no file's lock for long
        removed += count
    pruned = audit.prune()
    transaction.commit()
    if removed:
        log.info("retention removed %s old version(s)", removed)
    if pruned:
        log.info("retention removed %s audit log entries", pruned)


@task
def purge_trash() -> None:
    """Remove for good the files, folders and spaces deleted more than TRASH_DAYS ago.

    One file per transaction: each holds its transition lock until its commit, and a failure
    leaves the others purged. A file another action is moving right now is left for the next run."""
    removed = 0
    for file_id in trash.expired_file_ids():
        file = db.session.get(File, file_id)
        if file is None:
            continue
        try:
            trash.purge_file(file)
        except locks.Busy as exc:
            db.session.rollback()
            log.info("file %s is busy (%s): the trash purge leaves it for the next run", file_id, exc.action)
            continue
        transaction.commit()
        removed += 1
    trash.purge_folders_and_spaces()
    transaction.commit()
    if removed:
        log.info("trash purge removed %s file(s)", removed)


@task
def abort_stale_uploads() -> None:
    """Abort the storage's unfinished uploads older than S3_UPLOAD_MAX_AGE_SECONDS (S3 only)."""
    from app.services.storage import abort_stale_uploads as abort

    aborted = abort()
    if aborted:
        log.info("aborted %s unfinished upload(s) to storage", aborted)


def _command(file: File, command: str, key: str, **params) -> None:
    """Send a command to Docs; a refusal is logged (it is final), an outage raised (retried)."""
    try:
        client.command(command, key=key, **params)
    except DocsUnreachableError:
        raise
    except DocsError as exc:  # e.g. a forcesave with nothing changed: the final save still comes
        log.info("file %s: %s of %s: %s", file.id, command, key, exc.message)


@task
def convert_file(job_id: int, password: str | None = None) -> None:
    """Convert a file into a new one beside it through Docs' conversion service (asynchronous,
    polled), recording the percent Docs reports on the job; done with the new file, or failed with
    the reason in plain words and nothing stored (a rollback takes the file row and blob back)."""
    from app.services import conversions
    from app.services.exceptions import CoeditError

    try:
        work = conversions.begin(job_id)
        if work is None:
            return  # gone, or ended already (a job delivered twice)
        transaction.commit()
    except CoeditError as exc:
        db.session.rollback()
        conversions.fail(job_id, exc)
        transaction.commit()
        return

    def on_progress(percent: int) -> None:
        if percent != work.job.percent:
            conversions.progress(work.job, percent)
            transaction.commit()

    try:
        path = conversions.convert(work, password, on_progress)
        conversions.finish(work, path)
        transaction.commit()
    except Exception as exc:
        db.session.rollback()
        if not isinstance(exc, CoeditError):
            log.exception("conversion job %s failed", job_id)
        conversions.fail(job_id, exc)
        transaction.commit()


@task
def make_thumbnail(file_id: int, number: int) -> None:
    """Make the PNG preview of one version (the first page, via Docs' conversion service). When
    Docs cannot make one the type's icon stays: logged, not retried."""
    from app.services import thumbnails
    from app.services.exceptions import CoeditError

    found = thumbnails.pending(file_id, number)
    if found is None:
        return
    try:
        thumbnails.make(*found)
        transaction.commit()
    except (CoeditError, ValueError) as exc:
        db.session.rollback()
        log.info("no preview of file %s version %s: %s", file_id, number, getattr(exc, "message", exc))


@task
def make_template_thumbnail(template_id: int) -> None:
    """Make the PNG preview of a document template, as make_thumbnail does for a version. When
    Docs cannot make one the type's icon stays: logged, not retried, shown to nobody."""
    from app.services import templates
    from app.services.exceptions import CoeditError

    try:
        templates.make_preview(template_id)
        transaction.commit()
    except (CoeditError, ValueError) as exc:
        db.session.rollback()
        log.info("no preview of template %s: %s", template_id, getattr(exc, "message", exc))


@task
def index_text(file_id: int, number: int) -> None:
    """Put the text of a new head version into the search index. Skipped when the file is gone or
    has moved on (the newer version's job indexes that one); a document we cannot read stays
    findable by its title. Never retried: the save it follows is already stored."""
    from app.services import search

    file = db.session.get(File, file_id)
    if file is None or file.version != number:
        return
    search.index_file(file)
    transaction.commit()


@task
def send_notification_email(user_id: int, text: str, url: str) -> None:
    """Mail a notification. A mail server that refuses or cannot be reached is logged, not retried:
    the notification itself is in the app already."""
    from app.services import mail

    try:
        mail.send_notification(user_id, text, url)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("could not mail a notification to user %s: %s", user_id, exc)


@task
def deliver_webhook(delivery_id: int) -> None:
    """POST one outgoing webhook delivery (services/webhooks.py), trying again after a pause
    (WEBHOOK_RETRY_SECONDS, doubled each time) while the receiver is unreachable or answers
    5xx, up to WEBHOOK_ATTEMPTS; then it is logged as failed. A worker schedules the retry as a
    job of its own; without a broker this thread waits for it. Never sent twice once delivered."""
    from app.services import webhooks

    while True:
        claimed = webhooks.claim(delivery_id)
        transaction.commit()  # before sending: no other job takes this attempt
        if not claimed:
            return
        pause = webhooks.send(delivery_id)
        transaction.commit()
        if pause is None:
            return
        if broker_url(current_app.config) is not None:
            current_app.extensions["celery"].send_task(job_name(deliver_webhook), args=(delivery_id,), countdown=pause)
            return
        time.sleep(pause)
