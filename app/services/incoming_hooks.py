"""Incoming webhooks: another application posts into a space's stream through a secret URL.

The payload is Slack's incoming-webhook message, as Mattermost and Rocket.Chat also accept it:
``text``, ``username``, ``icon_url`` and ``attachments`` (each with ``fallback``, ``pretext``,
``title``, ``title_link``, ``text`` and ``fields`` of ``title``/``value``). Message text is
Markdown, kept as sent and rendered without raw HTML (services/markup.py); titles and field values
are plain text, escaped into the Markdown. ``icon_url`` is accepted and not shown: an image from
an address the sender chooses would tell that sender who reads the stream, and when (the page's
Content-Security-Policy would block it anyway).

A hook's secret is 256 random bits handed out once; only its SHA-256 is stored, as for share links.
A revoked hook, or one of a deleted space, answers as an unknown one: 404.
"""

import logging
import re
import secrets
import unicodedata

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext

from app.extensions import db
from app.models import IncomingHook
from app.models import Post
from app.models import Space
from app.models import User
from app.models.base import utcnow
from app.services import audit
from app.services.exceptions import BadRequestError
from app.services.exceptions import NotFoundError
from app.services.markup import escape_markdown
from app.services.share_links import hash_secret

log = logging.getLogger(__name__)

SECRET_BYTES = 32
NAME_MAX = 64
TEXT_MAX = 8000  # the whole message as stored, attachments included
ATTACHMENTS_MAX = 20
FIELDS_MAX = 20
URL_MAX = 2000
_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{22,128}")


def _clean_name(value, what: str, required: bool) -> str:
    """One line of at most NAME_MAX characters, without control or format characters."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise BadRequestError(gettext("'%(field)s' must be a string.", field=what))
    text = unicodedata.normalize("NFKC", value)
    text = " ".join("".join(ch for ch in text if not unicodedata.category(ch).startswith("C")).split())
    if required and not text:
        raise BadRequestError(gettext("Give the webhook a name."))
    if len(text) > NAME_MAX:
        raise BadRequestError(gettext("'%(field)s' has at most %(limit)s characters.", field=what, limit=NAME_MAX))
    return text


def _hook_object(hook: IncomingHook) -> dict:
    """A hook as the object of an audit entry (never its secret)."""
    return {"object_type": "incoming_hook", "object_id": hook.id, "object_name": hook.name, "space_id": hook.space_id}


def create(space: Space, creator: User, name, default_username=None) -> tuple[IncomingHook, str]:
    """Stage a new hook; returns it and its URL's secret, which is never stored nor shown again.

    Who may: the caller checks that the creator manages the space.

    :raise BadRequestError: no name, or a name too long.
    """
    secret = secrets.token_urlsafe(SECRET_BYTES)
    hook = IncomingHook(
        space_id=space.id,
        name=_clean_name(name, "name", required=True),
        default_username=_clean_name(default_username, "username", required=False),
        token_hash=hash_secret(secret),
        created_by=creator.id,
    )
    db.session.add(hook)
    db.session.flush()  # its id, for the audit entry
    audit.record("space.incoming_hook_created", actor=creator, **_hook_object(hook))
    log.info("incoming webhook %s of space %s created by user %s", hook.id, space.id, creator.id)
    return hook, secret


def hooks_of(space: Space) -> list[IncomingHook]:
    """The space's hooks that still work, newest first."""
    return list(
        db.session.scalars(
            sa.select(IncomingHook)
            .where(IncomingHook.space_id == space.id, IncomingHook.revoked_at.is_(None))
            .options(so.joinedload(IncomingHook.creator))
            .order_by(IncomingHook.created_at.desc(), IncomingHook.id.desc())
        )
    )


def get(space: Space, hook_id: int) -> IncomingHook:
    """:raise NotFoundError: no such working hook in this space."""
    hook = db.session.scalar(
        sa.select(IncomingHook).where(
            IncomingHook.id == hook_id, IncomingHook.space_id == space.id, IncomingHook.revoked_at.is_(None)
        )
    )
    if hook is None:
        raise NotFoundError(gettext("No such webhook."))
    return hook


def revoke(hook: IncomingHook, actor: User) -> None:
    """Stage revoking the hook: its URL answers 404 from then on."""
    hook.revoked_at = utcnow()
    audit.record("space.incoming_hook_revoked", actor=actor, **_hook_object(hook))
    log.info("incoming webhook %s of space %s revoked by user %s", hook.id, hook.space_id, actor.id)


