"""Signed, purpose-bound tokens for the URLs we hand to the Document Server.

A token names its purpose in the signature's salt, so a download token is no
callback token and neither is a history link, and binds the file (and version).
"""

from itsdangerous import BadSignature
from itsdangerous import SignatureExpired
from itsdangerous import URLSafeTimedSerializer
from flask import current_app

from app.services.exceptions import Forbidden

PURPOSES = ("download", "track", "history", "changes", "check")


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    """One serializer per purpose and secret, kept: making one derives its key each time."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown link purpose {purpose!r}")
    secret = current_app.config["SECRET_KEY"]
    cache = current_app.extensions.setdefault("coedit_link_serializers", {})
    serializer = cache.get((purpose, secret))
    if serializer is None:
        serializer = cache[(purpose, secret)] = URLSafeTimedSerializer(secret, salt=f"coedit.link.{purpose}")
    return serializer


def sign(purpose: str, **claims) -> str:
    return _serializer(purpose).dumps(claims)


def verify(purpose: str, token: str, max_age: int | None = None) -> dict:
    """The claims of a valid token for this purpose.

    :raise Forbidden: unknown, tampered, expired or wrong-purpose token.
    """
    try:
        claims = _serializer(purpose).loads(token or "", max_age=max_age)
    except SignatureExpired:
        raise Forbidden("This link has expired.") from None
    except BadSignature:
        raise Forbidden("This link is not valid.") from None
    if not isinstance(claims, dict):
        raise Forbidden("This link is not valid.")
    return claims
