"""The audit log page: every recorded action, newest first, filtered, paged and exported as CSV.

The filters are a GET form (nothing changes, so nothing to protect with CSRF); the export link
carries the same filters and streams the whole selection.
"""

from flask import Response
from flask import flash
from flask import render_template
from flask import request
from flask import stream_with_context
from flask_login import login_required

from app.admin import bp
from app.models.base import utcnow
from app.security import admin_required
from app.services import audit

PER_PAGE = 50


def _filters() -> tuple[audit.Filters, dict]:
    """The filters the query string asks for, and the values to show back in the form.

    A date that cannot be read is dropped, with a message, rather than failing the page.
    """
    shown = {name: (request.args.get(name) or "").strip() for name in ("user", "file", "action", "since", "until")}
    moments = {}
    for name in ("since", "until"):
        try:
            moments[name] = audit.parse_moment(shown[name], end=name == "until")
        except ValueError:
            flash(f"“{shown[name]}” is not a date (use 2026-01-31 or 2026-01-31T08:00).", "warning")
            moments[name] = None
            shown[name] = ""
    filters = audit.Filters(shown["user"], shown["file"], shown["action"], moments["since"], moments["until"])
    return filters, shown


@bp.route("/audit")
@login_required
@admin_required
def audit_page():
    filters, shown = _filters()
    page = audit.search(filters, request.args.get("page", 1, type=int), PER_PAGE)
    query = {name: value for name, value in shown.items() if value}
    return render_template("admin/audit.html", page=page, shown=shown, query=query, actions=audit.ACTIONS)


@bp.route("/audit.csv")
@login_required
@admin_required
def audit_export():
    """The selected entries as CSV, streamed as they are read (any number of them)."""
    filters, _ = _filters()
    name = f"coedit-audit-{utcnow():%Y%m%d-%H%M%S}.csv"
    response = Response(stream_with_context(audit.csv_lines(filters)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
