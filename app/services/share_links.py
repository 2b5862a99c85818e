"""Share links: create, list, revoke, resolve a secret, check its password, log its use.

A link's secret is 256 random bits (``secrets.token_urlsafe(32)``) handed out once; only its
SHA-256 is stored, so the database never holds a working link. The link's mode lives in the
row, never in the URL. A link works only while it is not revoked, not expired, and its creator
still holds the right it grants (at least "read" for a view link, "edit" for an edit link).
"""

import hashlib
import logging
import re
import secrets
import unicodedata
from datetime import datetime
from datetime import timezone

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_babel import gettext
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from app import jobs
from app.extensions import db
from app.models import File
from app.models import User
from app.models.base import utcnow
from app.models.share import SHARE_MODES
from app.models.share import ShareLink
from app.models.share import ShareLinkUse
from app.services import audit
from app.services import rights
from app.services.exceptions import BadRequestError
from app.services.exceptions import CoeditError
from app.services.exceptions import ForbiddenError
from app.services.exceptions import NotFoundError

log = logging.getLogger(__name__)

SECRET_BYTES = 32  # 256 bits; token_urlsafe gives 43 characters
GUEST_PREFIX = "guest:"
NAME_MAX = 64
PASSWORD_MIN = 4  # the same for the file page's form and the API
PASSWORD_MAX = 128
_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{22,128}")
# Control, format (bidi overrides, zero-width), separator, surrogate, private and unassigned characters.
_STRIPPED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


class LinkExpiredError(CoeditError):
    """The link existed and was valid, but its expiry has passed (410 Gone)."""

    http_status = 410


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def as_utc(moment: datetime | None) -> datetime | None:
    """An aware UTC datetime (a naive one is taken to be UTC, as everything stored is)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def level_for(link: ShareLink) -> str:
    """The level a link's holder gets on the file: "edit" for edit links, else "read"."""
    return "edit" if link.mode == "edit" else "read"


def _creator_keeps_right(link: ShareLink) -> bool:
    creator = link.creator
    if creator is None:
        return False
    return rights.at_least(rights.file_level(link.file, creator), level_for(link))


def is_expired(link: ShareLink, now: datetime | None = None) -> bool:
    expires = as_utc(link.expires_at)
    return expires is not None and expires <= (now or utcnow())


def is_active(link: ShareLink) -> bool:
    """Would the link open right now (not revoked, not expired, creator still has the right)?"""
    return link.revoked_at is None and not is_expired(link) and _creator_keeps_right(link)


def state(link: ShareLink) -> str:
    """revoked, expired, inactive (its creator lost the right) or active."""
    if link.revoked_at is not None:
        return "revoked"
    if is_expired(link):
        return "expired"
    return "active" if is_active(link) else "inactive"


def create(
    file: File, creator: User, mode: str, expires_at: datetime | None = None, password: str | None = None
) -> tuple[ShareLink, str]:
    """A new link (staged) and its secret, which is never stored and cannot be shown again.

    :raise ForbiddenError: the creator may not manage the file's rights.
    :raise BadRequestError: unknown mode, expiry not in the future, password too long.
    """
    if mode not in SHARE_MODES:
        raise BadRequestError(gettext("The mode of a link is view or edit."))
    if not rights.can_manage_file(file, creator) or not rights.at_least(
        rights.file_level(file, creator), "edit" if mode == "edit" else "read"
    ):
        raise ForbiddenError(gettext("Only the file's owner and the space's admins share it by link."))
    expires_at = as_utc(expires_at)
    if expires_at is not None and expires_at <= utcnow():
        raise BadRequestError(gettext("The expiry must be in the future."))
    password_hash = None
    if password is not None:
        if not isinstance(password, str) or not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
            raise BadRequestError(
                gettext(
                    "A link password has %(PASSWORD_MIN)s to %(PASSWORD_MAX)s characters.",
                    PASSWORD_MIN=PASSWORD_MIN,
                    PASSWORD_MAX=PASSWORD_MAX,
                )
            )
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        password_hash = generate_password_hash(password, method=method)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    link = ShareLink(
        file_id=file.id,
        mode=mode,
        token_hash=hash_secret(secret),
        created_by=creator.id,
        expires_at=expires_at,
        password_hash=password_hash,
    )
    db.session.add(link)
    db.session.flush()  # its id, for the log and the page that shows the secret once
    audit.record("share_link.created", actor=creator, **_link_object(link, file), details=_link_details(link))
    log.info("share link %s (%s) for file %s created by user %s", link.id, mode, file.id, creator.id)
    return link, secret


def _link_object(link: ShareLink, file: File) -> dict:
    """A link as the object of an audit entry: by its id, in its file (never its secret)."""
    return {"file": file, "object_type": "share_link", "object_id": link.id, "object_name": file.title}


def _link_details(link: ShareLink) -> dict:
    expires = as_utc(link.expires_at)
    return {
        "mode": link.mode,
        "expires_at": expires.isoformat() if expires else None,
        "password": link.password_hash is not None,  # whether it has one; never the password
    }


