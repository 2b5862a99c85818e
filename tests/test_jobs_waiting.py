"""coedit_jobs_waiting and coedit_jobs_broker_up, read from the real broker when /metrics is scraped:
Redis and RabbitMQ with jobs queued and no worker, no broker at all, and a broker that is down."""

import secrets
import socket
import time

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from app import jobs
from tests.conftest import build_app
from tests.helpers import wait_for
from tests.storage_servers import free_port
from tests.test_jobs import close_broker_connections
from tests.test_jobs import rabbitmq
from tests.test_jobs import redis_database

REDIS_DATABASE = 12  # of these tests only


def scrape(app) -> dict[str, float]:
    response = app.test_client().get("/metrics")  # from loopback: no token needed
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith("coedit_jobs_broker_up") or sample.name.startswith("coedit_jobs_waiting")
    }


def queue_three_jobs(app) -> None:
    """Three jobs of different priorities: on Redis, kombu keeps them in lists of their own."""
    celery = app.extensions["celery"]
    for number, priority in enumerate((0, 5, 9)):
        celery.send_task("coedit.forcesave", args=(number, "no-such-key"), priority=priority)


def test_redis_queue_of_three_jobs_reads_three(tmp_path):
    app = build_app(tmp_path, BROKER_URL=redis_database(REDIS_DATABASE), JOB_QUEUE="coedit-waiting-test")
    assert scrape(app) == {"coedit_jobs_broker_up": 1, "coedit_jobs_waiting": 0}  # nothing queued yet
    queue_three_jobs(app)
    assert scrape(app) == {"coedit_jobs_broker_up": 1, "coedit_jobs_waiting": 3}
    assert redis.Redis.from_url(app.config["BROKER_URL"]).llen("coedit-waiting-test") < 3  # priority lists counted
    redis_database(REDIS_DATABASE)  # emptied again
    close_broker_connections(app)


def test_rabbitmq_queue_of_three_jobs_reads_three(tmp_path):
    queue = "coedit-waiting-test-" + secrets.token_hex(4)
    app = build_app(tmp_path, BROKER_URL=rabbitmq(), JOB_QUEUE=queue)
    assert scrape(app) == {"coedit_jobs_broker_up": 1, "coedit_jobs_waiting": 0}  # no such queue yet
    try:
        queue_three_jobs(app)
        wait_for(lambda: scrape(app).get("coedit_jobs_waiting") == 3, 5, "RabbitMQ to count three messages")
        assert scrape(app) == {"coedit_jobs_broker_up": 1, "coedit_jobs_waiting": 3}
    finally:
        with app.extensions["celery"].connection_for_write() as connection:
            connection.channel().queue_delete(queue)
        close_broker_connections(app)


def test_without_a_broker_there_is_nothing_to_count(tmp_path):
    assert scrape(build_app(tmp_path)) == {}


# The count gives up after jobs.WAITING_DEADLINE seconds; the rest of the scrape, on a machine
# running both test passes at once, has taken up to 0.7 s more.
SCRAPE_BOUND = jobs.WAITING_DEADLINE + 2.0


@pytest.mark.parametrize("scheme", ["redis", "amqp"])
def test_a_broker_that_is_down_answers_quickly_with_up_0(tmp_path, scheme):
    port = free_port()  # nothing listens there
    app = build_app(tmp_path, BROKER_URL=f"{scheme}://guest:guest@127.0.0.1:{port}/0")
    started = time.monotonic()
    assert scrape(app) == {"coedit_jobs_broker_up": 0}
    assert time.monotonic() - started < SCRAPE_BOUND


def test_a_broker_that_never_answers_does_not_hold_the_scrape(tmp_path):
    """The count gives up by its deadline, and the scrape says the broker is down. The count is
    timed on its own: the rest of a scrape depends on how busy the machine is, not on the broker."""
    with socket.socket() as silent:  # accepts connections (the kernel's backlog), says nothing
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        app = build_app(tmp_path, BROKER_URL=f"redis://127.0.0.1:{port}/0")
        with app.app_context():
            started = time.monotonic()
            with pytest.raises(Exception):  # noqa: B017 - the broker's error, or the deadline's
                jobs.waiting()
            assert time.monotonic() - started < jobs.WAITING_DEADLINE + 0.5
        assert scrape(app) == {"coedit_jobs_broker_up": 0}
