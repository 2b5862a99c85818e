"""The job queue: with a broker (Redis, RabbitMQ) jobs run on Celery workers and survive a worker
that dies mid-job; without one the same task functions run in-process, after the commit.

The workers are real processes started as production starts them (``celery -A wsgi:celery
worker``), each with the test task of tests/job_fixtures.py, on a queue of its own. Redis and
RabbitMQ must run on 127.0.0.1 (`make services` starts them).
"""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time

import kombu.pools
import pytest
import sqlalchemy as sa

from app import jobs
from app import transaction
from app.extensions import db
from app.models import Notification
from app.models import User
from tests import job_fixtures
from tests.conftest import DATABASES
from tests.conftest import build_app
from tests.helpers import REDIS_SERVER
from tests.helpers import redis_url
from tests.helpers import wait_for
from tests.test_retention import configure
from tests.test_retention import make_file
from tests.test_retention import numbers
from tests.test_retention import planned
from tests.test_retention import purge

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"


def redis_database(number: int) -> str:
    """A Redis database of these tests' own, emptied."""
    import redis

    url = redis_url(number)
    try:
        redis.Redis.from_url(url).flushdb()
    except redis.RedisError:
        pytest.fail(f"Redis is not running at {REDIS_SERVER}; `make services` (part of `make test`) starts it")
    return url


def rabbitmq() -> str:
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=2).close()
    except OSError:
        pytest.fail("RabbitMQ is not running on 127.0.0.1:5672; `make services` (part of `make test`) starts it")
    return RABBITMQ


def shared_settings(tmp_path, **extra) -> dict:
    """Settings the test's app and its workers share: one database, one storage, one queue."""
    return {
        "DATABASE_URL": DATABASES.of_folder(tmp_path),  # the test app's own, on the engine under test
        "STORAGE_DIR": str(tmp_path / "storage"),
        "SECRET_KEY": "test-app-secret",
        "JOB_QUEUE": "coedit-test-" + secrets.token_hex(4),
        **extra,
    }


class Worker:
    """``celery -A wsgi:celery worker``, one pool process, in a process group of its own."""

    def __init__(self, tmp_path, settings: dict, *args: str):
        env = {name: value for name, value in os.environ.items() if not name.startswith("COEDIT_")}
        env.update({"COEDIT_" + name: str(value) for name, value in settings.items()})
        env["COEDIT_INSTANCE_PATH"] = str(tmp_path / "worker-instance")
        name = "test-" + secrets.token_hex(4)
        self.log_path = tmp_path / f"{name}.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "wsgi:celery", "worker", "--include", "tests.job_fixtures"]
            + ["--concurrency", "1", "--loglevel", "INFO", "--hostname", f"{name}@%h"]
            + ["--without-gossip", "--without-mingle", "--without-heartbeat", *args],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for(lambda: " ready." in self.log() or self.process.poll() is not None, 60, "the worker to start")
            assert self.process.poll() is None, "the worker stopped:\n" + self.log()
        except BaseException:
            self.stop()
            raise

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes at once, as when its machine goes away."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # a warm shutdown
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # whatever is left of the group
        except ProcessLookupError:
            pass
        self.process.wait(10)
        self._log.close()


def app_with_alice(tmp_path, settings: dict):
    app = build_app(tmp_path, **settings)
    with app.app_context():
        alice = User(username="alice", display_name="Alice")
        alice.set_password("pw-alice")
        db.session.add(alice)
        db.session.commit()
        return app, alice.id


def enqueue_and_commit(app, *args) -> None:
    with app.app_context():
        jobs.enqueue(job_fixtures.record_when_released, *args)
        transaction.commit()
    close_broker_connections(app)


def close_broker_connections(app) -> None:
    """Close the connection send_task left in the broker's pool; the app sends no more jobs after.

    The pools are the process's (``kombu.pools``, one per broker URL) and Celery's ``close()`` only
    lets go of them, so the socket stayed open until the interpreter exited. kombu's ``reset``
    closes every pooled connection and forgets the pools: the next app starts afresh."""
    app.extensions["celery"].close()
    kombu.pools.reset()


def lines(path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def recorded(app, text: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Notification.id)).where(Notification.text == text))


def test_with_redis_a_job_survives_its_worker_dying_and_is_done_once(tmp_path):
    import redis

    url = redis_database(1)
    settings = shared_settings(tmp_path, REDIS_URL=url, JOB_VISIBILITY_TIMEOUT=3)
    app, alice = app_with_alice(tmp_path, settings)
    folder = tmp_path / "job"
    folder.mkdir()
    started, finished = folder / "started", folder / "finished"

    first = Worker(tmp_path, settings)
    try:
        enqueue_and_commit(app, str(folder), alice, "done once")
        wait_for(lambda: len(lines(started)) == 1, 20, "the first worker to start the job")
        # Its pool process dies mid-job: the worker puts the job back (reject on worker lost) and
        # runs it again in a new pool process.
        os.kill(int(lines(started)[0]), signal.SIGKILL)
        wait_for(lambda: len(lines(started)) == 2, 20, "the job to start again after its pool process died")
        # Now the whole worker dies, as with its machine: nobody acknowledged the job.
        first.kill()
    finally:
        first.stop()
    assert recorded(app, "done once") == 0 and not finished.exists()

    second = Worker(tmp_path, settings)
    try:
        # Redis hands the job out again once it has been aside for the visibility timeout.
        wait_for(lambda: len(lines(started)) == 3, 30, "another worker to take the job up")
        (folder / "release").touch()
        wait_for(lambda: len(lines(finished)) == 1, 20, "the job to finish")
        broker = redis.Redis.from_url(url)
        wait_for(
            lambda: broker.llen(settings["JOB_QUEUE"]) == 0 and broker.hlen("unacked") == 0,
            10,
            "the job to be acknowledged",
        )
    finally:
        second.stop()
        redis.Redis.from_url(url).flushdb()
    # Started three times, finished and committed once; nothing is left to deliver again.
    assert len(lines(started)) == 3 and len(lines(finished)) == 1
    assert recorded(app, "done once") == 1