def get_link(file: File, link_id: int) -> ShareLink:
    """One link of this file.

    :raise NotFoundError: no such link on this file.
    """
    link = db.session.scalar(sa.select(ShareLink).where(ShareLink.id == link_id, ShareLink.file_id == file.id))
    if link is None:
        raise NotFoundError(gettext("No such link."))
    return link


def revoke(link: ShareLink, actor: User) -> None:
    """Stage revoking the link (again is a no-op); once committed, its guests are disconnected from
    the editor. Edits a dropped guest made are still saved: Docs sends them through the file's callback.

    :raise ForbiddenError: the actor may not manage the file's rights.
    """
    if not rights.can_manage_file(link.file, actor):
        raise ForbiddenError(gettext("Only the file's owner and the space's admins revoke its links."))
    if link.revoked_at is not None:
        return
    link.revoked_at = utcnow()
    audit.record("share_link.revoked", actor=actor, **_link_object(link, link.file), details=_link_details(link))
    log.info("share link %s for file %s revoked by user %s", link.id, link.file_id, actor.id)
    jobs.enqueue(jobs.drop_link_guests, link.id)


def links_for(file: File) -> list[ShareLink]:
    """Every link of the file, newest first, with its creator and use count loaded."""
    return list(
        db.session.scalars(
            sa.select(ShareLink)
            .where(ShareLink.file_id == file.id)
            .options(so.undefer(ShareLink.use_count), so.joinedload(ShareLink.creator))
            .order_by(ShareLink.created_at.desc(), ShareLink.id.desc())
        )
    )


def resolve(secret: str) -> ShareLink:
    """The working link for a secret.

    :raise NotFoundError: unknown, revoked, or its creator lost the right it grants.
    :raise LinkExpiredError: its expiry has passed.
    """
    if not isinstance(secret, str) or not _SECRET_SHAPE.fullmatch(secret):
        raise NotFoundError(gettext("No such link."))
    link = db.session.scalar(sa.select(ShareLink).where(ShareLink.token_hash == hash_secret(secret)))
    if link is None or link.revoked_at is not None:
        raise NotFoundError(gettext("No such link."))
    if is_expired(link):
        raise LinkExpiredError(gettext("This link has expired."))
    if not _creator_keeps_right(link) or not file_is_live(link.file):
        raise NotFoundError(gettext("No such link."))
    return link


def file_is_live(file: File) -> bool:
    """Not in the trash, nor in a deleted space: its links work again once it is restored."""
    return file.trashed_at is None and file.space.deleted_at is None


def check_password(link: ShareLink, password: str | None) -> bool:
    """True for a link without a password, or the right one."""
    if link.password_hash is None:
        return True
    if not isinstance(password, str) or not password:
        return False
    return check_password_hash(link.password_hash, password)


def clean_guest_name(name: str | None) -> str:
    """The display name a guest typed, without control or bidi characters, trimmed.

    :raise BadRequestError: empty after cleaning, or longer than 64 characters.
    """
    text = unicodedata.normalize("NFC", name or "")
    text = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if unicodedata.category(ch) not in _STRIPPED_CATEGORIES or ch in "\t\n\r"
    )
    text = " ".join(text.split())
    if not text:
        raise BadRequestError(gettext("Please enter a name."))
    if len(text) > NAME_MAX:
        raise BadRequestError(gettext("A name has at most %(NAME_MAX)s characters.", NAME_MAX=NAME_MAX))
    return text


def new_guest_id() -> str:
    """A guest's id for Docs: namespaced, so it never looks like a user's numeric id."""
    return GUEST_PREFIX + secrets.token_urlsafe(12)


def record_use(link: ShareLink, guest_id: str, guest_name: str, ip: str | None) -> ShareLinkUse:
    """Stage a record of one opening of the link."""
    use = ShareLinkUse(link_id=link.id, guest_id=guest_id, guest_name=clean_guest_name(guest_name), ip=(ip or "")[:64])
    db.session.add(use)
    audit.record(
        "share_link.used",
        actor=f"{use.guest_name} (guest)",
        **_link_object(link, link.file),
        details={**_link_details(link), "guest_id": guest_id},
    )
    log.info(
        "share link %s for file %s opened by %s (%r) from %s", link.id, link.file_id, guest_id, use.guest_name, use.ip
    )
    return use


def guest_name(guest_id: str) -> str | None:
    """The name a guest last gave (for "updated by" notices), or None for anything else."""
    if not isinstance(guest_id, str) or not guest_id.startswith(GUEST_PREFIX):
        return None
    return db.session.scalar(
        sa.select(ShareLinkUse.guest_name)
        .where(ShareLinkUse.guest_id == guest_id)
        .order_by(ShareLinkUse.used_at.desc(), ShareLinkUse.id.desc())
        .limit(1)
    )


def guest_level(guest_id: str, file: File) -> str:
    """The level the link a guest came through gives on this file now ("none" once it stopped working)."""
    use = db.session.scalar(
        sa.select(ShareLinkUse)
        .where(ShareLinkUse.guest_id == guest_id)
        .order_by(ShareLinkUse.used_at.desc(), ShareLinkUse.id.desc())
        .limit(1)
    )
    link = db.session.get(ShareLink, use.link_id) if use else None
    if link is None or link.file_id != file.id or not is_active(link):
        return "none"
    return level_for(link)
