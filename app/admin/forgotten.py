"""The forgotten-files page: what Docs kept after failed saves, recovered or discarded by an admin."""

import os

import sqlalchemy as sa
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import send_file
from flask import url_for
from flask_babel import gettext
from flask_login import current_user
from flask_login import login_required

from app import transaction
from app.admin import bp
from app.admin.forms import ForgottenForm
from app.extensions import db
from app.models import File
from app.models import FileVersion
from app.models import Space
from app.security import admin_required
from app.services import formats
from app.services import settings
from app.services.docs import forgotten
from app.services.docs.forgotten import RecoveryError


@bp.route("/forgotten")
@login_required
@admin_required
def forgotten_page():
    """List Docs' forgotten files with the file each belongs to."""
    configured = settings.docs_configured()
    items, error = [], None
    if configured:
        try:
            items = forgotten.list_forgotten()
        except RecoveryError as exc:
            error = exc.message
    spaces = db.session.scalars(sa.select(Space).order_by(Space.name, Space.id)).all()
    return render_template("admin/forgotten.html", configured=configured, items=items, error=error, spaces=spaces)


def _back():
    return redirect(url_for("admin.forgotten_page"))


def _valid_form() -> ForgottenForm | None:
    """The posted form if it is valid (CSRF included), else None with the reason flashed."""
    form = ForgottenForm()
    if form.validate_on_submit():
        return form
    flash(gettext("The request was not valid; reload the page and try again."), "danger")
    return None


@bp.route("/forgotten/recover", methods=("POST",))
@login_required
@admin_required
def forgotten_recover():
    """Recover one forgotten file: a new version of its file, or a new file in the chosen space."""
    form = _valid_form()
    if form is None:
        return _back()
    space = None
    if form.space_id.data:
        space = db.session.get(Space, form.space_id.data)
        if space is None:
            flash(gettext("That space no longer exists."), "danger")
            return _back()
    warnings: list[str] = []
    try:
        result = forgotten.recover(form.key.data, current_user._get_current_object(), space, warnings)
    except RecoveryError as exc:
        flash(exc.message, "danger")
        return _back()
    if isinstance(result, FileVersion):
        file = db.session.get(File, result.file_id)
        flash(
            gettext(
                "The unsaved changes are now version %(number)s of %(title)s.", number=result.number, title=file.title
            ),
            "success",
        )
    else:
        flash(
            gettext(
                "The unsaved changes are now a new file, %(title)s, in %(name)s.",
                title=result.title,
                name=result.space.name,
            ),
            "success",
        )
    for warning in warnings:
        flash(warning, "warning")
    return _back()


@bp.route("/forgotten/delete", methods=("POST",))
@login_required
@admin_required
def forgotten_delete():
    """Discard a forgotten file in Docs without recovering it (the page asks for confirmation first)."""
    form = _valid_form()
    if form is None:
        return _back()
    try:
        forgotten.discard(form.key.data)
    except RecoveryError as exc:
        flash(exc.message, "danger")
    else:
        forgotten.record("admin.forgotten_discarded", form.key.data)
        transaction.commit()
        flash(gettext("The forgotten file was deleted from Docs."), "success")
    return _back()


@bp.route("/forgotten/download")
@login_required
@admin_required
def forgotten_download():
    """Stream a forgotten file to the admin, fetched from the configured Docs only."""
    try:
        path, name = forgotten.fetch_copy(request.args.get("key", ""))
    except RecoveryError as exc:
        flash(exc.message, "danger")
        return _back()
    forgotten.record("admin.forgotten_downloaded", request.args.get("key", ""), name=name)
    transaction.commit()
    handle = open(path, "rb")
    os.unlink(path)  # the open handle keeps the bytes until the response is sent; nothing is left behind
    response = send_file(
        handle,
        mimetype=formats.mime_type(formats.extension_of(name)),
        as_attachment=True,
        download_name=name,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
