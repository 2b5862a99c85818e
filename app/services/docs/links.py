"""Signed, purpose-bound tokens for the URLs we hand to the Document Server.

A token names its purpose in the signature's salt, so a download token is no
callback token and neither is a history link, and binds the file (and version).
"""

from flask_babel import gettext
from itsdangerous import BadSignature
from itsdangerous import SignatureExpired
from itsdangerous import URLSafeTimedSerializer

from app import context
from app.extensions import db
from app.models import File
from app.services.exceptions import ForbiddenError

PURPOSES = ("download", "track", "history", "changes", "check", "convert", "insert", "template")


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    """One serializer per purpose and secret, kept: making one derives its key each time."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown link purpose {purpose!r}")
    app = context.required().app
    secret = app.config["SECRET_KEY"]
    cache = app.extensions.setdefault("coedit_link_serializers", {})
    serializer = cache.get((purpose, secret))
    if serializer is None:
        serializer = cache[(purpose, secret)] = URLSafeTimedSerializer(secret, salt=f"coedit.link.{purpose}")
    return serializer


def sign(purpose: str, **claims) -> str:
    return _serializer(purpose).dumps(claims)


def verify(purpose: str, token: str, max_age: int | None = None) -> dict:
    """The claims of a valid token for this purpose.

    :raise ForbiddenError: unknown, tampered, expired or wrong-purpose token.
    """
    # A link without a lifetime (the callback URL, which Docs calls on every join and leave) is
    # valid or not once and for all under one secret: its claims are kept after the first check.
    app = context.required().app
    verified = app.extensions.setdefault("coedit_verified_links", {}) if max_age is None else None
    key = (purpose, app.config["SECRET_KEY"], token)
    if verified is not None and key in verified:
        return dict(verified[key])
    try:
        claims = _serializer(purpose).loads(token or "", max_age=max_age)
    except SignatureExpired:
        raise ForbiddenError(gettext("This link has expired.")) from None
    except BadSignature:
        raise ForbiddenError(gettext("This link is not valid.")) from None
    if not isinstance(claims, dict):
        raise ForbiddenError(gettext("This link is not valid."))
    if verified is not None:
        if len(verified) > 10_000:
            verified.clear()
        verified[key] = dict(claims)
    return claims


def verify_for_file(purpose: str, token: str, file_id: int, max_age: int | None = None) -> dict:
    """The claims of a valid link for this purpose and file id (the file itself is not looked up).

    :raise ForbiddenError: the link is not valid, for this purpose or for this file id.
    """
    claims = verify(purpose, token, max_age)
    if claims.get("f") != file_id:
        raise ForbiddenError(gettext("This link is for another file."))
    return claims


def linked_file(purpose: str, token: str, file_id: int, max_age: int | None = None) -> tuple[dict, File | None]:
    """The claims of a valid link for this file id, and the file it names.

    The file is None when it is gone, or when its id now belongs to another file (SQLite may hand
    out a deleted file's id again; the link carries the old file's random salt).
    :raise ForbiddenError: the link is not valid, for this purpose or for this file id.
    """
    claims = verify_for_file(purpose, token, file_id, max_age)
    file = db.session.get(File, file_id)
    return claims, file if file is not None and claims.get("s", "") == file.key_salt else None
