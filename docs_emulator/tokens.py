"""JWT helpers with the Docs conventions: HS256 out, HS256/384/512 in, 60 s clock tolerance."""

from __future__ import annotations

import time
import warnings

import jwt

# The emulator must accept whatever secret the integrator is configured with, short or not.
warnings.filterwarnings("ignore", category=jwt.InsecureKeyLengthWarning)

# Claims that describe the token, not the request; never merged into parameters.
REGISTERED_CLAIMS = ("iat", "exp", "nbf")
CLOCK_TOLERANCE = 60


class TokenExpired(Exception):
    """The token verified but its exp is in the past (beyond the tolerance)."""


class TokenInvalid(Exception):
    """The token is missing, malformed or signed with another secret."""


def sign(payload: dict, secret: str, expires: int = 300) -> str:
    """Sign ``payload`` with HS256, adding iat and exp like Docs' outbox tokens."""
    now = int(time.time())
    claims = dict(payload)
    claims["iat"] = now
    claims["exp"] = now + int(expires)
    return jwt.encode(claims, secret, algorithm="HS256")


def verify(token, secret: str) -> dict:
    """Decode a token; raise TokenExpired or TokenInvalid."""
    if not isinstance(token, str) or not token:
        raise TokenInvalid("no token")
    try:
        return jwt.decode(
            token, secret, algorithms=["HS256", "HS384", "HS512"], leeway=CLOCK_TOLERANCE, options={"verify_aud": False}
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenExpired(str(exc)) from exc
    except jwt.PyJWTError as exc:
        raise TokenInvalid(str(exc)) from exc


def strip_claims(decoded: dict) -> dict:
    """Return the decoded token without iat/exp/nbf."""
    return {k: v for k, v in decoded.items() if k not in REGISTERED_CLAIMS}


def request_params(decoded: dict) -> dict:
    """Parameters of a command/conversion token: top-level claims, then payload, then query (as Docs merges them)."""
    params = strip_claims(decoded)
    payload = params.pop("payload", None)
    query = params.pop("query", None)
    if isinstance(payload, dict):
        params.update(payload)
    if isinstance(query, dict):
        params.update(query)
    return params


def header_token(value: str | None, prefix: str) -> str | None:
    """Strip the configured prefix from an incoming header value."""
    if not value:
        return None
    # Strict on purpose: a client that forgets the prefix must fail here the
    # way it fails against a real Document Server.
    if prefix and not value.startswith(prefix):
        return None
    return value[len(prefix) :].strip() or None