def resolve(secret: str) -> IncomingHook:
    """The working hook of a secret.

    :raise NotFoundError: unknown, revoked, or its space deleted.
    """
    if not isinstance(secret, str) or not _SECRET_SHAPE.fullmatch(secret):
        raise NotFoundError(gettext("No such webhook."))
    hook = db.session.scalar(
        sa.select(IncomingHook)
        .join(Space, Space.id == IncomingHook.space_id)
        .where(
            IncomingHook.token_hash == hash_secret(secret),
            IncomingHook.revoked_at.is_(None),
            Space.deleted_at.is_(None),
        )
    )
    if hook is None:
        raise NotFoundError(gettext("No such webhook."))
    return hook


# --- the payload ------------------------------------------------------------------------------


def _optional_string(data: dict, key: str, where: str, limit: int = TEXT_MAX) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequestError(gettext("'%(field)s' must be a string.", field=where + key))
    if len(value) > limit:
        raise BadRequestError(gettext("'%(field)s' has at most %(limit)s characters.", field=where + key, limit=limit))
    return value.strip()


def _link(value: str, where: str) -> str:
    """An http(s) address for a title's link, written so Markdown takes it whole."""
    if not value:
        return ""
    if not re.match(r"https?://[^\s<>]+$", value, re.IGNORECASE) or len(value) > URL_MAX:
        raise BadRequestError(gettext("'%(field)s' must be an http or https address.", field=where))
    return value.replace("(", "%28").replace(")", "%29")


def _attachment(item, index: int) -> list[str]:
    """The Markdown paragraphs of one attachment."""
    where = f"attachments[{index}]."
    if not isinstance(item, dict):
        raise BadRequestError(gettext("'%(field)s' must be an object.", field=f"attachments[{index}]"))
    pretext = _optional_string(item, "pretext", where)
    title = _optional_string(item, "title", where, 500)
    link = _link(_optional_string(item, "title_link", where, URL_MAX), where + "title_link")
    text = _optional_string(item, "text", where)
    fallback = _optional_string(item, "fallback", where)
    fields = item.get("fields") or []
    if not isinstance(fields, list) or len(fields) > FIELDS_MAX:
        raise BadRequestError(
            gettext(
                "'%(field)s' must be a list of at most %(limit)s objects.", field=where + "fields", limit=FIELDS_MAX
            )
        )
    parts = [pretext] if pretext else []
    if title:
        parts.append(f"**[{escape_markdown(title)}]({link})**" if link else f"**{escape_markdown(title)}**")
    if text:
        parts.append(text)
    lines = []
    for number, field in enumerate(fields):
        field_where = f"{where}fields[{number}]."
        if not isinstance(field, dict):
            raise BadRequestError(gettext("'%(field)s' must be an object.", field=field_where.rstrip(".")))
        name = _optional_string(field, "title", field_where, 500)
        value = field.get("value")
        value = str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value
        value = _optional_string({"value": value}, "value", field_where, 2000)
        if name or value:
            lines.append(
                f"- **{escape_markdown(name)}**: {escape_markdown(value)}" if name else f"- {escape_markdown(value)}"
            )
    if lines:
        parts.append("\n".join(lines))
    if not parts and fallback:
        parts.append(fallback)  # Slack shows the fallback where it cannot show the attachment
    return parts


def message_of(data) -> tuple[str, str]:
    """The Markdown body and the sender's name (empty: the hook's) of a Slack-compatible payload.

    :raise BadRequestError: not an object, a field of the wrong type or too long, nothing to post.
    """
    if not isinstance(data, dict):
        raise BadRequestError(gettext("Send a JSON object, as body or as the form field 'payload'."))
    username = _clean_name(data.get("username"), "username", required=False)
    icon_url = data.get("icon_url")
    if icon_url is not None and not isinstance(icon_url, str):
        raise BadRequestError(gettext("'%(field)s' must be a string.", field="icon_url"))
    parts = [_optional_string(data, "text", "")]
    attachments = data.get("attachments") or []
    if not isinstance(attachments, list) or len(attachments) > ATTACHMENTS_MAX:
        raise BadRequestError(
            gettext(
                "'%(field)s' must be a list of at most %(limit)s objects.", field="attachments", limit=ATTACHMENTS_MAX
            )
        )
    for index, item in enumerate(attachments):
        parts.extend(_attachment(item, index))
    body = "\n\n".join(part for part in parts if part)
    if not body:
        raise BadRequestError(gettext("The message is empty: send 'text' or 'attachments'."))
    if len(body) > TEXT_MAX:
        raise BadRequestError(gettext("The message has more than %(limit)s characters.", limit=TEXT_MAX))
    return body, username


def post_message(hook: IncomingHook, data) -> Post:
    """Stage the payload's message in the hook's space's stream.

    :raise BadRequestError: the payload is not an acceptable message (message_of).
    """
    body, username = message_of(data)
    entry = Post(
        space_id=hook.space_id,
        kind="integration",
        body=body,
        integration_name=username or hook.default_username or hook.name,
    )
    db.session.add(entry)
    hook.last_used_at = utcnow()
    return entry