def test_with_rabbitmq_a_worker_runs_the_job(tmp_path):
    from kombu import Connection

    settings = shared_settings(tmp_path, BROKER_URL=rabbitmq())
    app, alice = app_with_alice(tmp_path, settings)
    folder = tmp_path / "job"
    folder.mkdir()
    (folder / "release").touch()
    worker = Worker(tmp_path, settings)
    try:
        enqueue_and_commit(app, str(folder), alice, "over amqp")
        wait_for(lambda: len(lines(folder / "finished")) == 1, 20, "the worker to run the job")
    finally:
        worker.stop()
        with Connection(RABBITMQ) as connection:
            connection.default_channel.queue_delete(settings["JOB_QUEUE"])
    assert recorded(app, "over amqp") == 1
    assert lines(folder / "started") != [str(os.getpid())]  # the worker's process, not this one


def test_without_a_broker_the_task_runs_in_process_after_the_commit(tmp_path):
    app, alice = app_with_alice(tmp_path, shared_settings(tmp_path))
    folder = tmp_path / "job"
    folder.mkdir()
    (folder / "release").touch()
    with app.app_context():
        jobs.enqueue(job_fixtures.record_when_released, str(folder), alice, "rolled back")
        db.session.rollback()  # its transaction never commits: the job never runs
        jobs.enqueue(job_fixtures.record_when_released, str(folder), alice, "committed")
        time.sleep(0.3)
        assert not (folder / "started").exists()  # not before the commit
        transaction.commit()
    wait_for(lambda: len(lines(folder / "finished")) == 1, 10, "the in-process job to finish")
    assert lines(folder / "started") == [str(os.getpid())]  # in this process (on a thread of its own)
    assert recorded(app, "committed") == 1 and recorded(app, "rolled back") == 0


def test_a_job_runs_in_process_when_the_broker_is_down(tmp_path):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app, alice = app_with_alice(tmp_path, shared_settings(tmp_path, BROKER_URL=f"redis://127.0.0.1:{port}/1"))
    folder = tmp_path / "job"
    folder.mkdir()
    (folder / "release").touch()
    enqueue_and_commit(app, str(folder), alice, "not lost")
    wait_for(lambda: len(lines(folder / "finished")) == 1, 20, "the job to run here instead")
    assert recorded(app, "not lost") == 1


def test_a_worker_refuses_to_start_without_a_broker(tmp_path):
    env = {name: value for name, value in os.environ.items() if not name.startswith("COEDIT_")}
    env["COEDIT_INSTANCE_PATH"] = str(tmp_path / "instance")
    result = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "wsgi:celery", "worker", "--concurrency", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "No broker: set COEDIT_BROKER_URL or COEDIT_REDIS_URL" in result.stdout + result.stderr


def test_the_retention_schedule_purges_what_the_cli_would(world, tmp_path):
    big = make_file(world, "Big", [5, 4, 3, 2, 1])
    small = make_file(world, "Small", [9, 8])
    configure(world, retention_mode="last", retention_count=2)
    doomed = planned(world)
    dry_run = purge(world).output  # what `flask purge-versions --apply` would remove
    assert doomed == [(big, 1), (big, 2), (big, 3)]
    assert all(f"would remove Big.docx (file {big}) version {n} " in dry_run for _, n in doomed)
    blobs = {v.number: v.storage_key for v in world.versions(big)}

    settings = shared_settings(tmp_path, REDIS_URL=redis_database(2), RETENTION_SCHEDULE_SECONDS=1)
    worker = Worker(tmp_path, settings, "--beat")  # the schedule embedded in the one worker
    try:
        wait_for(lambda: planned(world) == [], 30, "the scheduled retention to run")
    finally:
        worker.stop()
    assert numbers(world, big) == [4, 5] and numbers(world, small) == [1, 2]
    storage = world.app.config["STORAGE_DIR"]
    assert [n for n, key in blobs.items() if os.path.exists(os.path.join(storage, key))] == [4, 5]
    assert "coedit.apply_retention" in worker.log()


def test_retention_is_scheduled_daily_by_default_and_does_nothing_while_it_keeps_all(world, tmp_path):
    schedule = world.app.extensions["celery"].conf.beat_schedule
    assert schedule == {
        "apply-retention": {"task": "coedit.apply_retention", "schedule": 86400.0},
        "purge-trash": {"task": "coedit.purge_trash", "schedule": 86400.0},
        "abort-stale-uploads": {"task": "coedit.abort_stale_uploads", "schedule": 86400.0},
    }
    (tmp_path / "off").mkdir()
    off = build_app(tmp_path / "off", RETENTION_SCHEDULE_SECONDS=0)
    assert off.extensions["celery"].conf.beat_schedule == {}
    file_id = make_file(world, "Everything", [400, 300, 200])
    world.query(jobs.apply_retention)  # retention keeps every version (the default)
    assert numbers(world, file_id) == [1, 2, 3]


def test_the_admin_page_says_when_retention_runs(make_world, fake_docs):
    world = make_world(DOCS_URL=fake_docs.url, REDIS_URL=redis_database(4))
    html = world.client("alice").get("/admin/settings").get_data(as_text=True)
    assert "when the job workers apply retention, every 24 hours, or when" in html
