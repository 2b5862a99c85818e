"""The site's document templates, on the settings page: offered by Create document in every space."""

from flask import abort
from flask import flash
from flask import redirect
from flask import url_for
from flask_babel import gettext
from flask_login import current_user
from flask_login import login_required

from app import transaction
from app.admin import bp
from app.forms import ConfirmForm
from app.forms import TemplateForm
from app.security import admin_required
from app.services import templates
from app.services.exceptions import BadRequestError


def _back():
    return redirect(url_for("admin.settings_page", _anchor="templates"))


@bp.route("/templates", methods=("POST",))
@login_required
@admin_required
def upload_template():
    """Add a template of the whole site."""
    form = TemplateForm()
    if not form.validate_on_submit():
        flash(gettext("Choose the template's file."), "danger")
        return _back()
    try:
        template = templates.add(None, form.name.data, form.file.data.filename, form.file.data.stream, current_user)
    except BadRequestError as exc:
        flash(exc.message, "danger")
        return _back()
    transaction.commit()
    flash(gettext("Template %(name)s added.", name=template.name), "success")
    return _back()


@bp.route("/templates/<int:template_id>/delete", methods=("POST",))
@login_required
@admin_required
def delete_template(template_id: int):
    """Remove a template of the site; documents made from it keep their own copies.

    :raise 404: no such template of the site (a space's is removed in its settings).
    """
    template = templates.of_space(template_id, None)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    templates.remove(template, current_user)
    transaction.commit()
    flash(gettext("Template %(name)s removed.", name=template.name), "success")
    return _back()
