"""The status page: the state of the integration at a glance, without Prometheus."""

import sqlalchemy as sa
from flask import render_template
from flask_babel import lazy_gettext
from flask_login import login_required

from app.admin import bp
from app.admin.charts import daily_chart
from app.extensions import db
from app.models import File
from app.models.base import utcnow
from app.security import admin_required
from app.services import audit
from app.services import health
from app.services import locks
from app.services import status

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


@bp.route("/status")
@login_required
@admin_required
def status_page():
    report = health.check()
    counts = audit.daily_counts(action for action, _, _ in CHARTS)
    return render_template(
        "admin/status.html",
        health=report,
        checked_at=utcnow(),
        component_names=COMPONENT_NAMES,
        charts=[(daily_chart(title, counts[action]), css_class) for action, title, css_class in CHARTS],
        sessions=status.editing_now(),
        pending=status.saves_owed(),
        locks=_locks(),
    )


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
