"""The status page: the state of the integration at a glance, without Prometheus."""

import sqlalchemy as sa
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask_babel import gettext
from flask_babel import lazy_gettext
from flask_login import login_required

from app import transaction
from app.admin import bp
from app.admin.charts import daily_chart
from app.extensions import db
from app.models import File
from app.models.base import utcnow
from app.security import admin_required
from app.services import audit
from app.services import failed_jobs
from app.services import health
from app.services import locks
from app.services import status
from app.services.exceptions import BadRequestError
from app.services.exceptions import NotFoundError

COMPONENT_NAMES = {
    "database": lazy_gettext("Database"),
    "storage": lazy_gettext("File storage"),
    "onlyoffice": lazy_gettext("ONLYOFFICE Docs"),
    "redis": lazy_gettext("Redis"),
    "queue": lazy_gettext("Job queue"),
}
CHARTS = (
    ("file.saved", lazy_gettext("Saves stored"), "saves"),
    ("file.save_failed", lazy_gettext("Saves failed"), "failures"),
    ("file.save_rejected", lazy_gettext("Saves rejected"), "rejections"),
)
FAILED_JOBS_SHOWN = 20


@bp.route("/status")
@login_required
@admin_required
def status_page():
    report = health.check()
    counts = audit.daily_counts(action for action, _, _ in CHARTS)
    failed, failed_count = failed_jobs.newest(FAILED_JOBS_SHOWN)
    return render_template(
        "admin/status.html",
        health=report,
        checked_at=utcnow(),
        component_names=COMPONENT_NAMES,
        charts=[(daily_chart(title, counts[action]), css_class) for action, title, css_class in CHARTS],
        sessions=status.editing_now(),
        pending=status.saves_owed(),
        locks=_locks(),
        failed_jobs=failed,
        failed_count=failed_count,
    )


@bp.route("/jobs/<int:job_id>/run-again", methods=("POST",))
@login_required
@admin_required
def run_job_again(job_id: int):
    return _act_on_failed_job(job_id, failed_jobs.run_again, "admin.job_run_again", gettext("%(task)s runs again."))


@bp.route("/jobs/<int:job_id>/dismiss", methods=("POST",))
@login_required
@admin_required
def dismiss_job(job_id: int):
    return _act_on_failed_job(job_id, failed_jobs.dismiss, "admin.job_dismissed", gettext("%(task)s was dismissed."))


def _act_on_failed_job(job_id: int, action, audit_action: str, done: str):
    try:
        task = action(job_id)
    except (NotFoundError, BadRequestError) as exc:
        flash(exc.message, "danger")
    else:
        audit.record(audit_action, object_type="job", object_id=job_id, object_name=task)
        transaction.commit()
        flash(done % {"task": task}, "success")
    return redirect(url_for("admin.status_page", _anchor="failed-jobs"))


def _locks() -> list[dict]:
    """The locks held now with their files' titles; none shown when the lock store cannot say."""
    try:
        held = locks.held_locks()
    except Exception:  # Redis away: the components table already says so
        return []
    titles = dict(
        db.session.execute(sa.select(File.id, File.title).where(File.id.in_({h["file_id"] for h in held}))).all()
    )
    return [{**h, "title": titles.get(h["file_id"], f"file {h['file_id']}")} for h in held]
