"""The settings page: values from the environment are shown read-only; the secret never is."""

from flask import flash
from flask import render_template
from flask import request
from flask_babel import gettext
from flask_login import login_required

from app import limits
from app import transaction
from app.admin import bp
from app.admin.forms import SettingsForm
from app.forms import TemplateForm
from app.security import admin_required
from app.services import groups
from app.services import settings
from app.services import templates
from app.services.docs import client

FORM_FIELDS = [k for k in settings.FIELDS if k != "jwt_secret" and hasattr(SettingsForm, k)]
RETENTION_FIELDS = ("retention_mode", "retention_count", "retention_days")
TEXT_FIELDS = ("site_name", "watermark_text")


@bp.route("/settings", methods=("GET", "POST"))
@login_required
@admin_required
@limits.connection_test
def settings_page():
    """Show and save the Document Server settings, then test the connection step by step."""
    fixed = settings.fixed_keys()
    form = SettingsForm()
    form.editor_groups.choices = [(str(group.id), group.name) for group in groups.all_groups()]
    form.watermark_groups.choices = form.editor_groups.choices
    steps = None
    confirm = False
    if request.method == "GET":
        for key in FORM_FIELDS:
            getattr(form, key).data = _shown(key)
    elif form.validate_on_submit():
        values = {key: _clean(getattr(form, key).data) for key in FORM_FIELDS if not _keep_stored(form, key)}
        for key in TEXT_FIELDS:  # text, not addresses: a trailing slash is the admin's
            if key in values:
                values[key] = (getattr(form, key).data or "").strip()
        if form.jwt_secret.data:
            values["jwt_secret"] = form.jwt_secret.data
        if settings.connection_changes(values) and not form.save_anyway.data:
            # Test what was typed before it replaces what works; save only if it passes.
            with settings.trial(values):
                steps = client.check_connection(request.scheme)
                address = client.failed_address(steps)
            failed = next((step for step in steps if not step.ok), None)
            if failed is not None:
                confirm = True
                where = f" with {address}" if address else ""
                flash(
                    gettext(
                        "Not saved: the connection test failed at “%(name)s”%(where)s. "
                        "Correct the address, or tick “Save anyway” and save again.",
                        name=failed.name,
                        where=where,
                    ),
                    "danger",
                )
        if not confirm:
            settings.save(values)
            transaction.commit()
            flash(gettext("Settings saved."), "success")
            if steps is None:
                steps = client.check_connection(request.scheme)
    else:
        flash(gettext("Please correct the marked fields."), "danger")
    for key in fixed:  # show the value that is in force, not what was posted
        if key != "jwt_secret":
            getattr(form, key).data = _shown(key)
    form.jwt_secret.data = ""  # write-only: never sent back to the browser
    form.save_anyway.data = False  # each confirmation is for the test just shown
    return render_template(
        "admin/settings.html",
        form=form,
        fixed=fixed,
        steps=steps,
        confirm=confirm,
        secret_set=bool(settings.get("jwt_secret")),
        site_templates=templates.site_templates(),
        template_form=TemplateForm(),
    )


def _keep_stored(form: SettingsForm, key: str) -> bool:
    """Retention fields (and the site's name) left out of the post, or left empty, keep what is stored.

    A page rendered before these fields existed must not reset them, and an empty number
    box must not become "" in an integer setting.
    """
    if key == "site_name":
        return key not in request.form
    return key in RETENTION_FIELDS and (key not in request.form or getattr(form, key).data in (None, ""))


def _shown(key: str):
    """The stored value as its field holds it (lossy formats and groups are checkboxes)."""
    value = settings.get(key)
    return value.split() if key in ("lossy_edit_formats", "editor_groups", "watermark_groups") else value


def _clean(value):
    if value is None:  # a text field left out of the form
        return ""
    if isinstance(value, list):  # checkboxes
        return " ".join(sorted(value))
    return value.strip().rstrip("/") if isinstance(value, str) else value
