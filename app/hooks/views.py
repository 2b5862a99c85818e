"""The incoming webhook endpoint: a Slack-compatible message into a space's stream.

The secret in the URL is the only credential (as with Slack's and Mattermost's incoming webhooks),
so the route needs no session and no CSRF token. Errors are JSON (app/errors.py).
"""

import json

from flask import request
from flask_babel import gettext

from app import limits
from app import transaction
from app.hooks import bp
from app.services import incoming_hooks
from app.services.exceptions import BadRequestError

# A chat message with attachments is a few KiB; nothing an integration sends needs more.
BODY_MAX = 64 * 1024


def _payload():
    """The JSON body, or the JSON in the form field ``payload`` (Slack's form-encoded variant)."""
    request.max_content_length = BODY_MAX  # before the body is read: larger ones answer 413
    if request.is_json:
        data = request.get_json(silent=True)
        if data is None:
            raise BadRequestError(gettext("The body is not valid JSON."))
        return data
    if request.mimetype == "application/x-www-form-urlencoded":
        text = request.form.get("payload")
        if text is None:
            raise BadRequestError(gettext("Send a JSON object, as body or as the form field 'payload'."))
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            raise BadRequestError(gettext("The form field 'payload' is not valid JSON.")) from None
    raise BadRequestError(gettext("Send a JSON object, as body or as the form field 'payload'."))


@bp.route("/hooks/<secret>", methods=("POST",))
@limits.incoming_hook
def incoming(secret: str):
    hook = incoming_hooks.resolve(secret)
    incoming_hooks.post_message(hook, _payload())
    transaction.commit()
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}  # Slack's and Mattermost's answer
