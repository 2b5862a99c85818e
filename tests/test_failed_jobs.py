"""Jobs that fail for good are kept on the admin's status page, to be run again or dismissed.

The failures are real: a task raises in-process (no broker) and on a Celery worker over Redis.
"""

import json
import os
import secrets

import redis
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from app import jobs
from app import transaction
from app.extensions import db
from app.models import AuditEvent
from app.models import FailedJob
from app.services import failed_jobs
from tests import job_fixtures
from tests.helpers import csrf_token
from tests.helpers import wait_for
from tests.test_accounts_admin import login
from tests.test_jobs import Worker
from tests.test_jobs import close_broker_connections
from tests.test_jobs import lines
from tests.test_jobs import redis_database
from tests.test_jobs import shared_settings

TASK = "coedit.fail_until_mended"
GAUGE = "coedit_jobs_failed_kept"


def kept(app) -> list[tuple]:
    with app.app_context():
        return db.session.execute(
            sa.select(FailedJob.id, FailedJob.task, FailedJob.args_json, FailedJob.error, FailedJob.attempts).order_by(
                FailedJob.id
            )
        ).all()


def kept_on_scrape(app) -> float:
    response = app.test_client().get("/metrics")  # from loopback: no token needed
    assert response.status_code == 200
    [family] = [f for f in text_string_to_metric_families(response.get_data(as_text=True)) if f.name == GAUGE]
    return family.samples[0].value


def enqueue(app, folder) -> None:
    with app.app_context():
        jobs.enqueue(job_fixtures.fail_until_mended, str(folder))
        transaction.commit()


def status_page(client) -> str:
    response = client.get("/admin/status")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def post(client, path: str):
    """A POST from the status page's own form, CSRF token included."""
    return client.post(path, data={"csrf_token": csrf_token(status_page(client))})


def fail_in_process(app, tmp_path):
    """The fixture job, failed in this process and kept; returns its folder."""
    folder = tmp_path / "job"
    folder.mkdir(exist_ok=True)
    enqueue(app, folder)
    wait_for(lambda: kept(app), 10, "the failure to be kept")
    return folder


def test_a_job_failing_in_process_is_listed_then_run_again_once_mended(csrf_world, tmp_path):
    world = csrf_world
    folder = fail_in_process(world.app, tmp_path)
    [(job_id, task, args, error, attempts)] = kept(world.app)
    assert (task, json.loads(args), attempts) == (TASK, [str(folder)], 1)
    assert error == "ValueError: not mended yet in job"

    alice = login(world, "alice")
    html = status_page(alice)
    assert 'id="failed-jobs"' in html and f'data-job="{job_id}"' in html
    assert TASK in html and "not mended yet in job" in html

    (folder / "mended").touch()
    response = post(alice, f"/admin/jobs/{job_id}/run-again")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/status#failed-jobs")
    wait_for(lambda: lines(folder / "done"), 10, "the job to run again")
    assert len(lines(folder / "tried")) == 2 and kept(world.app) == []
    assert "runs again" in alice.get("/admin/status").get_data(as_text=True)
    with world.app.app_context():
        entry = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "admin.job_run_again")).one()
        assert (entry.object_type, entry.object_id, entry.object_name) == ("job", str(job_id), TASK)

    # A second click (another tab, another admin) finds nothing to run: the job ran once.
    post(alice, f"/admin/jobs/{job_id}/run-again")
    assert "no longer in the list" in alice.get("/admin/status").get_data(as_text=True)
    assert len(lines(folder / "tried")) == 2


def test_a_dismissed_job_is_forgotten_without_running(csrf_world, tmp_path):
    world = csrf_world
    folder = fail_in_process(world.app, tmp_path)
    [(job_id, *_)] = kept(world.app)
    assert kept_on_scrape(world.app) == 1  # what the alert reads, whichever process the job failed in
    alice = login(world, "alice")
    assert post(alice, f"/admin/jobs/{job_id}/dismiss").status_code == 302
    assert kept(world.app) == [] and len(lines(folder / "tried")) == 1
    assert kept_on_scrape(world.app) == 0
    assert "was dismissed" in alice.get("/admin/status").get_data(as_text=True)
    # Without the page's token, nothing happens (and a member who is no admin gets no further).
    fail_in_process(world.app, tmp_path)
    [(second, *_)] = kept(world.app)
    assert alice.post(f"/admin/jobs/{second}/dismiss").status_code == 400
    bob = login(world, "bob")
    assert bob.post(f"/admin/jobs/{second}/dismiss", data={"csrf_token": bob.csrf}).status_code == 403
    assert [row[0] for row in kept(world.app)] == [second]


def test_a_job_of_a_task_this_version_lacks_can_only_be_dismissed(world):
    with world.app.app_context():
        db.session.add(FailedJob(task="coedit.removed_long_ago", args_json="[1]", error="KeyError: 1"))
        transaction.commit()
    [(job_id, *_)] = kept(world.app)
    alice = world.client("alice")
    alice.post(f"/admin/jobs/{job_id}/run-again")
    assert "no job called coedit.removed_long_ago" in alice.get("/admin/status").get_data(as_text=True)
    assert [row[0] for row in kept(world.app)] == [job_id]  # still there, to be dismissed


def test_only_the_newest_failures_are_kept(world, monkeypatch):
    monkeypatch.setattr(failed_jobs, "KEPT", 3)
    with world.app.app_context():
        for number in range(5):
            failed_jobs.record("coedit.forcesave", [number, "key"], RuntimeError(f"failure {number}"))
    assert [json.loads(row[2])[0] for row in kept(world.app)] == [2, 3, 4]


def test_a_job_failing_on_a_worker_is_kept_with_its_attempts(tmp_path):
    from tests.conftest import build_app

    url = redis_database(8)  # of this test only
    settings = shared_settings(tmp_path, REDIS_URL=url)
    app = build_app(tmp_path, **settings)
    folder = tmp_path / ("job-" + secrets.token_hex(2))
    folder.mkdir()
    worker = Worker(tmp_path, settings)
    try:
        enqueue(app, folder)
        close_broker_connections(app)
        wait_for(lambda: kept(app), 30, "the worker's failure to be kept")
    finally:
        worker.stop()
        redis.Redis.from_url(url).flushdb()
    [(_, task, args, error, attempts)] = kept(app)
    assert (task, json.loads(args), attempts) == (TASK, [str(folder)], 1)
    assert error.startswith("ValueError: not mended yet")
    assert lines(folder / "tried") and lines(folder / "tried") != [str(os.getpid())]  # the worker's, not this process's
