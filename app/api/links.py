"""Share links in the JSON API: create, list (without secrets), revoke.

Who may: the file's owner and the space's admins (``rights.can_manage_file``); anyone else
gets 404 when they cannot read the file and 403 when they can read but not manage it.
"""

from datetime import datetime

from flask import jsonify
from flask import url_for
from flask_login import current_user

from app import transaction
from app.api import bp
from app.api.views import _json
from app.models import File
from app.models import ShareLink
from app.services import rights
from app.services import share_links
from app.services.exceptions import BadRequestError


def _iso(moment: datetime | None) -> str | None:
    return share_links.as_utc(moment).isoformat() if moment is not None else None


def link_json(link: ShareLink, secret: str | None = None) -> dict:
    """A link as the API shows it; ``url`` (the secret) only right after creation."""
    data = {
        "id": link.id,
        "file": link.file_id,
        "mode": link.mode,
        "expires_at": _iso(link.expires_at),
        "has_password": link.has_password,
        "created_at": _iso(link.created_at),
        "created_by": link.creator.username if link.creator else None,
        "revoked_at": _iso(link.revoked_at),
        "active": share_links.is_active(link),
        "uses": link.use_count,
    }
    if secret is not None:
        data["url"] = url_for("share.landing", secret=secret, _external=True)
    return data


def _managed_file(file_id: int) -> File:
    file, _ = rights.require(
        file_id, current_user, "manage", "Only the file's owner and the space's admins manage its share links."
    )
    return file


def _expiry(value) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequestError("'expires_at' is an ISO-8601 date and time.")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise BadRequestError("'expires_at' is an ISO-8601 date and time.") from None


@bp.route("/files/<int:file_id>/links", methods=("POST",))
def create_link(file_id: int):
    """``{"mode": "view"|"edit", "expires_at"?: ISO-8601 (UTC if no offset), "password"?}`` → 201 with the URL."""
    file = _managed_file(file_id)
    data = _json()
    mode = data.get("mode")
    if mode not in ("view", "edit"):
        raise BadRequestError("'mode' is view or edit.")
    password = data.get("password")
    link, secret = share_links.create(file, current_user, mode, _expiry(data.get("expires_at")), password)
    transaction.commit()
    return jsonify(link_json(link, secret)), 201


@bp.route("/files/<int:file_id>/links")
def list_links(file_id: int):
    file = _managed_file(file_id)
    return jsonify(links=[link_json(link) for link in share_links.links_for(file)])


@bp.route("/files/<int:file_id>/links/<int:link_id>", methods=("DELETE",))
def revoke_link(file_id: int, link_id: int):
    file = _managed_file(file_id)
    share_links.revoke(share_links.get_link(file, link_id), current_user)
    transaction.commit()
    return "", 204
