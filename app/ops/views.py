"""/healthz is cheap (liveness); /readyz checks the database and storage (readiness); /metrics for
Prometheus; /api/v1/onlyoffice/health reports every part the ONLYOFFICE integration needs."""

import os

import sqlalchemy as sa
from flask import Response
from flask import jsonify
from flask import request
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client import REGISTRY
from prometheus_client import CollectorRegistry
from prometheus_client import generate_latest
from prometheus_client import multiprocess

from app.extensions import db
from app.ops import access
from app.ops import bp
from app.ops.metrics import ScrapeTimeCollector
from app.services import health
from app.services.storage import get_storage


@bp.route("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.route("/readyz")
def readyz():
    checks = {}
    try:
        db.session.execute(sa.text("SELECT 1"))
        checks["database"] = "ok"
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        checks["database"] = "failing"
    checks["storage"] = "ok" if get_storage().writable() else "failing"
    ready = all(value == "ok" for value in checks.values())
    return jsonify(status="ok" if ready else "failing", checks=checks), 200 if ready else 503


@bp.route("/metrics")
def metrics():
    """The workers' metrics added up (multiprocess mode under gunicorn), plus those read now."""
    refusal = access.metrics_refusal(request)
    if refusal is not None:
        return refusal
    now = CollectorRegistry()
    now.register(ScrapeTimeCollector())
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        workers = CollectorRegistry()
        multiprocess.MultiProcessCollector(workers)
        recorded = generate_latest(workers)
    else:
        recorded = generate_latest(REGISTRY)
    return Response(recorded + generate_latest(now), content_type=CONTENT_TYPE_LATEST)


@bp.route("/api/v1/onlyoffice/health")
def onlyoffice_health():
    """healthy or degraded: 200; unhealthy (database or storage failing): 503. No secrets in it."""
    report = health.check()
    response = jsonify(report)
    response.headers["Cache-Control"] = "no-store"
    return response, 503 if report["status"] == health.UNHEALTHY else 200
