"""Prometheus metrics: callbacks and saves, requests, jobs, and what is true at scrape time.

Under gunicorn every worker records into PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py makes one per
instance), and /metrics adds the workers up. What is a fact about the installation rather than
about one worker (documents being edited now, build info) is read when Prometheus scrapes, by
``ScrapeTimeCollector``, never kept in a per-worker gauge.

The helpers below are what the rest of the app calls: each records its metrics and writes the
matching event line to the log (``coedit.events``).
"""

import functools
import logging
import os
import time
from typing import Callable

from prometheus_client import Counter
from prometheus_client import Histogram
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger("coedit.events")

# Callback p99 > 5 s is an alert: buckets from 50 ms to 30 s with several around 5 s.
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 7.5, 10.0, 15.0, 30.0)
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

CALLBACK_DURATION = Histogram(
    "onlyoffice_callback_duration_seconds", "Time spent processing Docs callbacks", buckets=DURATION_BUCKETS
)
DOWNLOAD_DURATION = Histogram(
    "onlyoffice_download_duration_seconds",
    "Time downloading a document from Docs (saves, changes, conversions)",
    buckets=DURATION_BUCKETS,
)
UPLOAD_DURATION = Histogram(
    "onlyoffice_upload_duration_seconds", "Time writing a document to storage", buckets=DURATION_BUCKETS
)
SAVES = Counter("onlyoffice_save_total", "Saves reported by Docs, by outcome", ["status"])
VALIDATION_REJECTED = Counter(
    "onlyoffice_validation_rejected_total", "Saved documents refused by validation", ["reason"]
)
SESSION_EVENTS = Counter("onlyoffice_session_events_total", "Editors joining and leaving (status 1)", ["event"])
REQUEST_DURATION = Histogram(
    "coedit_request_duration_seconds",
    "HTTP requests by endpoint and status",
    ["endpoint", "status"],
    buckets=REQUEST_BUCKETS,
)
# Labelled "task", not "job": Prometheus gives every series the job label of its scrape target.
JOBS_QUEUED = Counter("coedit_jobs_queued_total", "Jobs handed over to run (broker or in-process)", ["task"])
JOBS_FAILED = Counter("coedit_jobs_failed_total", "Jobs that failed in this instance's processes", ["task"])
JOBS_UNPUBLISHED = Counter(
    "coedit_jobs_publish_failures_total", "Jobs the broker did not take (they ran in-process instead)", ["task"]
)
# Files fetched by Docs (or its editor) from Coedit: served, refused or missing.
DOWNLOADS = Counter(
    "coedit_docs_downloads_total", "Files fetched by the Document Server (or its editor)", ["purpose", "outcome"]
)

SAVE_STATUSES = (2, 3, 6, 7)
STORED = ("stored", "form stored", "unmodified")
JOIN, LEAVE = 1, 0  # status 1 actions: type 1 connected, type 0 disconnected


# --- callbacks ------------------------------------------------------------------------------


def callback_handled(file_id: int, data: dict, outcome: str, repeated: bool = False) -> None:
    """A verified callback answered {"error": 0}: its session events and, for a save, the outcome.

    ``repeated``: a status 1 that changed nothing (a reconnect, or Docs saying again what it
    said): its joins and leaves are counted, and logged only at debug level.
    """
    _session_events(file_id, data, logging.DEBUG if repeated else logging.INFO)
    status = data.get("status")
    if status not in SAVE_STATUSES:
        return
    if outcome in STORED:
        SAVES.labels("success").inc()
        log.info("save stored", extra={"event": "save_stored", "file_id": file_id, "callback_status": status})
    elif outcome == "nothing to store" and status == 3:  # Docs itself could not assemble the file
        _save_failed(file_id, status, "the Document Server reported an error")


def callback_refused(file_id: int, data: dict, exc: Exception, http_status: int) -> None:
    """A callback answered with an error: a failed save, and why, when it was one."""
    _session_events(file_id, data)
    status = data.get("status")
    if status not in SAVE_STATUSES:
        return
    reason = getattr(exc, "message", "") or exc.__class__.__name__
    kind = getattr(exc, "reason", None)
    if kind:
        VALIDATION_REJECTED.labels(kind).inc()
        log.warning(
            "validation rejected",
            extra={"event": "validation_rejected", "file_id": file_id, "reason": kind, "detail": reason},
        )
    _save_failed(file_id, status, reason, http_status)


def _save_failed(file_id: int, status: int, reason: str, http_status: int = 200) -> None:
    SAVES.labels("failure").inc()
    log.warning(
        "save failed",
        extra={
            "event": "save_failed",
            "file_id": file_id,
            "callback_status": status,
            "answer": http_status,
            "detail": reason,
        },
    )


