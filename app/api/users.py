"""Signing in through the API, as Mattermost's API v4 does it, for integrations written for it.

``POST /users/login`` with ``{"login_id", "password"}`` answers the user and a ``Token`` header;
the token is a personal API token (``Authorization: Bearer``), listed and revocable on the
account page. Bots and disabled accounts never sign in this way; a refusal says nothing about
whether the account exists. ``GET /users/me`` answers who the caller is.
"""

from flask import abort
from flask import g
from flask import jsonify
from flask_babel import gettext
from flask_login import current_user

from app import limits
from app import transaction
from app.api import bp
from app.api.views import _json
from app.models import User
from app.services import accounts


def user_json(user: User) -> dict:
    """The caller as the login API answers: never a password hash or token."""
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "is_bot": user.is_bot,
        "is_admin": user.is_admin,
        "locale": user.language,
        "timezone": user.timezone,
    }


@bp.route("/users/login", methods=("POST",))
@limits.sign_in
def login():
    data = _json()
    login_id, password = data.get("login_id"), data.get("password")
    login_id = login_id if isinstance(login_id, str) else ""
    user = accounts.authenticate(login_id, password if isinstance(password, str) else "")
    if user is None:
        g.sign_in_failed = True  # counted by the sign-in rate limits
        accounts.record_failed_sign_in(login_id)
        abort(401, gettext("Unknown username or wrong password."))
    token = accounts.sign_in_for_api(user)
    transaction.commit()
    response = jsonify(user_json(user))
    response.headers["Token"] = token
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/users/me")
def me():
    return jsonify(user_json(current_user))
