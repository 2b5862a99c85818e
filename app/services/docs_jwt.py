"""JWT as the Document Server uses it: HS256 with the shared secret, in the body or a header."""

import time

import jwt

from app.services import settings
from app.services.exceptions import Forbidden

ALGORITHMS = ["HS256"]  # pinned: no 'none', no algorithm confusion
HEADER_PREFIX = "Bearer "


def encode(payload: dict, expires_in: int | None = 300) -> str:
    """Sign payload with the Docs secret; adds iat and, unless None, exp."""
    now = int(time.time())
    claims = dict(payload)
    claims["iat"] = now
    if expires_in is not None:
        claims["exp"] = now + expires_in
    return jwt.encode(claims, settings.get("jwt_secret"), algorithm="HS256")


def decode(token: str, leeway: int = 60) -> dict:
    """Verify a token from Docs; exp is required.

    :raise Forbidden: missing, malformed, forged or expired token, or no secret set.
    """
    secret = settings.get("jwt_secret")
    if not secret:
        raise Forbidden("no JWT secret is configured")
    if not token:
        raise Forbidden("no token")
    try:
        return jwt.decode(
            token, secret, algorithms=ALGORITHMS, leeway=leeway, options={"require": ["exp"]}
        )
    except jwt.ExpiredSignatureError:
        raise Forbidden("token expired") from None
    except jwt.InvalidTokenError as exc:
        raise Forbidden(f"invalid token ({exc.__class__.__name__})") from None


def header_name() -> str:
    return settings.get("jwt_header") or "Authorization"


def token_from_header(headers) -> str:
    value = headers.get(header_name(), "")
    return value[len(HEADER_PREFIX):] if value.startswith(HEADER_PREFIX) else value


def request_headers(payload: dict) -> dict:
    """Headers that carry the wrapper token Docs expects on our requests to it."""
    return {header_name(): HEADER_PREFIX + encode({"payload": payload})}
