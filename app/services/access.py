"""Changing who may do what with a file, and telling everyone concerned."""

import logging

import sqlalchemy as sa
from flask import url_for

from app.extensions import db
from app.models import File
from app.models import User
from app.models.user import username_key
from app.services import docs_client
from app.services import notifications
from app.services import rights
from app.services import settings
from app.services import stream
from app.services.exceptions import DocsError
from app.services.exceptions import Forbidden

log = logging.getLogger("coedit.access")

LEVEL_LABELS = {
    "edit": "Edit",
    "review": "Review (track changes)",
    "comment": "Comment",
    "fill": "Fill in forms",
    "read": "Read",
    "none": "No access",
}


def change_rights(file: File, actor: User, default: str | None = None, users: dict | None = None,
                  allow_download: bool | None = None) -> rights.RightsChange:
    """Apply a rights change made by actor, notify the people concerned, and commit.

    People who lose edit rights while editing are dropped from the open session, so the
    editor stops accepting their changes (what they did before stays and is saved).
    :raise Forbidden: actor is neither the owner nor a space admin. :raise BadRequest: bad input.
    """
    if not rights.can_manage_file(file, actor):
        raise Forbidden("Only the file's owner and space admins change its access rights.")
    change = rights.set_rights(file, default, users, allow_download)
    link = url_for("files.show", file_id=file.id)
    for user_id, (_, new) in change.changed.items():
        if user_id != actor.id:
            notifications.notify(user_id, "rights", f"{actor.display_name} changed your access to {file.title}: "
                                 f"{LEVEL_LABELS[new]}", link, file)
    parts = []
    if change.default:
        parts.append(f"members {LEVEL_LABELS[change.default[1]].lower()}")
    named = _named(users or {})
    for user_id, (_, new) in sorted(change.changed.items()):
        if user_id in named:  # people given their own level, not those following the default
            parts.append(f"{named[user_id]} {LEVEL_LABELS[new].lower()}")
    if change.allow_download:
        parts.append("readers may download" if change.allow_download[1] else "readers may not download")
    if parts:
        stream.notice(file, f"{actor.display_name} changed access rights of {file.title}: {', '.join(parts)}", actor)
    db.session.commit()
    _drop_lost_editors(file, change)
    return change


def _named(users: dict) -> dict[int, str]:
    """Ids and display names of the usernames a change names."""
    keys = [username_key(name) for name in users]
    rows = db.session.execute(sa.select(User.id, User.display_name).where(User.username_key.in_(keys))).all()
    return dict(rows)


def _drop_lost_editors(file: File, change: rights.RightsChange) -> None:
    lost = [str(uid) for uid, (old, new) in change.changed.items()
            if rights.at_least(old, "edit") and not rights.at_least(new, "edit") and str(uid) in file.editors]
    if not lost or not settings.docs_configured():
        return
    try:
        docs_client.command("drop", key=file.doc_key, users=lost)
    except DocsError as exc:  # the rights changed anyway; new opens follow them
        log.warning("file %s: could not drop %s from the editor: %s", file.id, lost, exc.message)
