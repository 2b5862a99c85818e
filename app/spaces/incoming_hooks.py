"""A space's incoming webhooks on its settings page: create one (its URL shown once), revoke one.

Who may: the space's owners and admins, as for the rest of the settings page.
"""

from flask import abort
from flask import flash
from flask import redirect
from flask import url_for
from flask_babel import gettext
from flask_login import current_user
from flask_login import login_required

from app import transaction
from app.forms import ConfirmForm
from app.services import incoming_hooks
from app.services.exceptions import BadRequestError
from app.spaces import bp
from app.spaces.forms import IncomingHookForm
from app.spaces.forms import SpaceSettingsForm
from app.spaces.views import _managed_space
from app.spaces.views import settings_response


@bp.route("/spaces/<int:space_id>/incoming-hooks", methods=("POST",))
@login_required
def create_incoming_hook(space_id: int):
    """Create a hook; its URL is on this one answer and nowhere else."""
    space, member = _managed_space(space_id)
    form = IncomingHookForm()
    settings_form = SpaceSettingsForm(formdata=None, obj=space)
    if not form.validate_on_submit():
        return settings_response(space, member, settings_form, 400, incoming_hook_form=form)
    try:
        hook, secret = incoming_hooks.create(space, current_user, form.name.data, form.default_username.data)
    except BadRequestError as exc:
        form.name.errors = [exc.message]
        return settings_response(space, member, settings_form, 400, incoming_hook_form=form)
    transaction.commit()
    flash(gettext("Webhook %(name)s created. Copy its address now: it is shown only once.", name=hook.name), "success")
    page, status = settings_response(
        space, member, settings_form, new_hook_url=url_for("hooks.incoming", secret=secret, _external=True)
    )
    return page, status, {"Cache-Control": "no-store"}  # the secret is on this page only


@bp.route("/spaces/<int:space_id>/incoming-hooks/<int:hook_id>/revoke", methods=("POST",))
@login_required
def revoke_incoming_hook(space_id: int, hook_id: int):
    space, _ = _managed_space(space_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    hook = incoming_hooks.get(space, hook_id)
    incoming_hooks.revoke(hook, current_user)
    transaction.commit()
    flash(gettext("Webhook %(name)s revoked: its address no longer works.", name=hook.name), "success")
    return redirect(url_for("spaces.settings_page", space_id=space.id, _anchor="incoming-hooks"))
