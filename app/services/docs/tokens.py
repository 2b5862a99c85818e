"""JWT as the Document Server uses it: HS256 with the shared secret, in the body or a header.

Docs and Coedit sign with the same secret, so a signature alone does not say who made a token.
Every token Coedit signs names its audience in ``AUDIENCE_CLAIM``; Docs' own tokens never carry
that claim. A token we handed to a browser (the editor config, history data) is therefore never
accepted where a request must come from Docs (downloads, callbacks).
"""

import time

import jwt
from flask import current_app
from jwt.algorithms import HMACAlgorithm

from app import context
from app.services import settings
from app.services.exceptions import ForbiddenError

ALGORITHMS = ["HS256"]  # pinned: no 'none', no algorithm confusion


class _PreparedHS256(HMACAlgorithm):
    """HS256 that checks each secret once rather than on every token.

    PyJWT's ``prepare_key`` refuses a secret that looks like an asymmetric key by trying to parse
    it (PEM, SSH, DER, JWK), which costs more than the signature itself; a secret that passed
    stays valid, so what it returned is kept. A refused secret is not kept: it is refused again.
    """

    KEPT = 8  # secrets change rarely; a rotation keeps the old one only until this many are seen

    def __init__(self):
        super().__init__(HMACAlgorithm.SHA256)
        self._prepared: dict = {}

    def prepare_key(self, key: str | bytes) -> bytes:
        prepared = self._prepared.get(key)
        if prepared is None:
            prepared = super().prepare_key(key)
            if len(self._prepared) >= self.KEPT:
                self._prepared.clear()
            self._prepared[key] = prepared
        return prepared


# PyJWT's registry of algorithms is process-wide: every HS256 token of the process uses this one.
if not isinstance(jwt.get_algorithm_by_name("HS256"), _PreparedHS256):
    jwt.unregister_algorithm("HS256")
    jwt.register_algorithm("HS256", _PreparedHS256())
AUDIENCE_CLAIM = "coedit_aud"
BROWSER = "browser"  # tokens in editor configs and history data: Docs checks them, browsers hold them
DOCS = "docs"  # tokens on our requests to Docs (command and conversion services)


def encode(payload: dict, expires_in: int | None = 300, audience: str = DOCS) -> str:
    """Sign payload with the Docs secret; adds iat, the audience and, unless None, exp."""
    now = int(time.time())
    claims = dict(payload)
    claims["iat"] = now
    claims[AUDIENCE_CLAIM] = audience
    if expires_in is not None:
        claims["exp"] = now + expires_in
    return jwt.encode(claims, settings.get("jwt_secret"), algorithm="HS256")


def decode(token: str) -> dict:
    """Verify a token Docs sent us (a callback or a download request).

    exp and iat are required and the lifetime is capped (Docs signs for minutes), so a token
    cannot be minted to last for ever; a token that names our audience claim is one we made
    for someone else and proves nothing about Docs.
    :raise ForbiddenError: missing, malformed, forged, expired, too long-lived or one of our own.
    """
    secret = settings.get("jwt_secret")
    if not secret:
        raise ForbiddenError("no JWT secret is configured")
    if not token:
        raise ForbiddenError("no token")
    config = context.required().app.config
    try:
        claims = jwt.decode(
            token, secret, algorithms=ALGORITHMS, leeway=config["DOCS_JWT_LEEWAY"], options={"require": ["exp", "iat"]}
        )
    except jwt.ExpiredSignatureError:
        raise ForbiddenError("token expired") from None
    except jwt.InvalidTokenError as exc:
        raise ForbiddenError(f"invalid token ({exc.__class__.__name__})") from None
    if (
        not isinstance(claims["exp"], int | float)
        or not isinstance(claims["iat"], int | float)
        or claims["exp"] - claims["iat"] > config["DOCS_JWT_MAX_LIFETIME"]
    ):
        raise ForbiddenError("token lives too long")
    payload = claims.get("payload")
    if AUDIENCE_CLAIM in claims or (isinstance(payload, dict) and AUDIENCE_CLAIM in payload):
        raise ForbiddenError("token was made by this app, not by Docs")
    return claims


def verified_payload(headers, body: dict | None = None) -> dict:
    """What Docs signed for this request: the body's own token first (callbacks; Docs may trim the
    header token), else the header's, whose claims Docs always wraps in ``payload``.

    :raise ForbiddenError: no token, or one that fails ``decode``.
    """
    if body is not None and isinstance(body.get("token"), str):
        claims = decode(body["token"])
        return claims["payload"] if isinstance(claims.get("payload"), dict) else claims
    claims = decode(token_from_header(headers))
    if not isinstance(claims.get("payload"), dict):
        raise ForbiddenError("header token without its payload")
    return claims["payload"]


def header_name() -> str:
    return settings.get("jwt_header") or "Authorization"


def header_prefix() -> str:
    """What precedes the token in the header (Docs' inbox and outbox ``prefix``, "Bearer " unless
    Docs was configured otherwise)."""
    return current_app.config["DOCS_JWT_PREFIX"]


def token_from_header(headers) -> str:
    value = headers.get(header_name(), "")
    prefix = header_prefix()
    return value[len(prefix) :] if prefix and value.startswith(prefix) else value


def request_headers(payload: dict) -> dict:
    """Headers that carry the wrapper token Docs expects on our requests to it."""
    return {header_name(): header_prefix() + encode({"payload": payload})}
