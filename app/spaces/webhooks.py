"""A space's outgoing webhooks on its settings page: add, turn on or off, delete, send a test.

Only the space's owners and admins (``_managed_space``); a hook of another space is a 404.
"""

from flask import abort
from flask import flash
from flask import redirect
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext
from flask_login import current_user
from flask_login import login_required

from app import limits
from app import transaction
from app.forms import ConfirmForm
from app.models import Space
from app.services import webhooks
from app.services.exceptions import BadRequestError
from app.spaces import bp
from app.spaces.forms import WebhookForm
from app.spaces.views import _managed_space

NEW_SECRET_KEY = "webhook_new_secret"  # the signing secret of a hook just made, shown once


def webhook_form(posted: bool = True) -> WebhookForm:
    """The form to add a hook: as posted, or empty with every event ticked (on the settings page,
    whose own form's fields must not fill it)."""
    form = WebhookForm() if posted else WebhookForm(formdata=None, events=list(webhooks.EVENTS))
    form.events.choices = [(name, label) for name, label in webhooks.EVENTS.items()]
    return form


def context(space: Space) -> dict:
    """What templates/spaces/_webhooks.html needs on the settings page."""
    hooks = webhooks.hooks_of(space)
    new_secret = session.pop(NEW_SECRET_KEY, None)
    if new_secret and new_secret.get("space_id") != space.id:
        new_secret = None
    return {
        "webhooks": hooks,
        "webhook_deliveries": webhooks.recent_deliveries(hooks),
        "webhook_form": webhook_form(posted=False),
        "webhook_events": webhooks.EVENTS,
        "webhook_new_secret": new_secret,
    }


def _back(space: Space):
    return redirect(url_for("spaces.settings_page", space_id=space.id, _anchor="webhooks"))


@bp.route("/spaces/<int:space_id>/webhooks", methods=("POST",))
@login_required
def add_webhook(space_id: int):
    space, _ = _managed_space(space_id)
    form = webhook_form()
    if not form.validate_on_submit():
        for name, errors in form.errors.items():
            label = getattr(form, name).label.text if hasattr(form, name) else name
            flash(gettext("%(label)s: %(error)s", label=label, error=errors[0]), "danger")
        return _back(space)
    try:
        hook, secret = webhooks.create(
            space,
            current_user,
            name=form.name.data,
            url=form.url.data,
            format=form.format.data,
            events=form.events.data,
            username=form.username.data,
            icon_url=form.icon_url.data,
        )
    except BadRequestError as exc:
        flash(gettext("Not saved: %(reason)s", reason=exc.message), "danger")
        return _back(space)
    transaction.commit()
    if secret:
        session[NEW_SECRET_KEY] = {"space_id": space.id, "hook_id": hook.id, "secret": secret}
        flash(
            gettext("Webhook %(name)s added. Copy its signing secret now: it is shown only this once.", name=hook.name),
            "success",
        )
    else:
        flash(gettext("Webhook %(name)s added.", name=hook.name), "success")
    return _back(space)


@bp.route("/spaces/<int:space_id>/webhooks/<int:hook_id>/enabled", methods=("POST",))
@login_required
def set_webhook_enabled(space_id: int, hook_id: int):
    space, _ = _managed_space(space_id)
    hook = webhooks.hook_of(space, hook_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    webhooks.set_enabled(hook, request.form.get("enabled") == "1", current_user)
    transaction.commit()
    flash(
        gettext("Webhook %(name)s turned on.", name=hook.name)
        if hook.enabled
        else gettext("Webhook %(name)s turned off.", name=hook.name),
        "success",
    )
    return _back(space)


@bp.route("/spaces/<int:space_id>/webhooks/<int:hook_id>/delete", methods=("POST",))
@login_required
def delete_webhook(space_id: int, hook_id: int):
    space, _ = _managed_space(space_id)
    hook = webhooks.hook_of(space, hook_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    name = hook.name
    webhooks.delete(hook, current_user)
    transaction.commit()
    flash(gettext("Webhook %(name)s deleted.", name=name), "success")
    return _back(space)


@bp.route("/spaces/<int:space_id>/webhooks/<int:hook_id>/test", methods=("POST",))
@login_required
@limits.webhook_test
def test_webhook(space_id: int, hook_id: int):
    space, _ = _managed_space(space_id)
    hook = webhooks.hook_of(space, hook_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    webhooks.send_test(hook, current_user)
    transaction.commit()
    flash(gettext("Test sent to %(name)s; its result shows in the log below.", name=hook.name), "info")
    return _back(space)
