"""List notifications and mark them read."""

from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_login import current_user
from flask_login import login_required

from app import pagination
from app import transaction
from app.forms import ConfirmForm
from app.notifications import bp
from app.security import is_safe_next_url
from app.services import notifications

DROPDOWN_LENGTH = 8


@bp.app_context_processor
def unread_notifications():
    """The bell's count, counted only by pages that show the bell (the editor page does not)."""

    def unread_count() -> int:
        """Counted once per request, however many places of the page show it."""
        if "unread_count" not in g:
            signed_in = current_user.is_authenticated and hasattr(current_user, "username")
            g.unread_count = notifications.unread_count(current_user) if signed_in else 0
        return g.unread_count

    def latest_notifications() -> list[notifications.Entry]:
        """The bell's dropdown: the latest few, unread marked."""
        if current_user.is_authenticated and hasattr(current_user, "username"):
            return notifications.entries(current_user, DROPDOWN_LENGTH)
        return []

    return {"unread_count": unread_count, "latest_notifications": latest_notifications}


@bp.route("/notifications")
@login_required
def index():
    listed = notifications.page(current_user, *pagination.requested())
    return render_template("notifications/index.html", items=listed.items, listed=listed, form=ConfirmForm())


@bp.route("/notifications/read", methods=("POST",))
@login_required
def mark_read():
    """Mark one (``id``) or all notifications read, then go where the person clicked (a local path)."""
    if ConfirmForm().validate_on_submit():
        notification_id = request.form.get("id", type=int)
        notifications.mark_read(current_user, notification_id)
        transaction.commit()
    target = request.form.get("next")
    return redirect(target if is_safe_next_url(target) else url_for("notifications.index"))