def _session_events(file_id: int, data: dict, level: int = logging.INFO) -> None:
    if data.get("status") != 1 or not isinstance(data.get("actions"), list):
        return
    for action in data["actions"]:
        if not isinstance(action, dict) or action.get("type") not in (JOIN, LEAVE):
            continue
        event = "join" if action["type"] == JOIN else "leave"
        _child(SESSION_EVENTS, event).inc()
        user = action.get("userid") if isinstance(action.get("userid"), str) else None
        log.log(level, f"session {event}", extra={"event": f"session_{event}", "file_id": file_id, "user_id": user})


# --- jobs -----------------------------------------------------------------------------------


def job_queued(name: str) -> None:
    JOBS_QUEUED.labels(name).inc()


def job_failed(name: str) -> None:
    JOBS_FAILED.labels(name).inc()


def job_unpublished(name: str) -> None:
    JOBS_UNPUBLISHED.labels(name).inc()


# --- requests -------------------------------------------------------------------------------


def observe_request(endpoint: str, status: int, seconds: float) -> None:
    _child(REQUEST_DURATION, endpoint, status).observe(seconds)


_CHILDREN: dict[tuple, object] = {}


def _child(metric, *labels):
    """``metric.labels(*labels)``, kept: every request observes one, and ``labels`` validates and
    locks each time. The label values come from our own routes and statuses, so they are few."""
    key = (metric, *labels)
    child = _CHILDREN.get(key)
    if child is None:
        child = _CHILDREN[key] = metric.labels(*(str(label) for label in labels))
    return child


class timed:
    """``with timed(HISTOGRAM):`` observes the block's duration, also when it raises."""

    def __init__(self, histogram: Histogram):
        self.histogram = histogram

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *_):
        self.histogram.observe(time.perf_counter() - self.start)
        return False


# --- at scrape time -------------------------------------------------------------------------


def active_sessions() -> int:
    """Documents being edited now (services/status.py says what counts)."""
    from app.services import status

    return status.active_count()


def transition_locks() -> int:
    from app.services import locks

    return locks.held()


def failed_jobs_kept() -> int:
    """Jobs that failed for good, wherever they ran (a worker's failures are counted nowhere else
    Prometheus looks), until an admin runs them again or dismisses them."""
    from app.services import failed_jobs

    return failed_jobs.count()


# Gauges read when Prometheus scrapes: name → (help, function returning the value now).
SCRAPE_TIME_GAUGES: dict[str, tuple[str, Callable[[], float]]] = {
    "onlyoffice_active_sessions": ("Documents being edited now", active_sessions),
    "onlyoffice_transition_locks": ("Transition locks held now", transition_locks),
    "coedit_jobs_failed_kept": ("Jobs that failed for good, listed on the status page", failed_jobs_kept),
}


JOBS_WAITING = "coedit_jobs_waiting"
JOBS_BROKER_UP = "coedit_jobs_broker_up"


def jobs_waiting():
    """coedit_jobs_waiting (jobs in the broker's queue no worker has taken) and
    coedit_jobs_broker_up (whether the broker answered); neither without a broker."""
    from app import jobs

    try:
        count = jobs.waiting()
        up = 1
    except Exception as exc:  # the broker is down or slow: the count is absent, up says 0
        log.warning("the job broker did not answer: %s", exc.__class__.__name__)
        count, up = None, 0
    if count is None and up:
        return
    yield GaugeMetricFamily(JOBS_BROKER_UP, "Whether the job broker answered this scrape", value=up)
    if count is not None:
        yield GaugeMetricFamily(JOBS_WAITING, "Jobs in the broker's queue waiting for a worker", value=count)


@functools.cache
def version() -> str:
    """The version pyproject.toml names (the image copies it), else "unknown"."""
    import tomllib

    path = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "pyproject.toml")
    try:
        with open(path, "rb") as handle:
            return str(tomllib.load(handle)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


class ScrapeTimeCollector:
    """The gauges of SCRAPE_TIME_GAUGES and build info, computed on each scrape (needs an app context)."""

    def collect(self):
        build = GaugeMetricFamily("coedit_build_info", "Coedit's version", labels=["version"])
        build.add_metric([version()], 1)
        yield build
        yield from jobs_waiting()
        for name, (help_text, read) in SCRAPE_TIME_GAUGES.items():
            try:
                value = read()
            except Exception:  # one failing source must not hide the others
                log.exception("metric %s could not be read", name)
                continue
            yield GaugeMetricFamily(name, help_text, value=value)
