"""The health of the ONLYOFFICE integration, as one plain dict (the API and a status page show it).

Each component is probed on a thread of its own with a short timeout (PROBE_SECONDS), all at once,
so the whole answer takes about that long at worst, whatever hangs. What a failure means:

- **unhealthy** when the database or the storage fails: nothing can be opened or saved; Docs is
  told to retry its saves and keeps them meanwhile.
- **degraded** when Docs, Redis or the job broker fails: what is stored stays safe and readable;
  editing (Docs), shared rate limits, caches and transition locks (Redis: saves and changes answer
  "try again" until it is back, Docs retries and keeps its copy) or jobs (they then run in the
  process that asks for them) suffer.

Reasons are short and generic: never an address, a user name or a password.

Docs' own ``GET /healthcheck`` (body ``true``) is asked at most once every DOCS_CACHE_SECONDS for
all workers and instances together (in Redis when configured, else a file of the instance folder),
so polling our health does not load Docs.
"""

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait

import requests
import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.services import locks
from app.services import settings
from app.services import state
from app.services import status
from app.services.storage import get_storage

PROBE_SECONDS = 2.0
DOCS_CACHE_SECONDS = 5
ESSENTIAL = ("database", "storage")  # their failure makes the whole unhealthy; the others degrade it
HEALTHY, DEGRADED, UNHEALTHY = "healthy", "degraded", "unhealthy"


def _ok(**extra) -> dict:
    return {"status": HEALTHY, **extra}


def _failing(reason: str) -> dict:
    return {"status": UNHEALTHY, "reason": reason}


def _database() -> dict:
    with db.engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))
    return _ok()


def _storage() -> dict:
    return _ok() if get_storage().writable() else _failing("the storage cannot be written to")


def _redis() -> dict:
    state.redis().ping()
    return _ok()


def _queue() -> dict:
    from app import jobs

    if jobs.broker_url(current_app.config) is None:
        return _ok(mode="in-process")
    celery = current_app.extensions["celery"]
    with celery.connection_for_write() as connection:
        connection.ensure_connection(max_retries=0, timeout=PROBE_SECONDS)
    return _ok(mode="broker")


def _onlyoffice() -> dict:
    if not settings.get("docs_url"):
        return _failing("the Document Server address is not set")
    healthy = _cached("docs-health", DOCS_CACHE_SECONDS, _ask_docs)
    return _ok() if healthy else _failing("the Document Server is not reachable or reports itself unhealthy")


def _ask_docs() -> bool:
    try:
        response = requests.get(
            settings.docs_internal_url() + "/healthcheck",
            timeout=PROBE_SECONDS,
            verify=bool(settings.get("verify_tls")),
            allow_redirects=False,
            stream=True,
        )
        with response:
            return response.status_code == 200 and response.raw.read(16).strip() == b"true"
    except requests.RequestException:
        return False


def _cached(name: str, seconds: int, compute) -> bool:
    """compute(), remembered for seconds by every worker and instance (Redis, else the instance folder)."""
    client = state.redis()
    key = f"coedit:health:{name}"
    if client is not None:
        value = client.get(key)
        if value is not None:
            return value == b"1"
        result = bool(compute())
        client.set(key, b"1" if result else b"0", ex=seconds)
        return result
    path = os.path.join(current_app.instance_path, "state", f"health-{name}.json")
    try:
        with open(path) as handle:
            kept = json.load(handle)
        if time.time() - kept["at"] < seconds:
            return bool(kept["ok"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    result = bool(compute())
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + f".{os.getpid()}", "w") as handle:
        json.dump({"ok": result, "at": time.time()}, handle)
    os.replace(path + f".{os.getpid()}", path)
    return result


def _metrics() -> dict:
    """Editing sessions active now (services/status.py), locks held, and the saves Docs owes us
    or we are storing (their transition lock held)."""
    active, owed = status.active_count(), status.owed_count()
    try:
        held = locks.held_locks()
    except Exception:  # Redis away: the figures the database knows still count
        return {"active_editing_sessions": active, "transition_locks_held": None, "pending_callbacks": owed}
    return {
        "active_editing_sessions": active,
        "transition_locks_held": len(held),
        "pending_callbacks": owed + sum(1 for lock in held if lock["action"] == "save"),
    }


def check() -> dict:
    """The health of every component and the integration's figures; ``status`` sums it up."""
    app = current_app._get_current_object()
    probes = {"database": _database, "storage": _storage, "onlyoffice": _onlyoffice}
    if app.config["REDIS_URL"]:
        probes["redis"] = _redis
    probes["queue"] = _queue

    def run(probe):
        with app.app_context():
            try:
                return probe()
            except Exception as exc:  # the reason stays generic: no addresses or credentials
                return _failing(f"not reachable ({exc.__class__.__name__})")

    pool = ThreadPoolExecutor(max_workers=len(probes), thread_name_prefix="health")
    futures = {name: pool.submit(run, probe) for name, probe in probes.items()}
    wait(futures.values(), timeout=PROBE_SECONDS + 0.5)
    pool.shutdown(wait=False, cancel_futures=True)  # a hung probe ends by its own timeout, unwaited
    components = {
        name: future.result() if future.done() else _failing(f"no answer within {PROBE_SECONDS:g} s")
        for name, future in futures.items()
    }
    failing = {name for name, component in components.items() if component["status"] != HEALTHY}
    status = UNHEALTHY if failing & set(ESSENTIAL) else DEGRADED if failing else HEALTHY
    try:
        metrics = _metrics() if "database" not in failing else None
    except Exception:
        db.session.rollback()
        metrics = None
    if metrics is None:
        metrics = {"active_editing_sessions": None, "transition_locks_held": None, "pending_callbacks": None}
    return {"status": status, "components": components, "metrics": metrics}
